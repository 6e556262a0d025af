"""Immediate tactics the search knows exactly, without asking the network.

A leaf whose side to move can complete a winning row is a win; one whose
opponent threatens two different winning points is a loss; one whose
opponent threatens exactly one point has a single sensible move, the block.
These are facts of the rules, not guesses, so the search treats them as
exact results (see :func:`leaf_candidates`), and every net starts out never
missing a five or a block.
"""

import numpy as np
from numba import njit

from games.constants import BLACK, EMPTY, RENJU, WHITE
from games.lines import DX, DY, is_winning_move, line_length, wins_with_length

# What a leaf turned out to be.
OPEN = 0  # an ordinary position: the candidates mask is filled in
WIN = 1  # the side to move completes a row now
LOSS = 2  # the opponent has two winning points (or black's only block is forbidden)
DRAW = 3  # no stone can be played (board full, or renju black with only forbidden points)
FORCED = 4  # like OPEN, but the candidates are only wins or blocks (someone threatens to win now)


@njit(cache=True, inline="always")
def _neighbours(board, size, p):
    """Bit 1 set if a black stone touches ``p`` (8 directions), bit 2 if a white one does."""
    y = p // size
    x = p - y * size
    seen = 0
    for ny in range(max(0, y - 1), min(size, y + 2)):
        for nx in range(max(0, x - 1), min(size, x + 2)):
            seen |= board[ny * size + nx]
    return seen


@njit(cache=True, inline="always")
def _completes_row(board, size, p, color, n_in_row, rule):
    board[p] = color
    wins = is_winning_move(board, size, p, color, n_in_row, rule)
    board[p] = EMPTY
    return wins


@njit(cache=True, inline="always")
def own_stones_along(board, size, p, d, color, n_in_row):
    """Stones of ``color`` within n_in_row - 1 of ``p`` along line ``d``, not counting past the other colour."""
    x0 = p % size
    y0 = p // size
    count = 0
    for sign in (-1, 1):
        for k in range(1, n_in_row):
            x = x0 + k * DX[d] * sign
            y = y0 + k * DY[d] * sign
            if not (0 <= x < size and 0 <= y < size):
                break
            cell = board[y * size + x]
            if cell == color:
                count += 1
            elif cell != EMPTY:
                break
    return count


@njit(cache=True, inline="always")
def own_stones_in_line(board, size, p, color, n_in_row):
    """Most stones of ``color`` within n_in_row - 1 of ``p`` on one line, not counting past the other colour."""
    best = 0
    for d in range(4):
        count = own_stones_along(board, size, p, d, color, n_in_row)
        if count > best:
            best = count
    return best


@njit(cache=True)
def winning_points(board, size, color, n_in_row, rule, out, limit):
    """Write into ``out`` the empty points where ``color`` would complete a winning row; return how many.

    Stops after ``limit`` points (1 answers "can it win now?").  A winning
    point always touches a stone of its colour, so only those points are
    tried.  ``board`` is restored before returning.
    """
    count = 0
    for p in range(size * size):
        if count >= limit:
            break
        if board[p] == EMPTY and _neighbours(board, size, p) & color and _completes_row(board, size, p, color, n_in_row, rule):
            out[count] = p
            count += 1
    return count


@njit(cache=True)
def threats(board, size, to_move, n_in_row, rule, stop_at_own_win, out):
    """Winning points of both sides in one pass over the board.

    Returns ``(own, opponent)`` counts; the opponent's points are written
    to ``out``.  With ``stop_at_own_win`` it returns as soon as the side to
    move has one (the opponent count is then meaningless).  Colours with
    fewer than n_in_row - 1 stones cannot have a winning point and are
    skipped, which makes the opening almost free.
    """
    opponent = WHITE if to_move == BLACK else BLACK
    own_stones = 0
    opponent_stones = 0
    for p in range(size * size):
        if board[p] == to_move:
            own_stones += 1
        elif board[p] == opponent:
            opponent_stones += 1
    check_own = own_stones >= n_in_row - 1
    check_opponent = opponent_stones >= n_in_row - 1
    own = 0
    found = 0
    if not (check_own or check_opponent):
        return 0, 0
    for p in range(size * size):
        if board[p] != EMPTY:
            continue
        seen = _neighbours(board, size, p)
        if check_own and seen & to_move and _completes_row(board, size, p, to_move, n_in_row, rule):
            own += 1
            if stop_at_own_win:
                return own, found
        if check_opponent and seen & opponent and _completes_row(board, size, p, opponent, n_in_row, rule):
            out[found] = p
            found += 1
    return own, found


