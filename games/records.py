"""Game records on disk: PSQ (Piskvork) and SGF (GM[4]).

Both readers check every move by replaying it, so a record that loads is a
legal game; a malformed file raises :class:`RecordError` (a ValueError) that
names the line or property at fault.  Writes are atomic.

PSQ: a header ``Piskvorky 15x15, 11:11, 0``, then one ``x,y,time`` line per
move with 1-based coordinates; lines after the moves (engine names and the
like) are ignored.  PSQ carries no rule, so the reader takes one.

SGF: FF[4] with GM[4]; ``SZ`` for the size, ``RU`` for our rule name, ``PB``
and ``PW`` for the players, ``RE`` for the result; moves ``B[hh]``/``W[ii]``
with letters counted from the top-left corner.  Only the main line of a file
with variations is read.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from games import coords
from games.atomic import atomic_write_text
from games.constants import BLACK, DRAW, ONGOING, WHITE
from games.gomoku import COLOR_NAMES, Gomoku, check_rules

RECORD_SUFFIXES = (".psq", ".sgf")
MAX_NAME_LENGTH = 100  # player names longer than this are cut


def _clean(text: str, limit: int = 40) -> str:
    """A stranger's text made safe for a one-line message: control characters escaped, cut short."""
    cut = text[:limit].encode("unicode_escape").decode("ascii")
    return cut + ("..." if len(text) > limit else "")


def _player_name(text: str) -> str:
    """A player name from a file, without control characters (no terminal escapes) and cut short."""
    return "".join(char for char in text if char.isprintable())[:MAX_NAME_LENGTH].strip()


class RecordError(ValueError):
    """A game record that cannot be read: the message says where and why."""


@dataclass
class GameRecord:
    size: int = 15
    rule: str = "freestyle"
    n_in_row: int = 5
    moves: list[int] = field(default_factory=list)
    black: str = ""
    white: str = ""

    @classmethod
    def from_game(cls, game: Gomoku, black: str = "", white: str = "") -> "GameRecord":
        return cls(game.size, game.rule, game.n_in_row, list(game.moves), black, white)

    def to_game(self) -> Gomoku:
        return Gomoku.from_moves(self.moves, self.size, self.rule, self.n_in_row)


# -- PSQ -------------------------------------------------------------------
# Numbers are bounded so that a hostile file cannot ask int() for a thousand-digit number.
_PSQ_HEADER = re.compile(r"^\s*Piskvorky\s+(\d{1,6})\s*x\s*(\d{1,6})\b", re.IGNORECASE)
_PSQ_MOVE_START = re.compile(r"^\s*-?\d+\s*,")
_PSQ_MOVE = re.compile(r"^\s*(\d{1,6})\s*,\s*(\d{1,6})\s*(?:,\s*-?\d{1,12}\s*)?$")


def write_psq(record: GameRecord) -> str:
    lines = [f"Piskvorky {record.size}x{record.size}, 11:11, 0"]
    for move in record.moves:
        x, y = coords.to_psq(move, record.size)
        lines.append(f"{x},{y},0")
    return "\n".join(lines) + "\n"


