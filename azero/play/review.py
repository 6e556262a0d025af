"""Reviewing a finished game: the AI's win rate after every move, each side's mistakes, what it would have played.

A review searches every position of a game with one network player
(``NetPlayer.analyse``, going forward so each search reuses the tree of the
one before) and reads, for each move, how much the mover's expected score
fell: the win rate of the position before, from the mover's side, minus
that of the position after.  The drop is graded like KaTrain grades point
losses: an inaccuracy, a mistake or a blunder (:data:`GRADES`).  Used by
``azero review`` and by the window at the end of every game; no drawing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Callable

from games.constants import BLACK, DRAW, ONGOING, WHITE
from games.gomoku import Gomoku

if TYPE_CHECKING:
    from azero.players.protocol import AnalysingPlayer

# The smallest drop of the mover's win rate (0..1) for each grade, worst first.
GRADES = (("blunder", 0.20), ("mistake", 0.10), ("inaccuracy", 0.05))


def grade(loss: float) -> str | None:
    """The grade of a move that lost ``loss`` of the mover's win rate, or None for a good move."""
    return next((name for name, least in GRADES if loss >= least), None)


@dataclass
class PositionReview:
    """What the AI thinks of the position after ``number`` moves."""

    number: int
    black_win_rate: float  # black's expected score, 0..1 (exact in a finished position)
    best: int | None  # the AI's move here (None in a finished position)
    line: list[int]  # its expected line from here
    visits: int


@dataclass
class MoveReview:
    """One move of the game, judged."""

    number: int  # 1 for the first move
    move: int
    colour: int
    before: float  # the mover's win rate before the move ...
    after: float  # ... and after it
    better: int | None  # the AI's move instead, when it differs
    line: list[int]  # the AI's line from the position before the move

    @property
    def loss(self) -> float:
        return max(0.0, self.before - self.after)

    @property
    def grade(self) -> str | None:
        return grade(self.loss) if self.better is not None else None


@dataclass
class GameReview:
    size: int
    rule: str
    moves: list[int]
    positions: list[PositionReview]  # one per position: after 0, 1, ..., len(moves) moves

    @property
    def black_win_rates(self) -> list[float]:
        return [p.black_win_rate for p in self.positions]

    @cached_property  # a review does not change once made; the window reads it every frame it draws
    def move_reviews(self) -> list[MoveReview]:
        out = []
        for i, move in enumerate(self.moves):
            colour = BLACK if i % 2 == 0 else WHITE
            before, after = self.positions[i], self.positions[i + 1]
            mine = (lambda rate: rate) if colour == BLACK else (lambda rate: 1.0 - rate)
            better = before.best if before.best is not None and before.best != move else None
            out.append(MoveReview(i + 1, move, colour, mine(before.black_win_rate), mine(after.black_win_rate),
                                  better, before.line))
        return out

    def mistakes(self, colour: int | None = None) -> list[MoveReview]:
        """The graded moves (of ``colour`` if given), in game order."""
        return [m for m in self.move_reviews if m.grade is not None and colour in (None, m.colour)]


def finished_black_rate(game: Gomoku) -> float | None:
    """Black's exact score in a finished position, None while the game goes on."""
    if game.winner == ONGOING:
        return None
    return 0.5 if game.winner == DRAW else (1.0 if game.winner == BLACK else 0.0)


def review_game(player: AnalysingPlayer, game: Gomoku, visits: int | None = None,
                progress: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> GameReview | None:
    """Search every position of ``game`` with ``player`` (a network that analyses); None if ``should_stop`` ended it early.

    ``visits``: root visits a position (default: the player's simulations).
    ``progress(done, total)`` is called after each position.
    """
    positions: list[PositionReview] = []
    replay = Gomoku(game.size, game.rule)
    total = len(game.moves) + 1
    for number in range(total):
        if should_stop is not None and should_stop():
            return None
        exact = finished_black_rate(replay)
        if exact is not None:
            positions.append(PositionReview(number, exact, None, [], 0))
        else:
            analysis = player.analyse(replay, visits=visits)
            rate = analysis.win_rate if replay.to_move == BLACK else 1.0 - analysis.win_rate
            positions.append(PositionReview(number, rate, analysis.move, analysis.line, analysis.simulations))
        if progress is not None:
            progress(number + 1, total)
        if number < len(game.moves):
            replay.play(game.moves[number])
    return GameReview(game.size, game.rule, list(game.moves), positions)
