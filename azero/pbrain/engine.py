"""The Gomocup (Piskvork) protocol engine's state machine: one input line in, the answer lines out.

The manager writes one command per line on our stdin and reads our answers
on stdout (protocol by Petr Lastovicka and Martin Petricek, the one Gomocup
uses; the process around this machine is :mod:`azero.pbrain.main`).  What
we answer:

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

The parts, one job each: :mod:`~azero.pbrain.protocol` reads the manager's
untrusted text (commands, numbers, coordinates, BOARD lines, INFO);
:mod:`~azero.pbrain.clock` turns INFO times into each move's budget;
:mod:`~azero.pbrain.memory` sizes the search tree to INFO max_memory;
:mod:`~azero.pbrain.loading` reads the checkpoints' headers and builds the
players on a background thread; this module is the state machine between
them; :mod:`~azero.pbrain.main` is the process (stdin, stdout, options).

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
* **Time** (:mod:`~azero.pbrain.clock`): each move's budget comes from
  ``timeout_turn``, ``timeout_match`` and ``time_left``, less a safety
  margin measured from what every move cost outside its search.
* **Memory** (:mod:`~azero.pbrain.memory`): INFO ``max_memory`` bounds the
  whole process; the tree gets what the warmed-up process does not hold,
  and a limit below what it needs is said in a MESSAGE, naming the ONNX
  export (which runs without torch) as the remedy.
* **Nothing heavy before the first answer** (:mod:`~azero.pbrain.loading`):
  the networks load on a background thread while the engine answers ABOUT,
  INFO and START at once (START checks the size against the checkpoints'
  headers and queues the warm-up); the first move waits for the loading,
  and that wait counts against its time; a move whose time would run out
  first is the heuristic's.
"""

from __future__ import annotations

import dataclasses
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from azero.pbrain.clock import DEFAULT_TURN_SECONDS, MatchClock, loading_wait_s
from azero.pbrain.loading import BackgroundWork, Players
from azero.pbrain.memory import TreeMemory, resident_bytes
from azero.pbrain.protocol import (
    ABOUT_LINE,
    BLOCK_COMMANDS,
    GOMOCUP_N_IN_ROW,
    KNOWN_COMMANDS,
    MAX_LINE_CHARS,
    NOT_IMPLEMENTED,
    RULE_CONTINUOUS,
    SUPPORTED_RULE_BITS,
    ProtocolError,
    board_stone,
    checked_size,
    coords,
    parse_info,
    parse_number,
    parse_pair,
    playable_rule,
    point,
    point_text,
    protocol_line,
    require_no_parameters,
    rule_from_bits,
    shown,
    split_command,
)
from azero.players.protocol import SearchingPlayer

if TYPE_CHECKING:
    from games.gomoku import Gomoku

# Loading waits for the first answer to go out, or this long when no command comes (see BackgroundWork).
FIRST_ANSWER_HOLD_S = 0.3


