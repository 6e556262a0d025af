"""The trained models that ship with azero (safetensors weights + JSON metadata), with their ratings.

A package so that pip installs the model files with the code; the first models arrive with the training issue.
"""
