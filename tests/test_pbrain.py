"""The Gomocup protocol: the engine (azero.pbrain.engine) under scripted and hostile managers, and the client player."""

from __future__ import annotations

import io
import queue
import random
import re
import subprocess
import sys
import threading
import time

import pytest
from fake_players import FirstPointSearcher
from tiny_nets import tiny_checkpoint as save_tiny_checkpoint

from azero import __version__
from azero.arena.match import play_games
from azero.pbrain.clock import MatchClock
from azero.pbrain.engine import PbrainEngine
from azero.pbrain.main import build_engine, parse_arguments, serve
from azero.pbrain.memory import (
    MIN_TREE_BYTES,
    TRANSIENT_BYTES,
    TREE_BYTES_PER_NODE,
    simulations_for_nodes,
    tree_nodes_for_memory,
)
from azero.pbrain.protocol import ABOUT_LINE, rule_from_bits
from azero.players.pbrain_client import PbrainError, PbrainPlayer, _board_payload
from azero.players.simple import HeuristicPlayer, RandomPlayer
from games import coords
from games.constants import BLACK, DRAW, WHITE
from games.gomoku import Gomoku

ENGINE = [sys.executable, "-m", "azero.pbrain"]
FINAL_ANSWER = re.compile(r"^(OK|ERROR .+|UNKNOWN .+|\d{1,2},\d{1,2})$")
INFORMATION = re.compile(r"^(MESSAGE|DEBUG)( .*)?$")


# -- helpers ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """A randomly initialised 9x9 freestyle network, small enough to evaluate in microseconds."""
    return save_tiny_checkpoint(tmp_path_factory.mktemp("pbrain") / "tiny9.safetensors", size=9, n_in_row=5)


def net_engine(checkpoint, sims: int = 200) -> PbrainEngine:
    engine = build_engine(parse_arguments(["--checkpoint", str(checkpoint), "--sims", str(sims)]))
    engine.wait_until_ready()  # the networks load on a background thread
    return engine


def heuristic_engine() -> PbrainEngine:
    return PbrainEngine(any_game_player=HeuristicPlayer(seed=1))


def final(lines: list[str]) -> list[str]:
    """The answers proper: what is left without MESSAGE and DEBUG lines."""
    return [line for line in lines if not INFORMATION.match(line)]


def send(engine: PbrainEngine, *lines: str) -> list[str]:
    """All output for a few input lines, checked to be well-formed protocol lines."""
    out = []
    for line in lines:
        answers = engine.handle(line)
        for answer in answers:
            assert answer.isascii() and answer.isprintable(), answer
            assert FINAL_ANSWER.match(answer) or INFORMATION.match(answer) or answer == ABOUT_LINE, answer
            assert "internal error" not in answer, (line, answer)
        out.extend(answers)
    return out


def board_lines(stones: list[tuple[int, int, int]]) -> list[str]:
    return ["BOARD", *(f"{x},{y},{field}" for x, y, field in stones), "DONE"]


def xy(answer: str) -> tuple[int, int]:
    x, y = answer.split(",")
    return int(x), int(y)


class CornerPlayer:
    """Always the first legal point in reading order: predictable, and far from the fights in the tests."""

    name = "corner"

    def choose_moves(self, games):
        return [game.legal_moves()[0] for game in games]

    def close(self):
        pass


# -- the time budget and small pure functions ---------------------------------------------------


def test_rule_bits_and_memory_arithmetic():
    assert rule_from_bits(0) == "freestyle" and rule_from_bits(1) == "standard" and rule_from_bits(3) == "standard"
    assert rule_from_bits(4) == "renju" and rule_from_bits(5) == "renju"
    # The tree gets what the process does not already hold, less room for a move's passing allocations.
    assert tree_nodes_for_memory(400 * 2**20, 300 * 2**20) == (100 * 2**20 - TRANSIENT_BYTES) // TREE_BYTES_PER_NODE
    assert tree_nodes_for_memory(300 * 2**20, 350 * 2**20) == 0
    assert tree_nodes_for_memory(100 * 2**20, None) > 0  # unmeasurable: a share of the limit
    assert simulations_for_nodes(10**6, 20) < simulations_for_nodes(10**6, 9)
    assert simulations_for_nodes(0, 15) == 0


def test_unlimited_time_left_and_own_clock():
    engine = heuristic_engine()
    send(engine, "INFO time_left 2147483647")
    assert engine.match_clock.match_left_ms() is None  # the "unlimited" value is not a clock
    engine = heuristic_engine()
    send(engine, "INFO timeout_match 60000")
    assert engine.match_clock.match_left_ms() == 60000  # no time_left: our own thinking is counted against the match


# -- scripted managers -------------------------------------------------------------------------------


