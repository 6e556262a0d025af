"""Stand-in players for the protocol engine's tests: what a face sees of a player, and nothing to compute.

:class:`FirstPointSearcher` has every member of
:class:`~azero.players.protocol.SearchingPlayer`, so the engine treats it as
a network player (gives it the clock's budget, sizes its tree to the memory
limit); it plays the first legal point and records what it was given.
"""

from __future__ import annotations

from azero.search.searcher import SearchConfig


class FirstPointSearcher:
    """A searching player's face that records each move's budget and plays the first legal point."""

    def __init__(self, name: str = "first-point", simulations: int = 100):
        self.name = name
        self.simulations = simulations
        self.search_config = SearchConfig()
        self.last_simulations: list[int] = []
        self.last_values: list[float] = []
        self.last_stop_reasons: list[str] = []
        self.least_search_s = 0.0
        self.budgets = []  # the MoveBudget of each call that had one (the warm-up's calls have none)
        self.calls = 0
        self.closed = 0
        self.holds_tree = False  # a search since the last close(): its tree would count in the process's memory

    def choose_moves(self, games, seconds=None, visits=None, budget=None):
        self.calls += 1
        self.holds_tree = True
        if budget is not None:
            self.budgets.append(budget)
        return [game.legal_moves()[0] for game in games]

    def close(self):
        self.closed += 1
        self.holds_tree = False
