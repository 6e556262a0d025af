"""PUCT search kernels: many trees at once, in flat arrays, compiled by numba.

What the kernels share travels in four named tuples, each built once by
the caller (:class:`azero.search.searcher.Searcher`) and handed to every
kernel, so a kernel takes a handful of arguments and a new search
setting is one new field, not a new argument in every signature:

- :class:`Forest`: the trees, one per game slot, and what each slot's
  root and search request are;
- :class:`SearchParams`: the rules and the search settings (numbers only);
- :class:`LeafBatch`: the leaves one step sends to the network;
- :class:`Scratch`: work arrays, so no kernel allocates.

G game slots, M nodes per tree, N = size * size points, B leaves per batch.
The root is always node ROOT (0): moving on copies the chosen subtree to
the front (:func:`advance_root`).  The children of a node are the
contiguous block ``FIRST_CHILD .. FIRST_CHILD + NUM_CHILDREN - 1``.
VALUE_SUM is from the point of view of the player who played the node's
MOVE, so a parent picks the child with the best VALUE_SUM / VISITS
directly.  EXACT_VALUE of a TERMINAL node is from the point of view of the
side to move there.

One search step is three phases, each a kernel over all games:
:func:`select_leaves` walks down (with virtual loss when several leaves of
one tree are taken in a step) and writes the leaves' planes into the
batch; the caller evaluates the batch in one network call;
:func:`expand_and_backup` turns the outputs into children and backs the
values up.  Leaves whose result is known (a finished game, or an exact
tactic from :mod:`azero.search.tactics`) are backed up during selection and
never reach the network.

Calling from Python: numba types every argument of every call, and a
named tuple costs it about 2 us (its class and field names are part of
the type's fingerprint), a plain tuple of the same values a third of
that.  Four named tuples would add 5-7 us to each of the two kernel calls
of a step, a fifth of the step with a handful of games and a free
evaluator.  So every kernel also takes its tuples as plain tuples of the
same fields (``tuple(forest)``, as the Searcher passes them) and names
them again on entry (``forest = Forest(*forest)``, free in compiled code).
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from azero.model.planes import encode_into
from azero.search import defence, tactics, vcf, vct
from games.constants import BLACK, RENJU, WHITE
from games.lines import is_winning_move
from games.renju import forbidden_mask_into, new_three_stack

# Node fields in ``Forest.ints``.
MOVE, PARENT, VISITS, VIRTUAL, FIRST_CHILD, NUM_CHILDREN, STATE = range(7)
INT_FIELDS = 7
# Node fields in ``Forest.floats``.
PRIOR, VALUE_SUM, EXACT_VALUE = range(3)
FLOAT_FIELDS = 3

ROOT = 0  # the root's node number in every tree
NO_NODE = -1  # the root's PARENT; FIRST_CHILD before a node is expanded
NO_MOVE = -1  # the root's MOVE; ``root_last`` on an empty board

# Node states (the STATE field).
UNEXPANDED = 0
EXPANDED = 1
TERMINAL = 2  # result known exactly: EXACT_VALUE
PENDING = 3  # selected in this step, waiting for the network

INFINITE_SCORE = 1e30


class Forest(NamedTuple):
    """One search tree per game slot, all in the same preallocated arrays.

    Every field is a numpy array; G slots, M nodes per tree, N = size * size.

    ``ints``: int32 [G, M, INT_FIELDS]
        Per node: MOVE (the point played into it; NO_MOVE at the root),
        PARENT (NO_NODE at the root), VISITS (finished simulations through
        it), VIRTUAL (walks of this step through it: virtual loss),
        FIRST_CHILD (NO_NODE until expanded), NUM_CHILDREN, STATE
        (UNEXPANDED, EXPANDED, TERMINAL or PENDING).
    ``floats``: float32 [G, M, FLOAT_FIELDS]
        Per node: PRIOR (the network's policy for its move, noise mixed in
        at a root), VALUE_SUM (for the player who played MOVE),
        EXACT_VALUE (a TERMINAL node's value for the side to move there).
    ``node_count``: int32 [G]
        Nodes in use in each tree; node_count[g] is the next free node.
    ``root_board``: int8 [G, N]
        The real position of each slot: EMPTY, BLACK or WHITE per point.
    ``root_to_move``: int32 [G]
        The side to move at each root (BLACK or WHITE).
    ``root_last``: int32 [G]
        The last move played at each root, NO_MOVE on an empty board.
    ``noise_pending``: bool [G]
        Mix Dirichlet noise into the root priors once they exist.
    ``root_quiet``: bool [G]
        The root's moves were not restricted by tactics, so its children
        may use the cheap threat check (see :func:`select_leaves`).
    ``targets``: int32 [G]
        Simulations wanted at each root (:func:`simulations_done` counts
        them); a slot is given no more leaves once it has them.
    ``forced``: bool [G]
        Forced playouts (and policy target pruning) on at that root.
    """

    ints: np.ndarray
    floats: np.ndarray
    node_count: np.ndarray
    root_board: np.ndarray
    root_to_move: np.ndarray
    root_last: np.ndarray
    noise_pending: np.ndarray
    root_quiet: np.ndarray
    targets: np.ndarray
    forced: np.ndarray


class SearchParams(NamedTuple):
    """The rules and search settings every kernel reads: plain numbers, fixed for a search.

    Built from a :class:`azero.search.searcher.SearchConfig` by its
    ``kernel_params`` (which gives each field its type: numba compiles
    one version of a kernel per set of field types).

    ``size``, ``n_in_row``, ``rule`` (int): the board's side, the row that
    wins, the rule code (games.constants).
    ``c_puct`` (float): exploration weight in PUCT.
    ``fpu_reduction`` (float): an unvisited child is valued at its parent's
    value minus this * sqrt(policy mass already visited).
    ``forced_k`` (float): forced playouts at a root with ``Forest.forced``
    (KataGo); 0 = off.
    ``leaves_per_game`` (int): leaves taken from one tree per step.
    ``use_tactics`` (bool): exact immediate wins, losses and forced blocks.
    ``radius`` (int): only points within this many lines of a stone; 0 = all.
    ``vcf_budget`` (int): fours tried per leaf looking for a VCF; 0 = off.
    ``vct_budget``, ``reply_vct_budget``, ``root_vct_budget`` (int): VCT
    nodes at a quiet leaf, at least this many at a root's child, at the root.
    ``vct_depth`` (int): attacker moves in one VCT line.
    ``use_defence`` (bool): prune to the refutations of the opponent's threat.
    ``noise_alpha`` (float): Dirichlet concentration per root move; 0 = 10 / moves.
    ``noise_fraction`` (float): share of the root priors replaced by noise.
    """

    size: int
    n_in_row: int
    rule: int
    c_puct: float
    fpu_reduction: float
    forced_k: float
    leaves_per_game: int
    use_tactics: bool
    radius: int
    vcf_budget: int
    vct_budget: int
    reply_vct_budget: int
    root_vct_budget: int
    vct_depth: int
    use_defence: bool
    noise_alpha: float
    noise_fraction: float


class LeafBatch(NamedTuple):
    """The leaves of one step that need the network; row k is the k-th leaf :func:`select_leaves` found.

    ``planes``: float32 [B, NUM_PLANES, size, size], the network's input
    (azero.model.planes).  ``candidates``: bool [B, N], the leaf's moves
    (its children once expanded).  ``leaf_game``: int32 [B], its slot.
    ``leaf_node``: int32 [B], its node in that slot's tree.
    """

    planes: np.ndarray
    candidates: np.ndarray
    leaf_game: np.ndarray
    leaf_node: np.ndarray


class Scratch(NamedTuple):
    """Work arrays of the kernels, allocated once (:func:`new_scratch`); their contents mean nothing between calls.

    Except ``vct_state``: :func:`azero.search.vct.new_state`'s tuple, whose
    table keeps proven threat results from move to move.

    ``board``: int8 [N], the position at a leaf.  ``forbidden``: bool [N],
    black's forbidden points there (renju).  ``near``: int16 [4, N] and
    ``frames``, ``stack_points`` (games.renju.new_three_stack): the renju
    checks' work space.  ``points``: int64 [N], a list of points.
    ``order``: int32 [M], ``node_ints``: int32 [M, INT_FIELDS],
    ``node_floats``: float32 [M, FLOAT_FIELDS]: one tree, for
    :func:`advance_root`'s copy.
    """

    board: np.ndarray
    forbidden: np.ndarray
    near: np.ndarray
    frames: np.ndarray
    stack_points: np.ndarray
    points: np.ndarray
    vct_state: tuple
    order: np.ndarray
    node_ints: np.ndarray
    node_floats: np.ndarray


def new_forest(games: int, max_nodes: int, size: int) -> Forest:
    """Allocate a :class:`Forest`: every tree is a bare root, every slot an empty board with black to move."""
    forest = Forest(
        ints=np.zeros((games, max_nodes, INT_FIELDS), dtype=np.int32),
        floats=np.zeros((games, max_nodes, FLOAT_FIELDS), dtype=np.float32),
        node_count=np.ones(games, dtype=np.int32),
        root_board=np.zeros((games, size * size), dtype=np.int8),
        root_to_move=np.full(games, BLACK, dtype=np.int32),
        root_last=np.full(games, NO_MOVE, dtype=np.int32),
        noise_pending=np.zeros(games, dtype=np.bool_),
        root_quiet=np.zeros(games, dtype=np.bool_),
        targets=np.zeros(games, dtype=np.int32),
        forced=np.zeros(games, dtype=np.bool_),
    )
    plain = tuple(forest)  # as the Searcher hands it to the kernels (see above): one compiled version
    for g in range(games):
        reset_tree(plain, g)
    return forest


def new_leaf_batch(batch: int, size: int, num_planes: int) -> LeafBatch:
    """Allocate a :class:`LeafBatch` of ``batch`` rows."""
    return LeafBatch(
        planes=np.zeros((batch, num_planes, size, size), dtype=np.float32),
        candidates=np.zeros((batch, size * size), dtype=np.bool_),
        leaf_game=np.zeros(batch, dtype=np.int32),
        leaf_node=np.zeros(batch, dtype=np.int32),
    )


def new_scratch(size: int, max_nodes: int) -> Scratch:
    """Allocate a :class:`Scratch` for ``size`` boards and trees of ``max_nodes`` nodes, with a fresh VCT table."""
    cells = size * size
    frames, stack_points = new_three_stack()
    return Scratch(
        board=np.zeros(cells, dtype=np.int8),
        forbidden=np.zeros(cells, dtype=np.bool_),
        near=np.zeros((4, cells), dtype=np.int16),
        frames=frames,
        stack_points=stack_points,
        points=np.zeros(cells, dtype=np.int64),
        vct_state=vct.new_state(size),
        order=np.zeros(max_nodes, dtype=np.int32),
        node_ints=np.zeros((max_nodes, INT_FIELDS), dtype=np.int32),
        node_floats=np.zeros((max_nodes, FLOAT_FIELDS), dtype=np.float32),
    )


@njit(cache=True)
def reset_tree(forest, g):
    """Forget game ``g``'s tree: only an unexpanded root is left."""
    forest = Forest(*forest)
    ints, floats = forest.ints, forest.floats
    for f in range(INT_FIELDS):
        ints[g, ROOT, f] = 0
    for f in range(FLOAT_FIELDS):
        floats[g, ROOT, f] = 0.0
    ints[g, ROOT, MOVE] = NO_MOVE
    ints[g, ROOT, PARENT] = NO_NODE
    ints[g, ROOT, FIRST_CHILD] = NO_NODE
    ints[g, ROOT, STATE] = UNEXPANDED
    forest.node_count[g] = 1


@njit(cache=True)
def simulations_done(forest, g):
    """Simulations finished below the root of game ``g`` (the root's own first visit expands it)."""
    forest = Forest(*forest)
    visits = forest.ints[g, ROOT, VISITS]
    return visits - 1 if visits > 0 else 0


@njit(cache=True, inline="always")
def _select_child(ints, floats, g, node, c_puct, fpu_reduction, forced_k):
    """The PUCT choice among ``node``'s children, virtual loss counted as lost visits.

    Unvisited children are valued at the parent's value minus
    ``fpu_reduction`` * sqrt(policy mass already visited) (first-play
    urgency reduction).  With ``forced_k`` > 0 (root only), a child with
    fewer than sqrt(forced_k * prior * total visits) visits is taken first
    (KataGo's forced playouts).  (The hot loop: it takes the forest's two
    arrays themselves.)
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
def backup(forest, g, node, value):
    """Add one visit with ``value`` (for the side to move at ``node``) from ``node`` up to the root.

    One virtual loss is taken off each node on the way.
    """
    forest = Forest(*forest)
    ints, floats = forest.ints, forest.floats
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
def judge_quiet_leaf(kind, board, color, is_root, is_root_child, params, candidates, scratch):
    """The exact tactics beyond the next move, cheapest first: own VCF, own VCT, then defence against the opponent's.

    ``kind`` comes from :func:`azero.search.tactics.leaf_candidates` for
    ``board`` (int8 [N], ``color`` to move) and ``candidates`` (bool [N],
    narrowed here); each step acts only on a quiet (OPEN) position.
    Returns the new kind.  The VCT gets ``params.root_vct_budget`` nodes at
    the root, at least ``reply_vct_budget`` at a root's child (the side to
    move there is the root's opponent: a VCT found makes the root's move a
    proven loss) and ``vct_budget`` deeper.  ``scratch``: a :class:`Scratch`
    (its renju work space and VCT table).
    """
    params, scratch = SearchParams(*params), Scratch(*scratch)
    size, n_in_row, rule = params.size, params.n_in_row, params.rule
    frames, stack_points, vct_state = scratch.frames, scratch.stack_points, scratch.vct_state
    kind = vcf.upgrade_leaf(kind, board, size, color, n_in_row, rule, is_root, params.vcf_budget, candidates, frames,
                            stack_points)
    if is_root:
        budget = params.root_vct_budget
    elif is_root_child:
        budget = max(params.reply_vct_budget, params.vct_budget)
    else:
        budget = params.vct_budget
    kind = vct.upgrade_leaf(kind, board, size, color, n_in_row, rule, is_root, budget, params.vct_depth, candidates,
                            frames, stack_points, vct_state)
    if params.use_defence:
        kind = defence.restrict(kind, board, size, color, n_in_row, rule, is_root, params.vcf_budget,
                                params.root_vct_budget, params.vct_depth, candidates, frames, stack_points, vct_state)
    return kind


@njit(cache=True)
def select_leaves(forest, batch, scratch, params, games):
    """Pick up to ``params.leaves_per_game`` new leaves in each slot of ``games`` (int32 [K]).

    Returns ``(count, exact)``: the leaves that need the network (rows
    ``0 .. count - 1`` of ``batch``), and the simulations already finished
    here with exact results.

    ``forest.targets[g]`` is the number of simulations wanted at slot g's
    root; no slot is given more leaves than it still needs.  Leaves with
    exact results are backed up here.  For the k-th leaf that needs the
    network, ``batch.planes[k]``, ``batch.candidates[k]`` (its moves),
    ``batch.leaf_game[k]`` and ``batch.leaf_node[k]`` are written.
    ``forest.forced[g]`` turns forced playouts on at that root.
    """
    forest, batch, scratch, params = Forest(*forest), LeafBatch(*batch), Scratch(*scratch), SearchParams(*params)
    ints, floats = forest.ints, forest.floats
    root_board, root_to_move, root_last, root_quiet = (forest.root_board, forest.root_to_move, forest.root_last,
                                                       forest.root_quiet)
    targets, forced = forest.targets, forest.forced
    planes, candidates, leaf_game, leaf_node = batch.planes, batch.candidates, batch.leaf_game, batch.leaf_node
    board, forbidden, near, points = scratch.board, scratch.forbidden, scratch.near, scratch.points
    frames, stack_points = scratch.frames, scratch.stack_points
    size, n_in_row, rule = params.size, params.n_in_row, params.rule
    c_puct, fpu_reduction, forced_k = params.c_puct, params.fpu_reduction, params.forced_k
    count = 0
    exact = 0
    cells = size * size
    for gi in range(games.shape[0]):
        g = games[gi]
        if ints[g, ROOT, STATE] != EXPANDED:
            wanted = 1  # the root itself must be evaluated first
        else:
            wanted = min(params.leaves_per_game, targets[g] - simulations_done(forest, g))
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
                backup(forest, g, node, floats[g, node, EXACT_VALUE])
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
                board, size, color, n_in_row, rule, params.use_tactics, node == ROOT, full_scan, last, params.radius,
                forbidden, candidates[count], points,
            )
            kind = judge_quiet_leaf(kind, board, color, node == ROOT, node != ROOT and ints[g, node, PARENT] == ROOT,
                                    params, candidates[count], scratch)
            if node == ROOT:
                root_quiet[g] = kind == tactics.OPEN
            if kind == tactics.FORCED:
                kind = tactics.OPEN
            if kind != tactics.OPEN:
                value = 1.0 if kind == tactics.WIN else (-1.0 if kind == tactics.LOSS else 0.0)
                ints[g, node, STATE] = TERMINAL
                floats[g, node, EXACT_VALUE] = value
                backup(forest, g, node, value)
                exact += 1
                continue
            encode_into(board, size, color, last, forbidden, planes[count])
            ints[g, node, STATE] = PENDING
            leaf_game[count] = g
            leaf_node[count] = node
            count += 1
    return count, exact


@njit(cache=True)
def expand_and_backup(forest, batch, count, logits, values, params):
    """Give each of the first ``count`` leaves of ``batch`` its children and back its value up.

    ``logits``: float32 [>= count, N] and ``values``: float32 [>= count],
    the network's outputs for the batch's rows (values for the side to
    move).  A leaf's children are its candidates, with the softmax of its
    logits over them as priors.  A tree with no room left backs the value
    up without expanding (the leaf is evaluated again if visited again).
    Dirichlet noise (``params.noise_alpha``, ``noise_fraction``) is mixed
    into a root's priors when it is expanded and its slot has
    ``noise_pending``.
    """
    forest, batch, params = Forest(*forest), LeafBatch(*batch), SearchParams(*params)
    ints, floats, node_count = forest.ints, forest.floats, forest.node_count
    candidates, leaf_game, leaf_node = batch.candidates, batch.leaf_game, batch.leaf_node
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
            backup(forest, g, node, values[b])
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
        if node == ROOT and forest.noise_pending[g]:
            add_root_noise(forest, g, params)
        backup(forest, g, node, values[b])


@njit(cache=True)
def add_root_noise(forest, g, params):
    """Mix Dirichlet(alpha) noise into game ``g``'s root priors: P = (1 - fraction) P + fraction * noise.

    alpha and fraction are ``params.noise_alpha`` (0: 10 / moves) and
    ``params.noise_fraction``; clears ``forest.noise_pending[g]``.
    """
    forest, params = Forest(*forest), SearchParams(*params)
    ints, floats = forest.ints, forest.floats
    alpha, fraction = params.noise_alpha, params.noise_fraction
    forest.noise_pending[g] = False
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
def root_visits_into(forest, g, out):
    """Write the root children's visit counts of game ``g`` into ``out`` (float32 [N]; zero elsewhere)."""
    forest = Forest(*forest)
    ints = forest.ints
    for p in range(out.shape[0]):
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
def pruned_policy_into(forest, g, params, out):
    """Root visit counts with forced playouts taken back out (KataGo's policy target pruning).

    Only where ``forest.forced[g]`` (and ``params.forced_k`` > 0): every
    child but the most visited loses up to sqrt(forced_k * prior * total)
    visits, as long as that keeps its PUCT score below the best child's;
    children left with one visit or none are dropped.  Writes counts into
    ``out`` (float32 [N]).
    """
    forest, params = Forest(*forest), SearchParams(*params)
    ints, floats = forest.ints, forest.floats
    root_visits_into(forest, g, out)
    forced_k = params.forced_k if forest.forced[g] else 0.0
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
    explore = params.c_puct * np.sqrt(total)
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
def root_value(forest, g):
    """Mean value of game ``g``'s root for the side to move there (0 before any visit)."""
    forest = Forest(*forest)
    visits = forest.ints[g, ROOT, VISITS]
    if visits == 0:
        return 0.0
    return -forest.floats[g, ROOT, VALUE_SUM] / visits


