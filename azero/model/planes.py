"""The network's view of a position: a stack of feature planes.

Planes are float32 ``[NUM_PLANES, size, size]``, always from the point of
view of the side to move, so one network plays both colours:

| plane | meaning |
|---|---|
| OWN | stones of the side to move |
| OPPONENT | stones of the other side |
| LAST_MOVE | the last stone played |
| BLACK_TO_MOVE | all ones when black is to move (colour matters in renju and for the first-move advantage) |
| FORBIDDEN | points forbidden to black (renju only, zeros otherwise) |
| ON_BOARD | all ones: with zero padding it tells the convolutions where the edge is |

The layout does not depend on the board size, so a fully convolutional net
can read any size.
"""

import numpy as np
from numba import njit

from games.constants import BLACK, EMPTY

OWN, OPPONENT, LAST_MOVE, BLACK_TO_MOVE, FORBIDDEN, ON_BOARD = range(6)
NUM_PLANES = 6


@njit(cache=True)
def encode_into(board, size, to_move, last_move, forbidden, out):
    """Write the planes of one position into ``out`` (float32 ``[NUM_PLANES, size, size]``).

    ``forbidden`` is a bool mask (``size*size``) of black's forbidden points,
    all False outside renju; ``last_move`` is -1 on an empty board.
    """
    black_to_move = 1.0 if to_move == BLACK else 0.0
    for p in range(size * size):
        y = p // size
        x = p - y * size
        stone = board[p]
        out[OWN, y, x] = 1.0 if stone == to_move else 0.0
        out[OPPONENT, y, x] = 1.0 if (stone != EMPTY and stone != to_move) else 0.0
        out[LAST_MOVE, y, x] = 1.0 if p == last_move else 0.0
        out[BLACK_TO_MOVE, y, x] = black_to_move
        out[FORBIDDEN, y, x] = 1.0 if forbidden[p] else 0.0
        out[ON_BOARD, y, x] = 1.0


def encode(board: np.ndarray, size: int, to_move: int, last_move: int, forbidden: np.ndarray | None = None) -> np.ndarray:
    """Planes of one position, for callers outside the hot path (tests, the window)."""
    out = np.empty((NUM_PLANES, size, size), dtype=np.float32)
    if forbidden is None:
        forbidden = np.zeros(size * size, dtype=np.bool_)
    encode_into(board, size, to_move, -1 if last_move is None else last_move, forbidden, out)
    return out
