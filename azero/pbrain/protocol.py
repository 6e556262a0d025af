"""The Gomocup protocol's words and numbers: reading the manager's untrusted lines, and writing safe ones.

Everything here is pure text handling (and :mod:`games.coords`, imported
on first use): the commands we know, the INFO keys, the rule bits, and the
parsers of numbers, coordinates and BOARD lines.  A line we cannot use
raises :class:`ProtocolError` with the text of the ``ERROR`` answer; the
state machine (:mod:`azero.pbrain.engine`) decides what to do with it.

Numbers are whole numbers of any length: managers send 2147483647 (ten
digits) for "no limit".  A line is at most :data:`MAX_LINE_CHARS` long, so
``int()`` never meets one of the thousands of digits Python refuses to
convert, and INFO times and memory beyond :data:`NO_LIMIT_BEYOND` are
clamped there, so that turning them into seconds or floats cannot overflow.
"""

from __future__ import annotations

import re

# Only light modules here: ABOUT is answered before numpy, numba or torch are loaded.  Even games.coords is
# imported when first used: importing the games package points numba's cache, importing numba.
from azero import __version__

GOMOCUP_N_IN_ROW = 5  # the protocol has no way to ask for another row length
MAX_LINE_CHARS = 1000  # the longest command is a handful of characters; longer lines are refused

# INFO rule bits.
RULE_EXACTLY_FIVE = 1
RULE_CONTINUOUS = 2
RULE_RENJU = 4
RULE_CARO = 8
SUPPORTED_RULE_BITS = RULE_EXACTLY_FIVE | RULE_CONTINUOUS | RULE_RENJU

# INFO times (ms) and memory (bytes) beyond this are no limit at all (146 million years; 4 EiB).  Larger values are
# held here, so that turning them into seconds or floats can never overflow.
NO_LIMIT_BEYOND = 2**62
# The INFO keys we read, all whole numbers; other keys (evaluate, folder, and any the future brings) are ignored.
INFO_KEYS = ("timeout_turn", "timeout_match", "time_left", "max_memory", "game_type", "rule")
CLAMPED_INFO_KEYS = ("timeout_turn", "timeout_match", "time_left", "max_memory")

ABOUT_LINE = f'name="azero", version="{__version__}", author="azero developers"'

# Commands of the manager; anything else is UNKNOWN.
BLOCK_COMMANDS = ("BOARD", "SWAP2BOARD")  # followed by data lines up to DONE
NOT_IMPLEMENTED = ("PLAY", "SWAP2BOARD")  # optional commands we answer UNKNOWN
KNOWN_COMMANDS = frozenset({"START", "RECTSTART", "RESTART", "BEGIN", "TURN", "BOARD", "DONE", "TAKEBACK", "INFO",
                            "END", "ABOUT", *NOT_IMPLEMENTED})

_NUMBER = r"\s*([+-]?\d+)\s*"
_ONE_NUMBER = re.compile(rf"^{_NUMBER}$")
_TWO_NUMBERS = re.compile(rf"^{_NUMBER},{_NUMBER}$")
_THREE_NUMBERS = re.compile(rf"^{_NUMBER},{_NUMBER},{_NUMBER}$")


class ProtocolError(ValueError):
    """A command we know but cannot carry out: answered ``ERROR <message>``, the state unchanged."""


def coords():
    """:mod:`games.coords`, imported on first use (see the imports)."""
    from games import coords as module

    return module


def rule_from_bits(bits: int) -> str:
    """Our rule name for an INFO rule bitmask (renju wins over exactly-five; continuous is ignored)."""
    if bits & RULE_RENJU:
        return "renju"
    return "standard" if bits & RULE_EXACTLY_FIVE else "freestyle"


def playable_rule(bits: int) -> str:
    """Our rule for the INFO rule bits, or ProtocolError for rules we cannot play."""
    if bits & ~SUPPORTED_RULE_BITS:
        raise ProtocolError(f"INFO rule {bits} is not supported (caro, 8, and unknown bits); azero "
                            "plays freestyle (0), exactly five (1) and renju (4)")
    return rule_from_bits(bits)


