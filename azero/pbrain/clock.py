"""The match clock as the manager tells it: INFO timeouts in, each move's budget out.

:mod:`azero.search.time_manager` plans each move from ``timeout_turn``,
``timeout_match`` and ``time_left``: with a match clock an ordinary move
gets a share of what is left and an unsure one up to
:data:`~azero.search.time_manager.MAX_EXTENSION` times that; a move stops
early once it is proven or forced.  The safety margin is measured: what
every move cost outside its search
(:class:`~azero.search.time_manager.OverheadMeter`).  This module keeps the
INFO values, our own thinking time (for a manager that sends
``timeout_match`` without ``time_left``) and the meter, and asks the time
manager for each move's :class:`~azero.search.time_manager.MoveBudget`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azero.search.time_manager import MoveBudget

DEFAULT_TURN_SECONDS = 5.0  # thinking time per move when the manager sends no INFO about time (time_manager's too)
CLOCK_RULES = ("manager", "flat")  # the time manager, or the flat rule before it (a baseline for matches)
UNLIMITED_MS = 2147483647  # what managers send as time_left when the match has no time limit
# A move whose time runs out while the network loads is the heuristic's; it needs this long (its first call
# loads its kernels from numba's cache: about 0.1 s on a busy 2-core machine, 6 ms once games is loaded).
FALLBACK_RESERVE_S = 0.3
# ...and while the network loads, half of what is left of the move, up to 1.5 s: importing torch in the
# background holds Python's lock for long stretches (its libraries load with the lock held), over a second at a
# time on a busy 2-core machine, and the stand-in's answer waits for the lock like anything else in the process.
# A longer move keeps the rest for the network, which loads in 1.5-3 s on that machine.
LOADING_RESERVE_SHARE = 0.5
LOADING_RESERVE_MAX_S = 1.5


def loading_wait_s(move_left_s: float) -> float:
    """How long a move may wait for the network before the heuristic plays it instead."""
    return move_left_s - max(FALLBACK_RESERVE_S, min(LOADING_RESERVE_SHARE * move_left_s, LOADING_RESERVE_MAX_S))


class MatchClock:
    """The INFO time settings (kept across START and RESTART, as managers send them once) and what we spent."""

    def __init__(self, default_turn_seconds: float = DEFAULT_TURN_SECONDS, rule: str = "manager"):
        from azero.search.time_manager import OverheadMeter

        if rule not in CLOCK_RULES:
            raise ValueError(f"the clock rule must be one of {', '.join(CLOCK_RULES)}, got {rule!r}")
        self.default_turn_seconds = default_turn_seconds
        self.rule = rule
        self.timeout_turn_ms: int | None = None
        self.timeout_match_ms: int | None = None
        self.time_left_ms: int | None = None
        self.spent_s = 0.0  # our thinking time this match, for a timeout_match sent without time_left
        self.overhead = OverheadMeter()  # what moves cost outside their search: the safety margin

    def set(self, key: str, milliseconds: int) -> None:
        """INFO ``timeout_turn``, ``timeout_match`` or ``time_left``."""
        if key == "timeout_turn":
            self.timeout_turn_ms = milliseconds
        elif key == "timeout_match":
            self.timeout_match_ms = milliseconds
        elif key == "time_left":
            self.time_left_ms = milliseconds
        else:
            raise KeyError(key)

    def new_match(self) -> None:
        """A new game (START, RESTART): our thinking so far no longer counts against the match."""
        self.spent_s = 0.0

    def match_left_ms(self) -> int | None:
        """Match time left for us: INFO time_left when timed, else timeout_match less our own thinking so far."""
        if self.time_left_ms is not None and self.time_left_ms < UNLIMITED_MS:
            return self.time_left_ms
        if self.time_left_ms is None and self.timeout_match_ms:
            return int(self.timeout_match_ms - 1000 * self.spent_s)
        return None

    def plan(self, moves_played: int, points: int) -> MoveBudget:
        """The budget of our next move in a game of ``moves_played`` stones on a board of ``points`` points."""
        from azero.search.time_manager import plan_flat_move, plan_move

        if self.rule == "flat":
            return plan_flat_move(self.timeout_turn_ms, self.match_left_ms(), self.default_turn_seconds)
        return plan_move(self.timeout_turn_ms, self.match_left_ms(), moves_played // 2, points,
                         self.overhead.margin_s(), self.default_turn_seconds, self.overhead.reserve_per_move_s())

    def spend(self, seconds: float) -> None:
        """A move took ``seconds`` from its command's arrival to its answer."""
        self.spent_s += seconds

    def record(self, total_s: float, thought_s: float, hard_s: float, least_search_s: float | None = None) -> None:
        """What an ordinary move cost outside its search (not one that loaded or warmed up: that happens once),
        and a searching player's least search (what every later move will cost at least)."""
        self.overhead.record(total_s, thought_s, hard_s)
        if least_search_s is not None:
            self.overhead.record_least_search(least_search_s)
