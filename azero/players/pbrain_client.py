"""``pbrain:COMMAND``: any engine that speaks the Gomocup protocol, as an azero player.

One engine process runs per game slot, so a batch of games is played in
parallel: for every position the engine gets the whole board (``BOARD``,
the stones in move order as ``x,y,1`` for the side to move and ``x,y,2``
for the other, ``DONE``), and all the engines' answers are read at once
with a selector on their pipes.  An answer that is not ``x,y`` on the
board loses that game as 'illegal', silence past the turn time plus a
grace as 'timeout' (the process is killed and replaced next time), an
engine that exits as 'crash'; the other games go on.

Setting up a process (``START size``, answered ``OK`` within
``start_timeout_s``, then ``INFO rule``, ``timeout_turn``, ``timeout_match 0``
and ``game_type 1``) happens once per slot and board; a slot that played
before gets ``RESTART`` before its next ``BOARD``, as managers do.  A new
board size or rule starts a new process.  Nothing here waits without a
deadline.  POSIX only (select on pipes).
"""

from __future__ import annotations

import os
import re
import selectors
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from azero.players.forfeit import Forfeit
from azero.players.spec import PlayerSpec
from games import coords
from games.gomoku import Gomoku

GRACE_S = 1.0  # beyond the turn time: pipes, process scheduling, an engine's own margin going wrong
END_WAIT_S = 1.0  # how long close() lets engines exit after END before killing them
MAX_ANSWER_BYTES = 1 << 16  # an "answer" longer than this without a line end is not an answer
RULE_BITS = {"freestyle": 0, "standard": 1, "renju": 4}  # INFO rule values of our rules
GOMOCUP_N_IN_ROW = 5

_MOVE_ANSWER = re.compile(r"^\s*(\d{1,9})\s*,\s*(\d{1,9})\s*$")


class PbrainError(ValueError):
    """An engine that cannot be used as asked: a command that does not run, a board size it refuses."""


@dataclass
class _Failure:
    """Why an engine gave no answer line: 'timeout' or 'crash', with a detail for the game record."""

    reason: str
    detail: str


class _EngineProcess:
    """One engine subprocess with non-blocking pipes and byte buffers in both directions."""

    def __init__(self, argv: list[str], stderr, key: tuple[int, str]):
        # A session of its own: Ctrl-C in our terminal does not reach it, and killpg takes its children too.
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                        bufsize=0, start_new_session=True)
        self.stdin_fd = self.process.stdin.fileno()
        self.stdout_fd = self.process.stdout.fileno()
        os.set_blocking(self.stdin_fd, False)  # a full pipe (an engine that stops reading) must not block us
        os.set_blocking(self.stdout_fd, False)
        self.key = key  # (size, rule) it was started for
        self.inbox = bytearray()  # read, not yet split into lines
        self.outbox = bytearray()  # to be written
        self.started = False  # START was answered OK
        self.played = False  # a BOARD was answered, so the next one needs RESTART first
        self.needs_info = True  # the INFO lines go with the first BOARD

    def next_line(self) -> bytes | None:
        """The next complete line of the inbox (CR, LF or CR LF ends one), or None."""
        for index, byte in enumerate(self.inbox):
            if byte in (10, 13):
                line = bytes(self.inbox[:index])
                del self.inbox[:index + 1]
                return line
        return None

    def exit_detail(self) -> str:
        try:
            code = self.process.wait(timeout=0.2)  # its output just closed: the exit status is usually a moment away
        except subprocess.TimeoutExpired:
            code = None
        return f"the engine exited with status {code}" if code is not None else "the engine closed its output"

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass  # unkillable (stuck in the kernel): nothing more we can do, and we must not hang
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass


def _is_answer(line: str) -> bool:
    """Is this line an answer?  Empty, MESSAGE and DEBUG lines are not: they are skipped, as managers do."""
    word = line.split(None, 1)[0].upper() if line.strip() else ""
    return word not in ("", "MESSAGE", "DEBUG")


