"""PUCT search kernels: many trees at once, in flat arrays, compiled by numba.

A *forest* holds one tree per game, each in the same preallocated arrays:

| array | shape | dtype | holds |
|---|---|---|---|
| ``ints`` | ``[G, M, 7]`` | int32 | per node: MOVE, PARENT, VISITS, VIRTUAL, FIRST_CHILD, NUM_CHILDREN, STATE |
| ``floats`` | ``[G, M, 3]`` | float32 | per node: PRIOR, VALUE_SUM, EXACT_VALUE |
| ``node_count`` | ``[G]`` | int32 | nodes in use in each tree |
| ``root_board`` | ``[G, N]`` | int8 | the real position of each game (N = size*size) |
| ``root_to_move``, ``root_last`` | ``[G]`` | int32 | side to move and last move (-1 none) at the root |
| ``noise_pending`` | ``[G]`` | bool | mix Dirichlet noise into the root priors once they exist |
| ``root_quiet`` | ``[G]`` | bool | the root's moves were not restricted by tactics, so its children may use the cheap threat check |

G games, M nodes per tree.  The root is always node ROOT (0): moving on
copies the chosen subtree to the front (:func:`advance_root`).  The
children of a node are the contiguous block ``FIRST_CHILD ..
FIRST_CHILD + NUM_CHILDREN - 1``.  VALUE_SUM is from the point of view of
the player who played the node's MOVE, so a parent picks the child with
the best VALUE_SUM / VISITS directly.  EXACT_VALUE of a TERMINAL node is
from the point of view of the side to move there.

One search step is three phases, each a kernel over all games:
:func:`select_leaves` walks down (with virtual loss when several leaves of
one tree are taken in a step) and writes the leaves' planes into a batch;
the caller evaluates the batch in one network call; :func:`expand_and_backup`
turns the outputs into children and backs the values up.  Leaves whose
result is known (a finished game, or an exact tactic from
:mod:`azero.search.tactics`) are backed up during selection and never reach the
network.
"""

import numpy as np
from numba import njit

from azero.model.planes import encode_into
from azero.search import defence, tactics, vcf, vct
from games.constants import BLACK, RENJU, WHITE
from games.lines import is_winning_move
from games.renju import forbidden_mask_into

# Node fields in ``ints``.
MOVE, PARENT, VISITS, VIRTUAL, FIRST_CHILD, NUM_CHILDREN, STATE = range(7)
INT_FIELDS = 7
# Node fields in ``floats``.
PRIOR, VALUE_SUM, EXACT_VALUE = range(3)
FLOAT_FIELDS = 3

ROOT = 0
NO_NODE = -1
NO_MOVE = -1

# Node states.
UNEXPANDED = 0
EXPANDED = 1
TERMINAL = 2  # result known exactly: EXACT_VALUE
PENDING = 3  # selected in this step, waiting for the network

INFINITE_SCORE = 1e30


def new_forest(games: int, max_nodes: int, size: int):
    """Allocate the arrays of a forest (see the module docstring); every tree is a bare root."""
    ints = np.zeros((games, max_nodes, INT_FIELDS), dtype=np.int32)
    floats = np.zeros((games, max_nodes, FLOAT_FIELDS), dtype=np.float32)
    node_count = np.ones(games, dtype=np.int32)
    root_board = np.zeros((games, size * size), dtype=np.int8)
    root_to_move = np.full(games, BLACK, dtype=np.int32)
    root_last = np.full(games, NO_MOVE, dtype=np.int32)
    noise_pending = np.zeros(games, dtype=np.bool_)
    root_quiet = np.zeros(games, dtype=np.bool_)
    for g in range(games):
        reset_tree(ints, floats, node_count, g)
    return ints, floats, node_count, root_board, root_to_move, root_last, noise_pending, root_quiet


@njit(cache=True)
def reset_tree(ints, floats, node_count, g):
    """Forget game ``g``'s tree: only an unexpanded root is left."""
    for f in range(INT_FIELDS):
        ints[g, ROOT, f] = 0
    for f in range(FLOAT_FIELDS):
        floats[g, ROOT, f] = 0.0
    ints[g, ROOT, MOVE] = NO_MOVE
    ints[g, ROOT, PARENT] = NO_NODE
    ints[g, ROOT, FIRST_CHILD] = NO_NODE
    ints[g, ROOT, STATE] = UNEXPANDED
    node_count[g] = 1


