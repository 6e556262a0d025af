"""The plain way: one Python object per node, one leaf and one network call at a time.

This is the search most AlphaZero tutorials write.  It is kept for two
jobs: it is the reference the batched numba search (:mod:`azero.search.mcts`) is
tested against (same PUCT rule, first-play urgency, forced playouts and
exact tactics, so with one leaf per step both visit the same moves), and
it is the baseline ``azero bench`` measures the fast path against.
"""

from __future__ import annotations

import math

import numpy as np

from azero.model.planes import encode
from azero.search import mcts, tactics
from azero.search.searcher import SearchConfig
from games.constants import BLACK, RENJU, WHITE
from games.lines import is_winning_move
from games.renju import forbidden_mask


class Node:
    __slots__ = ("move", "parent", "prior", "visits", "value_sum", "children", "exact")

    def __init__(self, move: int, parent: "Node | None", prior: float):
        self.move = move
        self.parent = parent
        self.prior = prior
        self.visits = 0
        self.value_sum = 0.0  # for the player who played ``move``
        self.children: list[Node] | None = None  # None until expanded
        self.exact: float | None = None  # known value for the side to move here, if any

    def q(self) -> float:
        return self.value_sum / self.visits


class SimpleMCTS:
    """PUCT search over a dict-free object tree, evaluating one leaf per simulation."""

    def __init__(self, evaluator, config: SearchConfig | None = None):
        self.evaluator = evaluator
        self.config = config or SearchConfig()

    def search(self, board: np.ndarray, size: int, to_move: int, last_move: int, n_in_row: int, rule: int,
               simulations: int, forced: bool = False) -> Node:
        """Run ``simulations`` simulations from the position; return the root (children carry the visits)."""
        root = Node(-1, None, 1.0)
        self._params = self.config.kernel_params(size, n_in_row, rule)
        self._scratch = mcts.new_scratch(size, 1)  # a fresh VCT table, as a new Searcher has
        self._simulate(root, board, size, to_move, last_move, n_in_row, rule, forced)  # expands the root
        while sum(c.visits for c in root.children or []) < simulations:
            self._simulate(root, board, size, to_move, last_move, n_in_row, rule, forced)
        return root

    def visit_counts(self, root: Node, size: int) -> np.ndarray:
        counts = np.zeros(size * size, dtype=np.float32)
        for child in root.children or []:
            counts[child.move] = child.visits
        return counts

    def _select(self, node: Node, forced_k: float) -> Node:
        cfg = self.config
        parent_q = -node.value_sum / node.visits if node.visits else 0.0
        visited_mass = sum(c.prior for c in node.children if c.visits > 0)
        fpu = parent_q - cfg.fpu_reduction * math.sqrt(visited_mass)
        total = sum(c.visits for c in node.children)
        explore = cfg.c_puct * math.sqrt(max(node.visits, 1))
        best, best_score = None, -math.inf
        for child in node.children:
            if forced_k > 0 and child.prior > 0 and child.visits < math.sqrt(forced_k * child.prior * total):
                return child  # forced playout: the first child short of its quota
            q = child.q() if child.visits else fpu
            score = q + explore * child.prior / (1 + child.visits)
            if score > best_score:
                best, best_score = child, score
        return best

    def _simulate(self, root: Node, root_board: np.ndarray, size: int, to_move: int, last_move: int,
                  n_in_row: int, rule: int, forced: bool) -> None:
        board = root_board.copy()
        node, color, last = root, to_move, last_move
        while node.children is not None:
            k = self.config.forced_k if (forced and node is root) else 0.0
            node = self._select(node, k)
            board[node.move] = color
            last = node.move
            if node.children is None and node.exact is None and is_winning_move(board, size, last, color, n_in_row, rule):
                node.exact = -1.0
            color = WHITE if color == BLACK else BLACK
        if node.exact is not None:
            self._backup(node, node.exact)
            return
        forbidden = forbidden_mask(board, size) if rule == RENJU else np.zeros(size * size, dtype=np.bool_)
        candidates = np.zeros(size * size, dtype=np.bool_)
        points = np.zeros(size * size, dtype=np.int64)
        # Always the whole-board threat scan: the reference does not rely on the search's invariant.
        kind = tactics.leaf_candidates(board, size, color, n_in_row, rule, self.config.tactics, node is root, True,
                                       last, self.config.move_radius, forbidden, candidates, points)
        kind = mcts.judge_quiet_leaf(kind, board, color, node is root, node.parent is root, self._params, candidates,
                                     self._scratch)
        if kind not in (tactics.OPEN, tactics.FORCED):
            node.exact = 1.0 if kind == tactics.WIN else (-1.0 if kind == tactics.LOSS else 0.0)
            self._backup(node, node.exact)
            return
        planes = encode(board, size, color, last, forbidden)[None]
        logits, values = self.evaluator(planes)
        moves = np.nonzero(candidates)[0]
        weights = np.exp(logits[0, moves] - logits[0, moves].max())
        priors = weights / weights.sum()
        node.children = [Node(int(m), node, float(p)) for m, p in zip(moves, priors)]
        self._backup(node, float(values[0]))

    @staticmethod
    def _backup(node: Node, value: float) -> None:
        v = -value
        while node is not None:
            node.visits += 1
            node.value_sum += v
            v = -v
            node = node.parent
