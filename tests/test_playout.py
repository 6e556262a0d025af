"""Random playouts (the numba fast path) judged by the plain reference on the final board."""

import numpy as np
import pytest
from reference_rules import ReferenceGame, is_forbidden, is_win

from games.constants import BLACK, DRAW, RULES, WHITE
from games.gomoku import Gomoku
from games.playout import count_playout_moves, random_playout, seed_playouts
from games.randomplay import play_random_nearby


def winners_on(board2d, size, rule):
    """Colours that have a winning row somewhere on the final board (by the reference)."""
    found = set()
    for y in range(size):
        for x in range(size):
            color = board2d[y][x]
            if color and is_win(board2d, size, x, y, color, 5, rule):
                found.add(color)
    return found


@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("size", [5, 7, 9, 15, 20])
def test_playout_results_agree_with_the_reference(rule, size):
    seed_playouts(size)
    rng = np.random.default_rng(size)
    for game_number in range(30):
        start = play_random_nearby(Gomoku(size=size, rule=rule), rng, max_moves=int(rng.integers(0, 12)))
        if start.is_over:
            continue
        board = start.board.copy()
        result, played = random_playout(board, size, start.to_move, 5, RULES[rule], np.empty(0, dtype=np.int64))
        stones = int(np.count_nonzero(board))
        assert stones == len(start.moves) + played
        black, white = int(np.count_nonzero(board == BLACK)), int(np.count_nonzero(board == WHITE))
        assert black - white in (0, 1)
        board2d = [[int(board[y * size + x]) for x in range(size)] for y in range(size)]
        winners = winners_on(board2d, size, rule)
        if result == DRAW:
            assert not winners
            empties = [(x, y) for y in range(size) for x in range(size) if board2d[y][x] == 0]
            if empties:  # only renju can stop early: black has only forbidden points left
                assert rule == "renju" and black == white
                assert all(is_forbidden(board2d, size, x, y) for x, y in empties)
        else:
            assert winners == {result}
            last_mover = BLACK if black > white else WHITE
            assert result == last_mover


def test_playouts_from_the_empty_board_play_whole_games():
    seed_playouts(0)
    total = count_playout_moves(9, 5, RULES["freestyle"], 50)
    assert 50 * 9 <= total <= 50 * 81


@pytest.mark.parametrize("rule", list(RULES))
def test_playouts_replay_legally_in_the_reference(rule):
    """Every playout move, replayed in the reference, is legal (renju: black avoids forbidden points)."""
    size = 9
    seed_playouts(1)
    for _ in range(40):
        board = np.zeros(size * size, dtype=np.int8)
        moves = np.full(size * size, -1, dtype=np.int64)
        result, played = random_playout(board, size, BLACK, 5, RULES[rule], moves)
        ref = ReferenceGame(size, rule, 5)
        for move in moves[:played]:
            assert int(move) in ref.legal()
            ref.play(int(move))
        assert ref.winner == result