def test_a_whole_session_with_every_command():
    engine = heuristic_engine()
    assert send(engine, "ABOUT") == [f'name="azero", version="{__version__}", author="azero developers"']
    assert send(engine, "START 15") == ["OK"]
    assert send(engine, "INFO timeout_turn 1000", "INFO timeout_match 60000", "INFO max_memory 83886080",
                "INFO game_type 1", "INFO rule 0", "INFO folder C:\\tmp", "INFO evaluate 3,4", "INFO brand_new 1") == []
    (first,) = final(send(engine, "BEGIN"))
    assert engine.game.moves == [coords.from_xy(*xy(first), 15)]
    (second,) = final(send(engine, "TURN 0,0"))
    assert len(engine.game.moves) == 3 and engine.game.last_move == coords.from_xy(*xy(second), 15)
    assert send(engine, f"TAKEBACK {second}") == ["OK"]
    assert send(engine, "TAKEBACK 0,0") == ["OK"]
    assert len(engine.game.moves) == 1
    assert send(engine, "RESTART") == ["OK"]
    assert engine.game.moves == [] and engine.game.size == 15
    (answer,) = final(send(engine, *board_lines([(7, 7, 1), (8, 8, 2)])))
    assert engine.game.moves[:2] == [coords.from_xy(7, 7, 15), coords.from_xy(8, 8, 15)]
    assert engine.game.last_move == coords.from_xy(*xy(answer), 15)
    win = [(x, 0, 1) for x in range(4)] + [(x, 8, 2) for x in range(4)]
    assert final(send(engine, *board_lines(win))) == ["4,0"]  # five: the game is over ...
    assert final(send(engine, "TURN 14,14"))[0].startswith("ERROR the game is over")
    assert FINAL_ANSWER.match(final(send(engine, *board_lines([(7, 7, 2)])))[0])  # ... and BOARD starts afresh
    assert send(engine, "rectstart 9,9") == ["OK"]  # commands in any case
    assert engine.game.size == 9 and not engine.game.moves
    assert send(engine, "END") == []
    assert engine.finished and send(engine, "ABOUT") == []


def test_refusals_get_one_error_each_and_the_engine_goes_on():
    engine = heuristic_engine()
    assert final(send(engine, "BEGIN"))[0].startswith("ERROR no board")  # before START
    assert final(send(engine, "TURN 3,3"))[0].startswith("ERROR no board")
    assert final(send(engine, "RESTART"))[0].startswith("ERROR")
    assert final(send(engine, "TAKEBACK 1,1"))[0].startswith("ERROR")
    assert final(send(engine, *board_lines([(1, 1, 1)])))[0].startswith("ERROR no board")
    for bad_start in ("START 30", "START 4", "START", "START fifteen", "START 15 15", "RECTSTART 10,12", "RECTSTART 9"):
        assert [a[:5] for a in send(engine, bad_start)] == ["ERROR"], bad_start
    assert engine.game is None
    assert send(engine, "START 9") == ["OK"]
    (first,) = final(send(engine, "BEGIN"))
    before = engine.game.moves.copy()
    for bad in (f"TURN {first}", "TURN 9,0", "TURN -1,2", "TURN 1", "TURN 1,2,3", "TURN a,b", "TURN", "BEGIN",
                "TAKEBACK 0,0", "TAKEBACK 1,x", "DONE", "RESTART now"):
        (answer,) = send(engine, bad)
        assert answer.startswith("ERROR "), (bad, answer)
        assert engine.game.moves == before, bad  # a refused command changes nothing
    for unknown in ("FOO", "SUGGEST 1,1", "PLAY 1,1", "MESSAGE hi", "\x00\x01\xff garbage", "é"):
        (answer,) = send(engine, unknown)
        assert answer.startswith("UNKNOWN "), (unknown, answer)
    assert send(engine, "", "   ", "\r") == []  # blank lines are ignored, never answered
    assert final(send(engine, "X" * 5000))[0].startswith("ERROR line too long")
    (reply,) = final(send(engine, "TURN 0,0"))  # still playing
    assert FINAL_ANSWER.match(reply) and not reply.startswith(("ERROR", "UNKNOWN"))


def test_impossible_or_malformed_boards_are_refused_whole():
    engine = heuristic_engine()
    send(engine, "START 9")
    cases = {
        "counts": [(0, 0, 1), (1, 1, 1)],  # we are to move, so we cannot have more stones than the opponent
        "counts2": [(0, 0, 2), (1, 1, 2), (2, 2, 2)],
        "twice": [(0, 0, 1), (0, 0, 2)],
        "both five": [(0, y, 1) for y in range(5)] + [(2, y, 2) for y in range(5)],
        "finished": [(0, y, 2) for y in range(5)] + [(2, y, 1) for y in range(4)],
        "field 3": [(0, 0, 3)],
        "off board": [(9, 0, 1)],
    }
    for name, stones in cases.items():
        (answer,) = final(send(engine, *board_lines(stones)))
        assert answer.startswith("ERROR "), (name, answer)
        assert engine.game.moves == [], name
    for garbage in ("1,2", "a,b,c", "1,1,1,1", "-1,0,1"):
        (answer,) = send(engine, "BOARD", garbage, "DONE")
        assert answer.startswith("ERROR "), garbage
    # A manager that gives up on BOARD half way gets the BOARD refused and its next command answered.
    assert send(engine, "BOARD", "1,1,1", "START 9") == [
        "ERROR BOARD data ended by START before DONE; the board is unchanged", "OK"]
    # SWAP2BOARD's stones are read and the whole command answered once, UNKNOWN.
    assert send(engine, "SWAP2BOARD", "7,7", "8,7", "DONE") == ["UNKNOWN SWAP2BOARD is not implemented by azero"]


