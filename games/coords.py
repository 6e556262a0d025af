"""The one place where moves change form.

Inside the engine a move is an int ``y * size + x`` with ``x`` the column from
the left and ``y`` the row from the top (as the Gomocup protocol and the screen
count).  People see Gomoku notation: a column letter ``a``..``t`` from the left
and a row number ``1``..``size`` from the bottom, so ``h8`` is the centre of
15x15.  The protocol speaks 0-based ``(x, y)`` pairs, PSQ records 1-based
ones, and SGF two letters counted from the top-left corner (``hh``).
"""

from __future__ import annotations

import re

MIN_SIZE = 5
MAX_SIZE = 20
COLUMN_LETTERS = "abcdefghijklmnopqrst"  # 20 letters: one per column of the largest board

_NOTATION = re.compile(r"^([a-t])(0|[1-9][0-9]?)$")  # no leading zeros: "h08" is not a move


def whole_number(value: object) -> int | None:
    """``value`` as an int if it is a Python or numpy integer (not a bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or _is_numpy_int(value):
        return int(value)
    return None


def check_size(size: object) -> int:
    """Return ``size`` as an int, or raise ValueError if it is not a playable board size."""
    number = whole_number(size)
    if number is None:
        raise ValueError(f"board size must be an integer from {MIN_SIZE} to {MAX_SIZE}, got {size!r}")
    size = number
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"board size must be from {MIN_SIZE} to {MAX_SIZE}, got {size}")
    return size


def from_xy(x: int, y: int, size: int) -> int:
    """Move index of column ``x``, row ``y`` (0-based, row 0 at the top)."""
    if not (0 <= x < size and 0 <= y < size):
        raise ValueError(f"point ({x}, {y}) is off the {size}x{size} board (x and y run from 0 to {size - 1})")
    return y * size + x


def to_xy(move: int, size: int) -> tuple[int, int]:
    """``(x, y)`` of a move index."""
    check_move_index(move, size)
    return move % size, move // size


def check_move_index(move: int, size: int) -> int:
    if not 0 <= move < size * size:
        raise ValueError(f"move {move} is off the {size}x{size} board (moves run from 0 to {size * size - 1})")
    return move


def to_notation(move: int, size: int) -> str:
    """Gomoku notation of a move index: ``to_notation(112, 15) == "h8"``."""
    x, y = to_xy(move, size)
    return f"{COLUMN_LETTERS[x]}{row_label(y, size)}"


def from_notation(text: str, size: int) -> int:
    """Move index of Gomoku notation such as ``"h8"`` (case and surrounding spaces ignored)."""
    cleaned = text.strip().lower()
    match = _NOTATION.match(cleaned)
    if match is None:
        last = COLUMN_LETTERS[size - 1]
        raise ValueError(f"malformed move {text[:20]!r}: expected a column a..{last} and a row 1..{size}, like 'h8'")
    column, row = match.group(1), int(match.group(2))
    x = COLUMN_LETTERS.index(column)
    if x >= size or not 1 <= row <= size:
        last = COLUMN_LETTERS[size - 1]
        raise ValueError(f"move {text!r} is off the {size}x{size} board (columns a..{last}, rows 1..{size})")
    return from_xy(x, size - row, size)


def column_labels(size: int) -> str:
    """The column letters of a board, left to right, as people see them."""
    return COLUMN_LETTERS[:size]


def row_label(y: int, size: int) -> int:
    """The row number people see for engine row ``y`` (rows count from the bottom)."""
    return size - y


def to_sgf(move: int, size: int) -> str:
    """SGF point of a move: column letter then row letter, from the top-left (``"hh"`` = h8 on 15x15)."""
    x, y = to_xy(move, size)
    return COLUMN_LETTERS[x] + COLUMN_LETTERS[y]


def from_sgf(text: str, size: int) -> int:
    """Move index of an SGF point such as ``"hh"``."""
    if len(text) != 2 or not all(c in COLUMN_LETTERS for c in text):
        raise ValueError(f"expected two letters a..{COLUMN_LETTERS[size - 1]}, like 'hh'")
    return from_xy(COLUMN_LETTERS.index(text[0]), COLUMN_LETTERS.index(text[1]), size)


def to_psq(move: int, size: int) -> tuple[int, int]:
    """PSQ point of a move: ``(x, y)`` counted from 1, y from the top."""
    x, y = to_xy(move, size)
    return x + 1, y + 1


def from_psq(x: int, y: int, size: int) -> int:
    """Move index of a PSQ point (1-based ``x, y``)."""
    if not (1 <= x <= size and 1 <= y <= size):
        raise ValueError(f"point {x},{y} is off the {size}x{size} board (PSQ counts 1 to {size})")
    return from_xy(x - 1, y - 1, size)


def parse_move(value: object, size: int) -> int:
    """Accept an int index, Gomoku notation (``"h8"``) or an ``(x, y)`` pair; return the index."""
    index = whole_number(value)
    if index is not None:
        return check_move_index(index, size)
    if isinstance(value, str):
        return from_notation(value, size)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        x, y = whole_number(value[0]), whole_number(value[1])
        if x is not None and y is not None:
            return from_xy(x, y, size)
    raise ValueError(f"malformed move {repr(value)[:40]}: expected an int, notation like 'h8', or an (x, y) pair")


def _is_numpy_int(value: object) -> bool:
    # numpy integers are not ``int`` subclasses, but a move picked by numpy code is one.
    return type(value).__module__ == "numpy" and hasattr(value, "dtype") and value.dtype.kind in "iu"
