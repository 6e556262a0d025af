"""Pure Monte-Carlo tree search: UCT with random rollouts and no network.

A fixed reference opponent for the arena ("pure:1000" = 1000 playouts per
move): it knows the rules and nothing else, so it never gets stronger or
weaker between runs.

One playout
-----------
1. *Select*: from the root, while the node has been visited and its value
   is not known exactly (see ``outcome`` below), step to a child.  A node's children are tried once each,
   in a random order fixed when the node is expanded (so with few playouts
   no corner of the board is favoured); once all have been tried the child
   with the highest UCT score ``Q + c_uct * sqrt(ln N_parent / N_child)`` is
   taken.
2. *Expand*: the first time a visited node is stepped through, all its legal
   moves become children at once (renju: black's forbidden points are left
   out).  A black node in renju with only forbidden points left is a draw, as
   in :class:`games.gomoku.Gomoku`.
3. *Evaluate*: a child reached for the first time has its move played; a
   move that wins, or that fills the board, makes the node terminal and its
   exact result is used (and remembered) instead of a rollout.  So is a move
   after which the opponent can win at once: the node is lost for its mover,
   exactly.  Without that one-move look-ahead random rollouts, where the
   winner finds its winning point only by chance, make leaving a four
   unblocked look nearly as good as blocking it, and a few hundred playouts
   lose games to a random player.  Otherwise
   :func:`games.playout.random_playout` plays the game out at random.
4. *Backup*: the result goes up the path, flipping sides at every level.

Values
------
Every node's value is from the point of view of the player who made the move
into it (the root's is unused): win 1, draw 0.5, loss 0.  So a parent simply
picks the child with the best ``Q``; the value of the side to move at a node
is ``1 - Q`` of that node.

Tree layout (flat arrays, indexed by node; N = capacity)
--------------------------------------------------------
``parent``      int32  [N]  parent node, ``NO_PARENT`` (-1) for the root
``move``        int16  [N]  board point ``y * size + x`` played into the node, ``NO_MOVE`` (-1) for the root
``visits``      int64  [N]  playouts that passed through the node
``value_sum``   float64[N]  sum of the values backed up through it (mover's view, see above)
``first_child`` int32  [N]  index of the first child; children are contiguous;
                            ``NOT_EXPANDED`` (-1) until the node is expanded
``child_count`` int32  [N]  number of children (legal moves) once expanded
``tried``       int32  [N]  children visited so far; they are ``first_child .. first_child + tried - 1``
``outcome``     int8   [N]  ``ONGOING_NODE`` (0); ``WIN_NODE`` (1): the move into it won;
                            ``DRAW_NODE`` (2): nobody can move on (board full, renju black stuck);
                            ``LOSS_NODE`` (3): the side to move there can win with its next move.
                            Set on the first visit (renju's stuck black: at expansion); from then
                            on the search backs up that exact value, and never expands the node

The arrays travel together as one :class:`Nodes` named tuple, and the
rules with the exploration constant as one :class:`PlayoutParams`, so a
kernel takes a handful of arguments.  The root is node ``ROOT`` (0).  All
per-playout work runs in :func:`run_playouts` (numba).  When an expansion would overflow the arrays the
kernel stops and returns how many playouts it finished; Python grows the
arrays and calls it again.  No kernel here is recursive: numba's on-disk cache
produces crashing code for recursive functions.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from azero.search.tactics import winning_points
from games.constants import BLACK, DRAW, EMPTY, RENJU, WHITE
from games.coords import whole_number
from games.gomoku import Gomoku
from games.lines import is_winning_move
from games.playout import random_playout, seed_playouts
from games.renju import forbidden_mask_into, new_three_stack

# Sentinels and node states (see the module docstring).
ROOT = 0
NO_PARENT = -1
NO_MOVE = -1
NOT_EXPANDED = -1
ONGOING_NODE = 0
WIN_NODE = 1
DRAW_NODE = 2
LOSS_NODE = 3

WIN_VALUE = 1.0
DRAW_VALUE = 0.5
LOSS_VALUE = 0.0

DEFAULT_C_UCT = 1.4
SEED_LIMIT = 2**31  # numba seeds its generator from a 32-bit value


class Nodes(NamedTuple):
    """The tree's node arrays, each of length C (the capacity; see "Tree layout" above for the meaning).

    ``parent`` int32, ``move`` int16, ``visits`` int64, ``value_sum``
    float64, ``first_child`` int32, ``child_count`` int32, ``tried`` int32,
    ``outcome`` int8.  Nodes ``0 .. node_count - 1`` are in use; the count
    travels beside the tuple (it changes, a tuple does not).
    """

    parent: np.ndarray
    move: np.ndarray
    visits: np.ndarray
    value_sum: np.ndarray
    first_child: np.ndarray
    child_count: np.ndarray
    tried: np.ndarray
    outcome: np.ndarray


NODE_DTYPES = dict(zip(Nodes._fields,
                       (np.int32, np.int16, np.int64, np.float64, np.int32, np.int32, np.int32, np.int8)))


class PlayoutParams(NamedTuple):
    """The rules and the search constant: ``size``, ``n_in_row``, ``rule`` (int; games.constants), ``c_uct`` (float)."""

    size: int
    n_in_row: int
    rule: int
    c_uct: float


class _Scratch(NamedTuple):
    """:func:`_expand`'s work space for renju: ``forbidden`` bool [N], ``near`` int16 [4, N], ``frames``/``points``
    from games.renju.new_three_stack."""

    forbidden: np.ndarray
    near: np.ndarray
    frames: np.ndarray
    points: np.ndarray


@njit(cache=True, inline="always")
def _result_value(result, mover):
    """Value of a finished game (BLACK, WHITE or DRAW) for the player ``mover``."""
    if result == DRAW:
        return DRAW_VALUE
    return WIN_VALUE if result == mover else LOSS_VALUE


@njit(cache=True)
def _expand(tree, node_count, node, board, to_move, params, scratch):
    """Give ``node`` (position ``board``, ``to_move`` to play) a child per legal move, in random order.

    ``tree``: :class:`Nodes` with ``node_count`` in use; ``scratch``: a :class:`_Scratch`.
    Returns the new node count, or -1 if the children would not fit in the arrays.
    """
    parent, move, visits, value_sum = tree.parent, tree.move, tree.visits, tree.value_sum
    first_child, child_count, tried, outcome = tree.first_child, tree.child_count, tree.tried, tree.outcome
    size, forbidden = params.size, scratch.forbidden
    n = size * size
    legal = 0
    for p in range(n):
        if board[p] == EMPTY:
            legal += 1
    if legal > parent.shape[0] - node_count:
        return -1  # the empty points bound the legal moves: check before writing anything
    check_forbidden = params.rule == RENJU and to_move == BLACK
    if check_forbidden:
        forbidden_mask_into(board, size, forbidden, scratch.near, scratch.frames, scratch.points)
    first = node_count
    count = 0
    for p in range(n):
        if board[p] == EMPTY and not (check_forbidden and forbidden[p]):
            child = first + count
            parent[child] = node
            move[child] = p
            visits[child] = 0
            value_sum[child] = 0.0
            first_child[child] = NOT_EXPANDED
            child_count[child] = 0
            tried[child] = 0
            outcome[child] = ONGOING_NODE
            count += 1
    # Shuffle the children (Fisher-Yates on their moves): they are tried in
    # stored order, and board order would favour the top rows when playouts are few.
    for i in range(count - 1, 0, -1):
        j = np.random.randint(i + 1)
        swap = move[first + i]
        move[first + i] = move[first + j]
        move[first + j] = swap
    first_child[node] = first
    child_count[node] = count
    if count == 0:
        outcome[node] = DRAW_NODE  # renju: black has only forbidden points left
    return first + count


@njit(cache=True, inline="always")
def _best_uct_child(tree, node, c_uct):
    """The child of a fully tried ``node`` with the highest UCT score."""
    visits, value_sum, first_child, child_count = tree.visits, tree.value_sum, tree.first_child, tree.child_count
    log_parent = math.log(visits[node])
    best = -1
    best_score = -np.inf
    first = first_child[node]
    for child in range(first, first + child_count[node]):
        n_child = visits[child]
        score = value_sum[child] / n_child + c_uct * math.sqrt(log_parent / n_child)
        if score > best_score:
            best_score = score
            best = child
    return best


@njit(cache=True)
def run_playouts(tree, node_count, root_board, root_to_move, params, playouts):
    """Run up to ``playouts`` playouts on ``tree``; return ``(playouts done, node count)``.

    ``tree`` is a :class:`Nodes` with ``node_count`` nodes in use.  The
    root position is ``root_board`` (int8 [N], not modified) with
    ``root_to_move`` to play; ``params`` a :class:`PlayoutParams`.  Stops
    early only when an expansion does not fit in the arrays (the caller
    grows them and calls again).
    """
    move, visits, value_sum, first_child, child_count, tried, outcome = (
        tree.move, tree.visits, tree.value_sum, tree.first_child, tree.child_count, tree.tried, tree.outcome)
    size, n_in_row, rule, c_uct = params.size, params.n_in_row, params.rule, params.c_uct
    n = size * size
    board = np.empty(n, dtype=np.int8)
    path = np.empty(n + 1, dtype=np.int64)  # a path adds one stone per step, so it is at most n + 1 long
    frames, points = new_three_stack()
    scratch = _Scratch(np.zeros(n, dtype=np.bool_), np.zeros((4, n), dtype=np.int16), frames, points)
    no_record = np.empty(0, dtype=np.int64)
    found = np.empty(1, dtype=np.int64)  # winning_points writes the point it finds here
    root_stones = np.zeros(3, dtype=np.int64)  # indexed by EMPTY, BLACK, WHITE
    for p in range(n):
        root_stones[root_board[p]] += 1
    root_empties = root_stones[EMPTY]
    stones = np.empty(3, dtype=np.int64)

    for done in range(playouts):
        board[:] = root_board
        stones[:] = root_stones
        node = ROOT
        path[0] = ROOT
        depth = 0
        to_move = root_to_move
        value = DRAW_VALUE  # for the player who moved into ``node``; set below before use
        while True:
            if outcome[node] == WIN_NODE:
                value = WIN_VALUE
                break
            if outcome[node] == DRAW_NODE:
                value = DRAW_VALUE
                break
            if outcome[node] == LOSS_NODE:
                value = LOSS_VALUE
                break
            if first_child[node] == NOT_EXPANDED:
                grown = _expand(tree, node_count, node, board, to_move, params, scratch)
                if grown < 0:
                    return done, node_count
                node_count = grown
                if outcome[node] == DRAW_NODE:
                    value = DRAW_VALUE
                    break
            if tried[node] < child_count[node]:
                child = first_child[node] + tried[node]
                tried[node] += 1
            else:
                child = _best_uct_child(tree, node, c_uct)
            mover = to_move
            board[move[child]] = mover
            stones[mover] += 1
            to_move = WHITE if mover == BLACK else BLACK
            node = child
            depth += 1
            path[depth] = node
            if visits[node] == 0:
                # First visit: the exact result if the move ended the game or lets the
                # opponent win at once, else a random rollout.
                if is_winning_move(board, size, move[node], mover, n_in_row, rule):
                    outcome[node] = WIN_NODE
                    value = WIN_VALUE
                elif depth == root_empties:
                    outcome[node] = DRAW_NODE
                    value = DRAW_VALUE
                elif stones[to_move] >= n_in_row - 1 and winning_points(board, size, to_move, n_in_row, rule, found, 1) > 0:
                    # (the stone count skips the scan early on: a win needs n_in_row - 1 stones already down)
                    outcome[node] = LOSS_NODE
                    value = LOSS_VALUE
                else:
                    result, _ = random_playout(board, size, to_move, n_in_row, rule, no_record)
                    value = _result_value(result, mover)
                break
        # Backup: ``value`` is for the mover into path[depth]; each level up sees the other side.
        for level in range(depth, -1, -1):
            step = path[level]
            visits[step] += 1
            value_sum[step] += value
            value = 1.0 - value
    return playouts, node_count


@njit(cache=True)
def root_statistics(tree, counts_out, values_out, wins_out):
    """Per board point: the root children's visit counts, mean values (mover's view) and proven wins."""
    first_child, child_count, move, visits, value_sum, outcome = (
        tree.first_child, tree.child_count, tree.move, tree.visits, tree.value_sum, tree.outcome)
    counts_out[:] = 0
    values_out[:] = 0.0
    wins_out[:] = False
    first = first_child[ROOT]
    if first == NOT_EXPANDED:
        return
    for child in range(first, first + child_count[ROOT]):
        counts_out[move[child]] = visits[child]
        if visits[child] > 0:
            values_out[move[child]] = value_sum[child] / visits[child]
        wins_out[move[child]] = outcome[child] == WIN_NODE


class _Tree:
    """The :class:`Nodes` of one search and how many are in use, with room to grow.

    Reads through to the arrays: ``tree.visits`` is ``tree.nodes.visits``.
    """

    FIELDS = tuple(NODE_DTYPES.items())

    def __init__(self, capacity: int):
        self.nodes = Nodes(*(np.empty(capacity, dtype=dtype) for dtype in NODE_DTYPES.values()))
        self._init_root()
        self.node_count = 1

    def __getattr__(self, name: str):
        if name in NODE_DTYPES:
            return getattr(self.nodes, name)
        raise AttributeError(name)

    def _init_root(self) -> None:
        self.parent[ROOT] = NO_PARENT
        self.move[ROOT] = NO_MOVE
        self.visits[ROOT] = 0
        self.value_sum[ROOT] = 0.0
        self.first_child[ROOT] = NOT_EXPANDED
        self.child_count[ROOT] = 0
        self.tried[ROOT] = 0
        self.outcome[ROOT] = ONGOING_NODE

    @property
    def capacity(self) -> int:
        return self.nodes.parent.shape[0]

    def grow(self, at_least: int) -> None:
        new_capacity = max(2 * self.capacity, at_least)
        grown = []
        for old, dtype in zip(self.nodes, NODE_DTYPES.values()):
            new = np.empty(new_capacity, dtype=dtype)
            new[: self.node_count] = old[: self.node_count]
            grown.append(new)
        self.nodes = Nodes(*grown)


class PureMCTS:
    """UCT with random rollouts (see the module docstring): ``playouts`` playouts per move, a fresh tree each move.

    ``seed`` makes the search repeatable: the same seed on the same position
    (and the same sequence of positions) gives the same moves.
    """

    def __init__(self, playouts: int, seed: int | None = None, c_uct: float = DEFAULT_C_UCT):
        number = whole_number(playouts)
        if number is None or number < 1:
            raise ValueError(f"playouts must be a positive integer, got {playouts!r}")
        if isinstance(c_uct, bool) or not isinstance(c_uct, (int, float)) or not math.isfinite(c_uct) or c_uct < 0:
            raise ValueError(f"c_uct must be a finite number >= 0, got {c_uct!r}")
        if seed is not None and (whole_number(seed) is None or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.playouts = number
        self.c_uct = float(c_uct)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def __repr__(self) -> str:
        return f"PureMCTS(playouts={self.playouts}, seed={self.seed!r}, c_uct={self.c_uct})"

    def search(self, game: Gomoku) -> tuple[np.ndarray, np.ndarray]:
        """Search ``game``'s position; return ``(visit counts, mean values)`` per board point.

        Counts are int64 of length ``size * size`` and sum to ``playouts``;
        values are the mean result of each root move for the side to move
        (win 1, draw 0.5, loss 0; 0 where unvisited or illegal).
        """
        counts, values, _ = self._root_statistics(self._grow_tree(game), game.size * game.size)
        return counts, values

    @staticmethod
    def _root_statistics(tree: _Tree, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        counts = np.zeros(n, dtype=np.int64)
        values = np.zeros(n, dtype=np.float64)
        wins = np.zeros(n, dtype=np.bool_)
        root_statistics(tree.nodes, counts, values, wins)
        return counts, values, wins

    def _grow_tree(self, game: Gomoku, capacity: int | None = None) -> _Tree:
        """Run the playouts from ``game``'s position and return the tree (``capacity``: the first array size)."""
        if game.is_over:
            raise ValueError(f"the game is over ({game.result_text()}); there is no move to choose")
        n = game.size * game.size
        # numba has its own generator, shared by every kernel: seed it per search
        # so that a seeded player repeats itself whatever ran in between.
        seed_playouts(int(self._rng.integers(SEED_LIMIT)))
        if capacity is None:
            # Most playouts end on a new leaf, so the tree holds about one node
            # per playout plus the unvisited siblings of the latest expansions.
            capacity = 2 * self.playouts + 4 * n
        tree = _Tree(capacity)
        params = PlayoutParams(int(game.size), int(game.n_in_row), int(game.rule_code), self.c_uct)
        remaining = self.playouts
        while remaining > 0:
            done, tree.node_count = run_playouts(tree.nodes, tree.node_count, game.board, game.to_move, params,
                                                 remaining)
            remaining -= done
            if remaining > 0:
                tree.grow(tree.node_count + n)
        return tree

    def visit_counts(self, game: Gomoku) -> np.ndarray:
        """Run a search and return the root visit counts (int64, ``size * size``, summing to ``playouts``)."""
        return self.search(game)[0]

    def choose_move(self, game: Gomoku) -> int:
        """A move that wins at once if the search met one, else the most visited root move.

        Ties go to the better mean value, then the lower point.  Winning now
        comes first because a sure win later (an open four kept) scores the
        same 1.0 and may have drawn more visits.  Raises ValueError if the game is over.
        """
        counts, values, wins = self._root_statistics(self._grow_tree(game), game.size * game.size)
        candidates = wins if wins.any() else game.legal_mask()
        # lexsort's last key is the primary one; points that are not candidates sort below all others.
        order = np.lexsort((-np.arange(counts.size), values, np.where(candidates, counts, -1)))
        return int(order[-1])

    __call__ = choose_move