@njit(cache=True)
def advance_root(forest, g, move, scratch):
    """Play ``move`` at game ``g``'s root and keep the subtree below it (tree reuse).

    The subtree is copied breadth-first to the front of the arrays so the
    new root is node ROOT and children blocks stay contiguous.  Without a
    searched child for ``move`` the tree restarts from a bare root.  The
    copy goes through ``scratch.order``, ``node_ints`` and ``node_floats``
    (one tree's worth), so moving allocates nothing.
    """
    forest, scratch = Forest(*forest), Scratch(*scratch)
    ints, floats, node_count = forest.ints, forest.floats, forest.node_count
    root_board, root_to_move, root_last, root_quiet = (forest.root_board, forest.root_to_move, forest.root_last,
                                                       forest.root_quiet)
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
        reset_tree(forest, g)
        root_quiet[g] = False
        return
    # Breadth-first copy: ``old`` lists old node numbers in their new order.
    old, copy_ints, copy_floats = scratch.order, scratch.node_ints, scratch.node_floats
    old[0] = child
    used = 1
    head = 0
    while head < used:
        o = old[head]
        for f in range(INT_FIELDS):
            copy_ints[head, f] = ints[g, o, f]
        for f in range(FLOAT_FIELDS):
            copy_floats[head, f] = floats[g, o, f]
        if ints[g, o, STATE] == EXPANDED:
            first = ints[g, o, FIRST_CHILD]
            n = ints[g, o, NUM_CHILDREN]
            copy_ints[head, FIRST_CHILD] = used
            for i in range(n):
                old[used + i] = first + i
            used += n
        head += 1
    # Parents: a child's parent is the new number of its old parent, found by walking blocks in order.
    for i in range(used):
        if copy_ints[i, STATE] == EXPANDED:
            first = copy_ints[i, FIRST_CHILD]
            for c in range(first, first + copy_ints[i, NUM_CHILDREN]):
                copy_ints[c, PARENT] = i
    copy_ints[0, PARENT] = NO_NODE
    copy_ints[0, MOVE] = NO_MOVE
    for i in range(used):
        for f in range(INT_FIELDS):
            ints[g, i, f] = copy_ints[i, f]
        for f in range(FLOAT_FIELDS):
            floats[g, i, f] = copy_floats[i, f]
    node_count[g] = used
    root_quiet[g] = True  # the new root was expanded as an ordinary node, so its children keep the invariant
