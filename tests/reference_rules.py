"""A plain-Python Gomoku rules reference: obviously right, slow, and written differently.

The fast engine walks at most two candidate points per line; this reference
instead tries *every* empty point on the whole line and compares sets of
stones, straight from the rule book's definitions.  The tests play the two
side by side and demand identical answers.

Board: a list of rows, ``board[y][x]`` in {0 empty, 1 black, 2 white}.
"""

from __future__ import annotations

from functools import lru_cache

EMPTY, BLACK, WHITE = 0, 1, 2
DIRECTIONS = [(1, 0), (0, 1), (1, 1), (1, -1)]


@lru_cache(maxsize=None)
def line_points(size, x, y, dx, dy):
    """All points of the board line through (x, y) along (dx, dy), in order."""
    while 0 <= x - dx < size and 0 <= y - dy < size:
        x, y = x - dx, y - dy
    points = []
    while 0 <= x < size and 0 <= y < size:
        points.append((x, y))
        x, y = x + dx, y + dy
    return tuple(points)


def points_within_four(size, p, dx, dy):
    """The points of p's line at most 4 steps from p: a five through p can use no others."""
    points = line_points(size, p[0], p[1], dx, dy)
    i = points.index(p)
    return points[max(0, i - 4) : i + 5]


def run_containing(board, points, point, color):
    """The list of points of the solid run of ``color`` on ``points`` that contains ``point``."""
    i = points.index(point)
    lo = i
    while lo - 1 >= 0 and board[points[lo - 1][1]][points[lo - 1][0]] == color:
        lo -= 1
    hi = i
    while hi + 1 < len(points) and board[points[hi + 1][1]][points[hi + 1][0]] == color:
        hi += 1
    return points[lo : hi + 1]


def is_win(board, size, x, y, color, n_in_row, rule):
    """Does the stone just played at (x, y) win?"""
    for dx, dy in DIRECTIONS:
        length = len(run_containing(board, line_points(size, x, y, dx, dy), (x, y), color))
        if rule == "freestyle" and length >= n_in_row:
            return True
        if rule == "standard" and length == n_in_row:
            return True
        if rule == "renju" and (length == n_in_row if color == BLACK else length >= n_in_row):
            return True
    return False


# -- renju -----------------------------------------------------------------
def _four_sets(board, size, p, dx, dy):
    """Map each four through p on this line (a frozenset of its 4 stones) to its completion points."""
    points = line_points(size, p[0], p[1], dx, dy)
    fours = {}
    for q in points_within_four(size, p, dx, dy):
        if board[q[1]][q[0]] != EMPTY:
            continue
        board[q[1]][q[0]] = BLACK
        run = run_containing(board, points, q, BLACK)
        board[q[1]][q[0]] = EMPTY
        if len(run) == 5 and p in run:
            stones = frozenset(run) - {q}
            fours.setdefault(stones, set()).add(q)
    return fours


def _has_straight_four(board, size, p, dx, dy):
    return any(len(ends) == 2 for ends in _four_sets(board, size, p, dx, dy).values())


def is_forbidden(board, size, x, y):
    """Is the empty point (x, y) forbidden to black under renju rules?"""
    if board[y][x] != EMPTY:
        return False
    p = (x, y)
    board[y][x] = BLACK
    try:
        lengths = [len(run_containing(board, line_points(size, x, y, dx, dy), p, BLACK)) for dx, dy in DIRECTIONS]
        if 5 in lengths:
            return False  # a five wins, whatever else the move makes
        if max(lengths) >= 6:
            return True  # overline
        fours_per_line = [len(_four_sets(board, size, p, dx, dy)) for dx, dy in DIRECTIONS]
        if sum(fours_per_line) >= 2:
            return True  # double-four (across lines or on one line)
        threes = 0
        for (dx, dy), fours in zip(DIRECTIONS, fours_per_line):
            if fours == 0 and _is_real_three(board, size, p, dx, dy):
                threes += 1
        return threes >= 2
    finally:
        board[y][x] = EMPTY


def _is_real_three(board, size, p, dx, dy):
    """Some legal black stone on this line turns it into a straight four through p."""
    window = points_within_four(size, p, dx, dy)
    if sum(board[y][x] == BLACK for x, y in window) < 3:
        return False  # a straight four through p and q holds two more black stones near p (saves time)
    for q in window:
        if board[q[1]][q[0]] != EMPTY:
            continue
        board[q[1]][q[0]] = BLACK
        straight = _has_straight_four(board, size, p, dx, dy)
        board[q[1]][q[0]] = EMPTY
        if straight and not is_forbidden(board, size, q[0], q[1]):
            return True
    return False


def forbidden_points(board, size):
    """Sorted move indices of all points forbidden to black."""
    return [y * size + x for y in range(size) for x in range(size) if is_forbidden(board, size, x, y)]


class ReferenceGame:
    """The whole game, the slow and simple way."""

    def __init__(self, size, rule, n_in_row):
        self.size, self.rule, self.n_in_row = size, rule, n_in_row
        self.board = [[EMPTY] * size for _ in range(size)]
        self.to_move = BLACK
        self.winner = 0
        self.count = 0
        self._forbidden = None  # this position's forbidden points, once computed

    def forbidden(self):
        if self.rule != "renju" or self.to_move != BLACK or self.winner:
            return []
        if self._forbidden is None:
            self._forbidden = forbidden_points(self.board, self.size)
        return self._forbidden

    def legal(self):
        if self.winner:
            return []
        banned = set(self.forbidden())
        return [
            y * self.size + x
            for y in range(self.size)
            for x in range(self.size)
            if self.board[y][x] == EMPTY and y * self.size + x not in banned
        ]

    def play(self, move):
        x, y = move % self.size, move // self.size
        assert self.board[y][x] == EMPTY and not self.winner
        color = self.to_move
        self.board[y][x] = color
        self._forbidden = None
        self.count += 1
        self.to_move = WHITE if color == BLACK else BLACK
        if is_win(self.board, self.size, x, y, color, self.n_in_row, self.rule):
            self.winner = color
        elif self.count == self.size * self.size:
            self.winner = 3
        elif self.rule == "renju" and self.to_move == BLACK and not self.legal():
            self.winner = 3  # black has only forbidden points: nobody can win