def test_board_in_move_order_keeps_that_order_so_the_last_move_is_known():
    engine = PbrainEngine(any_game_player=CornerPlayer())
    send(engine, "START 15")
    stones = [(7, 7, 2), (8, 7, 1), (6, 6, 2), (9, 9, 1), (8, 8, 2)]  # the opponent opened: we are white
    send(engine, *board_lines(stones))
    assert engine.game.moves[:5] == [coords.from_xy(x, y, 15) for x, y, _ in stones]
    assert engine.game.board[coords.from_xy(7, 7, 15)] == BLACK


def test_info_is_never_answered_and_its_problems_come_with_the_next_answer():
    engine = heuristic_engine()
    assert send(engine, "INFO", "INFO timeout_turn soon", "INFO max_memory -5", "INFO rule 2") == []
    lines = send(engine, "START 9")
    assert lines[-1] == "OK" and len(lines) == 5
    assert all(line.startswith("MESSAGE ") for line in lines[:-1])
    assert send(engine, "INFO rule 8") == []  # caro: refused when a move is asked for
    (answer,) = send(engine, "BEGIN")
    assert answer.startswith("ERROR ") and "caro" in answer
    assert send(engine, "INFO rule 1") == []
    assert final(send(engine, "BEGIN"))[0][0].isdigit()
    assert engine.game.rule == "standard"


def test_rule_after_the_stones_replays_them_under_the_new_rule():
    engine = PbrainEngine(any_game_player=CornerPlayer())
    send(engine, "START 9", "BEGIN", "TURN 4,4")
    assert engine.game.rule == "freestyle"
    send(engine, "INFO rule 4", "TURN 5,5")
    assert engine.game.rule == "renju" and len(engine.game.moves) == 5


# The renju position: black (to move) has threes along row 4 and column 4 that (4,4) turns into a double four.
RENJU_BLACK = [(2, 4), (3, 4), (5, 4), (4, 1), (4, 2), (4, 3)]
RENJU_WHITE = [(0, 8), (8, 8), (8, 0), (0, 0), (1, 7), (7, 7)]
DOUBLE_FOUR = (4, 4)


def test_renju_forbids_blacks_double_four_to_the_engine_and_to_the_opponent(tiny_checkpoint):
    stones = [(x, y, 1) for x, y in RENJU_BLACK] + [(x, y, 2) for x, y in RENJU_WHITE]
    freestyle = heuristic_engine()
    send(freestyle, "START 9")
    assert xy(final(send(freestyle, *board_lines(stones)))[0]) == DOUBLE_FOUR  # the best point, where allowed
    for engine in (heuristic_engine(), net_engine(tiny_checkpoint)):
        send(engine, "START 9", "INFO timeout_turn 200", "INFO rule 4")
        (answer,) = final(send(engine, *board_lines(stones)))
        assert xy(answer) != DOUBLE_FOUR and engine.game.rule == "renju"
    # The opponent is black now: its TURN onto the forbidden point is refused.
    engine = PbrainEngine(any_game_player=CornerPlayer())
    send(engine, "START 9", "INFO rule 4")
    theirs = [(x, y, 2) for x, y in RENJU_BLACK] + [(x, y, 1) for x, y in RENJU_WHITE[:-1]]
    assert final(send(engine, *board_lines(theirs))) == ["1,0"]  # our corner move
    (answer,) = send(engine, "TURN 4,4")
    assert answer.startswith("ERROR ") and "forbidden" in answer
    assert final(send(engine, "TURN 4,5")) == ["2,0"]


def test_network_engine_completes_its_five_and_blocks_a_four(tiny_checkpoint):
    engine = net_engine(tiny_checkpoint)
    send(engine, "START 9", "INFO timeout_turn 200")
    engine.wait_until_ready()  # START's warm-up runs in the background; 200 ms would not wait for it
    scattered = [(0, 0), (8, 8), (8, 0), (0, 8)]
    ours = [(x, 4, 1) for x in range(1, 5)] + [(x, y, 2) for x, y in scattered]
    lines = send(engine, *board_lines(ours))
    assert xy(final(lines)[0]) in {(0, 4), (5, 4)}
    assert any(line.startswith("MESSAGE azero: ") and "win rate" in line for line in lines)
    theirs = [(x, 4, 2) for x in range(1, 5)] + [(0, 4, 1), (8, 8, 1), (0, 8, 1)]
    send(engine, "RESTART")
    assert xy(final(send(engine, *board_lines(theirs)))[0]) == (5, 4)


def TreeSizeRecorder(simulations: int) -> FirstPointSearcher:
    """A network player's face that records the budgets it is given (its tree is sized by the engine)."""
    return FirstPointSearcher("tree-size-recorder", simulations)


def memory_engine(resident_mib: int, player) -> PbrainEngine:
    """An engine whose process "holds" ``resident_mib`` MiB without a tree (the measurement is replaced)."""
    return PbrainEngine({("freestyle", 9): player}, measure_memory=lambda: resident_mib * 2**20)


def test_max_memory_sizes_the_tree_from_what_the_process_does_not_hold():
    player = TreeSizeRecorder(20000)
    engine = memory_engine(300, player)
    send(engine, "START 9", "INFO timeout_turn 100", f"INFO max_memory {400 * 2**20}", "BEGIN")
    assert engine.memory.resident_without_tree == 300 * 2**20  # measured after the warm-up at START
    nodes = (100 * 2**20 - TRANSIENT_BYTES) // TREE_BYTES_PER_NODE
    assert player.budgets[-1].max_nodes == nodes  # the search stops there
    assert player.simulations == min(20000, simulations_for_nodes(nodes, 9))  # and the arrays are sized to it
    send(engine, "INFO max_memory 0", "TURN 8,8")
    assert player.budgets[-1].max_nodes is None and player.simulations == 20000  # no limit: as configured


