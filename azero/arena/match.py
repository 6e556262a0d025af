"""Games between two players, many at once: the arena's core (:mod:`azero.arena.tournament` schedules them).

A player answers for a list of positions at a time (``choose_moves``), so
a net-guided player searches all its games in one batch.  Which openings
and colours to play is the caller's choice (the arena plays each opening
twice with colours swapped).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from azero.players.forfeit import Forfeit
from azero.players.protocol import Player
from games.constants import BLACK, DRAW, ONGOING, WHITE
from games.gomoku import Gomoku


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


def play_games(first: Player, second: Player, openings: list[list[int]], first_colours: list[int], size: int, rule: str,
               n_in_row: int, on_finish=None) -> list[FinishedGame]:
    """Play one game per opening at once; ``first`` has ``first_colours[i]`` in game i.

    Every move is checked here, whoever made it: an illegal answer (an
    occupied point, a point off the board, a renju-forbidden point) or a
    :class:`~azero.players.forfeit.Forfeit` loses that game and the others go on.
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
