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

from games.constants import BLACK, EMPTY
from games.lines import DX, DY, line_length

# How many nested "is that point forbidden?" questions a three check may ask.
# Each level adds a black stone, so the depth is bounded by the board anyway;
# real positions never get near this.  Beyond it a point is judged by its
# fives, overlines and fours alone.
MAX_THREE_DEPTH = 32


@njit(cache=True, inline="always")
def _walk(board, size, x, y, dx, dy):
    """Walk from (x, y) along (dx, dy) past p's block: ``(block, gap, beyond, gap2, beyond2)``.

    ``block``: black stones next to p on this side.  ``gap``: is the first
    point after them empty (False if white or off the board)?  ``beyond``:
    black stones right after that gap.  ``gap2``: is the point after those
    empty?  ``beyond2``: 1 if a black stone follows that second gap, else 0.
    These five numbers on each side answer every renju question about the
    line: fives, fours, and the straight fours that make threes.

    The loops are written out rather than calling ``lines.run_length``: with
    the calls, numba's code for the forbidden mask ran 25% slower (measured).
    """
    block = 0
    x += dx
    y += dy
    while 0 <= x < size and 0 <= y < size and board[y * size + x] == BLACK:
        block += 1
        x += dx
        y += dy
    if not (0 <= x < size and 0 <= y < size) or board[y * size + x] != EMPTY:
        return block, False, 0, False, 0
    beyond = 0
    x += dx
    y += dy
    while 0 <= x < size and 0 <= y < size and board[y * size + x] == BLACK:
        beyond += 1
        x += dx
        y += dy
    if not (0 <= x < size and 0 <= y < size) or board[y * size + x] != EMPTY:
        return block, True, beyond, False, 0
    x += dx
    y += dy
    beyond2 = 1 if (0 <= x < size and 0 <= y < size and board[y * size + x] == BLACK) else 0
    return block, True, beyond, True, beyond2


@njit(cache=True)
def line_shape(board, size, x, y, d):
    """With black on (x, y), what line d makes: ``(length, fours, plus_point, minus_point)``.

    ``length``: the solid black row through (x, y).  ``fours``: how many fours
    contain (x, y) (0, 1 or 2; a straight four is one).  ``plus_point`` /
    ``minus_point``: the point on each side that would turn the line into a
    straight four through (x, y), or -1.  A four or straight four through p
    is a solid block, so the stone completing it is the first non-black
    point beyond p's block: one candidate per side.
    """
    dx = DX[d]
    dy = DY[d]
    b, e1, c1, e2, c2 = _walk(board, size, x, y, dx, dy)
    a, f1, d1, f2, d2 = _walk(board, size, x, y, -dx, -dy)
    length = a + b + 1
    plus_five = e1 and length + 1 + c1 == 5
    minus_five = f1 and length + 1 + d1 == 5
    fours = int(plus_five) + int(minus_five)
    if fours == 2 and length == 4:
        fours = 1  # straight four: two ways to complete the same four stones
    plus_point = -1
    minus_point = -1
    # Filling the plus gap makes a block of length+1+c1; it is a straight four
    # when that is 4 and both new ends are empty with no black stone beyond
    # them (so each completes exactly five).
    if e1 and length + 1 + c1 == 4 and f1 and d1 == 0 and e2 and c2 == 0:
        plus_point = (y + (b + 1) * dy) * size + x + (b + 1) * dx
    if f1 and length + 1 + d1 == 4 and e1 and c1 == 0 and f2 and d2 == 0:
        minus_point = (y - (a + 1) * dy) * size + x - (a + 1) * dx
    return length, fours, plus_point, minus_point


# Verdicts of the shape check.
NOT_FORBIDDEN = 0
FORBIDDEN = 1
UNDECIDED = 2  # no five, overline or double-four: the threes decide


@njit(cache=True)
def _classify(board, size, x, y, points):
    """With black on (x, y): the verdict from fives, overlines and fours alone.

    Fills ``points[d, 0..1]`` with line d's two straight-four points (-1 for
    none, and -1 for both when line d holds a four, which cannot also count
    as a three).
    """
    five = False
    overline = False
    fours = 0
    for d in range(4):
        length, n, plus_point, minus_point = line_shape(board, size, x, y, d)
        if length == 5:
            five = True
        elif length > 5:
            overline = True
        fours += n
        if n > 0:
            points[d, 0] = -1
            points[d, 1] = -1
        else:
            points[d, 0] = plus_point
            points[d, 1] = minus_point
    if five:
        return NOT_FORBIDDEN  # a five wins, whatever else the move makes
    if overline or fours >= 2:
        return FORBIDDEN
    return UNDECIDED


@njit(cache=True, inline="always")
def _lines_with_straight_four_points(line_points):
    count = 0
    for d in range(4):
        if line_points[d, 0] >= 0 or line_points[d, 1] >= 0:
            count += 1
    return count


# The explicit stack in is_forbidden: one frame per nested question.
# frames[depth] = (move, slot, threes); slot is the next (line, side) to try:
# line = slot // 2, side = slot % 2.  points[depth] holds that frame's
# straight-four points as filled by _classify.
_MOVE = 0
_SLOT = 1
_THREES = 2


