"""The Gomoku rules engine: numba kernels over flat numpy boards, and the ``Gomoku`` class on top.

Start with :class:`games.gomoku.Gomoku`; moves change form only in
:mod:`games.coords`; records live in :mod:`games.records`.  Nothing here
imports torch or pygame.
"""
