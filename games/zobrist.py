"""Zobrist keys: one random 64-bit key per (colour, point), fixed per board size.

Fixed seeds make a position hash the same in every process and every run,
so hashes can key caches and databases.
"""

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=None)
def zobrist_keys(size: int) -> np.ndarray:
    """``keys[colour, move]`` (uint64, shape (3, size*size)); row 0 (EMPTY) is all zeros."""
    rng = np.random.default_rng(0x5EED_0000 + size)
    keys = rng.integers(1, 2**63, size=(3, size * size), dtype=np.uint64, endpoint=False)
    keys[0, :] = 0
    keys.setflags(write=False)
    return keys
