"""The network with PUCT search that plays: :class:`NetPlayer`, and :func:`net_player`, the one way to build it.

The window, the protocol engine and the arena all build their network
players with :func:`net_player`, so every face searches alike: the search is
:func:`play_search_config` for the board the net was trained on, with the
settings the checkpoint says it was trained with (``c_puct``,
``fpu_reduction``, ``move_radius``: :data:`PLAY_FROM_TRAINING`) as its
defaults.  A checkpoint written before checkpoints recorded their search
plays with the defaults of :class:`~azero.search.searcher.SearchConfig` and
the big-board radius, as it always did.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping

import numpy as np

from azero.bounds import check_bounds
from azero.players.protocol import Analysis
from azero.players.spec import PLAY_VCT_ROOT_BUDGET, net_spec
from azero.search import mcts
from azero.search.searcher import SEARCH_RANGES, SearchConfig, Searcher, nodes_needed
from azero.search.time_manager import MoveBudget, RootStats, SearchStopper
from games.gomoku import Gomoku

# From this size up the presets (gomoku15, renju15) search only points within BIG_BOARD_RADIUS lines of a stone
# (the play default for a checkpoint that does not say which radius it was trained with).
BIG_BOARD = 13
BIG_BOARD_RADIUS = 3
# Thinking by the clock, the root's VCT gets this many nodes a second of the move's ordinary time (at most the
# budget above): threat defence may run the solver once per candidate refutation, so it must stay a small share.
VCT_NODES_PER_SECOND = 2000
REUSE_MAX_MOVES = 2  # a position this many moves on from a slot's root keeps its tree (our move and the reply)
PROGRESS_SECONDS = 0.25  # how often a search with a progress callback reports (the window's live analysis)
MIN_SIMULATIONS = 8  # even a time-pressed search looks at this many leaves (a first move needs a visited child)
# The search settings a net plays with as it was trained (the PUCT constants shape what its value and policy
# were trained on; the radius, the points it ever saw searched).  The rest of the training search is self-play's
# own (root noise, forced playouts, parallel leaves) or is set for play (VCT: the spec's options; tactics and the
# leaf VCF: always on in play, the root's VCT needs them).
PLAY_FROM_TRAINING = ("c_puct", "fpu_reduction", "move_radius")


class NetPlayer:
    """A network with PUCT search: a fixed number of simulations, or as many as ``seconds`` allow.

    No root noise; the most visited move is played.  After each call
    ``last_simulations`` and ``last_values`` hold, per game, how much the
    search did and its root value for the side to move (the protocol
    engine reports them; the window shows them).
    """

    def __init__(self, evaluator, simulations: int, search: SearchConfig | None = None, name: str = "net",
                 seed: int = 0, seconds: float | None = None):
        self.evaluator = evaluator
        self.simulations = simulations
        self.seconds = seconds
        self.search_config = search or SearchConfig()
        self.name = name
        self.seed = seed
        self.last_simulations: list[int] = []
        self.last_values: list[float] = []
        self.last_stop_reasons: list[str] = []  # per game, why a timed search stopped (time_manager's words)
        # How long the last call's least search took (its first MIN_SIMULATIONS leaves, which even a move with no
        # time left makes): a match clock keeps that much for every move still to come.
        self.least_search_s = 0.0
        # The tree's capacity in simulations: a window that analyses with the same player (live analysis,
        # then the AI's move reusing that tree) raises it above ``simulations``.
        self.tree_simulations = simulations
        # Asked between search steps: True ends the search early (the window closing, the person moving).
        self.should_stop: Callable[[], bool] | None = None
        self._searcher: Searcher | None = None
        self._root_moves: dict[int, list[int]] = {}  # slot -> the moves of the position at its root
        self._progress: tuple[Callable[[Analysis], None], int] | None = None
        self._last_slots = np.zeros(0, dtype=np.int32)

    def _searcher_for(self, game: Gomoku, slots: int) -> Searcher:
        s = self._searcher
        capacity = max(self.simulations, self.tree_simulations)
        if s is None or s.games < slots or s.size != game.size or s.rule_code != game.rule_code \
                or s.n_in_row != game.n_in_row or s.max_nodes < nodes_needed(capacity, game.size, s.config.move_radius):
            self._searcher = None  # let the old forest go before the new one is allocated
            self._root_moves = {}
            s = Searcher(game.size, game.rule_code, game.n_in_row, slots, self.evaluator, self.search_config,
                         capacity, seed=self.seed)
            self._searcher = s
        return s

    def _place(self, searcher: Searcher, games: list[Gomoku]) -> np.ndarray:
        """A slot for each game, keeping the tree of a slot whose root position the game has moved on from.

        A game that continues a slot's position (its moves start with that
        position's moves: our move and the reply since the last search) gets
        that slot, and the root moves down the played moves (tree reuse), so
        the search goes on from what it already read.  Other games start
        afresh.  Games are matched by their moves, not their index, because
        an arena's list of games to move shrinks as games end.
        """
        free = list(range(searcher.games))
        slots: list[int | None] = [None] * len(games)
        if self.search_config.tree_reuse:
            for i, game in enumerate(games):
                for s in free:
                    before = self._root_moves.get(s)
                    if before is not None and 0 <= len(game.moves) - len(before) <= REUSE_MAX_MOVES \
                            and game.moves[:len(before)] == before:
                        slots[i] = s
                        free.remove(s)
                        played = game.moves[len(before):]
                        for k, move in enumerate(played):
                            searcher.play(s, move, judge=k == len(played) - 1)
                        break
        for i, game in enumerate(games):
            if slots[i] is None:
                slots[i] = free.pop(0)
                searcher.set_position(slots[i], game)
            self._root_moves[slots[i]] = list(game.moves)
        return np.asarray(slots, dtype=np.int32)

    def analyse(self, game: Gomoku, seconds: float | None = None, pv_moves: int = 12, visits: int | None = None,
                progress: Callable[[Analysis], None] | None = None) -> Analysis:
        """Search one position and say everything the search knows about it.

        ``visits`` replaces the player's simulations for this search (live
        analysis searches on to a larger target); ``progress`` is called
        with the analysis so far every :data:`PROGRESS_SECONDS` while it runs.
        """
        self._progress = None if progress is None else (progress, pv_moves)
        try:
            move = self.choose_moves([game], seconds=seconds, visits=visits)[0]
        finally:
            self._progress = None
        return self._analysis(self._searcher, int(self._last_slots[0]), pv_moves, move)

    def _analysis(self, s: Searcher, g: int, pv_moves: int, move: int | None = None) -> Analysis:
        visits = s.visit_counts(g)
        return Analysis(int(np.argmax(visits)) if move is None else move, s.root_value(g), int(visits.sum()), visits,
                        s.root_priors(g), s.principal_variation(g, pv_moves), s.child_values(g))

    def choose_moves(self, games: list[Gomoku], seconds: float | None = None, visits: int | None = None,
                     budget: MoveBudget | None = None) -> list[int]:
        """Search every game at once; ``seconds`` (or the player's own) bounds the time when given.

        ``visits``: the root visits to reach this time instead of the player's simulations.
        ``budget``: a match clock's budget from :func:`azero.search.time_manager.plan_move` (an ordinary and a
        hard limit, a tree size), in place of ``seconds``.  Either way
        :class:`~azero.search.time_manager.SearchStopper` decides when each game's search stops.
        """
        target = self.simulations if visits is None else visits
        if budget is None:
            seconds = self.seconds if seconds is None else seconds
            budget = None if seconds is None else MoveBudget.fixed(seconds)
        stopper = None if budget is None else SearchStopper(budget)
        self.last_stop_reasons = []
        configured = self.search_config.vct_root_budget
        if stopper is not None and configured > 0:
            # The solver is not stopped by the clock, so by the clock it gets a share of the move's ordinary time.
            self.search_config.vct_root_budget = max(1, min(configured, int(budget.soft_s * VCT_NODES_PER_SECOND)))
        try:
            searcher = self._searcher_for(games[0], len(games))
            slots = self._place(searcher, games)
            self._last_slots = slots
            # ``simulations`` counts the root's visits, a reused subtree's included (KataGo's maxVisits): the
            # same strength for less work.  A root needs one evaluation before anything else.
            first = min(MIN_SIMULATIONS, target) if stopper is not None else target
            return self._search(searcher, slots, first, target, stopper)
        finally:
            self.search_config.vct_root_budget = configured

    def _search(self, searcher: Searcher, slots: np.ndarray, first: int, target: int,
                stopper: SearchStopper | None) -> list[int]:
        began = time.perf_counter()
        for g in slots:
            searcher.begin(int(g), self._still_needed(searcher, int(g), first))
        active = searcher.unfinished(slots)
        shown = time.perf_counter()
        while active.size:
            searcher.step(active)
            active = searcher.unfinished(active)
            shown = self._report(searcher, slots, shown)
        if stopper is not None:
            self.least_search_s = time.perf_counter() - began  # untimed, the first phase is the whole search
            for g in slots:
                searcher.begin(int(g), self._still_needed(searcher, int(g), target))
            active = searcher.unfinished(slots)
            stopper.steps_begin()
            while active.size:
                out_of_time = stopper.past_hard_limit()
                for g in active:
                    if out_of_time:
                        stopper.reasons.setdefault(int(g), "hard limit")
                    if out_of_time or stopper.should_stop(int(g), root_stats(searcher, int(g))):
                        searcher.targets[int(g)] = 0  # unfinished() leaves it out from here
                active = searcher.unfinished(active)
                if not active.size:
                    break
                searcher.step(active)
                active = searcher.unfinished(active)
                shown = self._report(searcher, slots, shown)
            self.last_stop_reasons = [stopper.reasons.get(int(g), "simulations") for g in slots]
        self.last_simulations = [int(searcher.visit_counts(g).sum()) for g in slots]
        self.last_values = [searcher.root_value(g) for g in slots]
        return [searcher.choose_move(g) for g in slots]

    def _report(self, searcher: Searcher, slots: np.ndarray, shown: float) -> float:
        """Between steps: stop when asked (every slot keeps what it searched), show progress when due."""
        if self.should_stop is not None and self.should_stop():
            for g in slots:
                searcher.targets[int(g)] = 0  # unfinished() is empty from here
        now = time.perf_counter()
        if self._progress is not None and now - shown >= PROGRESS_SECONDS:
            callback, pv_moves = self._progress
            callback(self._analysis(searcher, int(slots[0]), pv_moves))
            return now
        return shown

    @staticmethod
    def _still_needed(searcher: Searcher, g: int, visits: int) -> int:
        if searcher.ints[g, mcts.ROOT, mcts.STATE] != mcts.EXPANDED:
            return max(visits, 1)
        return max(visits - int(searcher.visit_counts(g).sum()), 0)

    def close(self) -> None:
        self._searcher = None
        self._root_moves = {}


def root_stats(searcher: Searcher, g: int) -> RootStats:
    """What the time manager reads at slot ``g``'s root: visits, value, tree size, and whether a move is a proven win."""
    ints, floats = searcher.ints[g], searcher.floats[g]
    first, count = int(ints[mcts.ROOT, mcts.FIRST_CHILD]), int(ints[mcts.ROOT, mcts.NUM_CHILDREN])
    children = slice(first, first + count) if count > 0 else slice(0, 0)
    # A child's EXACT_VALUE is for the side to move there, the opponent: -1 means our move there wins.
    proven = bool(np.any((ints[children, mcts.STATE] == mcts.TERMINAL) & (floats[children, mcts.EXACT_VALUE] <= -1.0)))
    return RootStats(searcher.visit_counts(g), searcher.root_value(g), count, int(searcher.node_count[g]), proven)