def split_command(text: str) -> tuple[str, str]:
    """(the command word in capitals, the rest of the line) of a stripped, non-empty line."""
    parts = text.split(None, 1)
    return parts[0].upper(), (parts[1] if len(parts) > 1 else "")


def shown(text: str, limit: int = 40) -> str:
    """A piece of the manager's input, safe to echo on one protocol line (printable ASCII, short)."""
    cleaned = "".join(c if " " <= c <= "~" else "?" for c in text[:limit])
    return repr(cleaned + ("..." if len(text) > limit else ""))


def protocol_line(text: str) -> str:
    """One output line: printable ASCII only, so no message can break the line structure."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)[:2000]


def require_no_parameters(word: str, rest: str) -> None:
    if rest:
        raise ProtocolError(f"{word} takes no parameters, got {shown(rest)}")


def parse_number(rest: str, usage: str) -> int:
    match = _ONE_NUMBER.match(rest)
    if match is None:
        raise ProtocolError(f"{usage}; got {shown(rest)}")
    return int(match.group(1))


def parse_pair(rest: str, usage: str) -> tuple[int, int]:
    match = _TWO_NUMBERS.match(rest)
    if match is None:
        raise ProtocolError(f"{usage}; got {shown(rest)}")
    return int(match.group(1)), int(match.group(2))


def point(x: int, y: int, size: int) -> int:
    """The point ``x,y`` (column, row from the top left) on a ``size`` board; ProtocolError if it is off it."""
    try:
        return coords().from_xy(x, y, size)
    except ValueError as error:
        raise ProtocolError(str(error)) from None


def point_text(move: int, size: int) -> str:
    """A move as the protocol writes it, ``x,y``."""
    x, y = coords().to_xy(move, size)
    return f"{x},{y}"


def checked_size(size: int) -> int:
    """A board size azero can play, or ProtocolError naming the range."""
    try:
        coords().check_size(size)
    except ValueError:
        raise ProtocolError(f"unsupported size {size}; azero plays boards from {coords().MIN_SIZE} to "
                            f"{coords().MAX_SIZE}") from None
    return size


def parse_info(rest: str) -> tuple[str, int] | None:
    """(key, value) of an INFO line we read, None for a key we ignore; ProtocolError for a malformed one.

    The error's text is the note (``ignored INFO ...``) the engine sends
    as a MESSAGE before its next answer: INFO itself is never answered.
    """
    parts = rest.split(None, 1)
    if not parts:
        raise ProtocolError("ignored INFO without a key")
    key, value = parts[0].lower(), (parts[1].strip() if len(parts) > 1 else "")
    if key not in INFO_KEYS:
        return None
    match = _ONE_NUMBER.match(value)
    if match is None:
        raise ProtocolError(f"ignored INFO {key} {shown(value)}: expected a whole number")
    number = int(match.group(1))
    if number < 0 and key != "time_left":  # time_left may go negative when the brain overruns
        raise ProtocolError(f"ignored INFO {key} {number}: it cannot be negative")
    if key in CLAMPED_INFO_KEYS:
        number = max(-NO_LIMIT_BEYOND, min(number, NO_LIMIT_BEYOND))
    return key, number


def board_stone(text: str, limit: int) -> tuple[int, int]:
    """(point, field) of a BOARD data line ``x,y,field`` on a ``limit`` board; ProtocolError with the problem."""
    match = _THREE_NUMBERS.match(text)
    if match is None:
        raise ProtocolError(f"BOARD lines are X,Y,FIELD with FIELD 1 (own) or 2 (opponent), got {shown(text)}")
    x, y, field = (int(g) for g in match.groups())
    if field not in (1, 2):
        raise ProtocolError(f"field {field} in {shown(text)}: only 1 (own stone) and 2 (opponent's) are supported "
                            "(3 is for continuous games, which azero does not play)")
    if not (0 <= x < limit and 0 <= y < limit):
        raise ProtocolError(f"stone {x},{y} is off the {limit}x{limit} board (X and Y run from 0 to {limit - 1})")
    return coords().from_xy(x, y, limit), field
