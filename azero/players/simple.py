"""The players without a network: random moves, the pattern bot, pure Monte-Carlo search, and a person.

Each is a :class:`~azero.players.protocol.Player` and nothing more (no
search a face could ask about).
"""

from __future__ import annotations

import numpy as np

from azero.players.spec import PlayerSpec
from games.gomoku import Gomoku


class PurePlayer:
    """Pure Monte-Carlo tree search with random rollouts (no network)."""

    def __init__(self, playouts: int, seed: int = 0):
        from azero.search.pure_mcts import PureMCTS

        self.name = PlayerSpec("pure", simulations=playouts).text
        self.mcts = PureMCTS(playouts, seed=seed)

    def choose_moves(self, games: list[Gomoku]) -> list[int]:
        return [self.mcts.choose_move(game) for game in games]

    def close(self) -> None:
        pass


class HeuristicPlayer:
    """The threat-aware pattern bot (:mod:`azero.players.heuristic`): the floor a trained net must beat."""

    def __init__(self, seed: int = 0):
        from azero.players.heuristic import heuristic_move

        self.name = PlayerSpec("heuristic").text
        self._move = heuristic_move
        self.rng = np.random.default_rng(seed)

    def choose_moves(self, games: list[Gomoku]) -> list[int]:
        return [self._move(game, self.rng) for game in games]

    def close(self) -> None:
        pass


class RandomPlayer:
    """A uniformly random legal move."""

    def __init__(self, seed: int = 0):
        self.name = PlayerSpec("random").text
        self.rng = np.random.default_rng(seed)

    def choose_moves(self, games: list[Gomoku]) -> list[int]:
        return [int(self.rng.choice(np.flatnonzero(game.legal_mask()))) for game in games]

    def close(self) -> None:
        pass


class HumanPlayer:
    """A person: their moves come from the window, so asking this object for one is a mistake."""

    def __init__(self, name: str):
        self.name = PlayerSpec("human", name=name).text

    def choose_moves(self, games: list[Gomoku]) -> list[int]:
        raise RuntimeError(f"{self.name} moves by clicking in the window; an arena cannot ask a person for moves")

    def close(self) -> None:
        pass