def load_stand_in_kernels() -> None:
    """Load the kernels the protocol thread needs before any network can play: the rules and the heuristic.

    The first job of the background loading.  Reading BOARD or TURN runs
    the rules' kernels, and a move whose time runs out while the network
    loads is the heuristic's.  After an install or an update numba compiles
    them (seconds), and it compiles under one lock for the whole process:
    left to the first move, they waited behind the search's own compile on
    the background thread, and a cold first move took 6.6 s of a 5 s turn
    (once, 67 s).  Here they compile (or load from the cache, 0.2 s) before
    torch is even imported.  Freestyle's: renju's add 45 MB and load with a
    renju game's first move.
    """
    import numpy as np

    from azero.players.heuristic import heuristic_move
    from games.gomoku import Gomoku

    size = 15
    centre = (size // 2) * (size + 1)
    position = Gomoku.from_stones([centre, centre + 1], [centre + size], size, "freestyle", GOMOCUP_N_IN_ROW)
    position.legal_mask()
    position.play(heuristic_move(position, np.random.default_rng(0)))


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
    at START.  Players come from :mod:`azero.players`; one that takes
    ``budget=`` (a network with search) gets the move's
    :class:`~azero.search.time_manager.MoveBudget`, one that takes ``seconds=``
    its ordinary time.

    :meth:`loading` makes an engine whose players are built on a background
    thread (the command line's engine): it answers at once and the first
    move waits for them.

    ``game`` is the position (a :class:`~games.gomoku.Gomoku`, None before
    START); ``finished`` turns True at END; ``match_clock`` holds the INFO
    times (:class:`~azero.pbrain.clock.MatchClock`), ``memory`` INFO
    max_memory and the measured process (:class:`~azero.pbrain.memory.TreeMemory`).
    """

    def __init__(self, players_by_game: Mapping[tuple[str, int], object] | None = None, any_game_player=None, *,
                 default_turn_seconds: float = DEFAULT_TURN_SECONDS, warm_up: bool = True, clock=time.perf_counter,
                 measure_memory: Callable[[], int | None] = resident_bytes):
        self._setup(default_turn_seconds, warm_up, clock, measure_memory)
        self._take_players(players_by_game, any_game_player)

    @classmethod
    def loading(cls, load_players: Callable[[], Players], games: set[tuple[str, int]] | None,
                **options) -> PbrainEngine:
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
        if engine.warm_up:
            engine._background.submit(load_stand_in_kernels)  # first: see its docstring
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
    def announced_games(self) -> set[tuple[str, int]] | None:
        """The (rule, size) pairs the players cover, known before they load (None: any game)."""
        return None if self._announced_games is None else set(self._announced_games)

    @property
    def loading_in_background(self) -> bool:
        """Is the background thread still loading or warming up?"""
        return self._background is not None and self._background.busy

    def _take_players(self, players_by_game, any_game_player) -> None:
        self.players_by_game = dict(players_by_game or {})
        self.any_game_player = any_game_player
        if not self.players_by_game and any_game_player is None:
            raise ValueError("a pbrain engine needs at least one player")
        self._configured_simulations = {id(p): p.simulations for p in self._all_players() if isinstance(p, SearchingPlayer)}
        self._announced_games = None if any_game_player is not None else set(self.players_by_game)

    def _setup(self, default_turn_seconds: float, warm_up: bool, clock, measure_memory) -> None:
        self.players_by_game: dict[tuple[str, int], object] = {}
        self.any_game_player = None
        self._configured_simulations: dict[int, int] = {}
        self._announced_games: set[tuple[str, int]] | None = None  # what START may accept (None: any size)
        self._background: BackgroundWork | None = None
        self.warm_up = warm_up
        self.clock = clock
        self.game: Gomoku | None = None
        self.finished = False
        # INFO settings (kept across START and RESTART, as managers send them once).
        self.rule_bits = 0
        self.game_type: int | None = None
        self.match_clock = MatchClock(default_turn_seconds)
        self.memory = TreeMemory(measure_memory)
        self._notes: list[str] = []  # MESSAGE lines waiting for the next answer (INFO must not answer)
        self._block: str | None = None  # BOARD or SWAP2BOARD while their data lines come in
        self._block_lines: list[tuple[int, int]] = []
        self._block_problem: str | None = None
        self._block_started = 0.0
        self._warmed: set[tuple[int, int, str]] = set()  # (id(player), size, rule) already run once
        self._noted_stand_ins: set[tuple[str, int]] = set()  # games told that another rule's network plays
        self._previous_value: float | None = None  # our last move's root value, for the win-rate swing

    # -- the one entry point ------------------------------------------------------
    def handle(self, line: str, received: float | None = None) -> list[str]:
        """The output lines for one input line (none for INFO, END, empty lines and BOARD data).

        ``received``: when the line arrived, on :attr:`clock` (None: now).  A
        reader that knows it read the line late (:mod:`azero.pbrain.stall_watch`)
        passes the earlier time, and a move counts its time from there.
        """
        if self.finished:
            return []
        text = line.strip()
        if len(text) > MAX_LINE_CHARS:
            return self.handle_overlong_line(received)
        return self._guarded(lambda received: self._dispatch(text, received), received)

    def handle_overlong_line(self, received: float | None = None) -> list[str]:
        """The answer to a line longer than MAX_LINE_CHARS (a reader may cut it and throw the rest away)."""
        if self.finished:
            return []
        return self._guarded(lambda received: self._overlong(), received)

    def _guarded(self, command, received: float | None = None) -> list[str]:
        """Run one command; a refusal or a bug becomes one ERROR line and the engine goes on."""
        received = self.clock() if received is None else min(received, self.clock())
        try:
            answers = command(received)
        except ProtocolError as error:
            answers = self._with_notes([f"ERROR {error}"])
        except Exception as error:  # a bug must cost one answer, never the engine (a manager would forfeit us)
            traceback.print_exc(file=sys.stderr)
            self._reset_block()
            answers = self._with_notes([f"ERROR internal error: {type(error).__name__}: {str(error)[:200]}"])
        return [protocol_line(a) for a in answers]

    def _overlong(self) -> list[str]:
        if self._block is not None:
            self._block_problem = self._block_problem or "a data line is too long"
            return []
        raise ProtocolError(f"line too long (over {MAX_LINE_CHARS} characters); no command is that long")

    # -- dispatch --------------------------------------------------------------
    def _dispatch(self, text: str, received: float) -> list[str]:
        if not text:
            return []  # see the module docstring: an unasked-for answer would desynchronise the manager
        word, rest = split_command(text)
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
                                    f"got {shown(rest)}")
            self._block, self._block_lines, self._block_problem, self._block_started = word, [], None, received
            return []
        if word not in KNOWN_COMMANDS:
            unknown = (f"UNKNOWN command {shown(text.split(None, 1)[0])}; azero knows START, RECTSTART, RESTART, "
                       "BEGIN, TURN, BOARD, TAKEBACK, INFO, ABOUT and END")
            return self._with_notes([unknown])
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
        size = checked_size(parse_number(rest, "START needs the board size, like START 15"))
        if not self._covers_size(size):
            sizes = sorted({s for _, s in self._announced_games or ()})
            raise ProtocolError(f"unsupported size {size}; this azero has networks for "
                                f"{', '.join(f'{s}x{s}' for s in sizes)}")
        if self._background is not None and not self._warm_for(size):
            self._background.submit(lambda: self._warm_up(size))  # the first move waits for it, not this OK
        else:
            # Warm already (a new game): what is left, dropping the last game's tree and measuring the process,
            # takes milliseconds and happens here, so that no background work holds Python's lock while the
            # manager's clock runs on the first move (it cost 0.14 s of a 5 s move under c-gomoku-cli).
            self._warm_up(size)
        self.game = _new_game(size, rule_from_bits(self.rule_bits))
        self.match_clock.new_match()
        self._previous_value = None
        return ["OK"]

    def _rectstart(self, rest: str, received: float) -> list[str]:
        width, height = parse_pair(rest, "RECTSTART needs WIDTH,HEIGHT, like RECTSTART 15,15")
        if width != height:
            raise ProtocolError(f"rectangular boards ({width}x{height}) are not supported; azero plays square boards")
        return self._start(str(width), received)

    def _restart(self, rest: str, received: float) -> list[str]:
        require_no_parameters("RESTART", rest)
        game = self._require_game()
        self.game = _new_game(game.size, rule_from_bits(self.rule_bits))
        self.match_clock.new_match()
        self._previous_value = None
        return ["OK"]

    def _begin(self, rest: str, received: float) -> list[str]:
        require_no_parameters("BEGIN", rest)
        game = self._position_for_move()
        if game.moves:
            raise ProtocolError(f"BEGIN asks for the first move of a game, but {len(game.moves)} stones are on the "
                                "board; send RESTART first, or BOARD for a position")
        return self._our_move(game, received)

    def _turn(self, rest: str, received: float) -> list[str]:
        game = self._position_for_move()
        x, y = parse_pair(rest, "TURN needs the opponent's move as X,Y, like TURN 7,7")
        move = point(x, y, game.size)
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
        x, y = parse_pair(rest, "TAKEBACK needs the stone to remove as X,Y, like TAKEBACK 7,7")
        move = point(x, y, game.size)
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

    # -- INFO --------------------------------------------------------------------------
    def _info(self, rest: str) -> None:
        try:
            setting = parse_info(rest)
        except ProtocolError as problem:
            self._notes.append(f"MESSAGE {problem}")
            return
        if setting is None:
            return  # other keys (evaluate, folder, and any the future brings) are ignored, as the protocol asks
        key, number = setting
        if key in ("timeout_turn", "timeout_match", "time_left"):
            self.match_clock.set(key, number)
        elif key == "max_memory":
            self.memory.max_memory_bytes = number
        elif key == "game_type":
            self.game_type = number
        else:
            self._set_rule(number)

    def _set_rule(self, bits: int) -> None:
        if bits & RULE_CONTINUOUS and not self.rule_bits & RULE_CONTINUOUS:
            self._notes.append("MESSAGE continuous game (INFO rule 2) is ignored: each game ends at its first five")
        self.rule_bits = bits

    # -- BOARD and SWAP2BOARD blocks ------------------------------------------------
    def _reset_block(self) -> None:
        self._block, self._block_lines, self._block_problem = None, [], None

    def _block_data(self, text: str) -> None:
        if self._block_problem is not None or self._block != "BOARD":
            return  # the first problem is the one reported; SWAP2BOARD data is only skipped
        limit = self.game.size if self.game is not None else coords().MAX_SIZE
        try:
            stone = board_stone(text, limit)
        except ProtocolError as problem:
            self._block_problem = str(problem)
            return
        if len(self._block_lines) >= limit * limit:
            self._block_problem = f"more stones than the {limit}x{limit} board has points"
            return
        self._block_lines.append(stone)

    def _finish_block(self) -> list[str]:
        block, stones, problem, received = self._block, self._block_lines, self._block_problem, self._block_started
        self._reset_block()
        if block == "SWAP2BOARD":
            return ["UNKNOWN SWAP2BOARD is not implemented by azero"]
        if problem is not None:
            raise ProtocolError(f"{problem}; the board is unchanged")
        # A finished game is fine: BOARD replaces it.
        size, rule = self._require_game().size, playable_rule(self.rule_bits)
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
        planned = self.match_clock.plan(len(game.moves), game.size ** 2)
        waited, ready = self._wait_for_players(loading_wait_s(planned.hard_s - (self.clock() - received)))
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
        if isinstance(player, SearchingPlayer):
            chosen = player.choose_moves([game], budget=budget)[0]
        else:  # a player without a search (heuristic, random) takes no time to speak of
            chosen = player.choose_moves([game])[0]
        thought = self.clock() - started
        move = coords().whole_number(chosen)
        if move is None or not game.is_legal(move):
            raise RuntimeError(f"player {player.name!r} chose {chosen!r}, not a legal move")
        game.play(move)
        self.game = game
        if isinstance(player, SearchingPlayer) and player.last_simulations and player.last_values:
            self._previous_value = player.last_values[0]
            reasons = player.last_stop_reasons
            stopped = f", stopped: {reasons[0]}" if reasons else ""
            answers.append(f"MESSAGE azero: {player.last_simulations[0]} simulations in {thought:.2f} s (ordinary "
                           f"{budget.soft_s:.2f} s, limit {budget.hard_s:.2f} s{stopped}), "
                           f"win rate {50 * (player.last_values[0] + 1):.0f}% for us")
        answers.append(f"DEBUG {player.name}: thought {thought:.3f} s, waited {waited:.3f} s "
                       f"for loading, margin {self.match_clock.overhead.margin_s():.3f} s, rule {game.rule}")
        answers.append(point_text(move, game.size))
        total = self.clock() - received
        self.match_clock.spend(total)
        if not one_off:  # loading and warming up happen once: no margin or reserve for every later move
            self.match_clock.record(total, thought, budget.hard_s,
                                    player.least_search_s if isinstance(player, SearchingPlayer) else None)
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
        self.match_clock.spend(self.clock() - received)
        note = (f"MESSAGE azero: the network is still loading ({waited:.2f} s waited in this move); the heuristic "
                "plays this move")
        return [note, point_text(move, game.size)]

    def _require_game(self) -> Gomoku:
        if self.game is None:
            raise ProtocolError("no board yet: send START [size] first")
        return self.game

    def _position_for_move(self) -> Gomoku:
        """A copy of the game under the current INFO rule, ready for a move (ProtocolError if it cannot be)."""
        game = self._require_game()
        rule = playable_rule(self.rule_bits)
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

    def _fit_memory(self, player, size: int) -> tuple[int | None, str | None]:
        """Size a network player's tree to INFO max_memory (:meth:`TreeMemory.fit`): (the most tree nodes, a note).

        The player's simulations (the tree's arrays) are set to what memory
        allows, the configured number when there is no limit; a change
        drops its tree, so the next search allocates one of the new size.
        """
        if not isinstance(player, SearchingPlayer):
            return None, None
        wanted = self._configured_simulations.get(id(player), player.simulations)
        max_nodes, wanted, note = self.memory.fit(wanted, size, player.search_config.move_radius, player.name)
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
        rule = self._warm_up_rule()
        try:
            player, _ = self._player_for(rule, size)
        except ProtocolError:
            return  # nobody plays this size: START refused it already
        # The rule's kernels load from numba's cache on first use (a good part of a second): not in a move.
        for position in (_new_game(size, rule), self._sample_position(size, rule)):
            position.legal_mask()  # black to move on the empty board: renju's forbidden mask
            position.is_legal(0)  # and its single-point check
        warming = (id(player), size, rule) not in self._warmed
        if warming:
            self._fit_memory(player, size)
            try:
                sample = self._sample_position(size, rule)
                continued = sample.copy()
                continued.play(continued.legal_moves()[0])
                # The empty board, a position, and that position a move on (tree reuse: advance_root's kernel).
                for game in (_new_game(size, rule), sample, continued):
                    if isinstance(player, SearchingPlayer):
                        player.choose_moves([game], seconds=0.0)  # loads the kernels and runs the net once
                        player.choose_moves([game], seconds=0.05)  # and the clock-driven loop
                    else:
                        player.choose_moves([game])
            except Exception as error:
                traceback.print_exc(file=sys.stderr)
                raise ProtocolError(f"the player for {size}x{size} failed to start: {type(error).__name__}: "
                                    f"{str(error)[:200]}") from None
            self._warmed.add((id(player), size, rule))
        # Every tree goes before the process is measured without one: the warm-up's, and the last game's (a new
        # game cannot reuse it); the real search allocates its own.
        for each in self._all_players():
            if isinstance(each, SearchingPlayer):
                each.close()
        # A warm-up leaves Python garbage (cycles) behind; a dropped tree is freed at once (numpy arrays), and
        # collecting every START would cost a busy process tens of milliseconds for nothing.
        self.memory.measure_without_tree(collect_garbage=warming)

    def _warm_up_rule(self) -> str:
        """The rule a warm-up loads: the current INFO rule, or freestyle's kernels when the rule is not playable."""
        return rule_from_bits(self.rule_bits) if not self.rule_bits & ~SUPPORTED_RULE_BITS else "freestyle"

    def _warm_for(self, size: int) -> bool:
        """Are the players loaded and the one for ``size`` under the current rule warmed up?"""
        if self._background is not None and self._background.busy:
            return False
        rule = self._warm_up_rule()
        try:
            player, _ = self._player_for(rule, size)
        except ProtocolError:
            return False
        return (id(player), size, rule) in self._warmed

    @staticmethod
    def _sample_position(size: int, rule: str) -> Gomoku:
        """Two stones near the centre, built the way BOARD builds positions, then a third played (warm-up)."""
        from games.gomoku import Gomoku

        centre = size // 2 * (size + 1)
        game = Gomoku.from_stones([centre], [centre + 1], size, rule, GOMOCUP_N_IN_ROW)
        game.play(centre + size)
        return game