def test_a_new_game_measures_the_process_without_the_last_games_tree():
    player = TreeSizeRecorder(20000)
    engine = PbrainEngine({("freestyle", 9): player},
                          measure_memory=lambda: (300 + 60 * player.holds_tree) * 2**20)  # a tree: 60 MiB more
    send(engine, "START 9", f"INFO max_memory {400 * 2**20}", "BEGIN", "TURN 0,0")
    assert player.holds_tree  # the game's search left its tree for the next move to reuse
    send(engine, "START 9")  # a new game: that tree is of no use, and not part of what the process needs
    assert engine.memory.resident_without_tree == 300 * 2**20 and not player.holds_tree
    send(engine, "BEGIN")
    assert player.budgets[-1].max_nodes == (100 * 2**20 - TRANSIENT_BYTES) // TREE_BYTES_PER_NODE  # as large as before


def test_a_new_game_leaves_no_background_work_running_into_its_first_move():
    loader = GatedLoader()
    loader.gate.set()
    engine = PbrainEngine.loading(loader, {("freestyle", 9)})
    send(engine, "START 9")
    engine.wait_until_ready()
    send(engine, "BEGIN")
    assert send(engine, "START 9") == ["OK"]
    assert not engine.loading_in_background  # warm already: the new game's set-up was done before the OK


def test_a_limit_below_what_the_process_needs_is_said_once_and_a_small_tree_kept():
    player = TreeSizeRecorder(20000)
    engine = memory_engine(355, player)
    lines = send(engine, "START 9", f"INFO max_memory {350 * 2**20}", "BEGIN")
    notes = [line for line in lines if line.startswith("MESSAGE max_memory")]
    assert len(notes) == 1 and "355 MiB without a search tree" in notes[0], lines
    assert player.budgets[-1].max_nodes == MIN_TREE_BYTES // TREE_BYTES_PER_NODE
    lines = send(engine, "TURN 8,8")
    moves = [budget for budget in player.budgets if budget is not None]  # the warm-up's calls have none
    assert len(moves) == 2 and not any(line.startswith("MESSAGE max_memory") for line in lines)  # once per limit


# -- a fuzzing manager -------------------------------------------------------------------------------


def random_line(rng: random.Random, size: int) -> list[str]:
    """One command (or a BOARD block): valid, nearly valid, or garbage."""
    point = lambda: f"{rng.randrange(-1, size + 1)},{rng.randrange(-1, size + 1)}"
    kind = rng.random()
    if kind < 0.25:
        return [f"TURN {point()}"]
    if kind < 0.35:
        count = rng.randrange(0, 8)
        stones = [f"{point()},{rng.choice([1, 2, 1, 2, 3])}" for _ in range(count)]
        if rng.random() < 0.1:
            stones.insert(rng.randrange(len(stones) + 1), rng.choice(["x", "1,1", "", "START 9", "INFO rule 4"]))
        return ["BOARD", *stones, rng.choice(["DONE"] * 8 + ["done", "DONE now"])]
    if kind < 0.42:
        return [rng.choice(["BEGIN", "RESTART", "ABOUT", "begin", "DONE", "BEGIN 1"])]
    if kind < 0.50:
        return [rng.choice(["START 5", "START 9", "START 9", "START 15", "START 20", "START 4", "START 21", "START 0",
                            "START -3", "START x", "RECTSTART 9,9", "RECTSTART 9,10"])]
    if kind < 0.60:
        key = rng.choice(["timeout_turn", "timeout_match", "time_left", "max_memory", "rule", "rule", "game_type",
                          "folder", "evaluate", "zzz"])
        if key == "rule":  # mostly rules we play, so that games go on
            value = rng.choice(["0", "0", "1", "4", "4", "5", "2", "8", "x"])
        else:
            value = rng.choice(["0", "1", "30", "-1", "abc", "", "99999999999", "2147483647"])
        return [f"INFO {key} {value}".strip()]
    if kind < 0.70:
        return [f"TAKEBACK {point()}"]
    if kind < 0.80:
        return [rng.choice(["TURN", "TURN 1", "TURN ,", "TURN 1,,2", "TAKEBACK", "PLAY 1,1", "SWAP2BOARD",
                            "SUGGEST 2,2", "OK", "ERROR x", "", "   ", "\t", "7,7", "1,1,1"])]
    if kind < 0.95:
        length = rng.choice([1, 3, 10, 80, 2000])
        return ["".join(chr(rng.randrange(0, 0x250)) for _ in range(length)).replace("\n", " ")]
    return ["START 9", "INFO timeout_turn 0"]


