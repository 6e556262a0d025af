"""A fast threat-aware Gomoku bot: the floor that a trained network must beat decisively.

For every legal point it asks, in order:

1. does it win now?  (play it)
2. would the opponent win there next?  (block it)
3. otherwise, how much does it build and how much does it spoil?  Every
   window of ``n_in_row`` points through the point that holds no enemy
   stone is worth ``10 ** (k - 1)`` when it would hold ``k`` of our stones;
   the same count for the opponent's stones measures the harm of letting
   them have the point.  An open three is two such windows with three
   stones, an open four two with four, so attacks and the blocks of open
   threes come out on top without any pattern table.

It plays legal moves only (renju's forbidden points are never chosen) and
breaks ties at random, so its games differ.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from games.constants import EMPTY
from games.gomoku import Gomoku
from games.lines import DX, DY, is_winning_move

WIN_SCORE = 1e12  # the point wins at once
BLOCK_SCORE = 1e11  # the opponent would win there next
DEFENCE = 0.9  # a point the opponent wants counts a little less than one we want: attack first


@njit(cache=True)
def window_score(board, size, move, color, n_in_row):
    """Sum over the windows of ``n_in_row`` points through ``move`` that hold no enemy stone: 10**(k-1) for k stones.

    ``k`` counts ``move`` itself as one of ``color``'s stones (``move`` is empty on the board).
    """
    x = move % size
    y = move // size
    total = 0.0
    for d in range(4):
        dx = DX[d]
        dy = DY[d]
        for start in range(-(n_in_row - 1), 1):
            count = 1
            blocked = False
            for i in range(start, start + n_in_row):
                px = x + i * dx
                py = y + i * dy
                if not (0 <= px < size and 0 <= py < size):
                    blocked = True
                    break
                if i == 0:
                    continue
                stone = board[py * size + px]
                if stone == color:
                    count += 1
                elif stone != EMPTY:
                    blocked = True
                    break
            if not blocked:
                total += 10.0 ** (count - 1)
    return total


@njit(cache=True)
def heuristic_scores(board, size, to_move, n_in_row, rule, legal, out):
    """Score every point for ``to_move`` into ``out``; illegal points get -inf.  ``board`` is restored."""
    opponent = 3 - to_move
    for move in range(size * size):
        if not legal[move]:
            out[move] = -np.inf
            continue
        board[move] = to_move
        wins = is_winning_move(board, size, move, to_move, n_in_row, rule)
        board[move] = opponent
        blocks = is_winning_move(board, size, move, opponent, n_in_row, rule)
        board[move] = EMPTY
        if wins:
            out[move] = WIN_SCORE
        elif blocks:
            out[move] = BLOCK_SCORE
        else:
            out[move] = window_score(board, size, move, to_move, n_in_row) + DEFENCE * window_score(
                board, size, move, opponent, n_in_row
            )


def heuristic_move(game: Gomoku, rng: np.random.Generator | None = None) -> int:
    """The bot's move for the side to move; ties are broken at random (``rng``, or a fresh one)."""
    if game.is_over:
        raise ValueError(f"the game is over ({game.result_text()}); there is no move to choose")
    scores = np.empty(game.size * game.size)
    heuristic_scores(game.board, game.size, game.to_move, game.n_in_row, game.rule_code, game.legal_mask(), scores)
    best = np.flatnonzero(scores == scores.max())
    rng = rng if rng is not None else np.random.default_rng()
    return int(rng.choice(best))