@njit(cache=True)
def simulations_done(ints, g):
    """Simulations finished below the root of game ``g`` (the root's own first visit expands it)."""
    visits = ints[g, ROOT, VISITS]
    return visits - 1 if visits > 0 else 0


@njit(cache=True, inline="always")
def _select_child(ints, floats, g, node, c_puct, fpu_reduction, forced_k):
    """The PUCT choice among ``node``'s children, virtual loss counted as lost visits.

    Unvisited children are valued at the parent's value minus
    ``fpu_reduction`` * sqrt(policy mass already visited) (first-play
    urgency reduction).  With ``forced_k`` > 0 (root only), a child with
    fewer than sqrt(forced_k * prior * total visits) visits is taken first
    (KataGo's forced playouts).
    """
    first = ints[g, node, FIRST_CHILD]
    count = ints[g, node, NUM_CHILDREN]
    # The walk now passing through ``node`` has already added its own virtual loss there; do not count it.
    parent_visits = ints[g, node, VISITS] + ints[g, node, VIRTUAL] - 1
    parent_q = 0.0
    if ints[g, node, VISITS] > 0:
        # The node's VALUE_SUM is for the player who moved into it; its children are chosen by the other one.
        parent_q = -floats[g, node, VALUE_SUM] / ints[g, node, VISITS]
    visited_mass = 0.0
    child_visits_total = 0
    for c in range(first, first + count):
        n = ints[g, c, VISITS] + ints[g, c, VIRTUAL]
        if n > 0:
            visited_mass += floats[g, c, PRIOR]
        child_visits_total += ints[g, c, VISITS]
    fpu_value = parent_q - fpu_reduction * np.sqrt(visited_mass)
    explore = c_puct * np.sqrt(max(parent_visits, 1))
    best = first
    best_score = -INFINITE_SCORE
    for c in range(first, first + count):
        visits = ints[g, c, VISITS]
        virtual = ints[g, c, VIRTUAL]
        n = visits + virtual
        prior = floats[g, c, PRIOR]
        if forced_k > 0.0 and prior > 0.0 and visits < np.sqrt(forced_k * prior * child_visits_total):
            score = INFINITE_SCORE - c  # forced: the first such child wins
        else:
            if n > 0:
                q = (floats[g, c, VALUE_SUM] - virtual) / n
            else:
                q = fpu_value
            score = q + explore * prior / (1 + n)
        if score > best_score:
            best_score = score
            best = c
    return best


@njit(cache=True)
def backup(ints, floats, g, node, value):
    """Add one visit with ``value`` (for the side to move at ``node``) from ``node`` up to the root; drop one virtual loss on the way."""
    v = -value  # VALUE_SUM is for the player who moved into the node
    while node != NO_NODE:
        ints[g, node, VISITS] += 1
        ints[g, node, VIRTUAL] -= 1
        floats[g, node, VALUE_SUM] += v
        v = -v
        node = ints[g, node, PARENT]


@njit(cache=True)
def _undo_virtual(ints, g, node):
    while node != NO_NODE:
        ints[g, node, VIRTUAL] -= 1
        node = ints[g, node, PARENT]


@njit(cache=True)
def judge_quiet_leaf(kind, board, size, color, n_in_row, rule, is_root, is_root_child, vcf_budget, vct_budget,
                     reply_vct_budget, root_vct_budget, vct_depth, use_defence, candidates, frames, stack_points,
                     vct_state):
    """The exact tactics beyond the next move, cheapest first: own VCF, own VCT, then defence against the opponent's.

    ``kind`` comes from :func:`azero.search.tactics.leaf_candidates`; each step
    acts only on a quiet (OPEN) position.  Returns the new kind.  The VCT
    gets ``root_vct_budget`` nodes at the root, at least ``reply_vct_budget``
    at a root's child (the side to move there is the root's opponent: a
    VCT found makes the root's move a proven loss) and ``vct_budget`` deeper.
    """
    kind = vcf.upgrade_leaf(kind, board, size, color, n_in_row, rule, is_root, vcf_budget, candidates, frames,
                            stack_points)
    if is_root:
        budget = root_vct_budget
    elif is_root_child:
        budget = max(reply_vct_budget, vct_budget)
    else:
        budget = vct_budget
    kind = vct.upgrade_leaf(kind, board, size, color, n_in_row, rule, is_root, budget, vct_depth, candidates, frames,
                            stack_points, vct_state)
    if use_defence:
        kind = defence.restrict(kind, board, size, color, n_in_row, rule, is_root, vcf_budget, root_vct_budget, vct_depth,
                                candidates, frames, stack_points, vct_state)
    return kind


