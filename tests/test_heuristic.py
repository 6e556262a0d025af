"""The heuristic bot: its window score against a plain reference, its tactics, and its strength floor."""

import numpy as np
import pytest

from azero.players.heuristic import BLOCK_SCORE, WIN_SCORE, heuristic_move, heuristic_scores, window_score
from games.coords import from_notation
from games.gomoku import Gomoku
from games.randomplay import play_random_nearby


def reference_window_score(game, move, color):
    """Every window of n points through ``move``, written out with (x, y) pairs."""
    size, n = game.size, game.n_in_row
    x0, y0 = move % size, move // size
    total = 0.0
    for dx, dy in [(1, 0), (0, 1), (1, 1), (1, -1)]:
        for start in range(-(n - 1), 1):
            points = [(x0 + i * dx, y0 + i * dy) for i in range(start, start + n)]
            if not all(0 <= x < size and 0 <= y < size for x, y in points):
                continue
            stones = [int(game.board[y * size + x]) for x, y in points if (x, y) != (x0, y0)]
            if any(s not in (0, color) for s in stones):
                continue
            total += 10.0 ** stones.count(color)  # + 1 for the point itself, - 1 in the exponent
    return total


def test_window_score_matches_the_reference_on_random_positions():
    rng = np.random.default_rng(0)
    for trial in range(150):
        size = int(rng.integers(5, 21))
        n_in_row = int(rng.integers(3, min(size, 6) + 1))
        game = play_random_nearby(Gomoku(size=size, n_in_row=n_in_row), rng, max_moves=int(rng.integers(0, 30)))
        for move in game.legal_moves()[:: max(1, size // 3)]:
            for color in (1, 2):
                assert window_score(game.board, size, move, color, n_in_row) == pytest.approx(
                    reference_window_score(game, move, color)
                )


def test_it_takes_a_win_before_blocking():
    # Black has four on row 1 (a1-d1), white four on row 3; black to move wins at e1.
    game = Gomoku.from_moves(["a1", "a3", "b1", "b3", "c1", "c3", "d1", "d3"])
    assert game.notation(heuristic_move(game, np.random.default_rng(0))) == "e1"


def test_it_blocks_a_four():
    game = Gomoku.from_moves(["h8", "a1", "o15", "b1", "o13", "c1", "o11", "d1"])
    assert game.notation(heuristic_move(game, np.random.default_rng(0))) == "e1"


def test_it_blocks_an_open_three():
    # White has an open three d4-f4 in the open; black's own stones are scattered, so blocking matters most.
    game = Gomoku.from_moves(["a15", "d4", "o15", "e4", "a13", "f4"])
    move = game.notation(heuristic_move(game, np.random.default_rng(0)))
    assert move in {"c4", "g4"}


def test_scores_rank_win_over_block_over_everything_else():
    game = Gomoku.from_moves(["a1", "a3", "b1", "b3", "c1", "c3", "d1", "d3"])
    scores = np.empty(225)
    heuristic_scores(game.board, 15, game.to_move, 5, game.rule_code, game.legal_mask(), scores)
    at = {name: from_notation(name, 15) for name in ["e1", "e3", "a1", "h8"]}
    assert scores[at["e1"]] == WIN_SCORE
    assert scores[at["e3"]] == BLOCK_SCORE
    assert np.isneginf(scores[at["a1"]])  # occupied
    assert 0 < scores[at["h8"]] < BLOCK_SCORE


def test_it_never_plays_a_forbidden_point_in_renju():
    rng = np.random.default_rng(1)
    seen_forbidden = 0
    for trial in range(60):
        game = play_random_nearby(Gomoku(rule="renju"), rng, max_moves=int(rng.integers(10, 60)))
        if game.is_over or game.to_move != 1:
            continue
        forbidden = set(game.forbidden_moves())
        seen_forbidden += bool(forbidden)
        assert heuristic_move(game, rng) not in forbidden
    assert seen_forbidden >= 3  # the test did meet positions with forbidden points


def test_it_beats_random_play_decisively():
    rng = np.random.default_rng(2)
    wins = 0
    for game_number in range(20):
        game = Gomoku(size=9)
        bot_color = 1 + game_number % 2
        while not game.is_over:
            if game.to_move == bot_color:
                game.play(heuristic_move(game, rng))
            else:
                game.play(int(rng.choice(game.legal_moves())))
        wins += game.winner == bot_color
    assert wins >= 19


def test_no_move_once_the_game_is_over():
    game = Gomoku.from_moves(["a1", "a3", "b1", "b3", "c1", "c3", "d1", "d3", "e1"])
    with pytest.raises(ValueError, match="game is over"):
        heuristic_move(game)
