"""Victory by continuous threats (VCT): forced wins built from fours *and* threes, found by a numba AND-OR search.

VCF (:mod:`azero.search.vcf`) sees only fours, whose answer is forced.  Most forks
that decide real games (a double three, a four-three, a four whose forced
block lets a three become an open four) also use *threes*: moves that
threaten to make a winning threat next move, which the defender may answer
in several ways.  This module searches them exactly, with these definitions
(stated over winning points, so they hold for every rule and row length):

- A *winning point* of a colour: an empty point where its stone would
  complete a winning row (:func:`azero.search.tactics.winning_points`).
- A *threat move* of the attacker (who has no winning point): a legal move
  after which it has two or more winning points (an open four, a double
  four), or exactly one that black may not take in renju.  The defender,
  with no winning point of its own, cannot stop both, so a threat move wins.
- A *four*: a legal attacker move that makes at least one winning point.
- A *three*: a legal attacker move that is not a four, lines up with at
  least n_in_row - 3 of its own stones on one line through it, and after
  which some point on a line through it, within n_in_row - 1, is a threat move.

The search alternates two kinds of node:

**Attacker to move** (an OR node).  A winning point wins.  If the defender
has two winning points the line fails; if it has one (a counter-four), the
attacker's only move is to block it.  Otherwise a threat move wins, and with
depth left every four and three is tried.

**Defender to move** (an AND node), after an attacker move.  A defender
winning point fails the line; two attacker winning points win; one must be
blocked (in renju, a forbidden block for black wins).  With none, the
attacker must have threat moves T (else the move was no threat).  The
defender's replies are every legal move after which no move of T is still a
threat (a three's ends, its gap, ...), and every move that makes a four of
its own (a counter-four, which the attacker must then answer).  Any other
reply leaves a threat move standing and loses, so a line that beats all of
these replies is a proven win.  With no reply left the attacker wins.

So a VCT found is an exact win; "not found" means only "not within
``max_depth`` attacker moves and ``budget`` nodes".  Proven results are
cached per position (Zobrist hashing) in a table the caller keeps between
calls.  The search runs on an explicit stack: numba's on-disk cache produces
crashing code for recursive functions.
"""

import numpy as np
from numba import njit

from azero.search import tactics
from azero.search.tactics import own_stones_along, own_stones_in_line, winning_points, winning_points_through
from games.constants import BLACK, EMPTY, RENJU, WHITE
from games.lines import DX, DY, is_winning_move
from games.renju import is_forbidden_using

NO_VCT = -1

# Node kinds and results.
ATTACK = 0
DEFEND = 1
UNKNOWN = 0
PROVEN_WIN = 1
NO_WIN = 2

# The transposition table: keys (uint64) and, per entry, result, the attacker depth left it holds for, and the move.
TABLE_BITS = 16
RESULT, DEPTH_LEFT, BEST = range(3)


def new_table(bits: int = TABLE_BITS):
    """A transposition table for :func:`find_vct`: ``(keys, info)``; keep it for one board size and rule."""
    return np.zeros(1 << bits, dtype=np.uint64), np.zeros((1 << bits, 3), dtype=np.int32)


def new_zobrist(size: int, seed: int = 20261202):
    """Random 64-bit keys per colour and point ``[3, size*size]`` (row 0 unused), and salts for node kind and side."""
    rng = np.random.default_rng(seed)
    keys = rng.integers(1, 2**63 - 1, size=(3, size * size), dtype=np.int64).astype(np.uint64)
    salts = rng.integers(1, 2**63 - 1, size=4, dtype=np.int64).astype(np.uint64)
    return keys, salts


@njit(cache=True)
def board_hash(board, zobrist):
    h = np.uint64(0)
    for p in range(board.shape[0]):
        if board[p] != EMPTY:
            h ^= zobrist[board[p], p]
    return h


@njit(cache=True, inline="always")
def _on_line_within(size, a, b, reach):
    """Do points ``a`` and ``b`` share a row, column or diagonal, at most ``reach`` apart?"""
    ax = a % size
    ay = a // size
    bx = b % size
    by = b // size
    dx = abs(ax - bx)
    dy = abs(ay - by)
    if max(dx, dy) > reach:
        return False
    return dx == 0 or dy == 0 or dx == dy


