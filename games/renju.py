"""Renju forbidden moves for black: numba kernels.

Definitions (international renju rules), for black playing at an empty point p:

* five: p makes exactly five in a row in some line.  A five wins, so p is
  never forbidden then, whatever else it makes.
* overline: p makes six or more in a row.  Forbidden.
* four: a line through p where one more black stone makes exactly five
  containing p.  A straight four (``.XXXX.`` with both ends making exactly
  five) is one four; ``X.XpX.X`` is two fours on one line.
* three: a line through p, without a four, where one more black stone q makes
  a straight four containing p, *and q is itself not forbidden* in the
  position after p (checked recursively, as the rules define a real three).
* double-four (two or more fours) and double-three (threes in two or more
  lines) are forbidden.  Four-three is allowed.

Because every four or straight four that contains p is a solid block of
stones, the point that completes it must be the first non-black cell on one
side of p's block.  So each line has at most two candidate points and no
line ever needs to be copied out.
"""

import numpy as np
from numba import njit

from .constants import BLACK, EMPTY
from .lines import DX, DY, run_length

# How many nested "is that point forbidden?" questions a three check may ask.
# Each level adds a black stone, so the depth is bounded by the board anyway;
# real positions never get near this.  Beyond it a point is judged by its
# fives, overlines and fours alone.
MAX_THREE_DEPTH = 32


@njit(cache=True, inline="always")
def _completes_five(board, size, x, y, dx, dy, side, block):
    """Would a black stone on the first cell beyond p's block (on ``side`` = +1/-1) make exactly five?

    ``block`` is the length of the black block through p; ``side`` picks the
    end.  Returns False when that cell is off the board or not empty.
    """
    if side > 0:
        dist = run_length(board, size, x, y, dx, dy, BLACK) + 1
    else:
        dist = run_length(board, size, x, y, -dx, -dy, BLACK) + 1
    qx = x + side * dist * dx
    qy = y + side * dist * dy
    if not (0 <= qx < size and 0 <= qy < size) or board[qy * size + qx] != EMPTY:
        return False
    beyond = run_length(board, size, qx, qy, side * dx, side * dy, BLACK)
    return block + 1 + beyond == 5


@njit(cache=True)
def fours_in_line(board, size, x, y, dx, dy):
    """Number of fours (0, 1 or 2) containing the black stone at (x, y) along (dx, dy)."""
    block = 1 + run_length(board, size, x, y, dx, dy, BLACK) + run_length(board, size, x, y, -dx, -dy, BLACK)
    wins = 0
    if _completes_five(board, size, x, y, dx, dy, 1, block):
        wins += 1
    if _completes_five(board, size, x, y, dx, dy, -1, block):
        wins += 1
    if wins == 2 and block == 4:
        return 1  # straight four: two ways to complete the same four stones
    return wins


@njit(cache=True)
def is_straight_four(board, size, x, y, dx, dy):
    """Is the black block through (x, y) along (dx, dy) a straight four?"""
    block = 1 + run_length(board, size, x, y, dx, dy, BLACK) + run_length(board, size, x, y, -dx, -dy, BLACK)
    if block != 4:
        return False
    return _completes_five(board, size, x, y, dx, dy, 1, block) and _completes_five(
        board, size, x, y, dx, dy, -1, block
    )


# Verdicts of the shape check.
NOT_FORBIDDEN = 0
FORBIDDEN = 1
UNDECIDED = 2  # no five, overline or double-four: the threes decide


@njit(cache=True)
def _classify(board, size, x, y):
    """With black on (x, y): ``(verdict, four_lines)`` from fives, overlines and fours alone.

    ``four_lines`` has bit d set when line d holds a four (such a line cannot
    also count as a three).
    """
    five = False
    overline = False
    for d in range(4):
        block = (
            1
            + run_length(board, size, x, y, DX[d], DY[d], BLACK)
            + run_length(board, size, x, y, -DX[d], -DY[d], BLACK)
        )
        if block == 5:
            five = True
        elif block > 5:
            overline = True
    if five:
        return NOT_FORBIDDEN, 0  # a five wins, whatever else the move makes
    if overline:
        return FORBIDDEN, 0
    fours = 0
    four_lines = 0
    for d in range(4):
        n = fours_in_line(board, size, x, y, DX[d], DY[d])
        if n > 0:
            fours += n
            four_lines |= 1 << d
    if fours >= 2:
        return FORBIDDEN, four_lines
    return UNDECIDED, four_lines


@njit(cache=True)
def _straight_four_point(board, size, x, y, d, side):
    """The point that would turn line d through black (x, y) into a straight four on ``side``, or -1.

    That stone joins p's block, so it can only be the first non-black point
    beyond the block on that side.
    """
    dx = DX[d] * side
    dy = DY[d] * side
    dist = run_length(board, size, x, y, dx, dy, BLACK) + 1
    qx = x + dist * dx
    qy = y + dist * dy
    if not (0 <= qx < size and 0 <= qy < size):
        return -1
    q = qy * size + qx
    if board[q] != EMPTY:
        return -1
    board[q] = BLACK
    straight = is_straight_four(board, size, x, y, DX[d], DY[d])
    board[q] = EMPTY
    return q if straight else -1


# Frame fields of the explicit stack in is_forbidden.
_MOVE = 0
_FOUR_LINES = 1
_SLOT = 2  # next (line, side) to try: line = slot // 2, side = +1 for even slots, -1 for odd
_THREES = 3


def new_three_stack():
    """Scratch space for :func:`is_forbidden_using`."""
    return np.empty((MAX_THREE_DEPTH, 4), dtype=np.int64)


