"""Players: one interface for the arena, the training evaluation, the window and the protocol engine.

A player answers for a list of positions at a time::

    moves = player.choose_moves([game, game, ...])   # one int (or Forfeit) per game
    player.close()                                    # free processes / memory

so a net-guided player searches all its games in ONE batched search, and an
external engine runs one subprocess per game in parallel.  A player that
cannot produce a legal move (an external engine that crashed, timed out or
answered nonsense) returns a :class:`Forfeit` for that game instead of
raising, so one bad game never stops a tournament.

Players are named by *specs*, the strings people type:

=====================  ==============================================================
``random``             a uniformly random legal move
``heuristic``          the threat-aware pattern bot (:mod:`azero.players.heuristic`)
``pure:N``             pure Monte-Carlo tree search with N random playouts per move
``az:PATH``            a checkpoint (or a training run's folder: its latest checkpoint, or a
                       ``.onnx`` export from ``azero export``, run by onnxruntime on the CPU) with
                       PUCT search; options ``:sims=N`` (default 400) and/or ``:time=S``
                       (seconds per move; ``sims`` then caps it), ``:vct=N`` (VCT nodes at the
                       root, default 20000; 0 is the search before VCT), ``:replyvct=N`` (VCT
                       nodes at each of the root's moves: does it leave the opponent a
                       VCT? default 0), ``:leafvct=N`` (VCT nodes at each quiet leaf,
                       default 0) and ``:defence=1`` (threat defence, off by default)
``pbrain:COMMAND``     any engine that speaks the Gomocup protocol, run as a subprocess
``human:NAME``         a person at the window (moves come from clicks, not from here)
=====================  ==============================================================
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from azero.players.forfeit import Forfeit  # noqa: F401  (re-exported: a player's answer for a game it cannot move in)
from azero.search import mcts
from azero.search.searcher import SearchConfig, Searcher, nodes_needed
from azero.search.time_manager import MoveBudget, RootStats, SearchStopper
from games.gomoku import Gomoku

DEFAULT_SIMULATIONS = 400
# From this size up the presets (gomoku15, renju15) search only points within BIG_BOARD_RADIUS lines of a stone.
BIG_BOARD = 13
BIG_BOARD_RADIUS = 3
TIME_MODE_MAX_SIMULATIONS = 20000  # the tree's capacity when thinking by the clock
# VCT nodes at the root when a net plays: the tactics suite's wins need about this many (tests/test_tactics_suite.py).
PLAY_VCT_ROOT_BUDGET = 20000
# Thinking by the clock, the root's VCT gets this many nodes a second of the move's ordinary time (at most the
# budget above): threat defence may run the solver once per candidate refutation, so it must stay a small share.
VCT_NODES_PER_SECOND = 2000
REUSE_MAX_MOVES = 2  # a position this many moves on from a slot's root keeps its tree (our move and the reply)
PROGRESS_SECONDS = 0.25  # how often a search with a progress callback reports (the window's live analysis)
MIN_SIMULATIONS = 8  # even a time-pressed search looks at this many leaves (a first move needs a visited child)

SPEC_HELP = ("random, heuristic, pure:N, az:PATH[:sims=N][:time=S][:vct=N][:replyvct=N][:leafvct=N][:defence=1], pbrain:COMMAND "
             "or human:NAME")


@dataclass(frozen=True)
class PlayerSpec:
    """A parsed player spec (nothing loaded yet)."""

    kind: str  # random | heuristic | pure | az | pbrain | human
    text: str  # the spec as given
    path: str = ""  # az: the checkpoint file
    simulations: int = 0  # az: simulations per move (a cap when seconds is set); pure: playouts
    seconds: float | None = None  # az: thinking time per move
    vct: int | None = None  # az: VCT nodes at the root (None: the play default; 0: no VCT, no threat defence)
    defence: bool = False  # az: threat defence on (azero/search/defence.py)
    leaf_vct: int = 0  # az: VCT nodes at each quiet leaf of the tree (0: none; needs the root's VCT)
    reply_vct: int = 0  # az: VCT nodes at each root's child, the opponent attacking (0: none; needs the root's VCT)
    command: str = ""  # pbrain: the command line
    name: str = ""  # human: the person's name

    @property
    def timed(self) -> bool:
        """Does this player think by the clock (so its games should not share a batch)?"""
        return self.seconds is not None or self.kind == "pbrain"


_AZ_OPTION = re.compile(r"^(.*):(sims|time|vct|leafvct|replyvct|defence)=([^:/\\]*)$")  # a folder named 'x:time=2/' is part of the path


def parse_spec(spec: str) -> PlayerSpec:
    """Parse a player spec, or raise ValueError saying what is accepted."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"empty player spec; use {SPEC_HELP}")
    spec = spec.strip()
    kind, _, rest = spec.partition(":")
    if kind in ("random", "heuristic") and not rest:
        return PlayerSpec(kind, spec)
    if kind == "pure":
        if not rest.isdigit() or int(rest) < 1:
            raise ValueError(f"pure:N needs a positive whole number of playouts, got {spec!r}")
        return PlayerSpec("pure", spec, simulations=int(rest))
    if kind == "az" and rest:
        path, simulations, seconds, vct, defence = rest, None, None, None, None
        node_budgets: dict[str, int] = {}  # leafvct, replyvct
        while (m := _AZ_OPTION.match(path)) is not None:
            path, option, value = m.group(1), m.group(2), m.group(3)
            if option == "defence":
                if defence is not None or value not in ("0", "1"):
                    raise ValueError(f"defence must be given once, as 0 or 1, in {spec!r}")
                defence = value == "1"
            elif option == "vct":
                if vct is not None or not value.isdigit() or int(value) > 10**7:
                    raise ValueError(f"vct must be given once, as a whole number of nodes up to 10000000, in {spec!r}")
                vct = int(value)
            elif option in ("leafvct", "replyvct"):
                if option in node_budgets or not value.isdigit() or int(value) > 10**6:
                    raise ValueError(f"{option} must be given once, as a whole number of nodes up to 1000000, in "
                                     f"{spec!r}")
                node_budgets[option] = int(value)
            elif option == "sims":
                if simulations is not None or not value.isdigit() or int(value) < 1:
                    raise ValueError(f"sims must be given once, as a positive whole number, in {spec!r}")
                simulations = int(value)
            else:
                try:
                    seconds_value = float(value)
                except ValueError:
                    seconds_value = math.nan
                if seconds is not None or not (math.isfinite(seconds_value) and 0 < seconds_value <= 3600):
                    raise ValueError(f"time must be given once, as seconds between 0 and 3600, in {spec!r}")
                seconds = seconds_value
        if not path:
            raise ValueError(f"az: needs a checkpoint path, got {spec!r}")
        if simulations is None:
            simulations = TIME_MODE_MAX_SIMULATIONS if seconds is not None else DEFAULT_SIMULATIONS
        if defence and vct == 0:
            raise ValueError(f"defence=1 needs the VCT (vct above 0), in {spec!r}")
        for option, nodes in node_budgets.items():
            if nodes and vct == 0:
                raise ValueError(f"{option} needs the root's VCT (vct above 0), in {spec!r}")
        return PlayerSpec("az", spec, path=path, simulations=simulations, seconds=seconds, vct=vct,
                          defence=bool(defence), leaf_vct=node_budgets.get("leafvct", 0),
                          reply_vct=node_budgets.get("replyvct", 0))
    if kind == "pbrain" and rest.strip():
        return PlayerSpec("pbrain", spec, command=rest.strip())
    if kind == "human" and rest.strip():
        name = rest.strip()
        if len(name) > 40 or not name.isprintable():
            raise ValueError(f"a human's name is up to 40 printable characters, got {name!r}")
        return PlayerSpec("human", spec, name=name)
    raise ValueError(f"unknown player {spec!r}; use {SPEC_HELP}")