@njit(cache=True, inline="always")
def _legal(board, size, p, color, rule, frames, stack_points):
    if board[p] != EMPTY:
        return False
    return not (rule == RENJU and color == BLACK and is_forbidden_using(board, size, p, frames, stack_points))


@njit(cache=True)
def is_threat_move(board, size, m, attacker, n_in_row, rule, frames, stack_points, out):
    """Is ``m`` a threat move for ``attacker``, who has no winning point now?  ``board`` is restored.

    ``out`` is int64 scratch of at least 8 * n_in_row points.
    """
    if board[m] != EMPTY or own_stones_in_line(board, size, m, attacker, n_in_row) < n_in_row - 2:
        return False
    if not _legal(board, size, m, attacker, rule, frames, stack_points):
        return False
    board[m] = attacker
    threat = is_winning_move(board, size, m, attacker, n_in_row, rule)
    if not threat:
        wins = winning_points_through(board, size, attacker, m, n_in_row, rule, out)
        threat = wins >= 2
        if wins == 1 and rule == RENJU and attacker == WHITE:
            threat = is_forbidden_using(board, size, out[0], frames, stack_points)
    board[m] = EMPTY
    return threat


@njit(cache=True)
def _first_threat_move(board, size, attacker, n_in_row, rule, frames, stack_points, out):
    for m in range(size * size):
        if is_threat_move(board, size, m, attacker, n_in_row, rule, frames, stack_points, out):
            return m
    return -1


@njit(cache=True)
def _threat_moves(board, size, attacker, n_in_row, rule, frames, stack_points, out, into, at):
    """Append every threat move of ``attacker`` to ``into`` from index ``at``; return the new end."""
    for m in range(size * size):
        if is_threat_move(board, size, m, attacker, n_in_row, rule, frames, stack_points, out):
            into[at] = m
            at += 1
    return at


@njit(cache=True)
def is_three(board, size, p, attacker, n_in_row, rule, frames, stack_points, out):
    """Is the legal, empty ``p`` a three (see the module docstring) for ``attacker``, which is not a four there?"""
    if own_stones_in_line(board, size, p, attacker, n_in_row) < n_in_row - 3:
        return False
    # A threat move made by p has a winning row through p (else it was one before p, and the attacker had
    # none), so only lines through p with n_in_row - 3 stones of its own are read.  Not in renju for black,
    # where p can also make a far move legal.
    every_line = rule == RENJU and attacker == BLACK
    board[p] = attacker
    x0 = p % size
    y0 = p // size
    found = False
    for d in range(4):
        if not every_line and own_stones_along(board, size, p, d, attacker, n_in_row) < n_in_row - 3:
            continue
        for sign in (-1, 1):
            for k in range(1, n_in_row):
                x = x0 + k * DX[d] * sign
                y = y0 + k * DY[d] * sign
                if not (0 <= x < size and 0 <= y < size):
                    break
                m = y * size + x
                if board[m] == EMPTY and is_threat_move(board, size, m, attacker, n_in_row, rule, frames, stack_points,
                                                        out):
                    found = True
                    break
            if found:
                break
        if found:
            break
    board[p] = EMPTY
    return found


