"""Players and matches: specs parse, games finish legally, scores add up, stronger players win."""

import pytest

from azero.match import play_match
from azero.openings import random_openings
from azero.players import HeuristicPlayer, PurePlayer, RandomPlayer, make_player
from games.constants import BLACK, ONGOING, WHITE

import numpy as np


def test_specs_build_players_and_bad_specs_are_refused(tmp_path):
    assert isinstance(make_player("random"), RandomPlayer)
    assert isinstance(make_player("heuristic"), HeuristicPlayer)
    assert make_player("pure:50").name == "pure:50"
    for bad in ["pure:", "pure:x", "pure:0", "frobnicate", "random:3", "az:"]:
        with pytest.raises(ValueError):
            make_player(bad)
    with pytest.raises(ValueError, match="no checkpoint"):
        make_player(f"az:{tmp_path / 'missing.safetensors'}")


def test_openings_are_distinct_unfinished_and_central():
    openings = random_openings(9, "freestyle", 5, 10, 2, np.random.default_rng(0))
    assert len(openings) == 10 and len({tuple(o) for o in openings}) == 10
    assert all(len(o) == 2 and 3 <= o[0] % 9 < 6 and 3 <= o[0] // 9 < 6 for o in openings)


def test_a_match_finishes_every_game_and_scores_add_up():
    result = play_match(HeuristicPlayer(1), RandomPlayer(2), 8, 9, "renju", 5, seed=3)
    assert result.played == 8 and all(game.winner != ONGOING for game in result.games)
    assert result.score >= 0.75  # the heuristic bot crushes random play
    # Colours alternate: the first player is black in the even games, white in the odd ones, and wins as both.
    winners = [g.winner for g in result.games]
    assert sum(w == BLACK for w in winners[0::2]) >= 3 and sum(w == WHITE for w in winners[1::2]) >= 3
    # Each opening is played twice, once with each colour.
    assert [g.moves[:2] for g in result.games[0::2]] == [g.moves[:2] for g in result.games[1::2]]


def test_pure_mcts_beats_random():
    result = play_match(PurePlayer(200, seed=0), RandomPlayer(1), 6, 7, "freestyle", 4, seed=0)
    assert result.score >= 5 / 6