def _exchange(engines: dict[int, _EngineProcess], payloads: dict[int, bytes], deadline: float) -> dict:
    """Send each slot its payload and read its first answer line, all slots at once, until ``deadline``.

    Returns slot -> the answer (str) or a :class:`_Failure`.
    """
    results: dict[int, str | _Failure] = {}
    selector = selectors.DefaultSelector()
    try:
        for slot, engine in engines.items():
            engine.inbox.clear()  # output left over from the previous command (a MESSAGE after a move) is not an answer
            engine.outbox += payloads[slot]
            selector.register(engine.stdout_fd, selectors.EVENT_READ, (slot, "read"))
            if engine.outbox:
                selector.register(engine.stdin_fd, selectors.EVENT_WRITE, (slot, "write"))
        pending = set(engines)

        def finish(slot: int, result: str | _Failure) -> None:
            results[slot] = result
            pending.discard(slot)
            for fd in (engines[slot].stdout_fd, engines[slot].stdin_fd):
                try:
                    selector.unregister(fd)
                except (KeyError, ValueError):
                    pass

        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for key, _ in selector.select(remaining):
                slot, kind = key.data
                if slot not in pending:
                    continue
                engine = engines[slot]
                if kind == "write":
                    try:
                        written = os.write(engine.stdin_fd, engine.outbox[:MAX_ANSWER_BYTES])
                    except BlockingIOError:
                        continue
                    except OSError:  # a broken pipe: it exited or closed its input
                        finish(slot, _Failure("crash", f"{engine.exit_detail()} (it stopped reading commands)"))
                        continue
                    del engine.outbox[:written]
                    if not engine.outbox:
                        selector.unregister(engine.stdin_fd)
                    continue
                try:
                    data = os.read(engine.stdout_fd, MAX_ANSWER_BYTES)
                except BlockingIOError:
                    continue
                except OSError as error:
                    finish(slot, _Failure("crash", f"reading its output failed: {error}"))
                    continue
                engine.inbox += data
                while (line := engine.next_line()) is not None:
                    text = line.decode("latin-1").strip()
                    if _is_answer(text):
                        finish(slot, text)
                        break
                if slot not in pending:
                    continue
                if not data:
                    finish(slot, _Failure("crash", engine.exit_detail()))
                elif len(engine.inbox) > MAX_ANSWER_BYTES:
                    # Endless output without a line end: taken as an answer, which the caller refuses.
                    finish(slot, engine.inbox[:40].decode("latin-1") + "...")
                    engine.inbox.clear()
        for slot in pending:
            results[slot] = _Failure("timeout", "no answer in time")
    finally:
        selector.close()
    return results


def _board_payload(game: Gomoku) -> bytes:
    """BOARD with the stones in move order, 1 for the side to move (the engine) and 2 for the other."""
    own = game.to_move
    lines = ["BOARD"]
    for move in game.moves:
        x, y = coords.to_xy(move, game.size)
        lines.append(f"{x},{y},{1 if game.board[move] == own else 2}")
    lines.append("DONE")
    return ("\n".join(lines) + "\n").encode("ascii")