@pytest.mark.parametrize("player, rounds", [("heuristic", 5000), ("network", 2000)])
def test_fuzzing_manager_gets_only_protocol_lines_and_legal_moves(player, rounds, tiny_checkpoint):
    rng = random.Random(20240601)
    if player == "heuristic":
        engine = PbrainEngine(any_game_player=HeuristicPlayer(seed=3))
    else:
        engine = net_engine(tiny_checkpoint, sims=50)  # 9x9 only: other sizes must be refused at START
    moves_played = commands = 0
    for _ in range(rounds):
        size = engine.game.size if engine.game is not None else 9
        for line in random_line(rng, size):
            before = engine.game.copy() if engine.game is not None else None
            answers = send(engine, line)  # checks every line's form
            commands += 1
            proper = final(answers)
            assert len(proper) <= 2, (line, answers)
            moves = [a for a in proper if re.match(r"^\d+,\d+$", a)]
            if moves:
                (move,) = moves
                game = engine.game
                played = coords.from_xy(*xy(move), game.size)
                assert game.last_move == played
                position = game.copy()
                position.undo()
                assert position.is_legal(played), (line, move)
                moves_played += 1
            elif proper and proper[-1].startswith(("ERROR", "UNKNOWN")) and len(proper) == 1 and before is not None:
                assert engine.game is not None
                assert bytes(engine.game.board) == bytes(before.board), line  # refusals change nothing
    assert not engine.finished
    assert moves_played > rounds / 10 and commands > rounds
    send(engine, "END")
    assert engine.finished


def test_reader_cuts_huge_lines_and_survives_bytes_that_are_not_text():
    commands = io.BytesIO(b"START 9\r\n" + b"A" * 100_000 + b"\r\n" + b"\xff\xfe\x00\x80 \xc3(\r\n" + b"B" * 5000
                          + b"\nBEGIN\r\nEND\r\nABOUT\r\n")
    answers = io.BytesIO()
    assert serve(heuristic_engine(), commands, answers) == 0
    lines = answers.getvalue().decode("ascii").split("\n")
    proper = final([line for line in lines if line])
    assert proper[0] == "OK"
    assert proper[1].startswith("ERROR line too long") and proper[2].startswith("UNKNOWN ")
    assert proper[3].startswith("ERROR line too long") and re.match(r"^\d,\d$", proper[4])
    assert len(proper) == 5  # nothing after END


# -- the engine as a process ---------------------------------------------------------------------------


class EngineProcess:
    """``python -m azero.pbrain ...`` with a thread reading its stdout, so every wait has a timeout."""

    def __init__(self, args: list[str], stderr_path):
        self.stderr_file = open(stderr_path, "wb")
        self.process = subprocess.Popen(ENGINE + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.stderr_file)
        self.lines: queue.Queue = queue.Queue()
        self.all_output: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.process.stdout:
            self.all_output.append(raw)
            self.lines.put(raw.decode("latin-1").rstrip("\r\n"))
        self.lines.put(None)

    def ask(self, *commands: str, timeout: float = 120.0) -> tuple[list[str], float]:
        """Send commands; collect output up to the first answer proper; (lines, seconds it took)."""
        started = time.perf_counter()
        self.process.stdin.write("".join(f"{c}\r\n" for c in commands).encode())
        self.process.stdin.flush()
        lines = []
        while True:
            line = self.lines.get(timeout=timeout)
            assert line is not None, f"the engine exited; got {lines}"
            lines.append(line)
            if not INFORMATION.match(line):
                return lines, time.perf_counter() - started

    def finish(self, command: bytes = b"END\r\n", timeout: float = 30.0) -> int:
        try:
            self.process.stdin.write(command)
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.process.kill()
            self.stderr_file.close()


def test_engine_process_keeps_time_and_stdout_clean(tiny_checkpoint, tmp_path):
    engine = EngineProcess(["--checkpoint", str(tiny_checkpoint)], tmp_path / "stderr.txt")
    assert engine.ask("START 9")[0] == ["OK"]  # may compile the search kernels: generous timeout
    engine.process.stdin.write(b"INFO timeout_turn 300\r\nINFO timeout_match 0\r\nINFO rule 0\r\n")
    lines, _ = engine.ask("BEGIN", timeout=30)
    taken = {lines[-1]}
    for _ in range(4):
        ours = next(f"{x},{y}" for y in range(9) for x in range(9) if f"{x},{y}" not in taken)
        taken.add(ours)
        lines, seconds = engine.ask(f"TURN {ours}", timeout=30)
        assert re.match(r"^\d,\d$", lines[-1]) and lines[-1] not in taken, lines
        taken.add(lines[-1])
        assert seconds < 5 * 0.3, f"answered in {seconds:.2f} s with timeout_turn 300 ms"
    assert engine.ask("ABOUT")[0] == [ABOUT_LINE]
    assert engine.ask("FOO")[0][-1].startswith("UNKNOWN")
    assert engine.finish() == 0
    output = b"".join(engine.all_output).decode("ascii")
    for line in output.splitlines():
        assert FINAL_ANSWER.match(line) or INFORMATION.match(line) or line == ABOUT_LINE, line


NOISY_ENGINE = """
import os, sys, warnings
import azero.players.simple as players
plain = players.HeuristicPlayer.choose_moves
def noisy(self, games):
    print("print() noise")
    os.write(1, b"fd 1 noise\\n")
    warnings.warn("a library warning")
    return plain(self, games)
players.HeuristicPlayer.choose_moves = noisy
from azero.pbrain.main import main
sys.exit(main(["--player", "heuristic"]))
"""


