"""Players and matches: specs parse, games finish legally, scores add up, stronger players win."""

import pytest

from azero.arena.match import play_games
from azero.players.factory import make_player
from azero.players.simple import HeuristicPlayer, PurePlayer, RandomPlayer
from azero.search.openings import balanced_openings
from games.constants import BLACK, DRAW, ONGOING, WHITE


def match(first, second, games, size, rule, n_in_row, seed):
    """``games`` games, each opening twice with colours swapped; (first's points per game, finished games)."""
    openings = balanced_openings(size, rule, n_in_row, (games + 1) // 2, 2, seed=seed)
    colours = [BLACK if i % 2 == 0 else WHITE for i in range(games)]
    finished = play_games(first, second, [openings[i // 2] for i in range(games)], colours, size, rule, n_in_row)
    points = sum(0.5 if f.winner == DRAW else float(f.winner == f.first_colour) for f in finished)
    return points / games, [f.game for f in finished]


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
    openings = balanced_openings(9, "freestyle", 5, 10, 2, seed=0)
    assert len(openings) == 10 and len({tuple(o) for o in openings}) == 10
    assert all(len(o) == 2 and 3 <= o[0] % 9 < 6 and 3 <= o[0] // 9 < 6 for o in openings)


def test_a_match_finishes_every_game_and_scores_add_up():
    score, games = match(HeuristicPlayer(1), RandomPlayer(2), 8, 9, "renju", 5, seed=3)
    assert len(games) == 8 and all(game.winner != ONGOING for game in games)
    assert score >= 0.75  # the heuristic bot crushes random play
    # Colours alternate: the first player is black in the even games, white in the odd ones, and wins as both.
    winners = [g.winner for g in games]
    assert sum(w == BLACK for w in winners[0::2]) >= 3 and sum(w == WHITE for w in winners[1::2]) >= 3
    # Each opening is played twice, once with each colour.
    assert [g.moves[:2] for g in games[0::2]] == [g.moves[:2] for g in games[1::2]]


def test_pure_mcts_beats_random():
    score, _ = match(PurePlayer(200, seed=0), RandomPlayer(1), 6, 7, "freestyle", 4, seed=0)
    assert score >= 5 / 6