class PbrainPlayer:
    """An external Gomocup engine: ``PbrainPlayer("pbrain-rapfi", turn_ms=1000)``.

    ``turn_ms`` is sent as INFO timeout_turn and bounds the wait (plus
    ``grace_s``); ``start_timeout_s`` bounds START and RESTART.  ``stderr``
    is where the engines' stderr goes: None for nowhere, a path (appended
    to), or anything :class:`subprocess.Popen` takes.
    """

    def __init__(self, command: str, turn_ms: int = 1000, start_timeout_s: float = 60.0, grace_s: float = GRACE_S,
                 stderr=None):
        try:
            self.argv = shlex.split(command)
        except ValueError as error:
            raise PbrainError(f"cannot split the pbrain command {command!r}: {error}") from None
        if not self.argv:
            raise PbrainError("the pbrain command is empty")
        if not (isinstance(turn_ms, int) and turn_ms >= 0):
            raise PbrainError(f"turn_ms must be a whole number of milliseconds, 0 or more, got {turn_ms!r}")
        self.command = command
        self.name = PlayerSpec("pbrain", command=command).text
        self.turn_ms = turn_ms
        self.start_timeout_s = start_timeout_s
        self.grace_s = grace_s
        self._log = None
        if stderr is None:
            self._stderr = subprocess.DEVNULL
        elif isinstance(stderr, (str, Path)):
            self._log = open(stderr, "ab")
            self._stderr = self._log
        else:
            self._stderr = stderr
        self._slots: list[_EngineProcess | None] = []

    # -- the player interface ---------------------------------------------------------
    def choose_moves(self, games: list[Gomoku]) -> list[int | Forfeit]:
        """One move (or Forfeit) per game, every engine thinking at the same time."""
        answers: dict[int, int | Forfeit] = {}
        while len(self._slots) < len(games):
            self._slots.append(None)
        for game in games:
            if game.n_in_row != GOMOCUP_N_IN_ROW:
                raise PbrainError(f"pbrain engines play five in a row; this game needs {game.n_in_row}")
        self._prepare(games, answers)
        ready = {slot: self._slots[slot] for slot in range(len(games)) if slot not in answers}
        payloads = {slot: self._info_payload(ready[slot], games[slot]) + _board_payload(games[slot]) for slot in ready}
        deadline = time.monotonic() + self.turn_ms / 1000 + self.grace_s
        for slot, result in _exchange(ready, payloads, deadline).items():
            engine = ready[slot]
            engine.needs_info = False
            engine.played = True
            if isinstance(result, _Failure):
                if result.reason == "timeout":
                    result = _Failure("timeout", f"no answer within {self.turn_ms} ms (and {self.grace_s:g} s grace)")
                answers[slot] = self._lost(slot, result)
            else:
                answers[slot] = self._parse_move(result, games[slot].size)
        return [answers[slot] for slot in range(len(games))]

    def close(self) -> None:
        """END to every engine, a moment to exit, then kill what is left."""
        engines = [engine for engine in self._slots if engine is not None]
        self._slots = []
        for engine in engines:
            try:
                os.write(engine.stdin_fd, b"END\n")
            except OSError:
                pass
            try:
                engine.process.stdin.close()  # end of input too, for engines that stop only at EOF
            except OSError:
                pass
        deadline = time.monotonic() + END_WAIT_S
        for engine in engines:
            try:
                engine.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            engine.kill()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "PbrainPlayer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- setting up processes --------------------------------------------------------------
    def _prepare(self, games: list[Gomoku], answers: dict) -> None:
        """Make every slot's engine ready for a BOARD: started for its game's board, fresh (RESTART) if it played."""
        for _round in range(2):  # a second round for engines replaced because they refused RESTART
            payloads: dict[int, bytes] = {}
            for slot, game in enumerate(games):
                if slot in answers:
                    continue
                engine = self._slots[slot]
                key = (game.size, game.rule)
                if engine is not None and (engine.key != key or engine.process.poll() is not None):
                    engine.kill()
                    engine = self._slots[slot] = None
                if engine is None:
                    engine = self._slots[slot] = self._spawn(key)
                if not engine.started:
                    payloads[slot] = f"START {game.size}\n".encode()
                elif engine.played:
                    payloads[slot] = b"RESTART\n"
            if not payloads:
                return
            engines = {slot: self._slots[slot] for slot in payloads}
            results = _exchange(engines, payloads, time.monotonic() + self.start_timeout_s)
            for slot, result in results.items():
                engine = engines[slot]
                restarting = engine.started
                if isinstance(result, _Failure):
                    what = "RESTART" if restarting else f"START {games[slot].size}"
                    answers[slot] = self._lost(slot, _Failure(result.reason, f"{result.detail} to {what}"))
                elif result.split(None, 1)[0].upper() == "OK":
                    engine.started, engine.played = True, False
                elif restarting:
                    # The protocol's way: an engine that cannot RESTART is ended and run again.
                    engine.kill()
                    self._slots[slot] = None
                elif result.split(None, 1)[0].upper() == "ERROR":
                    engine.kill()
                    self._slots[slot] = None
                    raise PbrainError(f"{self.command!r} refused a {games[slot].size}x{games[slot].size} board: "
                                      f"{result[:200]}")
                else:
                    answers[slot] = self._lost(slot, _Failure("illegal", f"answered {result[:80]!r} to START"))

    def _spawn(self, key: tuple[int, str]) -> _EngineProcess:
        try:
            return _EngineProcess(self.argv, self._stderr, key)
        except OSError as error:
            raise PbrainError(f"cannot run the pbrain engine {self.command!r}: {error}") from None

    def _info_payload(self, engine: _EngineProcess, game: Gomoku) -> bytes:
        if not engine.needs_info:
            return b""
        return (f"INFO rule {RULE_BITS[game.rule]}\nINFO timeout_turn {self.turn_ms}\nINFO timeout_match 0\n"
                "INFO game_type 1\n").encode()

    def _lost(self, slot: int, failure: _Failure) -> Forfeit:
        """The game is lost; a silent or dead engine is killed and a fresh one starts next time."""
        engine = self._slots[slot]
        if failure.reason in ("timeout", "crash") and engine is not None:
            engine.kill()
            self._slots[slot] = None
        return Forfeit(failure.reason, failure.detail)

    @staticmethod
    def _parse_move(answer: str, size: int) -> int | Forfeit:
        match = _MOVE_ANSWER.match(answer)
        if match is None:
            return Forfeit("illegal", f"answered {answer[:80]!r}, not a move X,Y")
        x, y = int(match.group(1)), int(match.group(2))
        if not (0 <= x < size and 0 <= y < size):
            return Forfeit("illegal", f"answered {x},{y}, off the {size}x{size} board")
        return coords.from_xy(x, y, size)