def read_psq(text: str, rule: str = "freestyle", n_in_row: int = 5) -> GameRecord:
    """Read a PSQ record; PSQ carries no rule, so ``rule`` and ``n_in_row`` say which (ValueError if bad)."""
    check_rules(rule, n_in_row)  # the caller's mistake, not the file's: raise before reading
    lines = text.splitlines()
    if not lines:
        raise RecordError("PSQ line 1: the file is empty; expected a header like 'Piskvorky 15x15, 11:11, 0'")
    header = _PSQ_HEADER.match(lines[0])
    if header is None:
        raise RecordError(f"PSQ line 1: expected a header like 'Piskvorky 15x15, 11:11, 0', got '{_clean(lines[0])}'")
    width, height = int(header.group(1)), int(header.group(2))
    if width != height:
        raise RecordError(f"PSQ line 1: only square boards are supported, got {width}x{height}")
    try:
        game = Gomoku(size=width, rule=rule, n_in_row=n_in_row)
    except ValueError as error:
        raise RecordError(f"PSQ line 1: {error}") from None
    for number, line in enumerate(lines[1:], start=2):
        if not _PSQ_MOVE_START.match(line):
            break  # the move list ends; what follows (engine names, ...) is not ours to read
        move = _PSQ_MOVE.match(line)
        if move is None:
            raise RecordError(f"PSQ line {number}: malformed move '{_clean(line.strip())}': expected 'x,y,time'")
        try:
            game.play(coords.from_psq(int(move.group(1)), int(move.group(2)), game.size))
        except ValueError as error:
            raise RecordError(f"PSQ line {number}: {error}") from None
    return GameRecord.from_game(game)


# -- SGF -------------------------------------------------------------------
def _sgf_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("]", "\\]")


def write_sgf(record: GameRecord) -> str:
    game = record.to_game()
    root = f";GM[4]FF[4]CA[UTF-8]AP[azero]SZ[{record.size}]RU[{record.rule}]"
    if record.n_in_row != 5:
        root += f"NR[{record.n_in_row}]"  # our own property: the row length, when not five
    if record.black:
        root += f"PB[{_sgf_escape(record.black)}]"
    if record.white:
        root += f"PW[{_sgf_escape(record.white)}]"
    if game.winner != ONGOING:
        root += "RE[" + {BLACK: "B+", WHITE: "W+", DRAW: "0"}[game.winner] + "]"
    nodes = [root]
    for i, move in enumerate(record.moves):
        nodes.append(f";{'B' if i % 2 == 0 else 'W'}[{coords.to_sgf(move, record.size)}]")
    return "(" + "\n".join(nodes) + ")\n"


