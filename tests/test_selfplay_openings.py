"""Opening diversity in self-play: a share of games starts from random stones near the centre."""

from __future__ import annotations

import numpy as np
import pytest

from azero.model.evaluator import UniformEvaluator
from azero.search.searcher import SearchConfig
from selfplay.engine import SelfPlayConfig, SelfPlayEngine


def _first_positions(fraction: float, max_stones: int, games: int = 24, seed: int = 3) -> list[np.ndarray]:
    config = SelfPlayConfig(simulations=8, fast_simulations=8, full_search_fraction=1.0, games_per_worker=games,
                            random_opening_fraction=fraction, random_opening_moves=max_stones, temperature_moves=0)
    engine = SelfPlayEngine(9, "freestyle", 5, UniformEvaluator(), SearchConfig(), config, seed=seed)
    firsts = []
    while len(firsts) < games:
        firsts += [data.boards[0] for data in engine.step() if len(data.boards)]
    return firsts


def test_without_random_openings_every_game_starts_on_the_empty_board():
    assert all(not board.any() for board in _first_positions(0.0, 4))


def test_random_openings_start_games_from_one_to_the_most_stones():
    stones = [int(np.count_nonzero(board)) for board in _first_positions(1.0, 3)]
    assert min(stones) >= 1 and max(stones) <= 3
    assert len(set(stones)) > 1  # the count varies
    # different games start differently
    assert len({board.tobytes() for board in _first_positions(1.0, 3)}) > 5


def test_random_openings_are_checked():
    with pytest.raises(ValueError, match="random_opening"):
        SelfPlayConfig(random_opening_fraction=1.5).check()
    with pytest.raises(ValueError, match="random_opening"):
        SelfPlayConfig(random_opening_moves=0).check()
