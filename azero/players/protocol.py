"""What a face (the arena, the window, the protocol engine, the environments) may rely on in a player.

Every player is a :class:`Player`::

    moves = player.choose_moves([game, game, ...])   # one int (or Forfeit) per game
    player.close()                                    # free processes / memory

so a net-guided player searches all its games in ONE batched search, and an
external engine runs one subprocess per game in parallel.  A player that
cannot produce a legal move (an external engine that crashed, timed out or
answered nonsense) returns a :class:`~azero.players.forfeit.Forfeit` for that
game instead of raising, so one bad game never stops a tournament.

Two capabilities go beyond that, each a protocol of its own, so a face asks
``isinstance(player, SearchingPlayer)`` instead of probing for attributes
or reading signatures:

* :class:`SearchingPlayer`: searches a tree under a move budget (the
  protocol engine's clock, a tree size that fits in memory) and says what
  its last search did (simulations, root values, why it stopped);
* :class:`AnalysingPlayer`: also shows its search to people (the window's
  live analysis, a game review): :meth:`~AnalysingPlayer.analyse` returns an
  :class:`Analysis`, and it can be stopped between search steps.

The protocols are ``runtime_checkable``; ``isinstance`` checks that the
members exist, tests/test_player_protocol.py that each player class has them
with the signatures written here.  Importing this module loads nothing
beyond the standard library, so the protocol engine can check its players
before it answers ABOUT (numpy loads with the first analysis).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: a face (the protocol engine before START) may check players before numba loads
    import numpy as np

    from azero.players.forfeit import Forfeit
    from azero.search.searcher import SearchConfig
    from azero.search.time_manager import MoveBudget
    from games.gomoku import Gomoku


@runtime_checkable
class Player(Protocol):
    """Anything that plays: a name, moves for a list of positions at once, and a close."""

    name: str  # how it is shown and logged: its spec's text for a player built from a spec

    def choose_moves(self, games: list[Gomoku]) -> Sequence[int | Forfeit]:
        """One move (a point index) or :class:`Forfeit` for each game, in order; every game has its side to move."""
        ...

    def close(self) -> None:
        """Free what it holds (processes, search trees); it is not asked for moves afterwards."""
        ...


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
        import numpy as np

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


@runtime_checkable
class SearchingPlayer(Player, Protocol):
    """A player that searches a tree: it takes a move budget and says what its last search did.

    The protocol engine gives it its clock (``budget``) and sizes its tree to
    the memory it may use (``simulations``, ``search_config.move_radius``).
    """

    simulations: int  # simulations a move (the cap when it thinks by the clock); a face may lower it
    search_config: SearchConfig
    last_simulations: list[int]  # per game of the last call: root visits
    last_values: list[float]  # per game of the last call: the root value for the side to move, [-1, 1]
    last_stop_reasons: list[str]  # per game of the last call on the clock: why the search stopped
    least_search_s: float  # how long the last call's least search took (what even a move with no time left costs)

    def choose_moves(self, games: list[Gomoku], seconds: float | None = None, visits: int | None = None,
                     budget: MoveBudget | None = None) -> Sequence[int]:
        """As :meth:`Player.choose_moves`; ``seconds`` or ``budget`` bound the time, ``visits`` the root visits."""
        ...


@runtime_checkable
class AnalysingPlayer(SearchingPlayer, Protocol):
    """A searching player that shows its search to people (the window, a review) and stops when asked."""

    tree_simulations: int  # the tree's capacity in simulations: raised for live analysis in the tree a move reuses
    should_stop: Callable[[], bool] | None  # asked between search steps: True ends the search early

    def analyse(self, game: Gomoku, seconds: float | None = None, pv_moves: int = 12, visits: int | None = None,
                progress: Callable[[Analysis], None] | None = None) -> Analysis:
        """Search one position and say everything the search knows about it (``progress``: the analysis so far)."""
        ...
