"""Batched PUCT search over many games at once: the Python face of :mod:`azero.search.mcts`.

A :class:`Searcher` owns one tree per game slot.  Each :meth:`Searcher.step`
selects leaves in every active game (numba), evaluates all of them in ONE
call of the evaluator, and expands and backs up (numba).  Self-play drives
``step`` directly so games move at their own pace; :meth:`Searcher.search`
runs steps until every asked game has its simulations.

An *evaluator* is any callable ``planes[B, C, S, S] float32 -> (logits[B,
S*S], values[B])`` with values in [-1, 1] for the side to move; see
:mod:`azero.model.evaluator`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from azero.bounds import Bounds
from azero.model.planes import NUM_PLANES
from azero.search import mcts, tactics, vcf, vct
from games.coords import MAX_SIZE
from games.gomoku import Gomoku
from games.renju import new_three_stack

# The accepted range of each number of a SearchConfig (azero.bounds).
SEARCH_RANGES: dict[str, Bounds] = {
    "c_puct": Bounds(0, 100, above=True),
    "fpu_reduction": Bounds(0, 10),
    "dirichlet_alpha": Bounds(0, 100),
    "noise_fraction": Bounds(0, 1),
    "forced_k": Bounds(0, 100),
    "vcf_budget": Bounds(0, 10_000_000),
    "vct_budget": Bounds(0, 10_000_000),
    "vct_root_budget": Bounds(0, 10_000_000),
    "vct_reply_budget": Bounds(0, 10_000_000),
    "vct_depth": Bounds(1, 20),
    "move_radius": Bounds(0, MAX_SIZE),
    "leaves_per_game": Bounds(1, 256),
}


@dataclass
class SearchConfig:
    """How the tree search behaves; every field is a training/play hyper-parameter."""

    c_puct: float = 1.5  # exploration weight in PUCT
    fpu_reduction: float = 0.2  # unvisited children valued at parent value minus this * sqrt(visited prior mass)
    dirichlet_alpha: float = 0.0  # root noise concentration per move; 0 = 10 / number of root moves
    noise_fraction: float = 0.25  # share of the root priors replaced by noise (self-play only)
    forced_k: float = 2.0  # forced playouts at the root (KataGo); 0 turns them and target pruning off
    tactics: bool = True  # exact immediate wins, losses and forced blocks (azero.search.tactics)
    vcf_budget: int = 50  # fours tried per leaf looking for a victory by continuous fours (azero.search.vcf); 0 = off
    vct_budget: int = 0  # nodes per quiet leaf looking for a victory by continuous threats (azero.search.vct); 0 = off
    vct_root_budget: int = 0  # VCT nodes at the root, own win and opponent's (threat defence); play: azero/players/net.py
    # VCT nodes at each of the root's children: after this move, does the opponent hold a VCT?  Then the move
    # is a proven loss, seen before it is played (the fork that lands a few moves later); 0 = off.
    vct_reply_budget: int = 0
    vct_depth: int = 6  # attacker moves (fours and threes) in one VCT line
    threat_defence: bool = False  # prune to the moves that refute the opponent's VCF/VCT (azero.search.defence)
    move_radius: int = 0  # only search points within this many lines of a stone; 0 = every point
    leaves_per_game: int = 1  # leaves taken from one tree per step (virtual loss keeps them apart)
    tree_reuse: bool = True  # keep the chosen move's subtree for the next search

    @property
    def leaf_vcf_budget(self) -> int:
        """The VCF budget the search uses: the VCF relies on the tactics' quiet positions, so none without them."""
        return self.vcf_budget if self.tactics else 0

    @property
    def tactic_budgets(self) -> tuple[int, int, int, int, int, bool]:
        """What :func:`azero.search.mcts.judge_quiet_leaf` reads: (VCF fours, VCT nodes at a leaf, at a root's child,
        at the root, VCT depth, defence).

        VCF, VCT and defence all rely on the tactics' quiet positions, so all are off without them.
        """
        on = self.tactics
        return (self.leaf_vcf_budget, self.vct_budget if on else 0, self.vct_reply_budget if on else 0,
                self.vct_root_budget if on else 0, self.vct_depth, bool(on and self.threat_defence))

    def check(self) -> None:
        if self.c_puct <= 0:
            raise ValueError(f"c_puct must be positive, got {self.c_puct}")
        if not 0.0 <= self.noise_fraction <= 1.0:
            raise ValueError(f"noise_fraction must be between 0 and 1, got {self.noise_fraction}")
        if min(self.forced_k, self.fpu_reduction, self.dirichlet_alpha, self.vcf_budget, self.vct_budget,
               self.vct_reply_budget, self.vct_root_budget) < 0:
            raise ValueError("forced_k, fpu_reduction, dirichlet_alpha, vcf_budget, vct_budget, vct_reply_budget and "
                             "vct_root_budget cannot be negative")
        if not 1 <= self.vct_depth <= 20:
            raise ValueError(f"vct_depth must be between 1 and 20, got {self.vct_depth}")
        if self.leaves_per_game < 1:
            raise ValueError(f"leaves_per_game must be at least 1, got {self.leaves_per_game}")
        if self.move_radius < 0:
            raise ValueError(f"move_radius cannot be negative, got {self.move_radius}")


