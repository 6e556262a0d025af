"""Batched PUCT search over many games at once: the Python face of :mod:`azero.search.mcts`.

A :class:`Searcher` owns one tree per game slot.  Each :meth:`Searcher.step`
selects leaves in every active game (numba), evaluates all of them in ONE
call of the evaluator, and expands and backs up (numba).  Self-play drives
``step`` directly so games move at their own pace; :meth:`Searcher.search`
runs steps until every asked game has its simulations.

The kernels' arguments are named tuples built once here (mcts.Forest,
SearchParams, LeafBatch, Scratch); the Searcher keeps them and hands them
to every call.

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
    vct_root_budget: int = 0  # VCT nodes at the root, own win and opponent's (threat defence); play: azero/players/network.py
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

    def kernel_params(self, size: int, n_in_row: int, rule_code: int) -> mcts.SearchParams:
        """The numbers the search kernels read (:class:`azero.search.mcts.SearchParams`), for a game's rules.

        VCF, VCT and defence all rely on the tactics' quiet positions, so all are off without them.  Every field
        gets a fixed Python type (an int from a config file where a float is meant would compile the kernels anew).
        """
        on = bool(self.tactics)
        return mcts.SearchParams(
            size=int(size), n_in_row=int(n_in_row), rule=int(rule_code),
            c_puct=float(self.c_puct), fpu_reduction=float(self.fpu_reduction), forced_k=float(self.forced_k),
            leaves_per_game=int(self.leaves_per_game), use_tactics=on, radius=int(self.move_radius),
            vcf_budget=int(self.leaf_vcf_budget), vct_budget=int(self.vct_budget) if on else 0,
            reply_vct_budget=int(self.vct_reply_budget) if on else 0,
            root_vct_budget=int(self.vct_root_budget) if on else 0, vct_depth=int(self.vct_depth),
            use_defence=bool(on and self.threat_defence),
            noise_alpha=float(self.dirichlet_alpha), noise_fraction=float(self.noise_fraction),
        )

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


def _forest_field(name: str) -> property:
    return property(lambda self: getattr(self.forest, name),
                    doc=f"``forest.{name}``: see :class:`azero.search.mcts.Forest`.")


class Searcher:
    """Trees for ``games`` game slots of one board size and rule, searched in batches.

    ``forest`` (mcts.Forest) holds the trees; ``ints``, ``floats``,
    ``node_count``, ``root_board``, ``root_to_move``, ``root_last``,
    ``targets`` and ``forced`` are its arrays, for readers.
    """

    ints = _forest_field("ints")
    floats = _forest_field("floats")
    node_count = _forest_field("node_count")
    root_board = _forest_field("root_board")
    root_to_move = _forest_field("root_to_move")
    root_last = _forest_field("root_last")
    targets = _forest_field("targets")
    forced = _forest_field("forced")

    def __init__(self, size: int, rule_code: int, n_in_row: int, games: int, evaluator, config: SearchConfig,
                 max_simulations: int, seed: int | None = None):
        config.check()
        self.size, self.rule_code, self.n_in_row = size, rule_code, n_in_row
        self.games = games
        self.config = config
        self.evaluator = evaluator
        self.max_nodes = nodes_needed(max_simulations, size, config.move_radius)
        self.forest = mcts.new_forest(games, self.max_nodes, size)
        self.batch = mcts.new_leaf_batch(games * config.leaves_per_game, size, NUM_PLANES)
        self.scratch = mcts.new_scratch(size, self.max_nodes)  # its VCT table keeps proven results from move to move
        # What the kernels are handed: the same tuples as plain ones, which numba types faster (see mcts).
        self._forest, self._batch, self._scratch = tuple(self.forest), tuple(self.batch), tuple(self.scratch)
        self._params_of: dict | None = None  # the config's fields that the params were built from
        self._refresh_params()
        self.evaluations = 0  # leaves sent to the evaluator
        self.simulations = 0  # simulations finished (evaluated leaves plus leaves with exact results)
        self.evaluator_calls = 0
        mcts.seed_search(np.random.SeedSequence(seed).generate_state(1)[0] % (2**31))

    @property
    def params(self) -> mcts.SearchParams:
        """The kernels' :class:`~azero.search.mcts.SearchParams`, built once and again only if the config changed.

        (A player may change its SearchConfig between searches: azero/players/network.py cuts the root VCT budget to
        the clock's share of a move.)
        """
        self._refresh_params()
        return self._params

    def _refresh_params(self) -> None:
        if vars(self.config) != self._params_of:
            self._params = self.config.kernel_params(self.size, self.n_in_row, self.rule_code)
            self._params_tuple = tuple(self._params)  # what the kernels are handed
            self._params_of = dict(vars(self.config))

    def simulations_done(self, g: int) -> int:
        """Simulations finished below slot ``g``'s root (a reused subtree's included)."""
        return int(mcts.simulations_done(self._forest, g))

    # -- positions ------------------------------------------------------------
    def set_position(self, g: int, game: Gomoku) -> None:
        """Start game slot ``g`` afresh at ``game``'s position (no tree kept)."""
        if game.size != self.size or game.rule_code != self.rule_code or game.n_in_row != self.n_in_row:
            raise ValueError("the game's size and rules differ from the searcher's")
        forest = self.forest
        mcts.reset_tree(self._forest, g)
        forest.root_board[g] = game.board
        forest.root_to_move[g] = game.to_move
        forest.root_last[g] = mcts.NO_MOVE if game.last_move is None else game.last_move

    def play(self, g: int, move: int, judge: bool = True) -> None:
        """The move ``move`` was played in slot ``g``: move the root, keeping its subtree when reuse is on.

        ``judge=False`` skips judging the new root as a root (its own and the opponent's VCT): for a caller
        that plays several moves before the next search, only the last root needs it.
        """
        if not self.config.tree_reuse:
            mcts.reset_tree(self._forest, g)  # nothing below the root: advancing starts afresh
        mcts.advance_root(self._forest, g, move, self._scratch)
        if judge and self.forest.ints[g, mcts.ROOT, mcts.STATE] == mcts.EXPANDED and (
                self._root_judged_otherwise(g) or self._kept_move_loses(g)):
            # The kept subtree was judged as a leaf, with a leaf's budgets; a root gets larger ones, then searches
            # only a forced win's first move or the refutations of the opponent's threat, so judge it again.
            mcts.reset_tree(self._forest, g)
            self.forest.root_quiet[g] = False

    def _root_judged_otherwise(self, g: int) -> bool:
        """Would a root's tactics restrict this kept root's moves: its own VCF or VCT, or the opponent's VCT?"""
        params, scratch = self.params, self.scratch
        board, color = self.forest.root_board[g], int(self.forest.root_to_move[g])
        if vcf.quiet_root_vcf(board, self.size, color, self.n_in_row, self.rule_code, params.vcf_budget,
                              scratch.frames, scratch.stack_points, scratch.points) != vcf.NO_VCF:
            return True
        if params.root_vct_budget <= 0:
            return False
        own, opponent = tactics.threats(board, self.size, color, self.n_in_row, self.rule_code, True, scratch.points)
        if own or opponent:
            return False  # not quiet: the immediate tactics already judged it the same way at any depth
        sides = (color, 3 - color) if params.use_defence else (color,)
        return any(vct.find_vct_with(scratch.vct_state, board, self.size, side, self.n_in_row, self.rule_code,
                                     params.vct_depth, params.root_vct_budget, scratch.frames, scratch.stack_points)
                   != vct.NO_VCT for side in sides)

    def _kept_move_loses(self, g: int) -> bool:
        """Does a visited move of this kept root leave the opponent a VCT within the root child's budget?

        Those moves were judged two plies deeper, with a leaf's budget; a fresh search gives each root's child
        ``vct_reply_budget`` nodes and so sees the loss before it is played.
        """
        params, scratch = self.params, self.scratch
        budget = params.reply_vct_budget
        if budget <= 0:
            return False
        ints, color = self.forest.ints[g], int(self.forest.root_to_move[g])
        first = ints[mcts.ROOT, mcts.FIRST_CHILD]
        board = self.forest.root_board[g].copy()
        for child in range(first, first + ints[mcts.ROOT, mcts.NUM_CHILDREN]):
            if ints[child, mcts.VISITS] == 0 or ints[child, mcts.STATE] == mcts.TERMINAL:
                continue  # an unvisited child is judged as a root's child when the search first reaches it
            move = ints[child, mcts.MOVE]
            board[move] = color
            found = vct.find_vct_with(scratch.vct_state, board, self.size, 3 - color, self.n_in_row, self.rule_code,
                                      params.vct_depth, budget, scratch.frames, scratch.stack_points)
            board[move] = 0
            if found != vct.NO_VCT:
                return True
        return False

    # -- searching ------------------------------------------------------------
    def begin(self, g: int, simulations: int, noise: bool = False, forced: bool = False) -> None:
        """Ask for ``simulations`` more simulations at slot ``g``'s root, with root noise / forced playouts."""
        forest = self.forest
        forest.targets[g] = mcts.simulations_done(self._forest, g) + simulations
        forest.forced[g] = forced and self.config.forced_k > 0
        if noise and self.config.noise_fraction > 0:
            forest.noise_pending[g] = True  # mixed in by expand_and_backup once the root has priors
            if forest.ints[g, mcts.ROOT, mcts.STATE] == mcts.EXPANDED:
                self._refresh_params()
                mcts.add_root_noise(self._forest, g, self._params_tuple)

    def done_mask(self) -> np.ndarray:
        """For every slot: has it reached its target?"""
        return np.maximum(self.forest.ints[:, mcts.ROOT, mcts.VISITS] - 1, 0) >= self.forest.targets

    def unfinished(self, games: np.ndarray) -> np.ndarray:
        """The slots of ``games`` still short of their target."""
        return games[~self.done_mask()[games]]

    def step(self, games: np.ndarray) -> int:
        """One select / evaluate / expand round over slots ``games`` (int32); returns the leaves evaluated."""
        self._refresh_params()
        count, exact = mcts.select_leaves(self._forest, self._batch, self._scratch, self._params_tuple, games)
        if count > 0:
            self._evaluate(count)
        self.simulations += count + exact
        return count

    def _evaluate(self, count: int) -> None:
        logits, values = self.evaluator(self.batch.planes[:count])
        self.evaluations += count
        self.evaluator_calls += 1
        mcts.expand_and_backup(self._forest, self._batch, count, np.ascontiguousarray(logits, dtype=np.float32),
                               np.ascontiguousarray(values, dtype=np.float32), self._params_tuple)

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
        mcts.root_visits_into(self._forest, g, out)
        return out

    def policy_target(self, g: int) -> np.ndarray:
        """The training policy: root visits, with forced playouts pruned when they were on; sums to 1."""
        out = np.zeros(self.size * self.size, dtype=np.float32)
        self._refresh_params()
        mcts.pruned_policy_into(self._forest, g, self._params_tuple, out)
        total = out.sum()
        if total <= 0:  # pruning can only empty a root with a single visited child; fall back to plain visits
            mcts.root_visits_into(self._forest, g, out)
            total = out.sum()
        return out / total if total > 0 else out

    def root_priors(self, g: int) -> np.ndarray:
        """The network's policy at slot ``g``'s root over the searched moves (float32, size*size; 0 elsewhere).

        What the window's heat map shows; empty (all 0) before the root is expanded.
        """
        out = np.zeros(self.size * self.size, dtype=np.float32)
        ints, floats = self.forest.ints[g], self.forest.floats[g]
        first = ints[mcts.ROOT, mcts.FIRST_CHILD]
        for c in range(first, first + ints[mcts.ROOT, mcts.NUM_CHILDREN]):
            out[ints[c, mcts.MOVE]] = floats[c, mcts.PRIOR]
        return out

    def child_values(self, g: int) -> np.ndarray:
        """Per point: the mean value of its visited child at slot ``g``'s root, for the root's side to move.

        (float32, size*size, in [-1, 1]; 0 where unvisited.)  What the window writes on candidate moves.
        """
        out = np.zeros(self.size * self.size, dtype=np.float32)
        ints, floats = self.forest.ints[g], self.forest.floats[g]
        first = ints[mcts.ROOT, mcts.FIRST_CHILD]
        for c in range(first, first + ints[mcts.ROOT, mcts.NUM_CHILDREN]):
            visits = ints[c, mcts.VISITS]
            if visits > 0:  # a child's VALUE_SUM is for the player who moved into it: the root's side to move
                out[ints[c, mcts.MOVE]] = floats[c, mcts.VALUE_SUM] / visits
        return out

    def principal_variation(self, g: int, max_moves: int = 12) -> list[int]:
        """The line the search expects: from the root, the most visited child again and again.

        Stops at an unvisited child, a finished position or ``max_moves``;
        ties go to the lower point, as :meth:`choose_move` breaks them.
        """
        line: list[int] = []
        ints = self.forest.ints[g]
        node = mcts.ROOT
        while len(line) < max_moves and ints[node, mcts.NUM_CHILDREN] > 0:
            first = ints[node, mcts.FIRST_CHILD]
            children = range(first, first + ints[node, mcts.NUM_CHILDREN])
            best = max(children, key=lambda c: (ints[c, mcts.VISITS], -ints[c, mcts.MOVE]))
            if ints[best, mcts.VISITS] == 0:
                break
            line.append(int(ints[best, mcts.MOVE]))
            node = best
        return line

    def root_value(self, g: int) -> float:
        """Mean value at slot ``g``'s root for its side to move, in [-1, 1]."""
        return float(mcts.root_value(self._forest, g))

    def choose_move(self, g: int, temperature: float = 0.0, rng: np.random.Generator | None = None) -> int:
        """Most visited root move (temperature 0), or a draw with probability ~ visits^(1/temperature)."""
        visits = self.visit_counts(g)
        if visits.sum() <= 0:
            raise RuntimeError("choose_move before any search at this root")
        if temperature <= 1e-3 or rng is None:
            return int(np.argmax(visits))
        weights = visits.astype(np.float64) ** (1.0 / temperature)
        return int(rng.choice(visits.size, p=weights / weights.sum()))
