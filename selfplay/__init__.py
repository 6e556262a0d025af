"""Self-play workers: processes that play many games at once with batched search and write replay data.

The workers arrive with the training issue; the package is installed now so
that its place in the layers (below the search, above the pipelines) is fixed.
"""