def pinned(spec: str) -> str:
    """The spec with an ``az:`` run folder replaced by the checkpoint file it stands for now.

    A tournament pins its players once, so a run that publishes a newer
    checkpoint meanwhile does not change a player in the middle of it.
    """
    parsed = parse_spec(spec)
    if parsed.kind != "az":
        return parsed.text
    from azero.model.checkpoint import resolve_checkpoint

    return with_checkpoint(parsed, resolve_checkpoint(parsed.path))


def with_checkpoint(parsed: PlayerSpec, path) -> str:
    """An ``az:`` spec with its checkpoint file replaced by ``path`` and its options kept."""
    return f"az:{path}{parsed.text[len('az:') + len(parsed.path):]}"


@dataclass
class Analysis:
    """What one search of a position says, for people: the window's bars, heat map and hint."""

    move: int  # the most visited move
    value: float  # root value for the side to move, in [-1, 1]
    simulations: int
    visits: np.ndarray  # per point (float32, size*size)
    priors: np.ndarray  # the network's policy at the root, per point
    line: list[int]  # the principal variation, starting with ``move``
    values: np.ndarray | None = None  # per point: the mean value of its child for the side to move, [-1, 1]

    def candidates(self, count: int = 5, min_share: float = 0.02) -> list[tuple[int, float, int]]:
        """The most visited moves: (move, win rate for the side to move, visits), best first.

        Moves after the best with fewer than ``min_share`` of the visits are left out (noise, not candidates).
        """
        total = float(self.visits.sum())
        if total <= 0:
            return []
        order = sorted(np.flatnonzero(self.visits), key=lambda m: (-self.visits[m], m))
        kept = order[:1] + [m for m in order[1:count] if self.visits[m] >= min_share * total]
        values = self.values if self.values is not None else np.zeros_like(self.visits)
        return [(int(m), 0.5 * (float(values[m]) + 1.0), int(self.visits[m])) for m in kept]

    @property
    def win_rate(self) -> float:
        """The side to move's expected score, 0..1 (draws count half)."""
        return 0.5 * (self.value + 1.0)


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
        for g in slots:
            searcher.begin(int(g), self._still_needed(searcher, int(g), first))
        active = searcher.unfinished(slots)
        shown = time.perf_counter()
        while active.size:
            searcher.step(active)
            active = searcher.unfinished(active)
            shown = self._report(searcher, slots, shown)
        if stopper is not None:
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