def nodes_needed(simulations: int, size: int, radius: int) -> int:
    """Tree capacity for a search of ``simulations`` plus a reused subtree of the same size."""
    branching = size * size if radius == 0 else min(size * size, (2 * radius + 1) ** 2 * 4)
    return int(2 * (simulations + 2) * branching)


class Searcher:
    """Trees for ``games`` game slots of one board size and rule, searched in batches."""

    def __init__(self, size: int, rule_code: int, n_in_row: int, games: int, evaluator, config: SearchConfig,
                 max_simulations: int, seed: int | None = None):
        config.check()
        self.size, self.rule_code, self.n_in_row = size, rule_code, n_in_row
        self.games = games
        self.config = config
        self.evaluator = evaluator
        cells = size * size
        self.max_nodes = nodes_needed(max_simulations, size, config.move_radius)
        (self.ints, self.floats, self.node_count, self.root_board, self.root_to_move, self.root_last,
         self.noise_pending, self.root_quiet) = mcts.new_forest(games, self.max_nodes, size)
        batch = games * config.leaves_per_game
        self.planes = np.zeros((batch, NUM_PLANES, size, size), dtype=np.float32)
        self.candidates = np.zeros((batch, cells), dtype=np.bool_)
        self.leaf_game = np.zeros(batch, dtype=np.int32)
        self.leaf_node = np.zeros(batch, dtype=np.int32)
        self.targets = np.zeros(games, dtype=np.int32)
        self.forced = np.zeros(games, dtype=np.bool_)
        self._board = np.zeros(cells, dtype=np.int8)
        self._forbidden = np.zeros(cells, dtype=np.bool_)
        self._near = np.zeros((4, cells), dtype=np.int16)
        self._frames, self._stack_points = new_three_stack()
        self._points = np.zeros(cells, dtype=np.int64)
        self._vct_state = vct.new_state(size)  # its table keeps proven threat results from move to move
        self._scratch_order = np.zeros(self.max_nodes, dtype=np.int32)
        self._scratch_ints = np.zeros((self.max_nodes, mcts.INT_FIELDS), dtype=np.int32)
        self._scratch_floats = np.zeros((self.max_nodes, mcts.FLOAT_FIELDS), dtype=np.float32)
        self._visits = np.zeros(cells, dtype=np.float32)
        self.evaluations = 0  # leaves sent to the evaluator
        self.simulations = 0  # simulations finished (evaluated leaves plus leaves with exact results)
        self.evaluator_calls = 0
        mcts.seed_search(np.random.SeedSequence(seed).generate_state(1)[0] % (2**31))

    # -- positions ------------------------------------------------------------
    def set_position(self, g: int, game: Gomoku) -> None:
        """Start game slot ``g`` afresh at ``game``'s position (no tree kept)."""
        if game.size != self.size or game.rule_code != self.rule_code or game.n_in_row != self.n_in_row:
            raise ValueError("the game's size and rules differ from the searcher's")
        mcts.reset_tree(self.ints, self.floats, self.node_count, g)
        self.root_board[g] = game.board
        self.root_to_move[g] = game.to_move
        self.root_last[g] = -1 if game.last_move is None else game.last_move

    def play(self, g: int, move: int, judge: bool = True) -> None:
        """The move ``move`` was played in slot ``g``: move the root, keeping its subtree when reuse is on.

        ``judge=False`` skips judging the new root as a root (its own and the opponent's VCT): for a caller
        that plays several moves before the next search, only the last root needs it.
        """
        if not self.config.tree_reuse:
            mcts.reset_tree(self.ints, self.floats, self.node_count, g)  # nothing below the root: advancing starts afresh
        mcts.advance_root(self.ints, self.floats, self.node_count, self.root_board, self.root_to_move, self.root_last,
                          self.root_quiet, g, move, self._scratch_order, self._scratch_ints, self._scratch_floats)
        if judge and self.ints[g, mcts.ROOT, mcts.STATE] == mcts.EXPANDED and (
                self._root_judged_otherwise(g) or self._kept_move_loses(g)):
            # The kept subtree was judged as a leaf, with a leaf's budgets; a root gets larger ones, then searches
            # only a forced win's first move or the refutations of the opponent's threat, so judge it again.
            mcts.reset_tree(self.ints, self.floats, self.node_count, g)
            self.root_quiet[g] = False

    def _root_judged_otherwise(self, g: int) -> bool:
        """Would a root's tactics restrict this kept root's moves: its own VCF or VCT, or the opponent's VCT?"""
        board, color = self.root_board[g], int(self.root_to_move[g])
        if vcf.quiet_root_vcf(board, self.size, color, self.n_in_row, self.rule_code, self.config.leaf_vcf_budget,
                              self._frames, self._stack_points, self._points) != vcf.NO_VCF:
            return True
        _, _, _, root_budget, depth, use_defence = self.config.tactic_budgets
        if root_budget <= 0:
            return False
        own, opponent = tactics.threats(board, self.size, color, self.n_in_row, self.rule_code, True, self._points)
        if own or opponent:
            return False  # not quiet: the immediate tactics already judged it the same way at any depth
        sides = (color, 3 - color) if use_defence else (color,)
        return any(vct.find_vct_with(self._vct_state, board, self.size, side, self.n_in_row, self.rule_code, depth,
                                     root_budget, self._frames, self._stack_points) != vct.NO_VCT for side in sides)

    def _kept_move_loses(self, g: int) -> bool:
        """Does a visited move of this kept root leave the opponent a VCT within the root child's budget?

        Those moves were judged two plies deeper, with a leaf's budget; a fresh search gives each root's child
        ``vct_reply_budget`` nodes and so sees the loss before it is played.
        """
        budget = self.config.tactic_budgets[2]
        if budget <= 0:
            return False
        ints, color = self.ints[g], int(self.root_to_move[g])
        first = ints[mcts.ROOT, mcts.FIRST_CHILD]
        board = self.root_board[g].copy()
        for child in range(first, first + ints[mcts.ROOT, mcts.NUM_CHILDREN]):
            if ints[child, mcts.VISITS] == 0 or ints[child, mcts.STATE] == mcts.TERMINAL:
                continue  # an unvisited child is judged as a root's child when the search first reaches it
            move = ints[child, mcts.MOVE]
            board[move] = color
            found = vct.find_vct_with(self._vct_state, board, self.size, 3 - color, self.n_in_row, self.rule_code,
                                      self.config.vct_depth, budget, self._frames, self._stack_points)
            board[move] = 0
            if found != vct.NO_VCT:
                return True
        return False

    # -- searching ------------------------------------------------------------
    def begin(self, g: int, simulations: int, noise: bool = False, forced: bool = False) -> None:
        """Ask for ``simulations`` more simulations at slot ``g``'s root, with root noise / forced playouts."""
        self.targets[g] = mcts.simulations_done(self.ints, g) + simulations
        self.forced[g] = forced and self.config.forced_k > 0
        if noise and self.config.noise_fraction > 0:
            if self.ints[g, mcts.ROOT, mcts.STATE] == mcts.EXPANDED:
                self.noise_pending[g] = True
                mcts.add_root_noise(self.ints, self.floats, self.noise_pending, g, self.config.dirichlet_alpha,
                                    self.config.noise_fraction)
            else:
                self.noise_pending[g] = True  # mixed in by expand_and_backup once the root has priors

    def done_mask(self) -> np.ndarray:
        """For every slot: has it reached its target?"""
        return np.maximum(self.ints[:, mcts.ROOT, mcts.VISITS] - 1, 0) >= self.targets

    def unfinished(self, games: np.ndarray) -> np.ndarray:
        """The slots of ``games`` still short of their target."""
        return games[~self.done_mask()[games]]

    def step(self, games: np.ndarray) -> int:
        """One select / evaluate / expand round over slots ``games`` (int32); returns the leaves evaluated."""
        cfg = self.config
        count, exact = mcts.select_leaves(
            self.ints, self.floats, self.node_count, self.root_board, self.root_to_move, self.root_last,
            self.root_quiet, games, self.targets, cfg.leaves_per_game, self.forced, self.size, self.n_in_row, self.rule_code,
            cfg.c_puct, cfg.fpu_reduction, cfg.forced_k, cfg.tactics, cfg.move_radius, cfg.tactic_budgets,
            self.planes, self.candidates, self.leaf_game, self.leaf_node,
            self._board, self._forbidden, self._near, self._frames, self._stack_points, self._points, self._vct_state,
        )
        if count > 0:
            self._evaluate(count)
        self.simulations += count + exact
        return count

    def _evaluate(self, count: int) -> None:
        cfg = self.config
        logits, values = self.evaluator(self.planes[:count])
        self.evaluations += count
        self.evaluator_calls += 1
        mcts.expand_and_backup(
            self.ints, self.floats, self.node_count, self.noise_pending, count, self.leaf_game, self.leaf_node,
            self.candidates, np.ascontiguousarray(logits, dtype=np.float32),
            np.ascontiguousarray(values, dtype=np.float32), cfg.dirichlet_alpha, cfg.noise_fraction,
        )

    def search(self, games, simulations: int, noise: bool = False, forced: bool = False) -> None:
        """Run ``simulations`` simulations at each slot in ``games``, all batched together."""
        games = np.asarray(games, dtype=np.int32)
        for g in games:
            self.begin(int(g), simulations, noise=noise, forced=forced)
        active = self.unfinished(games)
        while active.size:
            self.step(active)
            active = self.unfinished(active)

    # -- reading results ----------------------------------------------------
    def visit_counts(self, g: int) -> np.ndarray:
        """Visits of each point's child at slot ``g``'s root (float32, size*size)."""
        out = np.zeros(self.size * self.size, dtype=np.float32)
        mcts.root_visits_into(self.ints, g, self.size, out)
        return out

    def policy_target(self, g: int) -> np.ndarray:
        """The training policy: root visits, with forced playouts pruned when they were on; sums to 1."""
        out = np.zeros(self.size * self.size, dtype=np.float32)
        k = self.config.forced_k if self.forced[g] else 0.0
        mcts.pruned_policy_into(self.ints, self.floats, g, self.size, self.config.c_puct, k, out)
        total = out.sum()
        if total <= 0:  # pruning can only empty a root with a single visited child; fall back to plain visits
            mcts.root_visits_into(self.ints, g, self.size, out)
            total = out.sum()
        return out / total if total > 0 else out

    def root_priors(self, g: int) -> np.ndarray:
        """The network's policy at slot ``g``'s root over the searched moves (float32, size*size; 0 elsewhere).

        What the window's heat map shows; empty (all 0) before the root is expanded.
        """
        out = np.zeros(self.size * self.size, dtype=np.float32)
        first = self.ints[g, mcts.ROOT, mcts.FIRST_CHILD]
        for c in range(first, first + self.ints[g, mcts.ROOT, mcts.NUM_CHILDREN]):
            out[self.ints[g, c, mcts.MOVE]] = self.floats[g, c, mcts.PRIOR]
        return out

    def child_values(self, g: int) -> np.ndarray:
        """Per point: the mean value of its visited child at slot ``g``'s root, for the root's side to move.

        (float32, size*size, in [-1, 1]; 0 where unvisited.)  What the window writes on candidate moves.
        """
        out = np.zeros(self.size * self.size, dtype=np.float32)
        first = self.ints[g, mcts.ROOT, mcts.FIRST_CHILD]
        for c in range(first, first + self.ints[g, mcts.ROOT, mcts.NUM_CHILDREN]):
            visits = self.ints[g, c, mcts.VISITS]
            if visits > 0:  # a child's VALUE_SUM is for the player who moved into it: the root's side to move
                out[self.ints[g, c, mcts.MOVE]] = self.floats[g, c, mcts.VALUE_SUM] / visits
        return out

    def principal_variation(self, g: int, max_moves: int = 12) -> list[int]:
        """The line the search expects: from the root, the most visited child again and again.

        Stops at an unvisited child, a finished position or ``max_moves``;
        ties go to the lower point, as :meth:`choose_move` breaks them.
        """
        line: list[int] = []
        node = mcts.ROOT
        while len(line) < max_moves and self.ints[g, node, mcts.NUM_CHILDREN] > 0:
            first = self.ints[g, node, mcts.FIRST_CHILD]
            children = range(first, first + self.ints[g, node, mcts.NUM_CHILDREN])
            best = max(children, key=lambda c: (self.ints[g, c, mcts.VISITS], -self.ints[g, c, mcts.MOVE]))
            if self.ints[g, best, mcts.VISITS] == 0:
                break
            line.append(int(self.ints[g, best, mcts.MOVE]))
            node = best
        return line

    def root_value(self, g: int) -> float:
        """Mean value at slot ``g``'s root for its side to move, in [-1, 1]."""
        return float(mcts.root_value(self.ints, self.floats, g))

    def choose_move(self, g: int, temperature: float = 0.0, rng: np.random.Generator | None = None) -> int:
        """Most visited root move (temperature 0), or a draw with probability ~ visits^(1/temperature)."""
        visits = self.visit_counts(g)
        if visits.sum() <= 0:
            raise RuntimeError("choose_move before any search at this root")
        if temperature <= 1e-3 or rng is None:
            return int(np.argmax(visits))
        weights = visits.astype(np.float64) ** (1.0 / temperature)
        return int(rng.choice(visits.size, p=weights / weights.sum()))