@njit(cache=True)
def winning_points_through(board, size, color, last_move, n_in_row, rule, out):
    """Winning points of ``color`` whose row would include its stone at ``last_move``; return how many.

    Only the 4 lines through ``last_move``, up to n_in_row - 1 points away,
    are looked at (8 (n-1) points instead of the whole board).  When the
    position before ``last_move`` gave ``color`` no winning point, these
    are all its winning points: a row that does not include the new stone
    was there before it.
    """
    count = 0
    x0 = last_move % size
    y0 = last_move // size
    for d in range(4):
        for sign in (-1, 1):
            dx = DX[d] * sign
            dy = DY[d] * sign
            for k in range(1, n_in_row):
                x = x0 + k * dx
                y = y0 + k * dy
                if not (0 <= x < size and 0 <= y < size):
                    break
                p = y * size + x
                cell = board[p]
                if cell == EMPTY:
                    board[p] = color
                    length = line_length(board, size, x, y, DX[d], DY[d], color)
                    board[p] = EMPTY
                    if wins_with_length(length, color, n_in_row, rule):
                        out[count] = p
                        count += 1
                    break  # beyond an empty point the row through it would not reach the new stone
                if cell != color:
                    break
    return count


@njit(cache=True)
def _near_stones(board, size, radius):
    """Bool mask of the points within ``radius`` (both coordinates) of some stone."""
    near = np.zeros(size * size, dtype=np.bool_)
    for p in range(size * size):
        if board[p] == EMPTY:
            continue
        y = p // size
        x = p - y * size
        for ny in range(max(0, y - radius), min(size, y + radius + 1)):
            for nx in range(max(0, x - radius), min(size, x + radius + 1)):
                near[ny * size + nx] = True
    return near


@njit(cache=True, inline="always")
def forced_win(is_root, move, size, candidates):
    """A solver found a forced win starting with ``move``: a leaf is WIN; the root plays only that move (FORCED)."""
    if not is_root:
        return WIN
    for p in range(size * size):
        candidates[p] = False
    candidates[move] = True
    return FORCED


@njit(cache=True)
def leaf_candidates(board, size, to_move, n_in_row, rule, use_tactics, is_root, full_scan, last_move, radius, forbidden,
                    candidates, points):
    """Classify a position and fill ``candidates`` (bool, size*size) with the moves worth searching.

    ``forbidden`` must already hold black's forbidden points in renju.
    With ``use_tactics``: a win for the side to move returns WIN, two
    opponent threats LOSS, one threat makes the block the only candidate.
    At the root a decided position still needs a move, so it returns OPEN
    with the winning (or blocking) points as candidates instead.
    ``radius`` > 0 limits candidates to points that near a stone (the empty
    board keeps every point).  ``points`` is int64 scratch of size*size.

    Without ``full_scan`` the caller promises that the position before
    ``last_move`` was classified here as an ordinary (non-root) OPEN node.
    Then the side to move has no win (its one threat was blocked, or that
    node would have been a LOSS) and every winning point of the opponent
    goes through ``last_move``, so only those lines are read.  The search
    scans the whole board at the root and its children.
    """
    n = size * size
    black_restricted = rule == RENJU and to_move == BLACK
    threatened = False
    if use_tactics:
        if full_scan or last_move < 0:
            own, found = threats(board, size, to_move, n_in_row, rule, not is_root, points)
        else:
            opponent = WHITE if to_move == BLACK else BLACK
            own, found = 0, winning_points_through(board, size, opponent, last_move, n_in_row, rule, points)
        if own > 0:
            if not is_root:
                return WIN
            # At the root the search must still pick the winning point: make the wins the only candidates.
            own = winning_points(board, size, to_move, n_in_row, rule, points, n)
            for p in range(n):
                candidates[p] = False
            for i in range(own):
                candidates[points[i]] = True
            return FORCED
        if found > 0:
            blockable = 0
            for p in range(n):
                candidates[p] = False
            for i in range(found):
                p = points[i]
                if not (black_restricted and forbidden[p]):
                    candidates[p] = True
                    blockable += 1
            if found == 1 and blockable == 1:
                return FORCED
            if not is_root:
                return LOSS
            if blockable > 0:
                return FORCED  # lost anyway; at the root, block one of them
            # Fall through: every block is forbidden, play anything legal (but the position is not quiet).
            threatened = True
    count = 0
    for p in range(n):
        ok = board[p] == EMPTY and not (black_restricted and forbidden[p])
        candidates[p] = ok
        if ok:
            count += 1
    if radius > 0 and count > 0:
        # Keep only points near a stone: mark each stone's neighbourhood (stones are few; points many).
        near = _near_stones(board, size, radius)
        if near.any():  # the empty board keeps every point
            kept = 0
            for p in range(n):
                if candidates[p] and not near[p]:
                    candidates[p] = False
                elif candidates[p]:
                    kept += 1
            if kept == 0:  # every nearby point is forbidden: widen to the whole board again
                for p in range(n):
                    candidates[p] = board[p] == EMPTY and not (black_restricted and forbidden[p])
            else:
                count = kept
    if count == 0:
        return DRAW
    return FORCED if threatened else OPEN