@njit(cache=True)
def _expand_attack(board, size, attacker, defender, n_in_row, rule, depth_left, frames, stack_points, out, moves, at):
    """Judge an attacker-to-move node, or list its moves.  Returns ``(result, end, best)``."""
    n = size * size
    if winning_points(board, size, attacker, n_in_row, rule, out, 1) > 0:
        return PROVEN_WIN, at, out[0]
    blocks = winning_points(board, size, defender, n_in_row, rule, out, 2)
    if blocks >= 2:
        return NO_WIN, at, -1
    if blocks == 0:
        m = _first_threat_move(board, size, attacker, n_in_row, rule, frames, stack_points, out)
        if m >= 0:
            return PROVEN_WIN, at, m
    if depth_left <= 0:
        return NO_WIN, at, -1
    if blocks == 1:
        q = out[0]
        if not _legal(board, size, q, attacker, rule, frames, stack_points):
            return NO_WIN, at, -1
        moves[at] = q
        return UNKNOWN, at + 1, -1
    end = at
    # Fours first (their answer is forced, so they are cheap to refute or prove), then threes.
    for p in range(n):
        if board[p] != EMPTY or own_stones_in_line(board, size, p, attacker, n_in_row) < n_in_row - 2:
            continue
        board[p] = attacker
        four = winning_points_through(board, size, attacker, p, n_in_row, rule, out) > 0
        board[p] = EMPTY
        if four and _legal(board, size, p, attacker, rule, frames, stack_points):
            moves[end] = p
            end += 1
    fours_end = end
    for p in range(n):
        if board[p] != EMPTY:
            continue
        listed = False
        for i in range(at, fours_end):
            if moves[i] == p:
                listed = True
                break
        if listed:
            continue
        if is_three(board, size, p, attacker, n_in_row, rule, frames, stack_points, out) and _legal(
                board, size, p, attacker, rule, frames, stack_points):
            moves[end] = p
            end += 1
    if end == at:
        return NO_WIN, at, -1
    return UNKNOWN, end, -1


@njit(cache=True)
def _kills_all(board, size, q, threats_from, threats_to, moves, attacker, n_in_row, rule, frames, stack_points, out,
               trick):
    """With the defender's stone at ``q``, is no move of ``moves[threats_from:threats_to]`` a threat any more?"""
    for i in range(threats_from, threats_to):
        m = moves[i]
        if m == q:
            continue
        # A defender stone changes a plain threat only on the lines through it (its winning points); a renju
        # trick (white's four whose block is forbidden) can change with any black stone near the block.
        if not trick and not _on_line_within(size, q, m, n_in_row - 1):
            return False
        if is_threat_move(board, size, m, attacker, n_in_row, rule, frames, stack_points, out):
            return False
    return True


@njit(cache=True)
def _expand_defend(board, size, attacker, defender, n_in_row, rule, frames, stack_points, out, moves, at):
    """Judge a defender-to-move node, or list the defender's replies.  Returns ``(result, end)``."""
    n = size * size
    if winning_points(board, size, defender, n_in_row, rule, out, 1) > 0:
        return NO_WIN, at
    wins = winning_points(board, size, attacker, n_in_row, rule, out, 2)
    if wins >= 2:
        return PROVEN_WIN, at
    if wins == 1:
        q = out[0]
        if not _legal(board, size, q, defender, rule, frames, stack_points):
            return PROVEN_WIN, at  # black may not block there
        moves[at] = q
        return UNKNOWN, at + 1
    # The threat moves sit in the buffer past the replies' room; they are only needed while replies are listed.
    threats_from = at + n
    threats_to = _threat_moves(board, size, attacker, n_in_row, rule, frames, stack_points, out, moves, threats_from)
    if threats_to == threats_from:
        return NO_WIN, at  # the attacker's move threatened nothing
    trick = rule == RENJU and attacker == WHITE
    end = at
    for q in range(n):
        if board[q] != EMPTY:
            continue
        board[q] = defender
        keep = _kills_all(board, size, q, threats_from, threats_to, moves, attacker, n_in_row, rule, frames,
                          stack_points, out, trick)
        if not keep and own_stones_in_line(board, size, q, defender, n_in_row) >= n_in_row - 2:
            keep = winning_points_through(board, size, defender, q, n_in_row, rule, out) > 0  # a counter-four
        board[q] = EMPTY
        if keep and _legal(board, size, q, defender, rule, frames, stack_points):
            moves[end] = q
            end += 1
    if end == at:
        return PROVEN_WIN, at  # nothing stops it
    return UNKNOWN, end


@njit(cache=True)
def _probe(keys, info, key, depth_left):
    slot = int(key & np.uint64(keys.shape[0] - 1))
    if keys[slot] != key:
        return UNKNOWN, -1
    result = info[slot, RESULT]
    if result == PROVEN_WIN or (result == NO_WIN and info[slot, DEPTH_LEFT] >= depth_left):
        return result, info[slot, BEST]
    return UNKNOWN, -1