def play_search_config(size: int, vct: int | None = None, defence: bool = False, leaf_vct: int = 0,
                       reply_vct: int = 0, trained: Mapping[str, float | int | bool] | None = None) -> SearchConfig:
    """How a net searches when it plays (arena, window, protocol engine) on a board of ``size``.

    ``vct``: VCT nodes at the root (default :data:`PLAY_VCT_ROOT_BUDGET`); 0 is the search before VCT.
    ``defence``: threat defence (azero/search/defence.py) on; it needs ``vct`` > 0.
    ``leaf_vct``: VCT nodes at every quiet leaf (a leaf whose side to move has a VCT is a proven win);
    ``reply_vct``: at least this many at each of the root's children (a move after which the opponent has a
    VCT is a proven loss, seen before it is played).  Both need ``vct`` > 0.
    ``trained``: the search settings the net was trained with (:func:`trained_search`); those named in
    :data:`PLAY_FROM_TRAINING` replace the defaults (the big-board radius among them).
    """
    search = SearchConfig(move_radius=BIG_BOARD_RADIUS if size >= BIG_BOARD else 0)
    for name in PLAY_FROM_TRAINING:
        if trained is not None and name in trained:
            setattr(search, name, trained[name])
    search.vct_root_budget = PLAY_VCT_ROOT_BUDGET if vct is None else vct
    # Threat defence is off in play until it is shown to pay: with it, gomoku15 at 800 simulations scored
    # 4/0/8 and (an earlier, weaker verification) 11/0/18 against the same net without VCT (docs/strength.md).  Its
    # own VCT at the root is a proven win, so it stays.
    search.threat_defence = bool(defence) and search.vct_root_budget > 0
    search.vct_budget = leaf_vct if search.vct_root_budget > 0 else 0
    search.vct_reply_budget = reply_vct if search.vct_root_budget > 0 else 0
    return search


