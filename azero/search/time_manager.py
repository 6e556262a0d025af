"""How long azero thinks: a move's budget from the manager's clock, and when a running search stops.

Two halves, both free of torch and numba so that the protocol engine can
plan before anything heavy is loaded and tests can drive them with a fake
clock:

* :func:`plan_move` turns what the manager said (``timeout_turn``, the
  match time left, the moves played) into a :class:`MoveBudget`: an
  *ordinary* time (``soft_s``, the share of the match clock an average move
  may spend) and a *hard* limit (``hard_s``, what an unsure move may reach
  and nothing passes).  With only a turn limit, both are that limit less the
  safety margin.
* :class:`SearchStopper` is asked between search steps, with what the root
  looks like (:class:`RootStats`), whether to stop (lc0's "stoppers"): at
  the hard limit always; when the tree is as large as memory allows; early
  when a win is proven, when only one move is left, or (at a fixed time
  level, not under a match clock: see plan_move) when the most visited move
  cannot be caught before the hard limit; at the ordinary time unless the
  search is unsure (the best move's visit share is low, the top two are
  close, the best move changed lately, or the win rate swung), in which case
  it goes on towards the hard limit while it stays unsure.

The safety margin is measured, not guessed: :class:`OverheadMeter` keeps
what each move cost outside the search (reading the command, the search's
last step past its deadline, writing the answer) and the margin is a
multiple of the worst of the recent ones, above a floor for what the
engine cannot see (the manager's pipe and scheduling).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine plans moves before numpy is loaded; only the search hands over arrays
    import numpy as np

DEFAULT_TURN_SECONDS = 5.0  # thinking time per move when the manager sends no INFO about time

# How many of our own moves a game is expected to think on from the empty board, per point of the board.  Under
# c-gomoku-cli at 60 s a game and 5 s a move, 280 15x15 games from balanced openings lasted 28 moves a side on
# average (median 22), but a fifth of the moves cost nothing (the only defence, a proven win: 0.01-0.03 s) and
# from move 12 on the moves still to come were 17-18 on average however long the game had gone.  Later moves get
# a smaller share of a clock that has shrunk.
EXPECTED_OWN_MOVES_PER_POINT = 12 / 225
OWN_MOVES_PLAYED_WEIGHT = 0.5  # every move we play takes half a move off the moves still expected
MIN_MOVES_TO_GO = 8  # a long game still keeps its clock: at most an eighth of what is left for an ordinary move
# An unsure move may spend up to this many ordinary moves' time, but never more than MAX_SHARE_OF_LEFT of the clock.
MAX_EXTENSION = 2.5
MAX_SHARE_OF_LEFT = 0.25

# The safety margin (see OverheadMeter).
MIN_MARGIN_S = 0.03  # the manager's side: its pipe, its scheduling (c-gomoku-cli logs measured 1-10 ms)
INITIAL_OVERHEAD_S = 0.15  # before the first move is measured: a cold process's first answer (for the margin)
# And what an ordinary move costs outside its search before one is measured (for the clock's reserve): under
# c-gomoku-cli azero's overhead was 1-5 ms and its least search 10-15 ms.  The cold first answer's 0.15 s
# reserved for each of 114 moves would lock away 38 s of a 60 s clock.
INITIAL_TYPICAL_OVERHEAD_S = 0.02
OVERHEAD_FACTOR = 2.0  # the margin is twice the worst overhead of the recent moves
OVERHEAD_MEMORY = 20  # moves whose overhead counts
# A search's least work (its first leaves, which a move makes however little time it has) before one is measured:
# 45-60 ms for gomoku15 on one CPU thread.  Without it in the reserve, a 15x15 game that filled the board ran
# its 60 s clock down to nothing and lost on time under c-gomoku-cli, every late move planned at 0 s costing 50 ms.
INITIAL_LEAST_SEARCH_S = 0.05

# When the search is unsure (SearchStopper).
UNSURE_BEST_SHARE = 0.35  # the best move has under this share of the root's visits
CLOSE_SECOND_RATIO = 0.7  # the second move has this share of the best move's visits or more
RECENT_CHANGE_SHARE = 0.2  # the best move changed within the last fifth of the time spent
WIN_RATE_SWING = 0.1  # the root's win rate (0..1) moved this much since the last move or in this search
# Stop early when the best move leads by more visits than the search could still add by the hard limit, times this.
DECIDED_SAFETY = 1.0


@dataclass(frozen=True)
class MoveBudget:
    """How long one search may run, counted from the moment the search starts.

    ``soft_s``: an ordinary move stops here; ``hard_s``: nothing passes it
    (an unsure move goes on up to it).  ``stop_when_decided``: stop before
    ``soft_s`` once the most visited move cannot change (at a fixed time
    level, where a person waits; under a match clock or a turn limit the
    extra visits deepen the tree the next move keeps, see plan_move).  ``max_nodes``:
    stop before the tree holds more nodes than memory allows (None: no
    limit).  ``previous_value``: the root value of our last move, for the
    win-rate swing (None: unknown).
    """

    soft_s: float
    hard_s: float
    stop_when_decided: bool = True
    max_nodes: int | None = None
    previous_value: float | None = None

    def __post_init__(self):
        if not (0 <= self.soft_s <= self.hard_s):
            raise ValueError(f"a move budget needs 0 <= soft <= hard, got {self.soft_s} and {self.hard_s}")

    @classmethod
    def fixed(cls, seconds: float) -> MoveBudget:
        """Think ``seconds`` (the window's and the arena's time levels), stopping early once the move is decided."""
        seconds = max(0.0, float(seconds))
        return cls(seconds, seconds)

    def less(self, elapsed_s: float) -> MoveBudget:
        """The same budget with ``elapsed_s`` already gone (the command waited for the network, or was parsed)."""
        elapsed_s = max(0.0, elapsed_s)
        return MoveBudget(max(0.0, self.soft_s - elapsed_s), max(0.0, self.hard_s - elapsed_s),
                          self.stop_when_decided, self.max_nodes, self.previous_value)


def plan_move(turn_ms: int | None, match_left_ms: int | None, own_moves_played: int = 0, board_points: int = 225,
              margin_s: float = MIN_MARGIN_S + OVERHEAD_FACTOR * INITIAL_OVERHEAD_S,
              default_turn_s: float = DEFAULT_TURN_SECONDS, overhead_s: float | None = None) -> MoveBudget:
    """The budget of our next move.

    ``turn_ms``: INFO timeout_turn (None: not sent, ``default_turn_s``
    applies; 0: as fast as possible).  ``match_left_ms``: the match time
    left for us (None: no match clock).  ``own_moves_played``: our moves so
    far this game; ``board_points``: size * size.  ``margin_s``: kept
    between the search's hard limit and the turn limit
    (:meth:`OverheadMeter.margin_s`); ``overhead_s``: what a move costs the
    clock beyond its search (:meth:`OverheadMeter.reserve_per_move_s`; None:
    ``margin_s``).

    With a match clock an ordinary move gets ``left / moves_to_go`` (the
    moves still expected, at least :data:`MIN_MOVES_TO_GO`; ``left`` less
    the overhead of every move the board still has room for) and an unsure one
    up to :data:`MAX_EXTENSION` times that, capped by
    :data:`MAX_SHARE_OF_LEFT` of the clock and by the turn limit.
    """
    if turn_ms is not None and turn_ms <= 0:
        return MoveBudget(0.0, 0.0)
    turn_limit = default_turn_s if turn_ms is None else turn_ms / 1000
    hard = turn_limit - margin_s
    if match_left_ms is None:
        # Only a turn limit: spending less saves nothing, so think to the limit (the tree deepens for the next move).
        hard = max(0.0, hard)
        return MoveBudget(hard, hard, stop_when_decided=False)
    # Every move costs its overhead whatever it searches: keep that for every move the board still has room for,
    # or a long game would spend its last seconds on overheads alone and lose on time.
    overhead = margin_s if overhead_s is None else overhead_s
    moves_possible = max(MIN_MOVES_TO_GO, (board_points + 1) // 2 - own_moves_played + 1)  # one spare
    left = max(0.0, match_left_ms / 1000 - overhead * moves_possible)
    expected_left = board_points * EXPECTED_OWN_MOVES_PER_POINT - OWN_MOVES_PLAYED_WEIGHT * own_moves_played
    moves_to_go = max(float(MIN_MOVES_TO_GO), expected_left)
    ordinary = left / moves_to_go
    hard = max(0.0, min(hard, MAX_EXTENSION * ordinary, MAX_SHARE_OF_LEFT * left))
    # No stop when the move is decided: the clock it saves was never spent.  With that stop, 1,272 of 3,169 moves
    # under c-gomoku-cli (60 s / 5 s) stopped at 60% of their ordinary time, the later moves' shares grew too little
    # to use the savings, and the engine ended its games with 24 s of 60 unused, no stronger than the flat rule
    # before it.  The extra visits of a decided move deepen the tree the next move keeps.  Without the stop: 41 s of
    # 60 used and +33 Elo (-1 to +67; by opening pairs +1 to +65) in 394 games against the flat rule (docs/engine.md).
    return MoveBudget(min(ordinary, hard), hard, stop_when_decided=False)


# The rule before this module, kept as the baseline matches measure it against (``pbrain-azero --clock flat``): a
# twentieth of the match time left, at most the turn limit, less 80 ms and 5% of that for what the search does not
# see, the same on every move.
FLAT_SHARE = 20
FLAT_MARGIN_S = 0.08
FLAT_MARGIN_SHARE = 0.05


def plan_flat_move(turn_ms: int | None, match_left_ms: int | None,
                   default_turn_s: float = DEFAULT_TURN_SECONDS) -> MoveBudget:
    """The flat rule's budget: every move thinks ``min(turn limit, left / FLAT_SHARE)`` less the margin.

    No extension and no early stop for a decided move (a proof or an only
    move still stops it: those searches cannot change).  The engines' match
    in docs/engine.md measures :func:`plan_move` against it.
    """
    if turn_ms is not None and turn_ms <= 0:
        return MoveBudget(0.0, 0.0, stop_when_decided=False)
    limit = default_turn_s if turn_ms is None else turn_ms / 1000
    if match_left_ms is not None:
        limit = min(limit, max(0, match_left_ms) / 1000 / FLAT_SHARE)
    seconds = max(0.0, limit - FLAT_MARGIN_S - FLAT_MARGIN_SHARE * limit)
    return MoveBudget(seconds, seconds, stop_when_decided=False)


class OverheadMeter:
    """What moves cost beyond their search, and the safety margin that follows from it.

    ``record(total_s, searched_s, planned_s)``: a move took ``total_s`` from
    reading the command to writing the answer, of which ``searched_s`` in
    the search, which was given ``planned_s`` at most.  The overhead is the
    time outside the search plus any overshoot of the search's own limit.
    """

    def __init__(self):
        self._recent: deque[float] = deque(maxlen=OVERHEAD_MEMORY)
        self._least_searches: deque[float] = deque(maxlen=OVERHEAD_MEMORY)

    def record(self, total_s: float, searched_s: float, planned_s: float) -> None:
        outside = max(0.0, total_s - searched_s)
        overshoot = max(0.0, searched_s - planned_s)
        self._recent.append(outside + overshoot)

    def record_least_search(self, seconds: float) -> None:
        """A searching player's least search took ``seconds`` (see SearchingPlayer.least_search_s)."""
        self._least_searches.append(seconds)

    @property
    def least_search_s(self) -> float:
        """The longest recent least search (INITIAL_LEAST_SEARCH_S before one was measured)."""
        return max(self._least_searches) if self._least_searches else INITIAL_LEAST_SEARCH_S

    @property
    def worst_s(self) -> float:
        """The worst recent overhead (INITIAL_OVERHEAD_S before any move was measured): the margin's measure."""
        return max(self._recent) if self._recent else INITIAL_OVERHEAD_S

    @property
    def typical_s(self) -> float:
        """The median recent overhead (INITIAL_TYPICAL_OVERHEAD_S before any move was measured)."""
        if not self._recent:
            return INITIAL_TYPICAL_OVERHEAD_S
        ordered = sorted(self._recent)
        return ordered[len(ordered) // 2]

    def reserve_per_move_s(self) -> float:
        """What each move still to come will cost the clock at least, kept in reserve by :func:`plan_move`.

        The margin's formula on the typical overhead instead of the worst, so
        one slow move does not lock away seconds for every later move, plus the
        least search (a move planned at 0 s still searches its first leaves:
        measured, see :meth:`record_least_search`); MIN_MARGIN_S covers the
        manager's side: c-gomoku-cli charged 11-25 ms for moves azero answered
        in 10-15 ms.
        """
        return MIN_MARGIN_S + OVERHEAD_FACTOR * self.typical_s + self.least_search_s

    def margin_s(self) -> float:
        return MIN_MARGIN_S + OVERHEAD_FACTOR * self.worst_s


@dataclass
class RootStats:
    """What a stopper needs to know about one root: its visits per child, value, tree size and any proof."""

    visits: np.ndarray  # per point, the root child's visits
    value: float  # for the side to move, in [-1, 1]
    children: int  # the root's searched moves (1: a forced win's first move or the only defence)
    nodes: int  # nodes the tree holds
    proven: bool = False  # a root move is a proven win

    @property
    def total(self) -> int:
        return int(self.visits.sum())

    def top_two(self) -> tuple[int, int, int]:
        """(best move, its visits, the runner-up's visits)."""
        if self.visits.size == 0:
            return -1, 0, 0
        best = int(self.visits.argmax())
        best_visits = int(self.visits[best])
        rest = self.visits.copy()
        rest[best] = -1
        return best, best_visits, max(0, int(rest.max()))


@dataclass
class _SlotHistory:
    best: int = -1
    best_changed_at: float = 0.0
    start_total: int | None = None  # root visits at the first question (a kept tree's included)
    mid_value: float | None = None  # the root value once half the ordinary time had gone
    last_nodes: int = 0


@dataclass
class SearchStopper:
    """Asked between search steps whether each root should stop; see the module docstring.

    ``clock`` is read on every question; the search starts when the stopper is
    made.  ``reasons`` holds, per slot, why it stopped (for the engine's
    MESSAGE lines and for tests).
    """

    budget: MoveBudget
    clock: object = time.perf_counter
    started: float = field(default=0.0)
    reasons: dict[int, str] = field(default_factory=dict)

    def __post_init__(self):
        self.started = self.clock()
        self._last_check = self.started
        self._longest_step = 0.0  # the time a step may still take: the longest seen between questions
        self._largest_growth = 0  # nodes a step may still add: the most seen
        self._history: dict[int, _SlotHistory] = {}

    def elapsed(self) -> float:
        return self.clock() - self.started

    def steps_begin(self) -> None:
        """The search's steps start now: what came before (allocating, placing the roots) is not a step's length."""
        self._last_check = self.clock()

    def past_hard_limit(self) -> bool:
        """Would one more step end past the hard limit?  (Asked before every step, stats or not.)"""
        now = self.clock()
        self._longest_step = max(self._longest_step, now - self._last_check)
        self._last_check = now
        return now - self.started + self._longest_step >= self.budget.hard_s

    def should_stop(self, slot: int, root: RootStats) -> bool:
        """Should slot ``slot`` stop now?  Call after :meth:`past_hard_limit` in the same step."""
        elapsed = self._last_check - self.started
        history = self._history.setdefault(slot, _SlotHistory(best_changed_at=elapsed))
        best, best_visits, second_visits = root.top_two()
        if best != history.best:
            history.best, history.best_changed_at = best, elapsed
        if history.start_total is None:
            history.start_total = root.total
        if history.mid_value is None and elapsed >= self.budget.soft_s / 2:
            history.mid_value = root.value
        self._largest_growth = max(self._largest_growth, root.nodes - history.last_nodes)
        history.last_nodes = root.nodes
        reason = self._reason(root, history, elapsed, best_visits, second_visits)
        if reason is not None:
            self.reasons[slot] = reason
        return reason is not None

    def _reason(self, root: RootStats, history: _SlotHistory, elapsed: float, best_visits: int,
                second_visits: int) -> str | None:
        budget = self.budget
        next_end = elapsed + self._longest_step
        if next_end >= budget.hard_s:
            return "hard limit"
        if budget.max_nodes is not None and root.nodes + self._largest_growth >= budget.max_nodes:
            return "memory"
        if root.proven:
            return "proven win"
        if root.children == 1:
            return "only move"
        # Visits a second in this search (a kept subtree's visits came earlier).
        rate = (root.total - (history.start_total or 0)) / elapsed if elapsed > 0 else 0.0
        if budget.stop_when_decided and elapsed > 0 and rate > 0:
            # Against the hard limit, not the ordinary time: a lead the extension could still overturn is no lead
            # (measured under c-gomoku-cli, the ordinary time as horizon stopped 60% of 15x15 moves early and left
            # 35-40% of the match clock unused).
            still_possible = rate * max(0.0, budget.hard_s - elapsed)
            if best_visits - second_visits > DECIDED_SAFETY * still_possible:
                return "decided"
        if next_end >= budget.soft_s and not (budget.hard_s > budget.soft_s and self.unsure(root, history, elapsed)):
            return "planned time"
        return None

    def unsure(self, root: RootStats, history: _SlotHistory | None = None, elapsed: float | None = None) -> bool:
        """Is the search unsure of its move: low visit share, a close second, a late change, a swinging value?"""
        total = root.total
        if total <= 0:
            return True
        _, best_visits, second_visits = root.top_two()
        if best_visits < UNSURE_BEST_SHARE * total or second_visits >= CLOSE_SECOND_RATIO * best_visits:
            return True
        previous = self.budget.previous_value
        if previous is not None and abs(root.value - previous) / 2 >= WIN_RATE_SWING:
            return True
        if history is not None and elapsed is not None:
            if history.mid_value is not None and abs(root.value - history.mid_value) / 2 >= WIN_RATE_SWING:
                return True
            if elapsed > 0 and elapsed - history.best_changed_at < RECENT_CHANGE_SHARE * elapsed:
                return True
        return False
