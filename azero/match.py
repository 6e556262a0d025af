"""Games between two players, many at once: the training loop's evaluation (and the arena's core).

A player answers for a list of positions at a time (``choose_moves``), so
a net-guided player searches all its games in one batch.  Openings are
short random sequences near the centre, each played twice with colours
swapped, so deterministic players do not repeat one game.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from games.constants import BLACK, DRAW, ONGOING, WHITE
from games.gomoku import Gomoku
from games.randomplay import nearby_candidates

from .search import SearchConfig, Searcher


class NetPlayer:
    """A network with PUCT search at a fixed number of simulations, no noise, most-visited move."""

    def __init__(self, evaluator, simulations: int, search: SearchConfig | None = None, name: str = "net", seed: int = 0):
        self.evaluator = evaluator
        self.simulations = simulations
        self.search_config = search or SearchConfig()
        self.name = name
        self.seed = seed
        self._searcher: Searcher | None = None

    def _searcher_for(self, game: Gomoku, slots: int) -> Searcher:
        s = self._searcher
        if s is None or s.games < slots or s.size != game.size or s.rule_code != game.rule_code or s.n_in_row != game.n_in_row:
            s = Searcher(game.size, game.rule_code, game.n_in_row, slots, self.evaluator, self.search_config,
                         self.simulations, seed=self.seed)
            self._searcher = s
        return s

    def choose_moves(self, games: list[Gomoku]) -> list[int]:
        searcher = self._searcher_for(games[0], len(games))
        for g, game in enumerate(games):
            searcher.set_position(g, game)
        searcher.search(np.arange(len(games), dtype=np.int32), self.simulations)
        return [searcher.choose_move(g) for g in range(len(games))]


class PurePlayer:
    """Pure Monte-Carlo tree search with random rollouts (no network)."""

    def __init__(self, playouts: int, seed: int = 0):
        from .pure_mcts import PureMCTS

        self.name = f"pure{playouts}"
        self.mcts = PureMCTS(playouts, seed=seed)

    def choose_moves(self, games: list[Gomoku]) -> list[int]:
        return [self.mcts.choose_move(game) for game in games]


class HeuristicPlayer:
    """The threat-aware pattern bot (:mod:`azero.heuristic`): the floor a trained net must beat."""

    def __init__(self, seed: int = 0):
        from .heuristic import heuristic_move

        self.name = "heuristic"
        self._move = heuristic_move
        self.rng = np.random.default_rng(seed)

    def choose_moves(self, games: list[Gomoku]) -> list[int]:
        return [self._move(game, self.rng) for game in games]


class RandomPlayer:
    """A uniformly random legal move."""

    def __init__(self, seed: int = 0):
        self.name = "random"
        self.rng = np.random.default_rng(seed)

    def choose_moves(self, games: list[Gomoku]) -> list[int]:
        return [int(self.rng.choice(np.flatnonzero(game.legal_mask()))) for game in games]


def player_from_spec(spec: str, seed: int = 0, device: str = "cpu"):
    """``random``, ``heuristic``, ``pure:N`` (N playouts) or ``az:PATH[:sims=N]`` (default 400 simulations)."""
    kind, _, rest = spec.partition(":")
    if kind == "random" and not rest:
        return RandomPlayer(seed)
    if kind == "heuristic" and not rest:
        return HeuristicPlayer(seed)
    if kind == "pure":
        if not rest.isdigit() or int(rest) < 1:
            raise ValueError(f"pure:N needs a positive number of playouts, got {spec!r}")
        return PurePlayer(int(rest), seed=seed)
    if kind == "az" and rest:
        from .checkpoint import load_checkpoint
        from .evaluator import NetEvaluator

        path, simulations = rest, 400
        if ":sims=" in rest:
            path, _, count = rest.rpartition(":sims=")
            if not count.isdigit() or int(count) < 1:
                raise ValueError(f"sims must be a positive number in {spec!r}")
            simulations = int(count)
        net, info = load_checkpoint(path, device=device)
        return NetPlayer(NetEvaluator(net), simulations, name=f"az:{path}:sims={simulations}", seed=seed)
    raise ValueError(f"unknown player {spec!r}; use random, heuristic, pure:N or az:PATH[:sims=N]")


def random_openings(size: int, rule: str, n_in_row: int, count: int, moves: int, rng: np.random.Generator) -> list[list[int]]:
    """``count`` different random openings of ``moves`` stones, the first within the central third."""
    openings: list[list[int]] = []
    seen: set[tuple[int, ...]] = set()
    for _ in range(count * 20):
        if len(openings) == count:
            break
        game = Gomoku(size, rule, n_in_row)
        low, high = size // 3, size - size // 3
        game.play(int(rng.integers(low, high)) * size + int(rng.integers(low, high)))
        while len(game.moves) < moves and game.winner == ONGOING:
            candidates = nearby_candidates(game, 1)
            game.play(int(rng.choice(candidates)))
        key = tuple(game.moves)
        if key not in seen and game.winner == ONGOING:
            seen.add(key)
            openings.append(list(game.moves))
    return openings


@dataclass
class MatchResult:
    wins: int = 0
    draws: int = 0
    losses: int = 0
    games: list | None = None  # the finished Gomoku games

    @property
    def played(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        """Points per game for the first player: win 1, draw 1/2."""
        return (self.wins + 0.5 * self.draws) / self.played if self.played else 0.0


def play_match(first, second, games: int, size: int, rule: str, n_in_row: int, seed: int = 0,
               opening_moves: int = 2) -> MatchResult:
    """``games`` games between ``first`` and ``second`` (colours alternate, each opening twice); scores for ``first``."""
    rng = np.random.default_rng(seed)
    openings = random_openings(size, rule, n_in_row, (games + 1) // 2, opening_moves, rng)
    boards: list[Gomoku] = []
    first_colour: list[int] = []
    for i in range(games):
        moves = openings[(i // 2) % len(openings)] if openings else []
        boards.append(Gomoku.from_moves(moves, size, rule, n_in_row))
        first_colour.append(BLACK if i % 2 == 0 else WHITE)
    while True:
        live = [i for i, b in enumerate(boards) if b.winner == ONGOING]
        if not live:
            break
        for player, is_first in ((first, True), (second, False)):
            turn = [i for i in live if (boards[i].to_move == first_colour[i]) == is_first and boards[i].winner == ONGOING]
            if turn:
                for i, move in zip(turn, player.choose_moves([boards[i] for i in turn])):
                    boards[i].play(move)
    result = MatchResult(games=boards)
    for board, colour in zip(boards, first_colour):
        if board.winner == DRAW:
            result.draws += 1
        elif board.winner == colour:
            result.wins += 1
        else:
            result.losses += 1
    return result
