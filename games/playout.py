"""Random playouts: whole games of uniformly random legal moves, in numba.

Used to measure the engine (``azero bench engine``) and, later, by the pure
Monte-Carlo player.  The empty points live in one array; a played point is
swapped out of the live part, so each move costs O(1) plus the win check.
"""

import numpy as np
from numba import njit

from games.constants import BLACK, DRAW, EMPTY, RENJU, WHITE
from games.lines import is_winning_move
from games.renju import is_forbidden_using, new_three_stack


@njit(cache=True)
def seed_playouts(seed):
    """Seed numba's own random generator (separate from numpy's in Python)."""
    np.random.seed(seed)


@njit(cache=True)
def random_playout(board, size, to_move, n_in_row, rule, moves_out):
    """Play random legal moves on ``board`` (modified in place) until the game ends.

    Returns ``(result, moves_played)`` where result is BLACK, WHITE or DRAW.
    The moves are written to ``moves_out`` as far as it has room (pass an
    empty array when the order is not wanted).
    In renju a random pick that is forbidden for black is set aside and black
    picks again; those points stay available to white.
    """
    n = size * size
    empties = np.empty(n, dtype=np.int64)
    count = 0
    for p in range(n):
        if board[p] == EMPTY:
            empties[count] = p
            count += 1
    frames, points = new_three_stack()
    played = 0
    color = to_move
    while count > 0:
        # Points in empties[live:count] were found forbidden for the current black move.
        live = count
        move = -1
        while live > 0:
            i = np.random.randint(live)
            candidate = empties[i]
            if rule == RENJU and color == BLACK and is_forbidden_using(board, size, candidate, frames, points):
                live -= 1
                empties[i] = empties[live]
                empties[live] = candidate
                continue
            # Fill the hole with the last empty point; set-aside points stay in
            # [0, count), so white can still pick them.
            move = candidate
            count -= 1
            empties[i] = empties[count]
            break
        if move < 0:
            return DRAW, played  # black has only forbidden points left
        board[move] = color
        if played < moves_out.shape[0]:
            moves_out[played] = move
        played += 1
        if is_winning_move(board, size, move, color, n_in_row, rule):
            return color, played
        color = WHITE if color == BLACK else BLACK
    return DRAW, played


@njit(cache=True)
def count_playout_moves(size, n_in_row, rule, games):
    """Play ``games`` random games from the empty board; return the total number of moves."""
    board = np.zeros(size * size, dtype=np.int8)
    no_record = np.empty(0, dtype=np.int64)
    total = 0
    for _ in range(games):
        board[:] = EMPTY
        result, played = random_playout(board, size, BLACK, n_in_row, rule, no_record)
        total += played
    return total