class _SgfParser:
    """Reads the main line of the first game tree into a list of nodes (property -> values)."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> RecordError:
        return RecordError(f"SGF at character {self.pos + 1}: {message}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def game_tree(self) -> list[dict[str, list[str]]]:
        if self.peek() != "(":
            raise self.fail("expected '(' to open the game tree")
        self.pos += 1
        nodes: list[dict[str, list[str]]] = []
        while self.peek() == ";":
            self.pos += 1
            nodes.append(self.node())
        if not nodes:
            raise self.fail("a game tree needs at least one node ';'")
        if self.peek() == "(":
            nodes.extend(self.game_tree())  # the main line is the first variation
            while self.peek() == "(":
                self.game_tree()  # other variations are read for syntax and dropped
        if self.peek() != ")":
            raise self.fail("expected ')' to close the game tree")
        self.pos += 1
        return nodes

    def node(self) -> dict[str, list[str]]:
        props: dict[str, list[str]] = {}
        while self.peek().isalpha():
            start = self.pos
            while self.pos < len(self.text) and self.text[self.pos].isalpha():
                self.pos += 1
            ident = self.text[start : self.pos]
            if not ident.isupper():
                raise self.fail(f"property name '{_clean(ident)}' must be upper-case letters")
            values = []
            while self.peek() == "[":
                values.append(self.value())
            if not values:
                raise self.fail(f"property {_clean(ident)} has no value '[...]'")
            if ident in props:
                raise self.fail(f"property {_clean(ident)} appears twice in one node")
            props[ident] = values
        return props

    def value(self) -> str:
        self.pos += 1  # '['
        out = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                escaped = self.text[self.pos + 1]
                self.pos += 2
                if escaped == "\r" and self.text[self.pos : self.pos + 1] == "\n":
                    self.pos += 1
                if escaped not in "\r\n":  # a backslash before a line break is a soft break: both vanish
                    out.append(escaped)
                continue
            if char == "]":
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.fail("a property value '[' is never closed with ']'")


def read_sgf(text: str) -> GameRecord:
    parser = _SgfParser(text)
    try:
        nodes = parser.game_tree()
    except RecursionError:
        raise RecordError("SGF: variations are nested too deeply to read") from None
    root = nodes[0]

    def single(ident: str, default: str) -> str:
        values = root.get(ident, [default])
        if len(values) != 1:
            raise RecordError(f"SGF property {ident}: expected one value, got {len(values)}")
        return values[0].strip()

    def number(ident: str, default: str) -> int:
        text = single(ident, default)
        if ":" in text and ident == "SZ":
            raise RecordError(f"SGF property SZ[{_clean(text)}]: only square boards are supported, as SZ[15]")
        if not (text.isascii() and text.isdigit() and len(text) <= 6):
            raise RecordError(f"SGF property {ident}[{_clean(text)}]: expected a whole number")
        return int(text)

    game_kind = single("GM", "4")
    if game_kind != "4":
        raise RecordError(f"SGF property GM[{_clean(game_kind)}]: this is not a Gomoku record (Gomoku is GM[4])")
    size = number("SZ", "15")
    rule = single("RU", "freestyle").lower()
    n_in_row = number("NR", "5")
    try:
        game = Gomoku(size=size, rule=rule[:40], n_in_row=n_in_row)
    except ValueError as error:
        raise RecordError(f"SGF root properties SZ/RU/NR: {error}") from None

    for node_index, props in enumerate(nodes):
        for setup in ("AB", "AW", "AE"):
            if setup in props:
                raise RecordError(f"SGF property {setup}: setup stones are not supported, only moves B[..] and W[..]")
        colors = [c for c in ("B", "W") if c in props]
        if node_index == 0 and colors:
            raise RecordError("SGF root node: moves belong in the nodes after the root, not in it")
        if not colors:
            continue
        if len(colors) == 2:
            raise RecordError(f"SGF node {node_index}: a node holds one move, got both B and W")
        color = colors[0]
        value = props[color][0]
        label = f"SGF property {color}[{_clean(value, 10)}] (move {len(game.moves) + 1})"
        expected = "B" if game.to_move == BLACK else "W"
        if color != expected:
            raise RecordError(f"{label}: it is {COLOR_NAMES[game.to_move]}'s turn")
        if len(props[color]) != 1:
            raise RecordError(f"{label}: a move has one point, got {len(props[color])}")
        try:
            game.play(coords.from_sgf(value, game.size))
        except ValueError as error:
            raise RecordError(f"{label}: {error}") from None
    return GameRecord.from_game(game, black=_player_name(single("PB", "")), white=_player_name(single("PW", "")))


# -- files -----------------------------------------------------------------
def _suffix(path: str | os.PathLike) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in RECORD_SUFFIXES:
        raise RecordError(f"{path}: unknown record type {suffix or '(none)'!r}; use a .psq or .sgf file")
    return suffix


def save_record(record: GameRecord, path: str | os.PathLike) -> None:
    """Write ``record`` as PSQ or SGF by the file's suffix, atomically."""
    text = write_psq(record) if _suffix(path) == ".psq" else write_sgf(record)
    atomic_write_text(path, text)


def load_record(path: str | os.PathLike, rule: str = "freestyle", n_in_row: int = 5) -> GameRecord:
    """Read a PSQ or SGF file by its suffix; ``rule`` and ``n_in_row`` are used for PSQ, which has no rule."""
    suffix = _suffix(path)
    check_rules(rule, n_in_row)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # -sig: a byte-order mark some editors add is skipped
    except UnicodeDecodeError:
        raise RecordError(f"{path}: not a text file (expected UTF-8 text)") from None
    except OSError as error:
        raise RecordError(f"{path}: cannot read it ({error.strerror})") from None
    try:
        return read_psq(text, rule, n_in_row) if suffix == ".psq" else read_sgf(text)
    except RecordError as error:
        raise RecordError(f"{path}: {error}") from None