@njit(cache=True)
def select_leaves(
    ints, floats, node_count, root_board, root_to_move, root_last, root_quiet,
    games, targets, leaves_per_game, forced, size, n_in_row, rule,
    c_puct, fpu_reduction, forced_k, use_tactics, radius, budgets,
    planes, candidates, leaf_game, leaf_node,
    board, forbidden, near, frames, stack_points, points, vct_state,
):
    """Pick up to ``leaves_per_game`` new leaves in each game of ``games``.

    Returns ``(evaluate, exact)``: the leaves that need the network, and
    the simulations already finished here with exact results.

    ``targets[g]`` is the number of simulations wanted at game g's root;
    no game is given more leaves than it still needs.  Leaves with exact
    results are backed up here.  For the k-th leaf that needs the network,
    ``planes[k]``, ``candidates[k]`` (its moves), ``leaf_game[k]`` and
    ``leaf_node[k]`` are written.  ``forced[g]`` turns forced playouts on at
    that root.  ``budgets`` = (VCF fours per leaf, VCT nodes per leaf, at a
    root's child, at the root, VCT depth, threat defence on) as
    :class:`azero.search.searcher.SearchConfig` gives them.  The rest are scratch
    arrays (``board`` int8 N, ``forbidden`` bool N, ``near`` int16 [4, N],
    ``frames``/``stack_points`` from games.renju.new_three_stack, ``points``
    int64 N) and ``vct_state`` from :func:`azero.search.vct.new_state`.
    """
    vcf_budget, vct_budget, reply_vct_budget, root_vct_budget, vct_depth, use_defence = budgets
    batch = 0
    exact = 0
    cells = size * size
    for gi in range(games.shape[0]):
        g = games[gi]
        if ints[g, ROOT, STATE] != EXPANDED:
            wanted = 1  # the root itself must be evaluated first
        else:
            wanted = min(leaves_per_game, targets[g] - simulations_done(ints, g))
        for _ in range(wanted):
            for p in range(cells):
                board[p] = root_board[g, p]
            color = root_to_move[g]
            last = root_last[g]
            node = ROOT
            ints[g, node, VIRTUAL] += 1
            while ints[g, node, STATE] == EXPANDED:
                k = forced_k if (node == ROOT and forced[g]) else 0.0
                node = _select_child(ints, floats, g, node, c_puct, fpu_reduction, k)
                ints[g, node, VIRTUAL] += 1
                last = ints[g, node, MOVE]
                board[last] = color
                if ints[g, node, STATE] == UNEXPANDED and is_winning_move(board, size, last, color, n_in_row, rule):
                    ints[g, node, STATE] = TERMINAL
                    floats[g, node, EXACT_VALUE] = -1.0  # the side to move here has just lost
                color = WHITE if color == BLACK else BLACK
            state = ints[g, node, STATE]
            if state == TERMINAL:
                backup(ints, floats, g, node, floats[g, node, EXACT_VALUE])
                exact += 1
                continue
            if state == PENDING:
                _undo_virtual(ints, g, node)  # a collision: this leaf is already in the batch
                continue
            if rule == RENJU:
                forbidden_mask_into(board, size, forbidden, near, frames, stack_points)
            # The cheap threat check needs a parent classified as an ordinary node (see leaf_candidates):
            # true below the root's children, and for the root's children when the root was quiet.
            full_scan = node == ROOT or (ints[g, node, PARENT] == ROOT and not root_quiet[g])
            kind = tactics.leaf_candidates(
                board, size, color, n_in_row, rule, use_tactics, node == ROOT, full_scan, last, radius, forbidden,
                candidates[batch], points,
            )
            kind = judge_quiet_leaf(kind, board, size, color, n_in_row, rule, node == ROOT,
                                    node != ROOT and ints[g, node, PARENT] == ROOT, vcf_budget, vct_budget,
                                    reply_vct_budget, root_vct_budget, vct_depth, use_defence, candidates[batch],
                                    frames, stack_points, vct_state)
            if node == ROOT:
                root_quiet[g] = kind == tactics.OPEN
            if kind == tactics.FORCED:
                kind = tactics.OPEN
            if kind != tactics.OPEN:
                value = 1.0 if kind == tactics.WIN else (-1.0 if kind == tactics.LOSS else 0.0)
                ints[g, node, STATE] = TERMINAL
                floats[g, node, EXACT_VALUE] = value
                backup(ints, floats, g, node, value)
                exact += 1
                continue
            encode_into(board, size, color, last, forbidden, planes[batch])
            ints[g, node, STATE] = PENDING
            leaf_game[batch] = g
            leaf_node[batch] = node
            batch += 1
    return batch, exact