@njit(cache=True)
def new_three_stack():
    """Scratch space for :func:`is_forbidden_using`: ``(frames, points)``."""
    return np.empty((MAX_THREE_DEPTH, 3), dtype=np.int64), np.empty((MAX_THREE_DEPTH, 4, 2), dtype=np.int64)


@njit(cache=True)
def is_forbidden(board, size, move):
    """Is the empty point ``move`` forbidden for black?  ``board`` is restored before returning."""
    frames, points = new_three_stack()
    return is_forbidden_using(board, size, move, frames, points)


@njit(cache=True)
def is_forbidden_using(board, size, move, frames, points):
    """:func:`is_forbidden` with caller-owned scratch from :func:`new_three_stack`.

    A three is real only if the point that makes it a straight four is not
    itself forbidden, which needs the same question one level down.  The
    recursion runs on an explicit stack: numba's on-disk cache produces
    crashing code for recursive functions, and the stack also bounds the depth.
    """
    if board[move] != EMPTY:
        return False
    board[move] = BLACK
    verdict = _classify(board, size, move % size, move // size, points[0])
    if verdict != UNDECIDED:
        board[move] = EMPTY
        return verdict == FORBIDDEN

    # Cheap bound first: a double-three needs two lines that could become a
    # straight four at all.  Most points stop here, before any nested check.
    if _lines_with_straight_four_points(points[0]) < 2:
        board[move] = EMPTY
        return False

    frames[0, _MOVE] = move
    frames[0, _SLOT] = 0
    frames[0, _THREES] = 0
    depth = 0
    child_forbidden = False
    returning = False
    while True:
        slot = frames[depth, _SLOT]
        threes = frames[depth, _THREES]
        if returning:
            # The child frame judged the straight-four point of ``slot``.
            returning = False
            if child_forbidden:
                slot += 1
            else:
                threes += 1
                slot = (slot // 2 + 1) * 2  # one three per line: go on to the next line
        pushed = False
        while threes < 2 and slot < 8:
            d = slot // 2
            q = points[depth, d, slot % 2]
            if q < 0:
                slot += 1
                continue
            board[q] = BLACK
            q_verdict = _classify(board, size, q % size, q // size, points[depth + 1])
            if q_verdict == UNDECIDED and _lines_with_straight_four_points(points[depth + 1]) < 2:
                q_verdict = NOT_FORBIDDEN  # q cannot make two threes
            if q_verdict == UNDECIDED and depth + 1 < MAX_THREE_DEPTH - 1:
                # Judge q's threes in a child frame; q stays on the board until it returns.
                frames[depth, _SLOT] = slot
                frames[depth, _THREES] = threes
                depth += 1
                frames[depth, _MOVE] = q
                frames[depth, _SLOT] = 0
                frames[depth, _THREES] = 0
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
        board[frames[depth, _MOVE]] = EMPTY
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
def forbidden_mask_into(board, size, out, near, frames, points):
    """Write into ``out`` (bool, size*size) which empty points are forbidden for black; return how many.

    ``near`` (int16, shape (4, size*size)) and ``frames``, ``points`` (from
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
            if is_forbidden_using(board, size, p, frames, points):
                out[p] = True
                count += 1
    return count


def forbidden_mask(board: np.ndarray, size: int) -> np.ndarray:
    """Boolean mask of the points forbidden to black on ``board`` (whoever is to move)."""
    # The kernels trust their arrays (numba does not check bounds), so check them here.
    if not (isinstance(board, np.ndarray) and board.dtype == np.int8 and board.shape == (size * size,)):
        raise ValueError(f"board must be an int8 array of shape ({size * size},) for size {size}")
    out = np.zeros(size * size, dtype=np.bool_)
    near = np.zeros((4, size * size), dtype=np.int16)
    frames, points = new_three_stack()
    forbidden_mask_into(board, size, out, near, frames, points)
    return out


@njit(cache=True)
def black_has_legal_move(board, size):
    """True if some empty point is not forbidden to black (stops at the first)."""
    frames, points = new_three_stack()  # once, not once per point tried
    for p in range(size * size):
        if board[p] == EMPTY and not is_forbidden_using(board, size, p, frames, points):
            return True
    return False


def forbidden_reason(board: np.ndarray, size: int, move: int) -> str | None:
    """Why black may not play ``move`` ('overline', 'double four' or 'double three'), or None if it may.

    For people (the window explains a refused click); the engine's own
    checks never need the reason.
    """
    board = board.copy()
    if not is_forbidden(board, size, move):
        return None
    x, y = move % size, move // size
    board[move] = BLACK
    if any(line_length(board, size, x, y, dx, dy, BLACK) > 5 for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1))):
        return "overline"
    points = np.empty((4, 2), dtype=np.int64)
    if _classify(board, size, x, y, points) == FORBIDDEN:
        return "double four"  # _classify forbids only overlines and double fours; threes are decided later
    return "double three"
