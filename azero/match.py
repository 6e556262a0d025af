"""Games between two players, many at once: the training loop's evaluation (and the arena's core).

A player answers for a list of positions at a time (``choose_moves``), so
a net-guided player searches all its games in one batch.  Openings are
short random sequences near the centre, each played twice with colours
swapped, so deterministic players do not repeat one game.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from games.constants import BLACK, DRAW, ONGOING, WHITE
from games.gomoku import Gomoku

from .openings import random_openings
from .players import Forfeit


@dataclass
class FinishedGame:
    """One game of a batch, as it ended."""

    index: int  # its place in the list of games asked for
    game: Gomoku
    first_colour: int  # the colour the first player had
    winner: int  # BLACK, WHITE or DRAW
    reason: str  # 'five', 'full' (a draw), or the loser's 'illegal', 'forbidden', 'timeout', 'crash', 'resign'
    detail: str = ""
    seconds: float = 0.0


def play_games(first, second, openings: list[list[int]], first_colours: list[int], size: int, rule: str,
               n_in_row: int, on_finish=None) -> list[FinishedGame]:
    """Play one game per opening at once; ``first`` has ``first_colours[i]`` in game i.

    Every move is checked here, whoever made it: an illegal answer (an
    occupied point, a point off the board, a renju-forbidden point) or a
    :class:`~azero.players.Forfeit` loses that game and the others go on.
    ``on_finish(finished)`` is called as each game ends, so a caller can
    store it at once.
    """
    boards = [Gomoku.from_moves(moves, size, rule, n_in_row) for moves in openings]
    started = time.perf_counter()
    finished: dict[int, FinishedGame] = {}

    def finish(i: int, winner: int, reason: str, detail: str = "") -> None:
        record = FinishedGame(i, boards[i], first_colours[i], winner, reason, detail, time.perf_counter() - started)
        finished[i] = record
        if on_finish is not None:
            on_finish(record)

    for i, board in enumerate(boards):
        if board.winner != ONGOING:  # an opening that already ended (only with odd hand-made openings)
            finish(i, board.winner, "full" if board.winner == DRAW else "five")
    while len(finished) < len(boards):
        for player, is_first in ((first, True), (second, False)):
            turn = [i for i in range(len(boards))
                    if i not in finished and (boards[i].to_move == first_colours[i]) == is_first]
            if not turn:
                continue
            for i, move in zip(turn, player.choose_moves([boards[i] for i in turn])):
                board = boards[i]
                mover = board.to_move
                opponent = WHITE if mover == BLACK else BLACK
                if isinstance(move, Forfeit):
                    finish(i, opponent, move.reason, move.detail)
                    continue
                if not board.is_legal(move):
                    forbidden = isinstance(move, (int, np.integer)) and 0 <= move < size * size \
                        and bool(board.forbidden_mask()[move])
                    finish(i, opponent, "forbidden" if forbidden else "illegal", f"move {move!r}")
                    continue
                board.play(int(move))
                if board.winner != ONGOING:
                    finish(i, board.winner, "full" if board.winner == DRAW else "five")
    return [finished[i] for i in range(len(boards))]


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
    game_openings = [openings[(i // 2) % len(openings)] if openings else [] for i in range(games)]
    colours = [BLACK if i % 2 == 0 else WHITE for i in range(games)]
    result = MatchResult(games=[])
    for record in play_games(first, second, game_openings, colours, size, rule, n_in_row):
        result.games.append(record.game)
        if record.winner == DRAW:
            result.draws += 1
        elif record.winner == record.first_colour:
            result.wins += 1
        else:
            result.losses += 1
    return result
