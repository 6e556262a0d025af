"""Many self-play games at once in one process, driven by one batched :class:`Searcher`.

Each game slot moves at its own pace: every step advances the search of
all slots in one network call, and a slot whose search is done plays its
move and starts the next search at once.  Finished games come back as
:class:`GameData`: the positions searched in full (the training targets)
and the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from azero.bounds import Bounds
from azero.search.openings import random_opening
from azero.search.searcher import SearchConfig, Searcher
from games.constants import BLACK, DRAW, ONGOING, WHITE
from games.coords import MAX_SIZE
from games.gomoku import Gomoku

# The accepted range of each number of a SelfPlayConfig (azero.bounds).
SELFPLAY_RANGES: dict[str, Bounds] = {
    "simulations": Bounds(1, 100_000),
    "fast_simulations": Bounds(1, 100_000),
    "full_search_fraction": Bounds(0, 1, above=True),
    "temperature_moves": Bounds(0, MAX_SIZE * MAX_SIZE),
    "random_opening_fraction": Bounds(0, 1),
    "random_opening_moves": Bounds(1, MAX_SIZE * MAX_SIZE),
    "resign_threshold": Bounds(-1, 1),  # a value of the side to move; -1 never resigns
    "no_resign_fraction": Bounds(0, 1),
    "games_per_worker": Bounds(1, 65_536),
    "workers": Bounds(0, 1024),
}


@dataclass
class SelfPlayConfig:
    simulations: int = 200  # a full search (its position becomes a training target)
    fast_simulations: int = 40  # a fast search (KataGo's playout cap randomization); equal to simulations turns it off
    full_search_fraction: float = 0.25  # share of moves searched in full
    temperature_moves: int = 8  # moves drawn in proportion to visits before playing the most visited
    # Opening diversity: this share of games starts from 1..random_opening_moves random stones near the
    # centre (placed unsearched, so they are no training targets), so the net does not learn one game.
    random_opening_fraction: float = 0.0
    random_opening_moves: int = 4
    resign_threshold: float = -0.95  # resign when the root value for the side to move falls below; -1 = never
    no_resign_fraction: float = 0.1  # games played out regardless, to measure how often resigning was wrong
    games_per_worker: int = 64  # games played at once by one worker (the network batch)
    workers: int = 0  # self-play processes; 0 = one per CPU core

    def check(self) -> None:
        if self.simulations < 1 or self.fast_simulations < 1:
            raise ValueError("selfplay.simulations and selfplay.fast_simulations must be at least 1")
        if self.fast_simulations > self.simulations:
            raise ValueError("selfplay.fast_simulations cannot exceed selfplay.simulations")
        if not 0.0 < self.full_search_fraction <= 1.0:
            raise ValueError("selfplay.full_search_fraction must be in (0, 1]")
        if not 0.0 <= self.no_resign_fraction <= 1.0:
            raise ValueError("selfplay.no_resign_fraction must be in [0, 1]")
        if not 0.0 <= self.random_opening_fraction <= 1.0 or self.random_opening_moves < 1:
            raise ValueError("selfplay.random_opening_fraction must be in [0, 1] and random_opening_moves at least 1")
        if self.games_per_worker < 1 or self.workers < 0 or self.temperature_moves < 0:
            raise ValueError("selfplay.games_per_worker must be at least 1, workers and temperature_moves not negative")


def _other(color: int) -> int:
    return WHITE if color == BLACK else BLACK


@dataclass
class GameData:
    """One finished self-play game: its training positions and how it ended."""

    boards: np.ndarray  # int8 [P, N]: positions searched in full, before the move
    to_move: np.ndarray  # int8 [P]
    last_move: np.ndarray  # int16 [P], -1 on the empty board
    policy: np.ndarray  # float32 [P, N]: the search's (pruned) visit distribution
    outcome: np.ndarray  # int8 [P]: +1 the side to move went on to win, -1 lose, 0 draw
    reply: np.ndarray  # int16 [P]: the opponent's answer to the move played here, -1 if the game ended first
    length: int  # moves played
    winner: int  # BLACK, WHITE or DRAW
    resigned: bool
    resign_checked: bool  # a no-resign game: it tells whether resigning would have been right
    would_resign_wrongly: bool


@dataclass
class _Slot:
    game: Gomoku
    boards: list = field(default_factory=list)
    to_move: list = field(default_factory=list)
    last: list = field(default_factory=list)
    policies: list = field(default_factory=list)
    full: bool = False
    may_resign: bool = True
    would_resign: set = field(default_factory=set)  # colours whose value fell below the threshold (no-resign games)


class SelfPlayEngine:
    def __init__(self, size: int, rule: str, n_in_row: int, evaluator, search: SearchConfig,
                 config: SelfPlayConfig, seed: int | None = None):
        config.check()
        self.size, self.rule, self.n_in_row = size, rule, n_in_row
        self.config = config
        self.search_config = search
        self.rng = np.random.default_rng(seed)
        self.games = config.games_per_worker
        self.searcher = Searcher(size, Gomoku(size, rule, n_in_row).rule_code, n_in_row, self.games, evaluator,
                                 search, config.simulations, seed=int(self.rng.integers(2**31)))
        self.slots = [self._new_game(g) for g in range(self.games)]
        self.all_slots = np.arange(self.games, dtype=np.int32)
        self.moves_played = 0
        self.full_moves = 0  # moves searched in full: the training positions
        self.games_finished = 0
        self.length_total = 0

    def _new_game(self, g: int) -> _Slot:
        cfg = self.config
        if cfg.random_opening_fraction and self.rng.random() < cfg.random_opening_fraction:
            stones = int(self.rng.integers(1, cfg.random_opening_moves + 1))
            slot = _Slot(random_opening(self.size, self.rule, self.n_in_row, stones, self.rng))
            if slot.game.winner != ONGOING:  # only possible on tiny boards with short rows
                slot = _Slot(Gomoku(self.size, self.rule, self.n_in_row))
        else:
            slot = _Slot(Gomoku(self.size, self.rule, self.n_in_row))
        slot.may_resign = self.config.resign_threshold > -1 and self.rng.random() >= self.config.no_resign_fraction
        self.searcher.set_position(g, slot.game)
        self._begin_move(g, slot)
        return slot

    def _begin_move(self, g: int, slot: _Slot) -> None:
        cfg = self.config
        slot.full = cfg.fast_simulations >= cfg.simulations or self.rng.random() < cfg.full_search_fraction
        simulations = cfg.simulations if slot.full else cfg.fast_simulations
        # The cap counts a reused subtree's visits too (as KataGo does), but every move gets at least one new one.
        extra = max(1, simulations - self.searcher.simulations_done(g))
        self.searcher.begin(g, extra, noise=slot.full, forced=slot.full)

    def step(self) -> list[GameData]:
        """Advance every game by one batched search step; return the games that finished."""
        searcher = self.searcher
        done = searcher.done_mask()
        if not done.all():
            searcher.step(np.flatnonzero(~done).astype(np.int32))
            done = searcher.done_mask()
        finished = []
        for g in np.flatnonzero(done):
            data = self._play_move(int(g))
            if data is not None:
                finished.append(data)
        return finished

    def _play_move(self, g: int) -> GameData | None:
        slot = self.slots[g]
        game = slot.game
        searcher = self.searcher
        value = searcher.root_value(g)
        if value < self.config.resign_threshold:
            if slot.may_resign:
                return self._finish(g, winner=WHITE if game.to_move == BLACK else BLACK, resigned=True)
            slot.would_resign.add(game.to_move)
        if slot.full:
            self.full_moves += 1
            slot.boards.append(game.board.copy())
            slot.to_move.append(game.to_move)
            slot.last.append(-1 if game.last_move is None else game.last_move)
            slot.policies.append(searcher.policy_target(g))
        temperature = 1.0 if len(game.moves) < self.config.temperature_moves else 0.0
        move = searcher.choose_move(g, temperature, self.rng)
        game.play(move)
        self.moves_played += 1
        if game.winner != ONGOING:
            return self._finish(g, winner=game.winner, resigned=False)
        searcher.play(g, move)
        self._begin_move(g, slot)
        return None

    def _finish(self, g: int, winner: int, resigned: bool) -> GameData:
        slot = self.slots[g]
        cells = self.size * self.size
        to_move = np.array(slot.to_move, dtype=np.int8)
        if winner == DRAW:
            outcome = np.zeros(len(to_move), dtype=np.int8)
        else:
            outcome = np.where(to_move == winner, 1, -1).astype(np.int8)
        checked = not slot.may_resign and bool(slot.would_resign)
        # The opponent-policy target: the move played one ply after this position's move. Drawn in
        # proportion to visits in the opening and the most visited later, so in expectation it is the
        # opponent's search policy, and it exists even when that reply got only a fast search.
        # A position's ply is its stone count (stones are never taken off).
        boards = np.array(slot.boards, dtype=np.int8).reshape(-1, cells)
        moves = slot.game.moves
        reply = np.array([moves[ply + 1] if ply + 1 < len(moves) else -1
                          for ply in np.count_nonzero(boards, axis=1)], dtype=np.int16)
        self.games_finished += 1
        self.length_total += len(slot.game.moves)
        data = GameData(
            boards=boards,
            to_move=to_move,
            last_move=np.array(slot.last, dtype=np.int16),
            policy=np.array(slot.policies, dtype=np.float32).reshape(-1, cells),
            outcome=outcome,
            reply=reply,
            length=len(slot.game.moves),
            winner=winner,
            resigned=resigned,
            resign_checked=checked,
            # Resigning would have been wrong for a colour that then did not lose.
            would_resign_wrongly=checked and any(winner != _other(color) for color in slot.would_resign),
        )
        self.slots[g] = self._new_game(g)
        return data