class PurePlayer:
    """Pure Monte-Carlo tree search with random rollouts (no network)."""

    def __init__(self, playouts: int, seed: int = 0):
        from azero.search.pure_mcts import PureMCTS

        self.name = f"pure:{playouts}"
        self.mcts = PureMCTS(playouts, seed=seed)

    def choose_moves(self, games: list[Gomoku]) -> list[int]:
        return [self.mcts.choose_move(game) for game in games]

    def close(self) -> None:
        pass


class HeuristicPlayer:
    """The threat-aware pattern bot (:mod:`azero.players.heuristic`): the floor a trained net must beat."""

    def __init__(self, seed: int = 0):
        from azero.players.heuristic import heuristic_move

        self.name = "heuristic"
        self._move = heuristic_move
        self.rng = np.random.default_rng(seed)

    def choose_moves(self, games: list[Gomoku]) -> list[int]:
        return [self._move(game, self.rng) for game in games]

    def close(self) -> None:
        pass


class RandomPlayer:
    """A uniformly random legal move."""

    def __init__(self, seed: int = 0):
        self.name = "random"
        self.rng = np.random.default_rng(seed)

    def choose_moves(self, games: list[Gomoku]) -> list[int]:
        return [int(self.rng.choice(np.flatnonzero(game.legal_mask()))) for game in games]

    def close(self) -> None:
        pass