@njit(cache=True)
def expand_and_backup(
    ints, floats, node_count, noise_pending, count, leaf_game, leaf_node, candidates, logits, values,
    noise_alpha, noise_fraction,
):
    """Give each evaluated leaf its children (softmax of the logits over its candidates) and back its value up.

    A tree with no room left backs the value up without expanding (the leaf
    is evaluated again if visited again).  Dirichlet noise is mixed into a
    root's priors when it is expanded and its game has ``noise_pending``.
    """
    max_nodes = ints.shape[1]
    for b in range(count):
        g = leaf_game[b]
        node = leaf_node[b]
        n_moves = 0
        top = -np.inf
        for p in range(candidates.shape[1]):
            if candidates[b, p]:
                n_moves += 1
                if logits[b, p] > top:
                    top = logits[b, p]
        first = node_count[g]
        if first + n_moves > max_nodes:
            ints[g, node, STATE] = UNEXPANDED
            backup(ints, floats, g, node, values[b])
            continue
        total = 0.0
        c = first
        for p in range(candidates.shape[1]):
            if candidates[b, p]:
                weight = np.exp(logits[b, p] - top)
                total += weight
                ints[g, c, MOVE] = p
                ints[g, c, PARENT] = node
                ints[g, c, VISITS] = 0
                ints[g, c, VIRTUAL] = 0
                ints[g, c, FIRST_CHILD] = NO_NODE
                ints[g, c, NUM_CHILDREN] = 0
                ints[g, c, STATE] = UNEXPANDED
                floats[g, c, PRIOR] = weight
                floats[g, c, VALUE_SUM] = 0.0
                floats[g, c, EXACT_VALUE] = 0.0
                c += 1
        for c in range(first, first + n_moves):
            floats[g, c, PRIOR] /= total
        node_count[g] = first + n_moves
        ints[g, node, FIRST_CHILD] = first
        ints[g, node, NUM_CHILDREN] = n_moves
        ints[g, node, STATE] = EXPANDED
        if node == ROOT and noise_pending[g]:
            add_root_noise(ints, floats, noise_pending, g, noise_alpha, noise_fraction)
        backup(ints, floats, g, node, values[b])


@njit(cache=True)
def add_root_noise(ints, floats, noise_pending, g, alpha, fraction):
    """Mix Dirichlet(alpha) noise into game ``g``'s root priors: P = (1 - fraction) P + fraction * noise (alpha 0: 10 / moves)."""
    noise_pending[g] = False
    first = ints[g, ROOT, FIRST_CHILD]
    count = ints[g, ROOT, NUM_CHILDREN]
    if count < 2 or fraction <= 0.0:
        return
    if alpha <= 0.0:
        alpha = 10.0 / count  # KataGo's choice: the total concentration stays the same on every board
    noise = np.empty(count, dtype=np.float64)
    total = 0.0
    for i in range(count):
        noise[i] = np.random.gamma(alpha, 1.0)
        total += noise[i]
    if total <= 0.0:
        return
    for i in range(count):
        c = first + i
        floats[g, c, PRIOR] = (1.0 - fraction) * floats[g, c, PRIOR] + fraction * noise[i] / total


@njit(cache=True)
def seed_search(seed):
    """Seed numba's generator, which draws the root noise."""
    np.random.seed(seed)


@njit(cache=True)
def root_visits_into(ints, g, size, out):
    """Write the root children's visit counts of game ``g`` into ``out`` (float32, size*size; zero elsewhere)."""
    for p in range(size * size):
        out[p] = 0.0
    first = ints[g, ROOT, FIRST_CHILD]
    for c in range(first, first + ints[g, ROOT, NUM_CHILDREN]):
        out[ints[g, c, MOVE]] = ints[g, c, VISITS]


@njit(cache=True, inline="always")
def _plain_puct(ints, floats, g, c, visits, explore):
    """PUCT score of child ``c`` as if it had ``visits`` visits (its mean value unchanged), no virtual loss."""
    q = floats[g, c, VALUE_SUM] / ints[g, c, VISITS] if ints[g, c, VISITS] > 0 else 0.0
    return q + explore * floats[g, c, PRIOR] / (1 + visits)


