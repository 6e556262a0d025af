"""Threat defence: when the opponent has a forced win in hand, search only the moves that might stop it.

A quiet position (nobody can win at once) can still be lost: the opponent
may hold a VCF or a VCT that it will start on its next move.  Strong
engines then prune the side to move's choices to the moves that refute the
threat, and so does the search here:

- **At the root**, exactly with the solver: the opponent's VCT is searched
  (:mod:`azero.search.vct`); the points its proof uses (the opponent's moves, the
  replies it beat, its final threats' points) and the side to move's own
  fours are the candidates; each one is played and kept only if the
  opponent then has no VCT within the root's budget.
  A root with no refutation is a proven loss; the search still needs a
  move, so its candidates are left as they were.
- **Inside the tree**, cheaply: if the opponent has a VCF (:mod:`azero.search.vcf`),
  a candidate stays only if it makes a four of its own or leaves the
  opponent without a VCF.  A leaf with no such candidate is a LOSS.

A move pruned here is proven to lose by the solver, except the root's moves
outside the threat's points, which are pruned as strong engines prune them.
"""

import numpy as np
from numba import njit

from azero.search import tactics, vcf, vct
from azero.search.tactics import winning_points_through
from games.constants import BLACK, EMPTY, WHITE


@njit(cache=True, inline="always")
def _makes_four(board, size, q, color, n_in_row, rule, out):
    board[q] = color
    four = winning_points_through(board, size, color, q, n_in_row, rule, out) > 0
    board[q] = EMPTY
    return four


@njit(cache=True)
def _restrict_root(board, size, color, n_in_row, rule, budget, max_depth, candidates, frames, stack_points, state):
    opponent = WHITE if color == BLACK else BLACK
    zobrist, salts, keys, info, touched = state
    n = size * size
    # A table of its own, so the threat's proof is walked here and its points marked (the shared table would
    # answer parts of it from memory and leave their points unmarked).
    fresh_keys, fresh_info = np.zeros(keys.shape[0], dtype=np.uint64), np.zeros(info.shape, dtype=np.int32)
    for p in range(n):
        touched[p] = False
    threat = vct.find_vct(board, size, opponent, n_in_row, rule, max_depth, budget, zobrist, salts, fresh_keys,
                          fresh_info, touched, frames, stack_points)
    if threat == vct.NO_VCT:
        return tactics.OPEN
    depends = touched.copy()
    out = np.empty(8 * n_in_row + 8, dtype=np.int64)
    keep = np.zeros(n, dtype=np.bool_)
    per_move = budget  # a refutation is believed only after as long a search for the threat as the root's
    kept = 0
    for q in range(n):
        if not candidates[q]:
            continue
        if not (depends[q] or _makes_four(board, size, q, color, n_in_row, rule, out)):
            continue
        board[q] = color
        answer = vct.find_vct(board, size, opponent, n_in_row, rule, max_depth, per_move, zobrist, salts, keys,
                              info, touched, frames, stack_points)
        board[q] = EMPTY
        if answer == vct.NO_VCT:
            keep[q] = True
            kept += 1
    if kept == 0:
        return tactics.OPEN  # lost against best play; let the network choose how to lose
    for q in range(n):
        candidates[q] = keep[q]
    return tactics.FORCED


@njit(cache=True)
def _restrict_leaf(board, size, color, n_in_row, rule, budget, candidates, frames, stack_points):
    opponent = WHITE if color == BLACK else BLACK
    if vcf.find_vcf(board, size, opponent, n_in_row, rule, vcf.MAX_FOURS, budget, frames, stack_points) == vcf.NO_VCF:
        return tactics.OPEN
    n = size * size
    out = np.empty(8 * n_in_row + 8, dtype=np.int64)
    kept = 0
    for q in range(n):
        if not candidates[q]:
            continue
        if _makes_four(board, size, q, color, n_in_row, rule, out):
            kept += 1  # a counter-four: the opponent must answer it first
            continue
        board[q] = color
        refutes = vcf.find_vcf(board, size, opponent, n_in_row, rule, vcf.MAX_FOURS, budget, frames,
                               stack_points) == vcf.NO_VCF
        board[q] = EMPTY
        if refutes:
            kept += 1
        else:
            candidates[q] = False
    return tactics.FORCED if kept > 0 else tactics.LOSS


@njit(cache=True)
def restrict(kind, board, size, color, n_in_row, rule, is_root, vcf_budget, root_vct_budget, max_depth, candidates,
             frames, stack_points, state):
    """Prune a quiet node's ``candidates`` to the moves that refute the opponent's threat; return the new kind.

    ``kind`` must be OPEN (no immediate threat, no forced win of the side
    to move) or it is returned as it is.  The root uses the VCT with
    ``root_vct_budget`` nodes (off when 0); other nodes use the VCF with
    ``vcf_budget`` fours (off when 0).
    """
    if kind != tactics.OPEN:
        return kind
    if is_root:
        if root_vct_budget <= 0:
            return kind
        return _restrict_root(board, size, color, n_in_row, rule, root_vct_budget, max_depth, candidates, frames,
                              stack_points, state)
    if vcf_budget <= 0:
        return kind
    return _restrict_leaf(board, size, color, n_in_row, rule, vcf_budget, candidates, frames, stack_points)
