"""Victory by continuous fours (VCF): a forced win made only of fours, found by a numba depth-first search.

The attacker (the side to move) plays a *four*: a stone after which it
threatens to complete a winning row at exactly one point.  The defender has
no four of its own (checked), so it must block that point; otherwise the
attacker completes the row next move.  The attacker wins when a move makes
five, makes two winning points at once (an open four, a double four: one
block cannot stop both), or when the defender cannot block (in renju a
black block on a forbidden point).  These are facts of the rules, so a VCF
found is an exact win; the search (:mod:`azero.search.mcts`) treats it as one.

Lines are dropped, never guessed: where the defender's forced block makes a
four of its own the attacker would have to answer it, and that line is not
followed.  A "no" therefore means "no VCF within ``max_depth`` fours and
``budget`` tries", never "lost".

Both sides must have no winning point on entry (the search only asks in
quiet positions).  The search runs on an explicit stack, not recursion:
numba's on-disk cache produces crashing code for recursive functions.
"""

import numpy as np
from numba import njit

from azero.search import tactics
from azero.search.tactics import own_stones_in_line, winning_points_through
from games.constants import BLACK, EMPTY, RENJU, WHITE
from games.lines import is_winning_move
from games.renju import is_forbidden_using

NO_VCF = -1


@njit(cache=True, inline="always")
def _may_make_four(board, size, p, color, n_in_row):
    """Can a stone of ``color`` at ``p`` make a four?  True when some line holds n_in_row - 2 of its stones near p.

    A necessary condition only (cheap): the real test follows.
    """
    return own_stones_in_line(board, size, p, color, n_in_row) >= n_in_row - 2


@njit(cache=True)
def find_vcf(board, size, attacker, n_in_row, rule, max_depth, budget, frames, stack_points):
    """The first move of a VCF for ``attacker`` (to move), or NO_VCF; ``board`` is restored before returning.

    ``max_depth`` bounds the attacker's fours in one line, ``budget`` the
    fours tried in all; ``frames``/``stack_points`` are renju scratch from
    :func:`games.renju.new_three_stack`.
    """
    n = size * size
    defender = WHITE if attacker == BLACK else BLACK
    black_attacks = rule == RENJU and attacker == BLACK
    black_defends = rule == RENJU and defender == BLACK
    next_point = np.zeros(max_depth + 1, dtype=np.int64)  # where each depth resumes its scan
    played = np.empty(max_depth + 1, dtype=np.int64)  # the attacker's four at each depth ...
    blocked = np.empty(max_depth + 1, dtype=np.int64)  # ... and the defender's forced block
    out = np.empty(2 * 4, dtype=np.int64)
    depth = 0
    found = NO_VCF
    while depth >= 0 and found == NO_VCF:
        p = next_point[depth]
        while p < n and not (board[p] == EMPTY and _may_make_four(board, size, p, attacker, n_in_row)):
            p += 1
        next_point[depth] = p + 1
        if p >= n or budget <= 0:  # this depth is exhausted (or the budget is): back up one four
            depth -= 1
            if depth >= 0:
                board[played[depth]] = EMPTY
                board[blocked[depth]] = EMPTY
            if budget <= 0:
                while depth > 0:
                    depth -= 1
                    board[played[depth]] = EMPTY
                    board[blocked[depth]] = EMPTY
                break
            continue
        if black_attacks and is_forbidden_using(board, size, p, frames, stack_points):
            continue
        budget -= 1
        board[p] = attacker
        if is_winning_move(board, size, p, attacker, n_in_row, rule):
            found = p
            break
        threats = winning_points_through(board, size, attacker, p, n_in_row, rule, out)
        if threats == 0:
            board[p] = EMPTY
            continue
        if threats >= 2:
            found = p  # two winning points: one block cannot stop both
            break
        q = out[0]
        if black_defends and is_forbidden_using(board, size, q, frames, stack_points):
            found = p  # black may not block there
            break
        board[q] = defender
        if depth + 1 >= max_depth or winning_points_through(board, size, defender, q, n_in_row, rule, out) > 0:
            # Too deep, or the block is a four of the defender's own that the attacker would have to answer.
            board[q] = EMPTY
            board[p] = EMPTY
            continue
        played[depth] = p
        blocked[depth] = q
        depth += 1
        next_point[depth] = 0
    if found == NO_VCF:
        return NO_VCF
    first = played[0] if depth > 0 else found
    board[found] = EMPTY
    for d in range(depth):
        board[played[d]] = EMPTY
        board[blocked[d]] = EMPTY
    return first


# A line longer than this many fours is not looked for (real VCFs on 15x15 rarely need more).
MAX_FOURS = 12
# The root is searched once a move, so it may try this many times more fours than a leaf.
ROOT_BUDGET_FACTOR = 100


@njit(cache=True)
def upgrade_leaf(kind, board, size, color, n_in_row, rule, is_root, budget, candidates, frames, stack_points):
    """Look for a VCF in a quiet leaf (``kind`` from :func:`azero.search.tactics.leaf_candidates`); return its new kind.

    Below the root a VCF makes the leaf a WIN.  At the root the search must
    still choose a move, so the VCF's first four becomes the only candidate
    (FORCED): the player never misses a forced win it can see.  ``budget``
    0 turns this off.
    """
    if budget <= 0 or kind != tactics.OPEN:
        return kind
    limit = budget * ROOT_BUDGET_FACTOR if is_root else budget
    move = find_vcf(board, size, color, n_in_row, rule, MAX_FOURS, limit, frames, stack_points)
    if move == NO_VCF:
        return kind
    return tactics.forced_win(is_root, move, size, candidates)


@njit(cache=True)
def quiet_root_vcf(board, size, color, n_in_row, rule, budget, frames, stack_points, points):
    """The first four of a VCF for ``color`` at a root with the root's budget, or NO_VCF.

    For a root the tactics have not judged (a subtree kept by tree reuse):
    it checks itself that neither side can win at once, as the VCF requires.
    ``points`` is int64 scratch of size*size.
    """
    if budget <= 0:
        return NO_VCF
    own, found = tactics.threats(board, size, color, n_in_row, rule, True, points)
    if own > 0 or found > 0:
        return NO_VCF
    return find_vcf(board, size, color, n_in_row, rule, MAX_FOURS, budget * ROOT_BUDGET_FACTOR, frames, stack_points)