class HumanPlayer:
    """A person: their moves come from the window, so asking this object for one is a mistake."""

    def __init__(self, name: str):
        self.name = f"human:{name}"

    def choose_moves(self, games: list[Gomoku]) -> list[int]:
        raise RuntimeError(f"{self.name} moves by clicking in the window; an arena cannot ask a person for moves")

    def close(self) -> None:
        pass


def play_search_config(size: int, vct: int | None = None, defence: bool = False, leaf_vct: int = 0,
                       reply_vct: int = 0) -> SearchConfig:
    """How a net searches when it plays (arena, window, protocol engine) on a board of ``size``.

    ``vct``: VCT nodes at the root (default :data:`PLAY_VCT_ROOT_BUDGET`); 0 is the search before VCT.
    ``defence``: threat defence (azero/search/defence.py) on; it needs ``vct`` > 0.
    ``leaf_vct``: VCT nodes at every quiet leaf (a leaf whose side to move has a VCT is a proven win);
    ``reply_vct``: at least this many at each of the root's children (a move after which the opponent has a
    VCT is a proven loss, seen before it is played).  Both need ``vct`` > 0.
    """
    search = SearchConfig(move_radius=BIG_BOARD_RADIUS if size >= BIG_BOARD else 0)
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
               seed: int = 0) -> NetPlayer:
    """A network that plays: the one way the window, the arena and the protocol engine build it.

    ``path``: a checkpoint, a training run's folder (its latest) or an ONNX
    export; ``game`` = (rule, size, n_in_row) makes it prove it was trained
    for that game.  The search is :func:`play_search_config` for the board
    the net was trained on, so every face searches alike.
    """
    from azero.model.checkpoint import load_checkpoint, resolve_checkpoint

    rule, size, n_in_row = game if game is not None else (None, None, None)
    path = resolve_checkpoint(path)
    if path.suffix.lower() == ".onnx":
        from azero.model.onnx_evaluator import load_onnx_evaluator

        evaluator = load_onnx_evaluator(path, rule, size, n_in_row)
        trained_size = evaluator.info.size
    else:
        from azero.model.evaluator import NetEvaluator

        net, info = load_checkpoint(path, rule, size, n_in_row, device=device)
        evaluator, trained_size = NetEvaluator(net), info.size
    # Search the points a net of this size was trained on: the big-board presets keep to 3 lines of a stone.
    search = play_search_config(trained_size, vct, defence, leaf_vct, reply_vct)
    return NetPlayer(evaluator, simulations, search, name=name or f"az:{path}", seed=seed, seconds=seconds)


def make_player(spec: str | PlayerSpec, seed: int = 0, device: str = "cpu", turn_ms: int = 1000,
                game: tuple[str, int, int] | None = None):
    """Build the player a spec names.

    ``game`` = (rule, size, n_in_row) makes an ``az:`` checkpoint prove it
    was trained for that game (a clear CheckpointError otherwise); an
    ``az:NET.onnx`` export runs on the CPU through onnxruntime, whatever ``device`` says;
    ``turn_ms`` is the time per move given to ``pbrain:`` engines.
    """
    parsed = spec if isinstance(spec, PlayerSpec) else parse_spec(spec)
    if parsed.kind == "random":
        return RandomPlayer(seed)
    if parsed.kind == "heuristic":
        return HeuristicPlayer(seed)
    if parsed.kind == "pure":
        return PurePlayer(parsed.simulations, seed=seed)
    if parsed.kind == "az":
        return net_player(parsed.path, parsed.simulations, parsed.seconds, parsed.vct, parsed.defence, parsed.leaf_vct,
                          parsed.reply_vct, device=device,
                          game=game, name=parsed.text, seed=seed)
    if parsed.kind == "pbrain":
        from azero.players.pbrain_client import PbrainPlayer

        return PbrainPlayer(parsed.command, turn_ms=turn_ms)
    return HumanPlayer(parsed.name)