@njit(cache=True)
def is_forbidden(board, size, move):
    """Is the empty point ``move`` forbidden for black?  ``board`` is restored before returning."""
    return is_forbidden_using(board, size, move, np.empty((MAX_THREE_DEPTH, 4), dtype=np.int64))


@njit(cache=True)
def is_forbidden_using(board, size, move, stack):
    """:func:`is_forbidden` with caller-owned scratch ``stack`` (shape (MAX_THREE_DEPTH, 4), int64).

    A three is real only if the point that makes it a straight four is not
    itself forbidden, which needs the same question one level down.  The
    recursion runs on an explicit stack: numba's on-disk cache produces
    crashing code for recursive functions, and the stack also bounds the depth.
    """
    if board[move] != EMPTY:
        return False
    x = move % size
    y = move // size
    board[move] = BLACK
    verdict, four_lines = _classify(board, size, x, y)
    if verdict != UNDECIDED:
        board[move] = EMPTY
        return verdict == FORBIDDEN

    # Cheap bound first: a double-three needs two lines that could become a
    # straight four at all.  Most points fail here, before any nested check.
    three_lines = 0
    for d in range(4):
        if not four_lines & (1 << d) and (
            _straight_four_point(board, size, x, y, d, 1) >= 0 or _straight_four_point(board, size, x, y, d, -1) >= 0
        ):
            three_lines += 1
    if three_lines < 2:
        board[move] = EMPTY
        return False

    stack[0, _MOVE] = move
    stack[0, _FOUR_LINES] = four_lines
    stack[0, _SLOT] = 0
    stack[0, _THREES] = 0
    depth = 0
    child_forbidden = False
    returning = False
    while True:
        p = stack[depth, _MOVE]
        px = p % size
        py = p // size
        lines = stack[depth, _FOUR_LINES]
        slot = stack[depth, _SLOT]
        threes = stack[depth, _THREES]
        if returning:
            # The child frame judged the straight-four point of ``slot``.
            returning = False
            if child_forbidden:
                slot += 1
            else:
                threes += 1
                slot = (slot // 2 + 1) * 2  # one three per line: go to the next line
        pushed = False
        while threes < 2 and slot < 8:
            d = slot // 2
            if lines & (1 << d):
                slot = (d + 1) * 2
                continue
            q = _straight_four_point(board, size, px, py, d, 1 - 2 * (slot % 2))
            if q < 0:
                slot += 1
                continue
            board[q] = BLACK
            q_verdict, q_lines = _classify(board, size, q % size, q // size)
            if q_verdict == UNDECIDED and depth + 1 < MAX_THREE_DEPTH:
                # Judge q's threes in a child frame; q stays on the board until it returns.
                stack[depth, _SLOT] = slot
                stack[depth, _THREES] = threes
                depth += 1
                stack[depth, _MOVE] = q
                stack[depth, _FOUR_LINES] = q_lines
                stack[depth, _SLOT] = 0
                stack[depth, _THREES] = 0
                pushed = True
                break
            board[q] = EMPTY
            if q_verdict == FORBIDDEN:
                slot += 1
            else:
                threes += 1
                slot = (d + 1) * 2
        if pushed:
            continue
        board[p] = EMPTY
        if depth == 0:
            return threes >= 2
        child_forbidden = threes >= 2
        depth -= 1
        returning = True


@njit(cache=True)
def _may_be_forbidden(board, size, near):
    """Fill ``near[d, p]`` with the black stones within 4 points of p along line d.

    A point can only be forbidden if two lines each hold 2+ black stones
    within reach (double-three, double-four across lines) or one line holds
    4+ (double-four on one line, overline); every other point is skipped
    without the full check.
    """
    near[:] = 0
    n = size * size
    for s in range(n):
        if board[s] != BLACK:
            continue
        sx = s % size
        sy = s // size
        for d in range(4):
            for k in range(-4, 5):
                if k == 0:
                    continue
                px = sx + k * DX[d]
                py = sy + k * DY[d]
                if 0 <= px < size and 0 <= py < size:
                    near[d, py * size + px] += 1


@njit(cache=True)
def forbidden_mask_into(board, size, out, near, stack):
    """Write into ``out`` (bool, size*size) which empty points are forbidden for black; return how many.

    ``near`` (int16, shape (4, size*size)) and ``stack`` (from
    :func:`new_three_stack`) are scratch arrays; passing them in keeps
    repeated calls (search, benchmarks) free of allocation.
    """
    _may_be_forbidden(board, size, near)
    count = 0
    for p in range(size * size):
        out[p] = False
        if board[p] != EMPTY:
            continue
        lines_with_two = 0
        most = 0
        for d in range(4):
            c = near[d, p]
            if c >= 2:
                lines_with_two += 1
            if c > most:
                most = c
        if lines_with_two >= 2 or most >= 4:
            if is_forbidden_using(board, size, p, stack):
                out[p] = True
                count += 1
    return count


def forbidden_mask(board: np.ndarray, size: int) -> np.ndarray:
    """Boolean mask of the points forbidden to black on ``board`` (whoever is to move)."""
    out = np.zeros(size * size, dtype=np.bool_)
    near = np.zeros((4, size * size), dtype=np.int16)
    forbidden_mask_into(board, size, out, near, new_three_stack())
    return out


@njit(cache=True)
def black_has_legal_move(board, size):
    """True if some empty point is not forbidden to black (stops at the first)."""
    for p in range(size * size):
        if board[p] == EMPTY and not is_forbidden(board, size, p):
            return True
    return False
