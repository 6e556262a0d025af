"""Random but game-like play: each move lands near the stones already on the board.

Uniformly random moves scatter over the board and rarely make the shapes that
matter (threes, fours, forbidden points); real games are clustered.  This is
used by the demo, by the benchmarks to make mid-game positions, and by the
tests to reach many tactical positions.
"""

from __future__ import annotations

import numpy as np

from games.gomoku import Gomoku


def nearby_candidates(game: Gomoku, radius: int) -> np.ndarray:
    """Legal moves within ``radius`` (Chebyshev distance) of a stone; all legal moves on an empty board."""
    legal = game.legal_mask()
    if not game.moves:
        return np.flatnonzero(legal)
    size = game.size
    stones = (game.board != 0).reshape(size, size)
    near = np.zeros_like(stones)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            shifted = np.zeros_like(stones)
            ys = slice(max(dy, 0), size + min(dy, 0))
            yt = slice(max(-dy, 0), size + min(-dy, 0))
            xs = slice(max(dx, 0), size + min(dx, 0))
            xt = slice(max(-dx, 0), size + min(-dx, 0))
            shifted[ys, xs] = stones[yt, xt]
            near |= shifted
    candidates = np.flatnonzero(legal & near.ravel())
    return candidates if candidates.size else np.flatnonzero(legal)


def play_random_nearby(game: Gomoku, rng: np.random.Generator, max_moves: int | None = None, radius: int = 2) -> Gomoku:
    """Play random moves near existing stones until the game ends or ``max_moves`` stones are on the board."""
    while not game.is_over and (max_moves is None or len(game.moves) < max_moves):
        candidates = nearby_candidates(game, radius)
        if candidates.size == 0:
            break
        game.play(int(rng.choice(candidates)))
    return game