def net_player(path, simulations: int, seconds: float | None = None, vct: int | None = None, defence: bool = False,
               leaf_vct: int = 0, reply_vct: int = 0, device: str = "cpu", game: tuple[str, int, int] | None = None, name: str | None = None,
               seed: int = 0, threads: int | None = None) -> NetPlayer:
    """A network that plays: the one way the window, the arena and the protocol engine build it.

    ``path``: a checkpoint, a training run's folder (its latest) or an ONNX
    export; ``game`` = (rule, size, n_in_row) makes it prove it was trained
    for that game.  The search is :func:`play_search_config` for the board
    the net was trained on, with the search settings the file says it was
    trained with as its defaults (:func:`trained_search`; a file whose
    settings are damaged is refused with a CheckpointError), so every face
    searches alike.  An ONNX export is loaded without importing torch (about
    200 MiB of a process) and runs on ``threads`` of onnxruntime's (None: its
    default, one per physical core); torch's threads are the process's
    (``torch.set_num_threads``).
    """
    from pathlib import Path

    rule, size, n_in_row = game if game is not None else (None, None, None)
    if Path(path).suffix.lower() == ".onnx" and not Path(path).is_dir():
        from azero.model.onnx_evaluator import load_onnx_evaluator

        path = Path(path)
        evaluator = load_onnx_evaluator(path, rule, size, n_in_row, threads)
        # An export carries its checkpoint's metadata as it was (azero.model.export), the search among it.
        trained_size, stored = evaluator.info.size, evaluator.info.checkpoint.get("search")
    else:
        from azero.model.checkpoint import load_checkpoint, resolve_checkpoint
        from azero.model.evaluator import NetEvaluator

        path = resolve_checkpoint(path)
        net, info = load_checkpoint(path, rule, size, n_in_row, device=device)
        evaluator, trained_size, stored = NetEvaluator(net), info.size, info.search
    trained = trained_search(stored, path)
    # Search as the net was trained: its radius (else the big-board presets' 3 lines of a stone), its PUCT constants.
    search = play_search_config(trained_size, vct, defence, leaf_vct, reply_vct, trained)
    name = name or net_spec(path, simulations, seconds, vct, defence, leaf_vct, reply_vct).text
    return NetPlayer(evaluator, simulations, search, name=name, seed=seed, seconds=seconds)