def test_nothing_printed_by_libraries_reaches_the_manager(tmp_path):
    done = subprocess.run([sys.executable, "-c", NOISY_ENGINE], input=b"START 9\nBEGIN\nTURN 0,0\nEND\n",
                          capture_output=True, timeout=120)
    assert done.returncode == 0
    answers = [line for line in done.stdout.decode().splitlines() if not INFORMATION.match(line)]
    assert answers[0] == "OK" and len(answers) == 3 and all(re.match(r"^\d,\d$", a) for a in answers[1:])
    assert b"noise" not in done.stdout
    assert b"print() noise" in done.stderr and b"fd 1 noise" in done.stderr


def test_end_of_input_without_end_exits_cleanly():
    done = subprocess.run(ENGINE + ["--player", "random"], input=b"START 9\r\nBEGIN\r\n", capture_output=True,
                          timeout=120)
    assert done.returncode == 0
    assert done.stdout.decode().splitlines()[0] == "OK"


@pytest.mark.parametrize("args, complaint", [
    ([], "give --checkpoint"),
    (["--player", "heuristic", "--checkpoint", "x.safetensors"], "not both"),
    (["--player", "az:x.safetensors"], "--player takes random, heuristic or pure:N"),
    (["--player", "nonsense"], "unknown player"),
    (["--player", "heuristic", "--sims", "5"], "--sims applies to --checkpoint"),
    (["--checkpoint", "no-such-file.safetensors"], "no checkpoint at"),
    (["--sims", "many"], "invalid int value"),
])
def test_bad_command_lines_get_one_line_and_status_2(args, complaint):
    done = subprocess.run(ENGINE + args, input=b"", capture_output=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == b""
    message = done.stderr.decode().strip()
    assert complaint in message and len(message.splitlines()) == 1, message


# -- PbrainPlayer: other engines as players -----------------------------------------------------------


def test_pbrain_player_plays_a_match_against_random(tmp_path):
    player = PbrainPlayer(f"{sys.executable} -m azero.pbrain --player heuristic", turn_ms=2000,
                          stderr=tmp_path / "engines.log")
    try:
        openings = [[40], [40], [30, 31], [30, 31]]
        results = play_games(player, RandomPlayer(seed=5), openings, [WHITE, BLACK, BLACK, WHITE], 9, "freestyle", 5)
        assert 2 <= len(player._slots) <= 4  # one engine per game asked at once, reused between moves
    finally:
        player.close()
    assert len(results) == 4
    for record in results:
        assert record.reason in ("five", "full"), (record.reason, record.detail)
        replay = Gomoku.from_moves(record.game.moves, 9, "freestyle", 5)  # every move was legal
        assert replay.winner == record.winner
    assert sum(r.winner == r.first_colour for r in results if r.winner != DRAW) >= 3  # the heuristic beats random
    assert player._slots == []


FAKE_ENGINE = """
import sys, time
mode = sys.argv[1]
if mode == "dead":
    sys.exit(3)
for line in sys.stdin:
    word = line.split()[0].upper() if line.strip() else ""
    if word == "START":
        print("ERROR no such board here" if mode == "refuse" else "OK", flush=True)
    elif word == "RESTART":
        print("UNKNOWN" if mode == "no-restart" else "OK", flush=True)
    elif word == "END":
        break
    elif word == "DONE":
        if mode == "garbage":
            print("MESSAGE thinking hard\\r\\nDEBUG still thinking\\r\\nhello there", flush=True)
        elif mode == "offboard":
            print("9,0", flush=True)
        elif mode == "sleep":
            time.sleep(60)
        elif mode == "exit":
            sys.exit(1)
        elif mode in ("no-restart", "corner"):
            print("MESSAGE fine", flush=True)
            sys.stdout.write("0,0\\r")  # a bare CR ends a line too
            sys.stdout.flush()
"""


@pytest.fixture
def fake_engine(tmp_path):
    script = tmp_path / "fake_engine.py"
    script.write_text(FAKE_ENGINE)
    return lambda mode: f"{sys.executable} {script} {mode}"


@pytest.mark.parametrize("mode, reason", [("garbage", "illegal"), ("offboard", "illegal"), ("sleep", "timeout"),
                                          ("exit", "crash"), ("dead", "crash")])
def test_misbehaving_engines_forfeit_and_the_match_finishes(fake_engine, mode, reason):
    player = PbrainPlayer(fake_engine(mode), turn_ms=200, grace_s=0.5, start_timeout_s=20)
    started = time.perf_counter()
    try:
        results = play_games(player, RandomPlayer(seed=1), [[], [40]], [BLACK, BLACK], 9, "freestyle", 5)
    finally:
        player.close()
    assert [r.reason for r in results] == [reason, reason]
    assert all(r.winner == WHITE and r.detail for r in results)
    assert time.perf_counter() - started < 30


def test_engines_that_cannot_restart_are_run_again(fake_engine):
    player = PbrainPlayer(fake_engine("no-restart"), turn_ms=500, start_timeout_s=20)
    try:
        game = Gomoku(9)
        assert player.choose_moves([game]) == [0]
        first_process = player._slots[0].process
        game.play(40)
        assert player.choose_moves([game]) == [0]  # RESTART refused: a fresh process, START, then the BOARD
        assert player._slots[0].process is not first_process
        assert first_process.poll() is not None
    finally:
        player.close()


def test_board_size_refused_raises_and_bad_commands_are_clear(fake_engine):
    player = PbrainPlayer(fake_engine("refuse"), start_timeout_s=20)
    with pytest.raises(PbrainError, match="refused a 9x9 board"):
        player.choose_moves([Gomoku(9)])
    player.close()
    with pytest.raises(PbrainError, match="cannot run"):
        PbrainPlayer("/no/such/engine").choose_moves([Gomoku(9)])
    with pytest.raises(PbrainError, match="empty"):
        PbrainPlayer("   ")


def test_board_is_sent_in_move_order_relative_to_the_side_to_move():
    game = Gomoku.from_moves([40, 41, 30], 9)  # white to move: the engine's stones are white's
    assert _board_payload(game) == b"BOARD\n4,4,2\n5,4,1\n3,3,2\nDONE\n"


def test_new_board_size_or_rule_starts_a_new_engine(fake_engine):
    player = PbrainPlayer(fake_engine("corner"), turn_ms=500, start_timeout_s=20)
    try:
        assert player.choose_moves([Gomoku(9)]) == [0]
        nine = player._slots[0].process
        assert player.choose_moves([Gomoku(11, "renju")]) == [0]
        assert player._slots[0].process is not nine and player._slots[0].key == (11, "renju")
        # An occupied point is on the board, so it is passed on: the match judges legality (and renju's fouls).
        assert player.choose_moves([Gomoku.from_moves([0], 11, "renju")]) == [0]
    finally:
        player.close()


def test_the_protocol_engine_searches_as_the_arena_and_the_window_do(tmp_path):
    """Issue 21's drift: pbrain built its own net player with another search (no move radius on 15x15)."""
    from azero.players.factory import make_player

    path = save_tiny_checkpoint(tmp_path / "big.safetensors", size=15, n_in_row=5)
    engine = build_engine(parse_arguments(["--checkpoint", str(path), "--sims", "64"]))
    engine.wait_until_ready()
    engine_player = next(iter(engine.players_by_game.values()))
    arena_player = make_player(f"az:{path}:sims=64")
    assert engine_player.search_config == arena_player.search_config
    assert engine_player.search_config.move_radius > 0  # the big-board search the presets train with


# -- nothing heavy before the first answer; the clock -------------------------------------------------------


def test_importing_the_protocol_engine_loads_no_numpy_numba_or_torch():
    code = "import sys, azero.pbrain.main; print(sorted(m for m in ('numpy', 'numba', 'torch') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120, check=True)
    assert done.stdout.decode().strip() == "[]"


class GatedLoader:
    """A player loader that blocks until the test opens the gate (a network that takes its time to load)."""

    def __init__(self, fail: bool = False):
        self.gate = threading.Event()
        self.started = threading.Event()
        self.fail = fail

    def __call__(self):
        self.started.set()
        self.gate.wait()
        if self.fail:
            raise OSError("the checkpoint vanished")
        return {("freestyle", 9): CornerPlayer()}, None


def test_about_info_and_start_are_answered_while_the_players_load():
    loader = GatedLoader()
    engine = PbrainEngine.loading(loader, {("freestyle", 9)})
    assert send(engine, "ABOUT") == [ABOUT_LINE]
    engine.answer_sent()  # what serve does after writing: the loading may start now
    assert loader.started.wait(60)
    assert send(engine, "INFO timeout_turn 600000", "START 9") == ["OK"]  # ten minutes: no heuristic stand-in
    assert final(send(engine, "START 15"))[0].startswith("ERROR unsupported size 15")  # known from the headers
    assert engine.loading_in_background
    moves = queue.Queue()
    thread = threading.Thread(target=lambda: moves.put(send(engine, "BEGIN")))
    thread.start()
    thread.join(0.2)
    assert thread.is_alive() and moves.empty()  # the first move waits for the players
    loader.gate.set()
    thread.join(60)
    lines = moves.get_nowait()
    assert final(lines) == ["0,0"]
    assert any("waited" in line for line in lines)  # the wait is reported, and counted against the move's time
    from azero.search.time_manager import INITIAL_OVERHEAD_S

    assert engine.match_clock.overhead.worst_s == INITIAL_OVERHEAD_S  # a one-off: not an overhead later moves keep a margin for


def test_a_network_that_fails_to_load_makes_every_move_an_error_and_the_engine_goes_on():
    loader = GatedLoader(fail=True)
    loader.gate.set()
    engine = PbrainEngine.loading(loader, {("freestyle", 9)})
    assert send(engine, "START 9") == ["OK"]
    for _ in range(2):
        (answer,) = final(send(engine, "BEGIN"))
        assert answer.startswith("ERROR the player failed to load: OSError: the checkpoint vanished")
    assert send(engine, "ABOUT") == [ABOUT_LINE]


STAND_IN_KERNELS_FIRST = """
from azero.pbrain.engine import PbrainEngine
from azero.players.heuristic import heuristic_scores
from games.lines import is_winning_move

seen = {}
def load_networks():  # what the network's loader would find compiled when it starts
    seen["rules"], seen["heuristic"] = len(is_winning_move.signatures), len(heuristic_scores.signatures)
    raise OSError("no network here")
engine = PbrainEngine.loading(load_networks, {("freestyle", 15)})
engine.answer_sent()
try:
    engine.wait_until_ready()
except Exception:
    pass
print(seen["rules"], seen["heuristic"])
"""


def test_the_rules_and_the_stand_in_load_before_the_network():
    # numba compiles under one lock for the whole process: a cold first move waited behind the search's compile
    # for the rules (reading BOARD) and the heuristic (standing in for the network), and ran out of time.
    done = subprocess.run([sys.executable, "-c", STAND_IN_KERNELS_FIRST], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    rules, heuristic = map(int, done.stdout.split())
    assert rules >= 1 and heuristic >= 1


def test_loading_waits_for_the_first_answer_to_go_out():
    from azero.pbrain.loading import BackgroundWork

    work = BackgroundWork(hold_s=3600)
    ran = threading.Event()
    work.submit(ran.set)
    assert not ran.wait(0.2) and work.busy
    work.go()
    assert ran.wait(60)
    work.wait()
    assert not work.busy


def test_a_match_clock_gives_moves_an_ordinary_time_and_a_longer_limit_within_the_turn_limit():
    player = FirstPointSearcher("budget-recorder")
    engine = PbrainEngine({("freestyle", 15): player})
    send(engine, "START 15", "INFO timeout_turn 5000", "INFO timeout_match 60000", "INFO time_left 60000", "BEGIN")
    first = player.budgets[-1]
    assert 1.5 < first.soft_s < first.hard_s < 5 and not first.stop_when_decided
    send(engine, "INFO time_left 6000", "TURN 0,1")
    late = player.budgets[-1]
    assert late.hard_s <= 0.25 * 6  # little left: a small share of it, never the turn limit
    send(engine, "INFO time_left 2147483647", "TURN 0,2")  # no match clock: think to the turn limit
    assert player.budgets[-1].soft_s == player.budgets[-1].hard_s > 4.5


def test_prepare_plays_a_move_of_each_network_s_game_and_says_how_long_it_took(tiny_checkpoint):
    # `pbrain-azero --prepare`, run once after an install: numba caches the search, so a manager's first game
    # is the network's from its first move instead of the heuristic's for a minute or two.
    from azero.pbrain.main import prepare

    engine = build_engine(parse_arguments(["--checkpoint", str(tiny_checkpoint), "--sims", "8", "--prepare"]))
    report = io.StringIO()
    assert prepare(engine, report) == 0
    assert re.fullmatch(r"pbrain-azero: freestyle 9x9 ready in \d+\.\d s\n", report.getvalue())
    assert engine.finished and engine.game is not None and len(engine.game.moves) == 1


def test_prepare_fails_with_the_reason_when_a_network_cannot_load():
    from azero.pbrain.main import prepare

    loader = GatedLoader(fail=True)
    loader.gate.set()
    report = io.StringIO()
    assert prepare(PbrainEngine.loading(loader, {("freestyle", 9)}), report) == 1
    assert "freestyle 9x9: ERROR the player failed to load: OSError: the checkpoint vanished" in report.getvalue()


def test_the_flat_clock_gives_every_move_a_twentieth_of_what_is_left_with_no_extension(tiny_checkpoint):
    # `pbrain-azero --clock flat`: the rule before the time manager, the baseline of docs/engine.md's matches.
    engine = build_engine(parse_arguments(["--checkpoint", str(tiny_checkpoint), "--sims", "8", "--clock", "flat"]))
    engine.wait_until_ready()
    assert engine.match_clock.rule == "flat"
    player = FirstPointSearcher("budget-recorder")
    engine = PbrainEngine({("freestyle", 15): player})
    engine.match_clock = MatchClock(rule="flat")
    send(engine, "START 15", "INFO timeout_turn 5000", "INFO timeout_match 60000", "INFO time_left 60000", "BEGIN")
    first = player.budgets[-1]
    assert first.soft_s == first.hard_s and not first.stop_when_decided
    assert first.hard_s == pytest.approx(60 / 20 * 0.95 - 0.08, abs=0.05)  # less what reading the command took
    send(engine, "INFO time_left 6000", "TURN 0,1")
    assert player.budgets[-1].hard_s == pytest.approx(6 / 20 * 0.95 - 0.08, abs=0.05)
    with pytest.raises(ValueError, match="clock rule"):
        MatchClock(rule="fast")


def test_a_move_waits_for_the_loading_network_as_long_as_the_stand_in_can_still_answer():
    from azero.pbrain.clock import loading_wait_s

    assert loading_wait_s(0.5) == pytest.approx(0.2)  # a short move keeps the stand-in's own 0.3 s
    assert loading_wait_s(1.8) == pytest.approx(0.9)  # half of a 2 s move: torch's import may hold the lock that long
    assert loading_wait_s(4.9) == pytest.approx(3.4)  # a 5 s move waits for the network that loads in 1.5-3 s
    assert loading_wait_s(29.9) == pytest.approx(28.4)


def test_a_move_whose_time_runs_out_while_the_network_loads_is_the_heuristics():
    loader = GatedLoader()  # never opened before the answer: the network is "still loading" throughout
    engine = PbrainEngine.loading(loader, {("freestyle", 9)})
    lines = send(engine, "START 9", "INFO timeout_turn 2000", "BEGIN")
    (note,) = [line for line in lines if "still loading" in line and "heuristic" in line]
    # Half the move is left for the stand-in: torch's import in the background may hold Python's lock that long.
    assert float(re.search(r"\(([\d.]+) s waited", note).group(1)) <= 1.0, note
    (move,) = final(lines)[1:]
    assert engine.game.moves == [coords.from_xy(*xy(move), 9)]
    loader.gate.set()
    engine.wait_until_ready()
    assert final(send(engine, "TURN 0,0"))[0] == "1,0"  # the network's player (the corner) plays from now on
