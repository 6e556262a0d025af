"""Line scanning and win detection: numba kernels over a flat board.

A board is a 1-D ``int8`` array of ``size * size`` cells holding EMPTY, BLACK
or WHITE; cell ``y * size + x``.  A win is found by scanning only the four
lines through the move just played.
"""

import numpy as np
from numba import njit

from games.constants import BLACK, FREESTYLE, STANDARD

# Direction vectors as arrays so kernels can loop over them.
DX = np.array([1, 0, 1, 1], dtype=np.int64)
DY = np.array([0, 1, 1, -1], dtype=np.int64)


@njit(cache=True, inline="always")
def run_length(board, size, x, y, dx, dy, color):
    """Stones of ``color`` in a row starting next to (x, y) and going along (dx, dy)."""
    n = 0
    x += dx
    y += dy
    while 0 <= x < size and 0 <= y < size and board[y * size + x] == color:
        n += 1
        x += dx
        y += dy
    return n


@njit(cache=True, inline="always")
def line_length(board, size, x, y, dx, dy, color):
    """Length of the row of ``color`` through (x, y), counting (x, y) itself."""
    return 1 + run_length(board, size, x, y, dx, dy, color) + run_length(board, size, x, y, -dx, -dy, color)


@njit(cache=True, inline="always")
def wins_with_length(length, color, n_in_row, rule):
    """Does a row of ``length`` stones of ``color`` win under ``rule``?"""
    if rule == FREESTYLE:
        return length >= n_in_row
    if rule == STANDARD:
        return length == n_in_row
    # RENJU: black needs exactly five, white five or more.
    if color == BLACK:
        return length == n_in_row
    return length >= n_in_row


@njit(cache=True)
def is_winning_move(board, size, move, color, n_in_row, rule):
    """True if the stone of ``color`` at ``move`` (already on the board) completes a winning row."""
    x = move % size
    y = move // size
    for d in range(4):
        length = line_length(board, size, x, y, DX[d], DY[d], color)
        if wins_with_length(length, color, n_in_row, rule):
            return True
    return False


@njit(cache=True)
def find_winner(board, size, n_in_row, rule):
    """Scan the whole board; return a bit set: 1 if black has a winning row, 2 if white has one.

    Used to validate positions that arrive without their move order.
    """
    found = 0
    for move in range(size * size):
        color = board[move]
        if color != 0 and is_winning_move(board, size, move, color, n_in_row, rule):
            found |= color
    return found