def trained_search(stored: object, path) -> dict[str, float | int | bool]:
    """The search settings the checkpoint at ``path`` says its net was trained with, checked.

    ``stored`` is the file's ``search`` mapping (None for a checkpoint from
    before they were recorded: no settings).  The file may come from anyone,
    so every setting :class:`~azero.search.searcher.SearchConfig` has must be
    of its type and inside its range (:data:`~azero.search.searcher.SEARCH_RANGES`),
    else a one-line CheckpointError names the first that is not; a name it
    does not have (a setting of a later azero) is left unread.
    """
    try:
        return _checked_search(stored)
    except ValueError as error:
        from azero.model.checkpoint import CheckpointError  # imports torch: only on the way to this error

        raise CheckpointError(f"{path} has damaged metadata ({error})") from None


def _checked_search(stored: object) -> dict[str, float | int | bool]:
    if stored is None:
        return {}
    if not isinstance(stored, Mapping):
        raise ValueError(f"search must be a mapping of the search's settings, got {_shown(stored)}")  # noqa: TRY004
    kinds = {f.name: f.type if isinstance(f.type, str) else f.type.__name__ for f in dataclasses.fields(SearchConfig)}
    settings: dict[str, float | int | bool] = {}
    for name, value in stored.items():
        kind = kinds.get(name)
        if kind is None:
            continue
        if kind == "bool":
            fits = isinstance(value, bool)
        elif kind == "int":
            fits = isinstance(value, int) and not isinstance(value, bool)
        else:  # a whole number will do; one too large for a float is no setting (JSON's numbers have no limit)
            fits = (isinstance(value, float) and math.isfinite(value)) \
                or (isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 2**53)
        if not fits:
            raise ValueError(f"search.{name} must be of type {kind}, got {_shown(value)}")
        settings[name] = float(value) if kind == "float" else value
    config = SearchConfig(**settings)
    check_bounds("search", config, SEARCH_RANGES)
    try:
        config.check()
    except ValueError as error:
        raise ValueError(f"search: {error}") from None
    return settings


def _shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut short: a damaged file may hold megabytes where a number belongs."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
