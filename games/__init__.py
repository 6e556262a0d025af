"""The Gomoku rules engine: numba kernels over flat numpy boards, and the ``Gomoku`` class on top.

Start with :class:`games.gomoku.Gomoku`; moves change form only in
:mod:`games.coords`; records live in :mod:`games.records`.  Nothing here
imports torch or pygame.
"""

from games import numba_cache

# Before any kernel is compiled: compiled code is cached per source version (see numba_cache).
numba_cache.configure()
