"""The public face of the engine: a Gomoku game that people and other code can drive.

    >>> from games.gomoku import Gomoku
    >>> g = Gomoku(size=15, rule="renju")
    >>> g.play("h8"); g.play((8, 6)); g.play(113)
    >>> g.to_move, g.winner
    (2, 0)

The state is plain numpy (a flat int8 board) so search code can hand it to
the numba kernels without copying; this class adds checking, history and
people's notation on top.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from games import coords
from games.constants import BLACK, DRAW, EMPTY, ONGOING, RENJU, RENJU_N_IN_ROW, RULE_NAMES, WHITE, rule_code
from games.lines import find_winner, is_winning_move
from games.renju import black_has_legal_move, forbidden_mask, is_forbidden
from games.zobrist import zobrist_keys

COLOR_NAMES = {BLACK: "black", WHITE: "white"}


def check_rules(rule: object, n_in_row: object, size: int = coords.MAX_SIZE) -> tuple[int, int]:
    """Validate a rule name and row length; return ``(rule code, n_in_row)`` or raise ValueError."""
    code = rule_code(rule)
    n = coords.whole_number(n_in_row)
    if n is None or not 3 <= n <= size:
        raise ValueError(f"n_in_row must be an integer from 3 to the board size ({size}), got {n_in_row!r}")
    if code == RENJU and n != RENJU_N_IN_ROW:
        raise ValueError(f"renju is defined for five in a row only, got n_in_row={n}")
    return code, n


class Gomoku:
    """A game of Gomoku under freestyle, standard (exactly five) or renju rules.

    Attributes people read: ``size``, ``rule`` (name), ``n_in_row``,
    ``board`` (int8, ``size*size``; 0 empty, 1 black, 2 white), ``to_move``
    (1 black, 2 white), ``moves`` (list of ints), ``last_move`` (int or None),
    ``hash`` (Zobrist, of the stones), ``winner`` (0 none yet, 1 black,
    2 white, 3 draw).
    """

    def __init__(self, size: int = 15, rule: str = "freestyle", n_in_row: int = 5):
        self.size = coords.check_size(size)
        self.rule_code, self.n_in_row = check_rules(rule, n_in_row, self.size)
        self.rule = RULE_NAMES[self.rule_code]
        self.board = np.zeros(self.size * self.size, dtype=np.int8)
        self.moves: list[int] = []
        self.hash = 0
        self.winner = ONGOING
        self._keys = zobrist_keys(self.size)

    # -- reading the state -------------------------------------------------
    @property
    def to_move(self) -> int:
        return BLACK if len(self.moves) % 2 == 0 else WHITE

    @property
    def last_move(self) -> int | None:
        return self.moves[-1] if self.moves else None

    @property
    def is_over(self) -> bool:
        return self.winner != ONGOING

    def forbidden_mask(self) -> np.ndarray:
        """Bool mask of points forbidden to the side to move (all False unless renju, black to move)."""
        if self.rule_code != RENJU or self.to_move != BLACK or self.is_over:
            return np.zeros(self.size * self.size, dtype=np.bool_)
        return forbidden_mask(self.board, self.size)

    def forbidden_moves(self) -> list[int]:
        """Sorted points black may not play (empty unless renju with black to move)."""
        return [int(m) for m in np.flatnonzero(self.forbidden_mask())]

    def legal_mask(self) -> np.ndarray:
        """Bool mask of the moves the side to move may play (none once the game is over)."""
        if self.is_over:
            return np.zeros(self.size * self.size, dtype=np.bool_)
        return (self.board == EMPTY) & ~self.forbidden_mask()

    def legal_moves(self) -> list[int]:
        """Sorted legal moves of the side to move."""
        return [int(m) for m in np.flatnonzero(self.legal_mask())]

    def is_legal(self, move: object) -> bool:
        try:
            self._check_playable(coords.parse_move(move, self.size))
        except ValueError:
            return False
        return True

    # -- changing the state ------------------------------------------------
    def play(self, move: object) -> int:
        """Play a move (int, ``"h8"`` or ``(x, y)``) for the side to move; return its index.

        Raises ValueError, saying why, for a malformed or off-board move, an
        occupied point, a forbidden point, or a finished game.
        """
        index = coords.parse_move(move, self.size)
        self._check_playable(index)
        color = self.to_move
        self.board[index] = color
        self.moves.append(index)
        self.hash ^= int(self._keys[color, index])
        self.winner = self._result_after(index, color)
        return index

    def undo(self) -> int:
        """Take back the last move and return it; raises ValueError if there is none."""
        if not self.moves:
            raise ValueError("nothing to undo: no moves have been played")
        index = self.moves.pop()
        color = self.to_move  # after the pop, the side to move is the one who played it
        self.board[index] = EMPTY
        self.hash ^= int(self._keys[color, index])
        # Judged afresh: a position from ``from_stones`` may hold a row its
        # made-up move order did not finish last.
        self.winner = self._position_result()
        return index

    def copy(self) -> "Gomoku":
        other = Gomoku.__new__(Gomoku)
        other.__dict__.update(self.__dict__)
        other.board = self.board.copy()
        other.moves = list(self.moves)
        return other

    # -- building positions ------------------------------------------------
    @classmethod
    def from_moves(cls, moves: Iterable[object], size: int = 15, rule: str = "freestyle", n_in_row: int = 5) -> "Gomoku":
        """Replay a move sequence; a bad move raises ValueError naming its number."""
        game = cls(size=size, rule=rule, n_in_row=n_in_row)
        for number, move in enumerate(moves, start=1):
            try:
                game.play(move)
            except ValueError as error:
                raise ValueError(f"move {number}: {error}") from None
        return game

    @classmethod
    def from_stones(
        cls,
        black: Iterable[object],
        white: Iterable[object],
        size: int = 15,
        rule: str = "freestyle",
        n_in_row: int = 5,
    ) -> "Gomoku":
        """A position given by its stones alone (as the Gomocup BOARD command gives it).

        Black must have as many stones as white (black to move) or one more
        (white to move).  The move list interleaves the stones in the given
        order so that ``undo`` works; forbidden shapes already on the board are
        accepted, since we do not know the order they were made in.  A
        position where both sides have a winning row, where the winner is not
        the side that moved last, or where no single last move could have made
        all of the winner's rows, is rejected as impossible.  A stone of the
        winning row is put last in the move list, so ``undo`` reopens the game.
        """
        game = cls(size=size, rule=rule, n_in_row=n_in_row)
        black_moves = [coords.parse_move(m, game.size) for m in black]
        white_moves = [coords.parse_move(m, game.size) for m in white]
        if len(black_moves) not in (len(white_moves), len(white_moves) + 1):
            raise ValueError(
                f"impossible position: black has {len(black_moves)} stones and white {len(white_moves)}; "
                "black must have as many as white or one more"
            )
        occupied = set()
        for move in black_moves + white_moves:
            if move in occupied:
                raise ValueError(f"impossible position: two stones on {coords.to_notation(move, game.size)}")
            occupied.add(move)
        for color, moves in ((BLACK, black_moves), (WHITE, white_moves)):
            for move in moves:
                game.board[move] = color
                game.hash ^= int(game._keys[color, move])
        winners = find_winner(game.board, game.size, game.n_in_row, game.rule_code)
        if winners == (BLACK | WHITE):
            raise ValueError("impossible position: both black and white have a winning row")
        last_color = BLACK if len(black_moves) > len(white_moves) else WHITE
        if winners and winners != last_color:
            # The side with the winning row must have moved last for the game to have stopped there.
            raise ValueError(
                f"impossible position: {COLOR_NAMES[winners]} has a winning row but {COLOR_NAMES[3 - winners]} "
                "has moved since"
            )
        if winners:
            # Play a stone of the winning row last, so that the game ended on it and undo reopens it.
            last_stones = black_moves if last_color == BLACK else white_moves
            finisher = game._finishing_stone(last_stones, last_color)
            last_stones.remove(finisher)
            last_stones.append(finisher)
        order = []
        for i, move in enumerate(black_moves):
            order.append(move)
            if i < len(white_moves):
                order.append(white_moves[i])
        game.moves = order
        game.winner = game._position_result()
        return game

    def _finishing_stone(self, stones: list[int], color: int) -> int:
        """A stone whose removal leaves ``color`` with no winning row; ValueError if none does."""
        for move in stones:
            self.board[move] = EMPTY
            still_won = find_winner(self.board, self.size, self.n_in_row, self.rule_code) & color
            self.board[move] = color
            if not still_won:
                return move
        raise ValueError(
            f"impossible position: {COLOR_NAMES[color]} has winning rows that no single last move could have made"
        )

    # -- people's view -------------------------------------------------------
    def notation(self, move: int) -> str:
        return coords.to_notation(move, self.size)

    def render(self, mark_forbidden: bool = True) -> str:
        """The board as text: ``X`` black, ``O`` white, ``x``/``o`` the last move, ``#`` forbidden points."""
        forbidden = self.forbidden_mask() if mark_forbidden else np.zeros(self.size * self.size, dtype=np.bool_)
        last = self.last_move
        lines = []
        for y in range(self.size):
            cells = []
            for x in range(self.size):
                move = y * self.size + x
                stone = self.board[move]
                if stone == BLACK:
                    cells.append("x" if move == last else "X")
                elif stone == WHITE:
                    cells.append("o" if move == last else "O")
                elif forbidden[move]:
                    cells.append("#")
                else:
                    cells.append(".")
            lines.append(f"{coords.row_label(y, self.size):>2} " + " ".join(cells))
        lines.append("   " + " ".join(coords.column_labels(self.size)))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Gomoku(size={self.size}, rule={self.rule!r}, n_in_row={self.n_in_row}, moves={len(self.moves)})"

    # -- internals -----------------------------------------------------------
    def _check_playable(self, index: int) -> None:
        if self.is_over:
            raise ValueError(f"the game is over ({self.result_text()}); no more moves can be played")
        if self.board[index] != EMPTY:
            owner = COLOR_NAMES[int(self.board[index])]
            raise ValueError(f"point {self.notation(index)} is occupied by a {owner} stone")
        if self.rule_code == RENJU and self.to_move == BLACK and is_forbidden(self.board, self.size, index):
            raise ValueError(f"point {self.notation(index)} is forbidden to black under renju rules")

    def _position_result(self) -> int:
        """The result of the current position, judged from the whole board."""
        winners = find_winner(self.board, self.size, self.n_in_row, self.rule_code)
        if winners:
            return winners
        return self._draw_or_ongoing()

    def _draw_or_ongoing(self) -> int:
        if len(self.moves) == self.size * self.size:
            return DRAW
        # In renju black may be left with only forbidden points: nobody can win, so it is a draw.
        if self.rule_code == RENJU and self.to_move == BLACK and not black_has_legal_move(self.board, self.size):
            return DRAW
        return ONGOING

    def _result_after(self, index: int, color: int) -> int:
        """The result after ``color`` played ``index``: only the lines through the move can have changed."""
        if is_winning_move(self.board, self.size, index, color, self.n_in_row, self.rule_code):
            return color
        return self._draw_or_ongoing()

    def result_text(self) -> str:
        return {ONGOING: "still playing", BLACK: "black won", WHITE: "white won", DRAW: "draw"}[self.winner]
