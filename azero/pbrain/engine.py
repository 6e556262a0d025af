"""The Gomocup (Piskvork) protocol engine: azero as a "pbrain" that any Gomoku manager can run.

The manager writes one command per line on our stdin and reads our answers
on stdout (protocol by Petr Lastovicka and Martin Petricek, the one Gomocup
uses).  What we answer:

==========================  =====================================================================
``START n``                 ``OK``, or ``ERROR ...`` if no player here can play an n x n board
``RECTSTART w,h``           as ``START w`` when w == h; ``ERROR`` for a rectangle
``RESTART``                 ``OK`` (empty board, same size, INFO settings kept)
``BEGIN``                   our first move on the empty board, ``x,y``
``TURN x,y``                the opponent's move; we answer ours
``BOARD`` ... ``DONE``      a whole position, lines ``x,y,field`` (1 ours, 2 theirs); we answer a move
``TAKEBACK x,y``            remove that stone, ``OK``
``INFO key value``          nothing, ever (the manager does not read answers to INFO)
``ABOUT``                   ``name="azero", version="...", author="..."``
``END``                     nothing; the process exits
==========================  =====================================================================

``x`` is the column and ``y`` the row, both from 0 at the top left;
:mod:`games.coords` converts.  ``MESSAGE`` and ``DEBUG`` lines (simulations,
win rate, the time budget) may come before a move; managers show or log them.

Decisions the protocol leaves to the brain
------------------------------------------
* **UNKNOWN or ERROR.**  The protocol says a brain answers ``UNKNOWN`` to a
  command it does not know or does not implement, and managers rely on that
  to fall back to the mandatory commands (a manager that gets ``UNKNOWN`` to
  ``RESTART`` restarts the process).  So unknown words, and the optional
  ``PLAY`` and ``SWAP2BOARD`` that we do not implement, get ``UNKNOWN``.
  ``ERROR`` is for a command we know but cannot carry out: malformed or
  off-board coordinates, an occupied point, an impossible position, a board
  size or rule we cannot play, a command before ``START``, a move asked for
  in a finished game.  An ``ERROR`` leaves the engine's state as it was.
* **INFO is silent.**  The manager does not read our output after INFO, so
  a line written then would be taken as the answer to its next command.  A
  malformed INFO is ignored and reported as a ``MESSAGE`` before our next
  answer; the caro rule (bit 8), which we cannot play, makes the next move
  request answer ``ERROR``.  The continuous-game bit (2) is ignored.
* **Empty lines are ignored** without an answer for the same reason: an
  answer nobody asked for would be read as the answer to the next command.
* **BOARD order.**  The protocol asks managers to list renju stones in move
  order and lets gomoku managers list them in any order.  The stones go to
  :meth:`Gomoku.from_stones` in the order given, which replays that exact
  order whenever it alternates properly, so the last move (which the
  network sees) is the manager's last line; otherwise it is the last listed
  stone of the side that moved last.  Colours come from counts: as many own
  stones as the opponent's means we are black.
* **Time.**  :mod:`azero.search.time_manager` plans each move from
  ``timeout_turn``, ``timeout_match`` and ``time_left``: with a match clock
  an ordinary move gets a share of what is left and an unsure one up to
  :data:`~azero.search.time_manager.MAX_EXTENSION` times that; a move stops early
  once it is decided or proven.  The safety margin is measured: what every
  move cost outside its search (:class:`~azero.search.time_manager.OverheadMeter`).
* **Memory.**  INFO ``max_memory`` (c-gomoku-cli sends it after START) bounds
  the whole process: the engine measures its resident memory once the
  network is loaded and warmed up, and the search tree gets what is left
  (:func:`tree_nodes_for_memory`); a limit below what Python, numba, torch
  and the network already need is said in a MESSAGE.
* **Nothing heavy before the first answer.**  Importing torch and loading
  the networks take seconds, so they run on a background thread
  (:class:`BackgroundWork`) while the engine answers ABOUT, INFO and START
  at once (START checks the size against the checkpoints' headers, read
  without torch, and queues the warm-up); the first move waits for the
  loading, and that wait counts against its time.

``main`` keeps a private duplicate of file descriptor 1 for the protocol and
points fd 1 and ``sys.stdout`` at stderr before loading anything, so
nothing that numba, torch or a stray ``print`` writes can reach the manager.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import queue
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

# Only light modules here: ABOUT is answered before numpy, numba or torch are loaded (see the docstring).  Even
# games.coords is imported when first used: importing the games package points numba's cache, importing numba.
from azero import __version__

if TYPE_CHECKING:
    from games.gomoku import Gomoku

GOMOCUP_N_IN_ROW = 5  # the protocol has no way to ask for another row length
DEFAULT_TURN_SECONDS = 5.0  # thinking time per move when the manager sends no INFO about time (time_manager's too)
MAX_LINE_CHARS = 1000  # the longest command is a handful of characters; longer lines are refused
UNLIMITED_MS = 2147483647  # what managers send as time_left when the match has no time limit

# INFO rule bits.
RULE_EXACTLY_FIVE = 1
RULE_CONTINUOUS = 2
RULE_RENJU = 4
RULE_CARO = 8
SUPPORTED_RULE_BITS = RULE_EXACTLY_FIVE | RULE_CONTINUOUS | RULE_RENJU

# Memory (see tree_nodes_for_memory).  A node is 7 int32 and 3 float32 fields, and advance_root copies a kept
# subtree through scratch arrays of the same shape plus an int32 order: 84 bytes a node once both are touched.
TREE_BYTES_PER_NODE = 2 * 4 * (7 + 3) + 4
# Room left beside the tree for what a move allocates and frees (batches, Python objects, torch's buffers): the
# resident size of a 15x15 process rose by under 3 MiB between its warm-up and a 5 s search's peak, tree aside.
TRANSIENT_BYTES = 8 * 2**20
# The tree's arrays are allocated for the worst case (every point near a stone a child of every leaf) but only
# the nodes used become resident; 15x15 searches use 60-145 nodes a simulation against the worst case's 392.  The
# arrays may be this many times the resident budget; the search stops at the budget (MoveBudget.max_nodes).
VIRTUAL_OVER_RESIDENT = 4
# The least tree a move gets, whatever max_memory says: a 5 s move on 15x15 grows about 1,500 simulations of
# 60-145 nodes (10-18 MiB).  Less would play far weaker while saving a few per cent of a process torch dominates.
MIN_TREE_BYTES = 16 * 2**20
# Without /proc (not Linux) the process cannot measure itself: the tree gets this share of max_memory.
UNMEASURED_TREE_SHARE = 0.2

# INFO times (ms) and memory (bytes) beyond this are no limit at all (146 million years; 4 EiB).  Larger values are
# held here, so that turning them into seconds or floats can never overflow.
NO_LIMIT_BEYOND = 2**62

ABOUT_LINE = f'name="azero", version="{__version__}", author="azero developers"'

# Commands of the manager; anything else is UNKNOWN.
BLOCK_COMMANDS = ("BOARD", "SWAP2BOARD")  # followed by data lines up to DONE
NOT_IMPLEMENTED = ("PLAY", "SWAP2BOARD")  # optional commands we answer UNKNOWN
KNOWN_COMMANDS = frozenset({"START", "RECTSTART", "RESTART", "BEGIN", "TURN", "BOARD", "DONE", "TAKEBACK", "INFO",
                            "END", "ABOUT", *NOT_IMPLEMENTED})

# Any whole number: managers send 2147483647 (ten digits) for "no limit".  A line is at most MAX_LINE_CHARS long,
# so int() never meets one of the thousands of digits Python refuses to convert.
_NUMBER = r"\s*([+-]?\d+)\s*"
_ONE_NUMBER = re.compile(rf"^{_NUMBER}$")
_TWO_NUMBERS = re.compile(rf"^{_NUMBER},{_NUMBER}$")
_THREE_NUMBERS = re.compile(rf"^{_NUMBER},{_NUMBER},{_NUMBER}$")


class ProtocolError(ValueError):
    """A command we know but cannot carry out: answered ``ERROR <message>``, the state unchanged."""


def rule_from_bits(bits: int) -> str:
    """Our rule name for an INFO rule bitmask (renju wins over exactly-five; continuous is ignored)."""
    if bits & RULE_RENJU:
        return "renju"
    return "standard" if bits & RULE_EXACTLY_FIVE else "freestyle"


def tree_nodes_for_memory(max_memory_bytes: int, resident_bytes: int | None) -> int:
    """The most tree nodes that keep the process within ``max_memory_bytes``.

    ``resident_bytes``: what the process holds without a tree (measured
    after the network's warm-up; None where it cannot be measured, and then
    the tree gets :data:`UNMEASURED_TREE_SHARE` of the limit).  0 when
    nothing is left.
    """
    if resident_bytes is None:
        free = UNMEASURED_TREE_SHARE * max_memory_bytes
    else:
        free = max_memory_bytes - resident_bytes - TRANSIENT_BYTES
    return max(0, int(free // TREE_BYTES_PER_NODE))


def simulations_for_nodes(nodes: int, size: int, move_radius: int = 0) -> int:
    """The simulations whose worst-case tree is :data:`VIRTUAL_OVER_RESIDENT` times ``nodes`` (the arrays' size)."""
    from azero.search.searcher import nodes_needed

    nodes_per_simulation = nodes_needed(1, size, move_radius) - nodes_needed(0, size, move_radius)
    return max(0, VIRTUAL_OVER_RESIDENT * nodes // nodes_per_simulation - 2)


def resident_bytes() -> int | None:
    """This process's resident memory (VmRSS) in bytes, None where /proc cannot tell."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def release_free_memory() -> None:
    """Hand the heap's free pages back to the system (glibc keeps what imports and loading freed)."""
    import gc

    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: its allocator returns memory by its own rules


class BackgroundWork:
    """One worker thread running jobs in order, so that loading and warming up never delay an answer.

    :meth:`wait` blocks until every job submitted so far is done and raises
    the first failure (every later wait raises it again: a network that did
    not load stays unloaded).  The first job waits until :meth:`go` is
    called or ``hold_s`` has passed: importing torch holds Python's global
    lock for long stretches (loading its libraries), which would delay the
    answer to the manager's first command, usually ABOUT.
    """

    def __init__(self, hold_s: float = 0.0):
        self._go = threading.Event()
        self._hold_s = hold_s
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._done = threading.Condition()
        self._pending = 0
        self._failure: BaseException | None = None
        threading.Thread(target=self._work, name="azero-background", daemon=True).start()

    def submit(self, job: Callable[[], None]) -> None:
        with self._done:
            self._pending += 1
        self._jobs.put(job)

    def go(self) -> None:
        """Start the jobs now (the first answer is out)."""
        self._go.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the jobs (at most ``timeout_s``): True when all are done; raises the first failure."""
        self._go.set()  # someone needs the results: no reason to hold back
        deadline = None if timeout_s is None else time.monotonic() + max(0.0, timeout_s)
        with self._done:
            while self._pending:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._done.wait(None if left is None else min(left, 60.0))  # huge INFO times overflow a wait
            if self._failure is not None:
                raise self._failure
        return True

    @property
    def busy(self) -> bool:
        with self._done:
            return self._pending > 0

    def _work(self) -> None:
        self._go.wait(self._hold_s)
        while True:
            job = self._jobs.get()
            try:
                if self._failure is None:
                    job()
            except BaseException as error:  # kept for wait(), which raises it in the engine's thread
                traceback.print_exc(file=sys.stderr)
                self._failure = error
            finally:
                with self._done:
                    self._pending -= 1
                    self._done.notify_all()


def _shown(text: str, limit: int = 40) -> str:
    """A piece of the manager's input, safe to echo on one protocol line (printable ASCII, short)."""
    cleaned = "".join(c if " " <= c <= "~" else "?" for c in text[:limit])
    return repr(cleaned + ("..." if len(text) > limit else ""))


def _protocol_line(text: str) -> str:
    """One output line: printable ASCII only, so no message can break the line structure."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)[:2000]


def _accepts(player, keyword: str) -> bool:
    """Does the player's choose_moves take ``keyword`` (``seconds``, ``budget``)?"""
    import inspect

    try:
        return keyword in inspect.signature(player.choose_moves).parameters
    except (TypeError, ValueError):
        return False


def _coords():
    """:mod:`games.coords`, imported on first use (see the imports)."""
    from games import coords

    return coords


def _new_game(size: int, rule: str) -> Gomoku:
    from games.gomoku import Gomoku  # numba: loaded by the first START, not before ABOUT

    return Gomoku(size, rule, GOMOCUP_N_IN_ROW)


class PbrainEngine:
    """The protocol as a state machine: :meth:`handle` maps one input line to the output lines.

    ``players_by_game`` maps ``(rule, size)`` (rule names as in
    :mod:`games.constants`) to the player for that game; ``any_game_player``
    plays whatever no entry covers (a heuristic bot plays every size and
    rule).  Without an exact entry, a player for the same size and another
    rule is used, with a MESSAGE saying so; a size nobody covers is refused
    at START.  Players come from :mod:`azero.players.net`; one that takes
    ``budget=`` (a network with search) gets the move's
    :class:`~azero.search.time_manager.MoveBudget`, one that takes ``seconds=``
    its ordinary time.

    :meth:`loading` makes an engine whose players are built on a background
    thread (the command line's engine): it answers at once and the first
    move waits for them.

    ``game`` is the position (a :class:`~games.gomoku.Gomoku`, None before
    START); ``finished`` turns True at END.
    """

    def __init__(self, players_by_game: Mapping[tuple[str, int], object] | None = None, any_game_player=None, *,
                 default_turn_seconds: float = DEFAULT_TURN_SECONDS, warm_up: bool = True, clock=time.perf_counter,
                 measure_memory: Callable[[], int | None] = resident_bytes):
        self._setup(default_turn_seconds, warm_up, clock, measure_memory)
        self._take_players(players_by_game, any_game_player)

    @classmethod
    def loading(cls, load_players: Callable[[], tuple[Mapping[tuple[str, int], object], object]],
                games: set[tuple[str, int]] | None, **options) -> PbrainEngine:
        """An engine whose players ``load_players()`` builds on a background thread.

        ``games``: the (rule, size) pairs the players will cover, known
        before they load (None: every size), so that START can answer at
        once.  The first move waits for the players; a failure to build
        them makes every move answer ERROR with the reason.
        """
        engine = cls.__new__(cls)
        engine._setup(options.pop("default_turn_seconds", DEFAULT_TURN_SECONDS), options.pop("warm_up", True),
                      options.pop("clock", time.perf_counter), options.pop("measure_memory", resident_bytes))
        if options:
            raise TypeError(f"unknown options {sorted(options)}")
        engine._announced_games = None if games is None else set(games)
        engine._background = BackgroundWork(hold_s=FIRST_ANSWER_HOLD_S)
        engine._background.submit(lambda: engine._take_players(*load_players()))
        return engine

    def wait_until_ready(self) -> None:
        """Block until the players are loaded and warmed up (ProtocolError if they failed)."""
        self._wait_for_players(None)

    def answer_sent(self) -> None:
        """An answer went out: the background loading may start (it waits for the first, see BackgroundWork)."""
        if self._background is not None:
            self._background.go()

    @property
    def loading_in_background(self) -> bool:
        """Is the background thread still loading or warming up?"""
        return self._background is not None and self._background.busy

    def _take_players(self, players_by_game, any_game_player) -> None:
        self.players_by_game = dict(players_by_game or {})
        self.any_game_player = any_game_player
        if not self.players_by_game and any_game_player is None:
            raise ValueError("a pbrain engine needs at least one player")
        self._configured_simulations = {id(p): p.simulations for p in self._all_players() if self._is_net(p)}
        self._announced_games = None if any_game_player is not None else set(self.players_by_game)

    def _setup(self, default_turn_seconds: float, warm_up: bool, clock, measure_memory) -> None:
        from azero.search.time_manager import OverheadMeter

        self.players_by_game: dict[tuple[str, int], object] = {}
        self.any_game_player = None
        self._configured_simulations: dict[int, int] = {}
        self._announced_games: set[tuple[str, int]] | None = None  # what START may accept (None: any size)
        self._background: BackgroundWork | None = None
        self.measure_memory = measure_memory
        self.default_turn_seconds = default_turn_seconds
        self.warm_up = warm_up
        self.clock = clock
        self.game: Gomoku | None = None
        self.finished = False
        # INFO settings (kept across START and RESTART, as managers send them once).
        self.rule_bits = 0
        self.timeout_turn_ms: int | None = None
        self.timeout_match_ms: int | None = None
        self.time_left_ms: int | None = None
        self.max_memory_bytes = 0
        self.game_type: int | None = None
        self._notes: list[str] = []  # MESSAGE lines waiting for the next answer (INFO must not answer)
        self._spent_s = 0.0  # our thinking time this match, for a timeout_match sent without time_left
        self._block: str | None = None  # BOARD or SWAP2BOARD while their data lines come in
        self._block_lines: list[tuple[int, int]] = []
        self._block_problem: str | None = None
        self._block_started = 0.0
        self._warmed: set[tuple[int, int, str]] = set()  # (id(player), size, rule) already run once
        self._noted_stand_ins: set[tuple[str, int]] = set()  # games told that another rule's network plays
        self.overhead = OverheadMeter()  # what moves cost outside their search: the safety margin
        self._previous_value: float | None = None  # our last move's root value, for the win-rate swing
        # Resident bytes without a search tree, measured after each warm-up (None: not yet, or not measurable).
        self.resident_without_tree: int | None = None
        self._memory_noted: int | None = None  # the max_memory last said to be too small

    # -- the one entry point ------------------------------------------------------
    def handle(self, line: str) -> list[str]:
        """The output lines for one input line (none for INFO, END, empty lines and BOARD data)."""
        if self.finished:
            return []
        text = line.strip()
        if len(text) > MAX_LINE_CHARS:
            return self.handle_overlong_line()
        return self._guarded(lambda received: self._dispatch(text, received))

    def handle_overlong_line(self) -> list[str]:
        """The answer to a line longer than MAX_LINE_CHARS (a reader may cut it and throw the rest away)."""
        if self.finished:
            return []
        return self._guarded(lambda received: self._overlong())

    def _guarded(self, command) -> list[str]:
        """Run one command; a refusal or a bug becomes one ERROR line and the engine goes on."""
        received = self.clock()
        try:
            answers = command(received)
        except ProtocolError as error:
            answers = self._with_notes([f"ERROR {error}"])
        except Exception as error:  # a bug must cost one answer, never the engine (a manager would forfeit us)
            traceback.print_exc(file=sys.stderr)
            self._reset_block()
            answers = self._with_notes([f"ERROR internal error: {type(error).__name__}: {str(error)[:200]}"])
        return [_protocol_line(a) for a in answers]

    def _overlong(self) -> list[str]:
        if self._block is not None:
            self._block_problem = self._block_problem or "a data line is too long"
            return []
        raise ProtocolError(f"line too long (over {MAX_LINE_CHARS} characters); no command is that long")

    # -- dispatch --------------------------------------------------------------
    def _dispatch(self, text: str, received: float) -> list[str]:
        if not text:
            return []  # see the module docstring: an unasked-for answer would desynchronise the manager
        parts = text.split(None, 1)
        word, rest = parts[0].upper(), (parts[1] if len(parts) > 1 else "")
        if self._block is not None:
            if word == "DONE":
                return self._with_notes(self._finish_block())
            if word == "END":
                self._reset_block()
                return self._end()
            if word in KNOWN_COMMANDS:
                # The manager gave up on the data: answer the block, then the new command.
                block = self._block
                self._reset_block()
                interrupted = f"ERROR {block} data ended by {word} before DONE; the board is unchanged"
                try:
                    return [interrupted, *self._dispatch(text, received)]
                except ProtocolError as error:
                    return [interrupted, *self._with_notes([f"ERROR {error}"])]
            self._block_data(text)
            return []
        if word == "INFO":
            self._info(rest)
            return []
        if word == "END":
            return self._end()
        if word in BLOCK_COMMANDS:
            if rest:
                raise ProtocolError(f"{word} takes no parameters (the stones follow on their own lines), "
                                    f"got {_shown(rest)}")
            self._block, self._block_lines, self._block_problem, self._block_started = word, [], None, received
            return []
        if word not in KNOWN_COMMANDS:
            return self._with_notes([f"UNKNOWN command {_shown(parts[0])}; azero knows START, RECTSTART, RESTART, "
                                     "BEGIN, TURN, BOARD, TAKEBACK, INFO, ABOUT and END"])
        if word in NOT_IMPLEMENTED:
            return self._with_notes([f"UNKNOWN {word} is not implemented by azero"])
        handler = {"START": self._start, "RECTSTART": self._rectstart, "RESTART": self._restart,
                   "BEGIN": self._begin, "TURN": self._turn, "TAKEBACK": self._takeback,
                   "ABOUT": self._about, "DONE": self._stray_done}[word]
        return self._with_notes(handler(rest, received))

    def _with_notes(self, answers: list[str]) -> list[str]:
        notes, self._notes = self._notes, []
        return notes + answers

    def _end(self) -> list[str]:
        self.finished = True
        return []

    # -- commands --------------------------------------------------------------
    def _start(self, rest: str, received: float) -> list[str]:
        size = self._parse_number(rest, "START needs the board size, like START 15")
        try:
            _coords().check_size(size)
        except ValueError:
            raise ProtocolError(f"unsupported size {size}; azero plays boards from {_coords().MIN_SIZE} to "
                                f"{_coords().MAX_SIZE}") from None
        if not self._covers_size(size):
            sizes = sorted({s for _, s in self._announced_games or ()})
            raise ProtocolError(f"unsupported size {size}; this azero has networks for "
                                f"{', '.join(f'{s}x{s}' for s in sizes)}")
        if self._background is not None:
            self._background.submit(lambda: self._warm_up(size))  # the first move waits for it, not this OK
        else:
            self._warm_up(size)
        self.game = _new_game(size, rule_from_bits(self.rule_bits))
        self._spent_s = 0.0
        self._previous_value = None
        return ["OK"]

    def _rectstart(self, rest: str, received: float) -> list[str]:
        width, height = self._parse_pair(rest, "RECTSTART needs WIDTH,HEIGHT, like RECTSTART 15,15")
        if width != height:
            raise ProtocolError(f"rectangular boards ({width}x{height}) are not supported; azero plays square boards")
        return self._start(str(width), received)

    def _restart(self, rest: str, received: float) -> list[str]:
        self._require_no_parameters("RESTART", rest)
        game = self._require_game()
        self.game = _new_game(game.size, rule_from_bits(self.rule_bits))
        self._spent_s = 0.0
        self._previous_value = None
        return ["OK"]

    def _begin(self, rest: str, received: float) -> list[str]:
        self._require_no_parameters("BEGIN", rest)
        game = self._position_for_move()
        if game.moves:
            raise ProtocolError(f"BEGIN asks for the first move of a game, but {len(game.moves)} stones are on the "
                                "board; send RESTART first, or BOARD for a position")
        return self._our_move(game, received)

    def _turn(self, rest: str, received: float) -> list[str]:
        game = self._position_for_move()
        x, y = self._parse_pair(rest, "TURN needs the opponent's move as X,Y, like TURN 7,7")
        move = self._point(x, y, game.size)
        try:
            game.play(move)
        except ValueError as error:
            raise ProtocolError(f"cannot play the opponent's move {x},{y}: {error}") from None
        if game.is_over:
            raise ProtocolError(f"the opponent's move {x},{y} ends the game ({game.result_text()}); "
                                "there is no move to answer")
        return self._our_move(game, received)

    def _takeback(self, rest: str, received: float) -> list[str]:
        game = self._require_game().copy()
        x, y = self._parse_pair(rest, "TAKEBACK needs the stone to remove as X,Y, like TAKEBACK 7,7")
        move = self._point(x, y, game.size)
        if move not in game.moves:
            raise ProtocolError(f"there is no stone on {x},{y} to take back")
        index = game.moves.index(move)
        if index % 2 != (len(game.moves) - 1) % 2:
            raise ProtocolError(f"the stone on {x},{y} belongs to the side to move; only a stone of the side that "
                                "moved last can be taken back")
        # Usually the last move; after a BOARD in arbitrary order, any stone of the side that moved last.
        black, white = game.moves[0::2], game.moves[1::2]
        (black if index % 2 == 0 else white).remove(move)
        self.game = self._rebuilt(black, white, game.size, game.rule)
        return ["OK"]

    def _about(self, rest: str, received: float) -> list[str]:
        return [ABOUT_LINE]

    def _stray_done(self, rest: str, received: float) -> list[str]:
        raise ProtocolError("DONE without BOARD: DONE ends the stones of a BOARD command")

    # -- BOARD and SWAP2BOARD blocks ------------------------------------------------
    def _reset_block(self) -> None:
        self._block, self._block_lines, self._block_problem = None, [], None

    def _block_data(self, text: str) -> None:
        if self._block_problem is not None or self._block != "BOARD":
            return  # the first problem is the one reported; SWAP2BOARD data is only skipped
        match = _THREE_NUMBERS.match(text)
        if match is None:
            self._block_problem = f"BOARD lines are X,Y,FIELD with FIELD 1 (own) or 2 (opponent), got {_shown(text)}"
            return
        x, y, field = (int(g) for g in match.groups())
        if field not in (1, 2):
            self._block_problem = (f"field {field} in {_shown(text)}: only 1 (own stone) and 2 (opponent's) are "
                                   "supported (3 is for continuous games, which azero does not play)")
            return
        limit = self.game.size if self.game is not None else _coords().MAX_SIZE
        if not (0 <= x < limit and 0 <= y < limit):
            self._block_problem = f"stone {x},{y} is off the {limit}x{limit} board (X and Y run from 0 to {limit - 1})"
            return
        if len(self._block_lines) >= limit * limit:
            self._block_problem = f"more stones than the {limit}x{limit} board has points"
            return
        self._block_lines.append((_coords().from_xy(x, y, limit), field))

    def _finish_block(self) -> list[str]:
        block, stones, problem, received = self._block, self._block_lines, self._block_problem, self._block_started
        self._reset_block()
        if block == "SWAP2BOARD":
            return ["UNKNOWN SWAP2BOARD is not implemented by azero"]
        if problem is not None:
            raise ProtocolError(f"{problem}; the board is unchanged")
        size, rule = self._require_game().size, self._playable_rule()  # a finished game is fine: BOARD replaces it
        position = self._board_position(stones, size, rule)
        if position.is_over:
            raise ProtocolError(f"the position is already over ({position.result_text()}); there is no move to make")
        return self._our_move(position, received)

    def _board_position(self, stones: list[tuple[int, int]], size: int, rule: str) -> Gomoku:
        from games.gomoku import Gomoku

        own = [move for move, field in stones if field == 1]
        theirs = [move for move, field in stones if field == 2]
        if len(own) == len(theirs):
            black, white = own, theirs  # equal counts: black is to move, and we are to move
        elif len(theirs) == len(own) + 1:
            black, white = theirs, own
        else:
            raise ProtocolError(f"impossible position: {len(own)} own stones and {len(theirs)} of the opponent's; "
                                "we are to move, so the opponent has as many stones as we have or one more")
        try:
            # from_stones interleaves each colour's stones in the order given: a properly alternating BOARD
            # keeps its exact move order, so the network sees the real last move.
            return Gomoku.from_stones(black, white, size, rule, GOMOCUP_N_IN_ROW)
        except ValueError as error:
            raise ProtocolError(str(error)) from None

    # -- our move -----------------------------------------------------------------
    def _our_move(self, game: Gomoku, received: float) -> list[str]:
        """Ask the player for a move in ``game`` (a copy), play it, and only then make it the engine's game."""
        from azero.search.time_manager import plan_move

        planned = plan_move(self.timeout_turn_ms, self._match_left_ms(), len(game.moves) // 2, game.size ** 2,
                            self.overhead.margin_s(), self.default_turn_seconds,
                            self.overhead.reserve_per_move_s())
        waited, ready = self._wait_for_players(planned.hard_s - (self.clock() - received) - FALLBACK_RESERVE_S)
        if not ready:
            return self._fallback_move(game, received, waited)
        player, note = self._player_for(game.rule, game.size)
        one_off = waited > 0.001  # the first move after loading pays for kernels loaded in this thread too
        if self.warm_up and (id(player), game.size, game.rule) not in self._warmed:
            self._warm_up(game.size)  # another rule than at START: its kernels load now, and memory is measured again
            one_off = True
        answers = []
        if note and (game.rule, game.size) not in self._noted_stand_ins:
            self._noted_stand_ins.add((game.rule, game.size))
            answers.append(f"MESSAGE {note}")
        max_nodes, memory_note = self._fit_memory(player, game.size)
        if memory_note:
            answers.append(f"MESSAGE {memory_note}")
        planned = dataclasses.replace(planned, max_nodes=max_nodes, previous_value=self._previous_value)
        budget = planned.less(self.clock() - received)  # the wait for the network and the parsing are gone
        started = self.clock()
        if _accepts(player, "budget"):
            chosen = player.choose_moves([game], budget=budget)[0]
        elif _accepts(player, "seconds"):
            chosen = player.choose_moves([game], seconds=budget.soft_s)[0]
        else:
            chosen = player.choose_moves([game])[0]
        thought = self.clock() - started
        move = _coords().whole_number(chosen)
        if move is None or not game.is_legal(move):
            raise RuntimeError(f"player {getattr(player, 'name', player)!r} chose {chosen!r}, not a legal move")
        game.play(move)
        self.game = game
        x, y = _coords().to_xy(move, game.size)
        simulations = getattr(player, "last_simulations", None)
        values = getattr(player, "last_values", None)
        reasons = getattr(player, "last_stop_reasons", None)
        if simulations and values:
            self._previous_value = values[0]
            stopped = f", stopped: {reasons[0]}" if reasons else ""
            answers.append(f"MESSAGE azero: {simulations[0]} simulations in {thought:.2f} s (ordinary "
                           f"{budget.soft_s:.2f} s, limit {budget.hard_s:.2f} s{stopped}), "
                           f"win rate {50 * (values[0] + 1):.0f}% for us")
        answers.append(f"DEBUG {getattr(player, 'name', 'player')}: thought {thought:.3f} s, waited {waited:.3f} s "
                       f"for loading, margin {self.overhead.margin_s():.3f} s, rule {game.rule}")
        answers.append(f"{x},{y}")
        total = self.clock() - received
        self._spent_s += total
        if not one_off:  # loading and warming up happen once: no margin or reserve for every later move
            self.overhead.record(total, thought, budget.hard_s)
        return answers

    def _wait_for_players(self, timeout_s: float | None = None) -> tuple[float, bool]:
        """Wait for the background loading and warm-up, at most ``timeout_s``: (seconds waited, ready).

        A failed load is this move's ERROR.
        """
        if self._background is None:
            return 0.0, True
        began = self.clock()
        try:
            ready = self._background.wait(timeout_s)
        except Exception as error:
            raise ProtocolError(f"the player failed to load: {type(error).__name__}: {str(error)[:200]}") from None
        return self.clock() - began, ready

    def _fallback_move(self, game: Gomoku, received: float, waited: float) -> list[str]:
        """The heuristic's move, for a move whose time runs out before the network has loaded.

        A manager with a short turn limit (1 s) asks for the first move
        before torch has even been imported; losing on time would end the
        game, so the threat-aware heuristic (numba only, milliseconds) plays
        it and says so.
        """
        import numpy as np

        from azero.players.heuristic import heuristic_move

        move = int(heuristic_move(game, np.random.default_rng(len(game.moves))))
        game.play(move)
        self.game = game
        self._spent_s += self.clock() - received
        x, y = _coords().to_xy(move, game.size)
        note = (f"MESSAGE azero: the network is still loading ({waited:.2f} s waited in this move); the heuristic "
                "plays this move")
        return [note, f"{x},{y}"]

    def _playable_rule(self) -> str:
        """Our rule for the INFO rule bits, or ProtocolError for rules we cannot play."""
        if self.rule_bits & ~SUPPORTED_RULE_BITS:
            raise ProtocolError(f"INFO rule {self.rule_bits} is not supported (caro, 8, and unknown bits); azero "
                                "plays freestyle (0), exactly five (1) and renju (4)")
        return rule_from_bits(self.rule_bits)

    def _position_for_move(self) -> Gomoku:
        """A copy of the game under the current INFO rule, ready for a move (ProtocolError if it cannot be)."""
        game = self._require_game()
        rule = self._playable_rule()
        if game.rule != rule:
            # The rule came after the stones (INFO after START); replay them under it.
            self.game = game = self._rebuilt(game.moves[0::2], game.moves[1::2], game.size, rule)
        if game.is_over:
            raise ProtocolError(f"the game is over ({game.result_text()}); send RESTART for a new one, or BOARD")
        return game.copy()

    @staticmethod
    def _rebuilt(black: list[int], white: list[int], size: int, rule: str) -> Gomoku:
        """The position with these stones, in this order, under ``rule`` (ProtocolError if impossible)."""
        from games.gomoku import Gomoku

        try:
            return Gomoku.from_stones(black, white, size, rule, GOMOCUP_N_IN_ROW)
        except ValueError as error:
            raise ProtocolError(f"the stones on the board do not make a {rule} position: {error}") from None

    # -- players ------------------------------------------------------------------
    def _all_players(self) -> list:
        players = list(self.players_by_game.values())
        if self.any_game_player is not None:
            players.append(self.any_game_player)
        unique = {id(p): p for p in players}
        return list(unique.values())

    def _covers_size(self, size: int) -> bool:
        return self._announced_games is None or any(s == size for _, s in self._announced_games)

    def _player_for(self, rule: str, size: int):
        """The player for this game, and a note when it is a stand-in trained for another rule."""
        exact = self.players_by_game.get((rule, size))
        if exact is not None:
            return exact, None
        if self.any_game_player is not None:
            return self.any_game_player, None
        for (other_rule, other_size), player in sorted(self.players_by_game.items()):
            if other_size == size:
                return player, (f"no {rule} network for {size}x{size}; playing {rule} with the {other_rule} one "
                                "(its moves are checked against the real rule)")
        raise ProtocolError(f"no player for {size}x{size}")

    @staticmethod
    def _is_net(player) -> bool:
        return hasattr(player, "simulations") and hasattr(player, "last_values") and hasattr(player, "close")

    def _fit_memory(self, player, size: int) -> tuple[int | None, str | None]:
        """Size a network player's tree to INFO max_memory: (the most tree nodes, or None for no limit; a note).

        The tree's arrays are allocated for :data:`VIRTUAL_OVER_RESIDENT`
        times the nodes memory allows (its simulations are capped to that),
        and the search stops at the nodes themselves (``MoveBudget.max_nodes``).
        A limit that leaves less than :data:`MIN_TREE_BYTES` of tree is said
        in the note (once per limit), and the search keeps that much tree
        anyway: without it the engine would play blind and still not fit.
        """
        if not self._is_net(player):
            return None, None
        wanted = self._configured_simulations.get(id(player), player.simulations)
        max_nodes, note = None, None
        if self.max_memory_bytes > 0:
            radius = getattr(getattr(player, "search_config", None), "move_radius", 0)
            max_nodes = tree_nodes_for_memory(self.max_memory_bytes, self.resident_without_tree)
            smallest = MIN_TREE_BYTES // TREE_BYTES_PER_NODE
            if max_nodes < smallest:
                needed = self.resident_without_tree
                if needed is not None and self._memory_noted != self.max_memory_bytes:
                    self._memory_noted = self.max_memory_bytes
                    note = (f"max_memory {self.max_memory_bytes / 2**20:.0f} MiB is below what azero needs: "
                            f"{needed / 2**20:.0f} MiB without a search tree (measured: Python, numba, torch "
                            f"alone about 200 MiB, the network), {TRANSIENT_BYTES / 2**20:.0f} MiB to search and "
                            f"{MIN_TREE_BYTES / 2**20:.0f} MiB of tree; it searches with that tree anyway")
                max_nodes = smallest
            wanted = min(wanted, simulations_for_nodes(max_nodes, size, radius))
        if player.simulations != wanted:
            player.simulations = wanted
            player.close()  # the next search allocates a tree of the new capacity
        return max_nodes, note

    def _warm_up(self, size: int) -> None:
        """Run the player for this size and the current rule once, so the first real move pays no load time.

        Only the current rule's kernels load: renju's alone add about 45 MB
        to the process, a tenth of a Gomocup memory limit.  The warm-up runs
        on the background thread after the networks load, by which time the
        manager has sent INFO rule (c-gomoku-cli sends it after START); a
        game under another rule loads its kernels in its first move.
        """
        if not self.warm_up:
            return
        rule = rule_from_bits(self.rule_bits) if not self.rule_bits & ~SUPPORTED_RULE_BITS else "freestyle"
        try:
            player, _ = self._player_for(rule, size)
        except ProtocolError:
            return  # nobody plays this size: START refused it already
        # The rule's kernels load from numba's cache on first use (a good part of a second): not in a move.
        for position in (_new_game(size, rule), self._sample_position(size, rule)):
            position.legal_mask()  # black to move on the empty board: renju's forbidden mask
            position.is_legal(0)  # and its single-point check
        if (id(player), size, rule) not in self._warmed:
            self._fit_memory(player, size)
            try:
                sample = self._sample_position(size, rule)
                continued = sample.copy()
                continued.play(continued.legal_moves()[0])
                # The empty board, a position, and that position a move on (tree reuse: advance_root's kernel).
                for game in (_new_game(size, rule), sample, continued):
                    if _accepts(player, "seconds"):
                        player.choose_moves([game], seconds=0.0)  # loads the kernels and runs the net once
                        player.choose_moves([game], seconds=0.05)  # and the clock-driven loop
                    else:
                        player.choose_moves([game])
            except Exception as error:
                traceback.print_exc(file=sys.stderr)
                raise ProtocolError(f"the player for {size}x{size} failed to start: {type(error).__name__}: "
                                    f"{str(error)[:200]}") from None
            self._warmed.add((id(player), size, rule))
            if self._is_net(player):
                player.close()  # the warm-up's tree goes; the real search allocates its own
        release_free_memory()
        self.resident_without_tree = self.measure_memory()

    @staticmethod
    def _sample_position(size: int, rule: str) -> Gomoku:
        """Two stones near the centre, built the way BOARD builds positions, then a third played (warm-up)."""
        from games.gomoku import Gomoku

        centre = size // 2 * (size + 1)
        game = Gomoku.from_stones([centre], [centre + 1], size, rule, GOMOCUP_N_IN_ROW)
        game.play(centre + size)
        return game

    # -- INFO --------------------------------------------------------------------------
    def _info(self, rest: str) -> None:
        parts = rest.split(None, 1)
        if not parts:
            self._notes.append("MESSAGE ignored INFO without a key")
            return
        key, value = parts[0].lower(), (parts[1].strip() if len(parts) > 1 else "")
        if key in ("timeout_turn", "timeout_match", "time_left", "max_memory", "game_type", "rule"):
            match = _ONE_NUMBER.match(value)
            if match is None:
                self._notes.append(f"MESSAGE ignored INFO {key} {_shown(value)}: expected a whole number")
                return
            number = int(match.group(1))
            if number < 0 and key != "time_left":  # time_left may go negative when the brain overruns
                self._notes.append(f"MESSAGE ignored INFO {key} {number}: it cannot be negative")
                return
            if key in ("timeout_turn", "timeout_match", "time_left", "max_memory"):
                number = max(-NO_LIMIT_BEYOND, min(number, NO_LIMIT_BEYOND))
            if key == "timeout_turn":
                self.timeout_turn_ms = number
            elif key == "timeout_match":
                self.timeout_match_ms = number
            elif key == "time_left":
                self.time_left_ms = number
            elif key == "max_memory":
                self.max_memory_bytes = number
            elif key == "game_type":
                self.game_type = number
            else:
                self._set_rule(number)
        # Other keys (evaluate, folder, and any the future brings) are ignored, as the protocol asks.

    def _set_rule(self, bits: int) -> None:
        if bits & RULE_CONTINUOUS and not self.rule_bits & RULE_CONTINUOUS:
            self._notes.append("MESSAGE continuous game (INFO rule 2) is ignored: each game ends at its first five")
        self.rule_bits = bits

    def _match_left_ms(self) -> int | None:
        """Match time left for us: INFO time_left when timed, else timeout_match less our own thinking so far."""
        if self.time_left_ms is not None and self.time_left_ms < UNLIMITED_MS:
            return self.time_left_ms
        if self.time_left_ms is None and self.timeout_match_ms:
            return int(self.timeout_match_ms - 1000 * self._spent_s)
        return None

    # -- parsing --------------------------------------------------------------------------
    def _require_game(self) -> Gomoku:
        if self.game is None:
            raise ProtocolError("no board yet: send START [size] first")
        return self.game

    @staticmethod
    def _require_no_parameters(word: str, rest: str) -> None:
        if rest:
            raise ProtocolError(f"{word} takes no parameters, got {_shown(rest)}")

    @staticmethod
    def _parse_number(rest: str, usage: str) -> int:
        match = _ONE_NUMBER.match(rest)
        if match is None:
            raise ProtocolError(f"{usage}; got {_shown(rest)}")
        return int(match.group(1))

    @staticmethod
    def _parse_pair(rest: str, usage: str) -> tuple[int, int]:
        match = _TWO_NUMBERS.match(rest)
        if match is None:
            raise ProtocolError(f"{usage}; got {_shown(rest)}")
        return int(match.group(1)), int(match.group(2))

    @staticmethod
    def _point(x: int, y: int, size: int) -> int:
        try:
            return _coords().from_xy(x, y, size)
        except ValueError as error:
            raise ProtocolError(str(error)) from None


# -- the process: stdin/stdout, the command line --------------------------------------------


def serve(engine: PbrainEngine, commands: BinaryIO, answers: BinaryIO) -> int:
    """Read commands until END or end of input, writing and flushing every answer at once; returns 0."""
    while not engine.finished:
        raw = commands.readline(MAX_LINE_CHARS + 1)
        if not raw:
            break  # the manager closed our input: nothing more will come
        if len(raw) > MAX_LINE_CHARS and not raw.endswith(b"\n"):
            while True:  # throw away the rest of the over-long line, a bounded piece at a time
                more = commands.readline(MAX_LINE_CHARS + 1)
                if not more or more.endswith(b"\n"):
                    break
            lines = engine.handle_overlong_line()
        else:
            lines = engine.handle(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        if lines:
            answers.write("".join(f"{line}\n" for line in lines).encode("ascii", errors="replace"))
            answers.flush()
            engine.answer_sent()
    return 0


def claim_stdout_for_protocol() -> BinaryIO:
    """A private writer on the real stdout; fd 1 and ``sys.stdout`` now go to stderr.

    Whatever the libraries print (numba warnings, torch notices, a stray
    ``print``) lands on stderr, where managers do not look, instead of
    corrupting the protocol stream.
    """
    sys.stdout.flush()
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(protocol_fd, "wb")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``azero pbrain`` / ``pbrain-azero``."""
    parser.add_argument("--checkpoint", action="append", default=[], metavar="PATH",
                        help="a network to play with; repeat for other board sizes and rules (START picks the one "
                             "trained for the size and rule; the same size under another rule stands in)")
    parser.add_argument("--player", metavar="SPEC",
                        help="play with a player without a network instead: random, heuristic or pure:N")
    parser.add_argument("--sims", type=int, metavar="N",
                        help="most simulations per move (default: as many as the time allows, up to 20000)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="torch threads on the CPU (default: %(default)s; one network call per search step is "
                             "too small to share between threads)")


# A move whose time runs out while the network loads is the heuristic's; it needs this long (its first call
# loads its kernels from numba's cache: about 0.1 s on a busy 2-core machine, 6 ms once games is loaded).
FALLBACK_RESERVE_S = 0.3
# Loading waits for the first answer to go out, or this long when no command comes (see BackgroundWork).
FIRST_ANSWER_HOLD_S = 0.3
# A safetensors file starts with the length of its JSON header; an azero checkpoint's header is a few KiB.
MAX_HEADER_BYTES = 1 << 20
_LIGHT_PLAYER_SPEC = re.compile(r"^(random|heuristic|pure:[0-9]+)$")


def checkpoint_game(given: str) -> tuple[Path, str, int, int]:
    """(file, rule, size, n_in_row) of a checkpoint (or a training run's folder), from its header alone.

    Read without torch, so that the command line is checked and START knows
    the sizes before the networks load; the full check of the file happens
    when it loads.  ValueError says what is wrong.
    """
    path = Path(given)
    if path.is_dir():  # a training run: its latest checkpoint, as azero.model.checkpoint.resolve_checkpoint reads it
        try:
            latest = json.loads((path / "checkpoints" / "latest.json").read_text())
            path = path / "checkpoints" / str(latest["file"])
        except (OSError, ValueError, KeyError, TypeError):
            raise ValueError(f"{given} is a folder but not a training run with a published checkpoint "
                             "(no checkpoints/latest.json); give a .safetensors file") from None
    try:
        with open(path, "rb") as file:
            length = int.from_bytes(file.read(8), "little")
            if not 0 < length <= MAX_HEADER_BYTES:
                raise ValueError("no safetensors header")
            header = json.loads(file.read(length))
        meta = json.loads(header["__metadata__"]["azero"])
        rule, size, n_in_row = meta["rule"], meta["size"], meta["n_in_row"]
        if not (isinstance(rule, str) and isinstance(size, int) and isinstance(n_in_row, int)):
            raise TypeError("rule, size or n_in_row of the wrong type")
    except FileNotFoundError:
        raise ValueError(f"no checkpoint at {path}") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, not a checkpoint file") from None
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a readable azero checkpoint ({str(error)[:80]})") from None
    return path, rule, size, n_in_row


def build_engine(args: argparse.Namespace) -> PbrainEngine:
    """The engine the options describe, its players loading in the background; ValueError for bad options.

    Everything the command line can get wrong is checked here, before the
    first command is read (one line on stderr, status 2); what needs torch
    (the networks' weights) loads on :class:`BackgroundWork`.
    """
    if bool(args.checkpoint) == bool(args.player):
        raise ValueError("give --checkpoint PATH (one or more) or --player SPEC, not both and not neither")
    if args.player:
        if args.sims is not None:
            raise ValueError("--sims applies to --checkpoint networks; pure:N sets its own playouts")
        spec_text = args.player.strip()
        if not _LIGHT_PLAYER_SPEC.match(spec_text):
            from azero.players.net import parse_spec  # numba and all: only on the way to an error message

            parse_spec(spec_text)  # its ValueError names what is wrong
            raise ValueError(f"--player takes random, heuristic or pure:N (networks come with --checkpoint), "
                             f"got {args.player!r}")

        def load_player():
            from azero.players.net import make_player

            return {}, make_player(spec_text)

        return PbrainEngine.loading(load_player, None)
    if args.sims is not None and args.sims < 1:
        raise ValueError(f"--sims must be a positive whole number, got {args.sims}")
    if args.threads < 1:
        raise ValueError(f"--threads must be a positive whole number, got {args.threads}")
    files: dict[tuple[str, int], Path] = {}
    for given in args.checkpoint:
        path, rule, size, n_in_row = checkpoint_game(given)
        if n_in_row != GOMOCUP_N_IN_ROW:
            raise ValueError(f"{path} was trained for {n_in_row} in a row; the Gomocup protocol plays five")
        if (rule, size) in files:
            raise ValueError(f"two checkpoints for {rule} on {size}x{size} ({files[rule, size]} and {path}); "
                             "give one per size and rule")
        files[rule, size] = path
    simulations, device, threads = args.sims, args.device, args.threads

    def load_networks():
        import torch

        from azero.model.network import pick_device
        from azero.players.net import TIME_MODE_MAX_SIMULATIONS, net_player

        # Batch-one evaluations of a small net: several threads spend more time meeting than convolving (and each
        # thread's pool costs memory).
        torch.set_num_threads(threads)
        chosen = str(pick_device(device))
        # Built as the arena and the window build theirs: the same search for this board.
        players = {key: net_player(path, simulations or TIME_MODE_MAX_SIMULATIONS, DEFAULT_TURN_SECONDS,
                                   device=chosen, game=(key[0], key[1], GOMOCUP_N_IN_ROW), name=str(path))
                   for key, path in files.items()}
        release_free_memory()  # the checkpoint's bytes and the unfolded net are garbage now
        return players, None

    return PbrainEngine.loading(load_networks, set(files))


def run(args: argparse.Namespace, prog: str = "pbrain-azero") -> int:
    """Speak the protocol on stdin/stdout until END or end of input: 0; bad options: one line on stderr, 2."""
    answers = claim_stdout_for_protocol()
    try:
        engine = build_engine(args)
    except (ValueError, OSError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    try:
        code = serve(engine, sys.stdin.buffer, answers)
    except (BrokenPipeError, KeyboardInterrupt):
        code = 0  # the manager went away or stopped us: nothing left to answer
    if engine.loading_in_background:
        # END came while torch was still loading: the interpreter must not tear down under that thread's import.
        sys.stderr.flush()
        os._exit(code)
    return code


def main(argv: list[str] | None = None) -> int:
    """The ``pbrain-azero`` command (Gomocup managers want executables named pbrain-*)."""
    from azero.pbrain.one_line_parser import OneLineParser

    parser = OneLineParser(prog="pbrain-azero",
                           description="azero as a Gomocup/Piskvork brain: speaks the pbrain protocol on "
                                       "stdin/stdout.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