@njit(cache=True)
def pruned_policy_into(ints, floats, g, size, c_puct, forced_k, out):
    """Root visit counts with forced playouts taken back out (KataGo's policy target pruning).

    Every child but the most visited loses up to sqrt(forced_k * prior *
    total) visits, as long as that keeps its PUCT score below the best
    child's; children left with one visit or none are dropped.  Writes
    counts into ``out`` (float32, size*size).
    """
    root_visits_into(ints, g, size, out)
    if forced_k <= 0.0:
        return
    first = ints[g, ROOT, FIRST_CHILD]
    count = ints[g, ROOT, NUM_CHILDREN]
    total = 0
    best = first
    for c in range(first, first + count):
        total += ints[g, c, VISITS]
        if ints[g, c, VISITS] > ints[g, best, VISITS]:
            best = c
    if total == 0:
        return
    explore = c_puct * np.sqrt(total)
    best_score = _plain_puct(ints, floats, g, best, ints[g, best, VISITS], explore)
    for c in range(first, first + count):
        if c == best:
            continue
        visits = ints[g, c, VISITS]
        if visits == 0:
            continue
        allowance = int(np.sqrt(forced_k * floats[g, c, PRIOR] * total))
        kept = visits
        while kept > 0 and visits - kept < allowance and _plain_puct(ints, floats, g, c, kept - 1, explore) < best_score:
            kept -= 1
        out[ints[g, c, MOVE]] = kept if kept > 1 else 0.0


@njit(cache=True)
def root_value(ints, floats, g):
    """Mean value of game ``g``'s root for the side to move there (0 before any visit)."""
    visits = ints[g, ROOT, VISITS]
    if visits == 0:
        return 0.0
    return -floats[g, ROOT, VALUE_SUM] / visits


@njit(cache=True)
def advance_root(ints, floats, node_count, root_board, root_to_move, root_last, root_quiet, g, move, scratch_order,
                 scratch_ints, scratch_floats):
    """Play ``move`` at game ``g``'s root and keep the subtree below it (tree reuse).

    The subtree is copied breadth-first to the front of the arrays so the
    new root is node ROOT and children blocks stay contiguous.  Without a
    searched child for ``move`` the tree restarts from a bare root.
    ``scratch_*`` are one tree's worth of arrays (``[M]`` int32, ``[M, fields]``), so moving allocates nothing.
    """
    root_board[g, move] = root_to_move[g]
    root_to_move[g] = WHITE if root_to_move[g] == BLACK else BLACK
    root_last[g] = move
    child = NO_NODE
    if ints[g, ROOT, STATE] == EXPANDED:
        first = ints[g, ROOT, FIRST_CHILD]
        for c in range(first, first + ints[g, ROOT, NUM_CHILDREN]):
            if ints[g, c, MOVE] == move:
                child = c
                break
    if child == NO_NODE or ints[g, child, STATE] != EXPANDED:
        # Nothing below it worth keeping; an exact leaf is judged again as a root (which must find a move).
        reset_tree(ints, floats, node_count, g)
        root_quiet[g] = False
        return
    # Breadth-first copy: ``old`` lists old node numbers in their new order.
    old = scratch_order
    old[0] = child
    used = 1
    head = 0
    while head < used:
        o = old[head]
        for f in range(INT_FIELDS):
            scratch_ints[head, f] = ints[g, o, f]
        for f in range(FLOAT_FIELDS):
            scratch_floats[head, f] = floats[g, o, f]
        if ints[g, o, STATE] == EXPANDED:
            first = ints[g, o, FIRST_CHILD]
            n = ints[g, o, NUM_CHILDREN]
            scratch_ints[head, FIRST_CHILD] = used
            for i in range(n):
                old[used + i] = first + i
            used += n
        head += 1
    # Parents: a child's parent is the new number of its old parent, found by walking blocks in order.
    for i in range(used):
        if scratch_ints[i, STATE] == EXPANDED:
            first = scratch_ints[i, FIRST_CHILD]
            for c in range(first, first + scratch_ints[i, NUM_CHILDREN]):
                scratch_ints[c, PARENT] = i
    scratch_ints[0, PARENT] = NO_NODE
    scratch_ints[0, MOVE] = NO_MOVE
    for i in range(used):
        for f in range(INT_FIELDS):
            ints[g, i, f] = scratch_ints[i, f]
        for f in range(FLOAT_FIELDS):
            floats[g, i, f] = scratch_floats[i, f]
    node_count[g] = used
    root_quiet[g] = True  # the new root was expanded as an ordinary node, so its children keep the invariant