@njit(cache=True)
def _store(keys, info, key, result, depth_left, best):
    slot = int(key & np.uint64(keys.shape[0] - 1))
    keys[slot] = key
    info[slot, RESULT] = result
    info[slot, DEPTH_LEFT] = depth_left
    info[slot, BEST] = best


@njit(cache=True)
def find_vct(board, size, attacker, n_in_row, rule, max_depth, budget, zobrist, salts, keys, info, touched, frames,
             stack_points):
    """The first move of a VCT for ``attacker`` (to move), or NO_VCT; ``board`` is restored before returning.

    Iterative deepening: depth 1, 2, ... ``max_depth`` share ``budget``
    nodes, so a short win is found before a long line eats the budget (the
    table keeps what shallower passes proved).  See :func:`search_vct`.
    """
    for depth in range(1, max_depth + 1):
        move, used = search_vct(board, size, attacker, n_in_row, rule, depth, budget, zobrist, salts, keys, info,
                                touched, frames, stack_points)
        if move != NO_VCT:
            return move
        budget -= used
        if budget <= 0:
            break
    return NO_VCT


@njit(cache=True)
def search_vct(board, size, attacker, n_in_row, rule, max_depth, budget, zobrist, salts, keys, info, touched, frames,
               stack_points):
    """One depth-first pass: ``(first move of a VCT or NO_VCT, nodes judged)``; ``board`` is restored.

    ``max_depth`` bounds the attacker's moves before its final threat
    move, ``budget`` the nodes judged.  ``zobrist``/``salts`` come from
    :func:`new_zobrist`, ``keys``/``info`` from :func:`new_table` (kept
    between calls: proven results stay valid).  When a VCT is found,
    ``touched`` (bool, size*size) gets the points its proof uses: the
    attacker's moves, every defender reply, and the final threat moves with
    their winning points (what a defender would have to take beforehand);
    parts proved earlier and answered from the table are not walked again.
    ``frames``/``stack_points``: renju scratch.
    """
    n = size * size
    given = budget
    defender = WHITE if attacker == BLACK else BLACK
    levels = 2 * max_depth + 2
    moves = np.empty(levels * n + n, dtype=np.int64)  # each level's moves, and past them one level of threat moves
    start = np.zeros(levels, dtype=np.int64)
    end = np.zeros(levels, dtype=np.int64)
    cursor = np.zeros(levels, dtype=np.int64)
    played = np.full(levels, -1, dtype=np.int64)
    node_key = np.zeros(levels, dtype=np.uint64)
    # The proof's points: pushed as the search goes, popped back when an attacker move fails.
    marks = np.empty(16 * n, dtype=np.int64)
    marks_at = np.zeros(levels, dtype=np.int64)
    top = 0
    out = np.empty(8 * n_in_row + 8, dtype=np.int64)
    side_salt = salts[0] if attacker == BLACK else salts[1]
    h = board_hash(board, zobrist)
    level = 0
    entering = True
    result = UNKNOWN
    best = -1
    aborted = False
    while True:
        kind = level % 2  # even levels: attacker to move
        depth_left = max_depth - level // 2
        if entering:
            entering = False
            key = h ^ side_salt ^ salts[2 + kind]
            node_key[level] = key
            result, best = _probe(keys, info, key, depth_left)
            if result == UNKNOWN:
                budget -= 1
                if budget < 0:
                    aborted = True
                    break
                start[level] = level * n
                if kind == ATTACK:
                    result, end[level], best = _expand_attack(board, size, attacker, defender, n_in_row, rule,
                                                              depth_left, frames, stack_points, out, moves, start[level])
                else:
                    result, end[level] = _expand_defend(board, size, attacker, defender, n_in_row, rule, frames,
                                                        stack_points, out, moves, start[level])
                cursor[level] = start[level]
                if result != UNKNOWN:
                    _store(keys, info, key, result, depth_left, best)
            if result == PROVEN_WIN and top + 8 * n_in_row + 1 < marks.shape[0]:
                top = _mark_finish(board, size, attacker, defender, n_in_row, rule, kind, best, out, marks, top,
                                   frames, stack_points)
            marks_at[level] = top
        if result == UNKNOWN:
            if cursor[level] == end[level]:
                result = NO_WIN if kind == ATTACK else PROVEN_WIN  # no move proved it / every reply was beaten
                _store(keys, info, node_key[level], result, depth_left, -1)
            else:
                p = moves[cursor[level]]
                cursor[level] += 1
                color = attacker if kind == ATTACK else defender
                board[p] = color
                h ^= zobrist[color, p]
                played[level] = p
                if top < marks.shape[0]:
                    marks[top] = p
                    top += 1
                level += 1
                entering = True
                continue
        # ``result`` is known for this level: hand it to the level above.
        if level == 0:
            break
        level -= 1
        p = played[level]
        board[p] = EMPTY
        h ^= zobrist[attacker if level % 2 == ATTACK else defender, p]
        if level % 2 == ATTACK:
            if result == PROVEN_WIN:
                best = p
                _store(keys, info, node_key[level], PROVEN_WIN, max_depth - level // 2, p)
            else:
                top = marks_at[level]  # that move failed: its points are no part of a proof
                result = UNKNOWN  # try the next move
        else:
            if result == NO_WIN:
                _store(keys, info, node_key[level], NO_WIN, max_depth - level // 2, -1)
            else:
                result = UNKNOWN  # beat the next reply
    if aborted:
        while level > 0:
            level -= 1
            board[played[level]] = EMPTY
        return NO_VCT, given
    if result == PROVEN_WIN:
        for i in range(top):
            touched[marks[i]] = True
        return best, given - budget
    return NO_VCT, given - budget


@njit(cache=True)
def _mark_finish(board, size, attacker, defender, n_in_row, rule, kind, best, out, marks, top, frames, stack_points):
    """Push the points of a node won without further search: the threat move and its winning points, or the
    attacker's winning points, or its threat moves that no reply stops."""
    n = size * size
    if kind == ATTACK:
        if best < 0:
            return top
        marks[top] = best
        top += 1
        if board[best] == EMPTY:
            board[best] = attacker
            count = winning_points_through(board, size, attacker, best, n_in_row, rule, out)
            board[best] = EMPTY
            for i in range(count):
                marks[top] = out[i]
                top += 1
        return top
    count = winning_points(board, size, attacker, n_in_row, rule, out, 8)
    for i in range(count):
        marks[top] = out[i]
        top += 1
    if count == 0 and top + n < marks.shape[0]:
        # Won because no reply stops the attacker's threat moves (a double three): those are the points.
        top = _threat_moves(board, size, attacker, n_in_row, rule, frames, stack_points, out, marks, top)
    return top


def new_state(size: int):
    """Everything the search keeps for its VCT calls: ``(zobrist, salts, keys, info, touched)``.

    One per searcher; the table carries proven results from move to move.
    """
    zobrist, salts = new_zobrist(size)
    keys, info = new_table()
    return zobrist, salts, keys, info, np.zeros(size * size, dtype=np.bool_)


@njit(cache=True)
def find_vct_with(state, board, size, attacker, n_in_row, rule, max_depth, budget, frames, stack_points):
    """:func:`find_vct` with the tables of a :func:`new_state`."""
    zobrist, salts, keys, info, touched = state
    return find_vct(board, size, attacker, n_in_row, rule, max_depth, budget, zobrist, salts, keys, info, touched,
                    frames, stack_points)


@njit(cache=True)
def upgrade_leaf(kind, board, size, color, n_in_row, rule, is_root, budget, max_depth, candidates, frames,
                 stack_points, state):
    """Look for a VCT in a quiet leaf (``kind`` OPEN after the tactics and the VCF); return its new kind.

    Below the root a VCT makes the leaf a WIN; at the root its first move
    becomes the only candidate (FORCED).  ``budget`` (nodes; the caller
    gives the root a larger one) 0 turns this off.
    """
    if budget <= 0 or kind != tactics.OPEN:
        return kind
    move = find_vct_with(state, board, size, color, n_in_row, rule, max_depth, budget, frames, stack_points)
    if move == NO_VCT:
        return kind
    return tactics.forced_win(is_root, move, size, candidates)
