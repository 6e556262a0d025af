"""A command read after the interpreter stalled counts its time from the stall (azero.pbrain.stall_watch).

Four engines starting cold on two cores lost a game on time: torch's
libraries load with Python's lock held, the manager's line waited unread,
and the engine counted its move from the moment it read it.
"""

from __future__ import annotations

import ctypes
import io
import os
import re
import subprocess
import threading
import time

import pytest

from azero.pbrain.engine import PbrainEngine
from azero.pbrain.main import serve
from azero.pbrain.stall_watch import CHAIN_S, STALL_S, StallRecord, StallWatch
from tests.test_pbrain import GatedLoader, final, send


def beats(record: StallRecord, *times: float) -> None:
    for now in times:
        record.beat(now)


def test_a_line_read_with_no_stall_counts_from_when_it_was_read():
    record = StallRecord(0.0)
    beats(record, *[0.01 * i for i in range(1, 101)])  # a steady beat up to 1.0
    assert record.arrival(0.2, 1.0) == 1.0


def test_a_line_read_right_after_a_stall_counts_from_the_stall_s_start():
    record = StallRecord(0.0)
    beats(record, 0.01, 0.02, 1.52, 1.53)  # nothing ran between 0.02 and 1.52
    assert record.arrival(0.0, 1.53) == pytest.approx(0.02)
    assert record.arrival(0.5, 1.53) == 0.5  # never before the read began: the line cannot be older than that


def test_a_stall_long_before_the_line_does_not_date_it():
    record = StallRecord(0.0)
    beats(record, 0.01, 1.0, *[1.0 + 0.01 * i for i in range(1, 200)])  # a stall, then two seconds of beats
    assert record.arrival(0.0, 2.99) == 2.99


def test_stalls_in_a_row_count_from_the_first():
    record = StallRecord(0.0)
    short_gap = CHAIN_S / 2
    beats(record, 0.5, 0.5 + short_gap, 1.5, 1.5 + short_gap, 2.5)  # three stalls with short runs between them
    assert record.arrival(0.0, 2.5) == pytest.approx(0.0)


def test_a_stall_still_going_on_when_the_reader_wakes_counts_from_the_last_beat():
    record = StallRecord(0.0)
    beats(record, 0.01, 0.02)  # the reader got the lock back before the beat did
    assert record.arrival(0.0, 0.02 + 3 * STALL_S) == pytest.approx(0.02)
    assert record.arrival(0.0, 0.02 + STALL_S / 2) == pytest.approx(0.02 + STALL_S / 2)  # an ordinary wait


def test_a_stopped_watch_dates_lines_when_they_are_read():
    watch = StallWatch()
    watch.stop()
    time.sleep(3 * STALL_S)
    assert not watch.running
    now = time.perf_counter()
    assert watch.arrival(now - 10, now) == now


class RecordingEngine:
    """What serve needs of an engine, keeping when each line was received."""

    def __init__(self, loading: bool = True):
        self.clock = time.perf_counter
        self.finished = False
        self.loading_in_background = loading
        self.received: list[tuple[str, float | None, float]] = []  # (line, received as given, handled at)

    def handle(self, line: str, received: float | None = None) -> list[str]:
        self.received.append((line, received, self.clock()))
        self.finished = line == "END"
        return ["OK"] if line != "END" else []

    def handle_overlong_line(self, received: float | None = None) -> list[str]:
        return []

    def answer_sent(self) -> None:
        pass


def hold_the_interpreter_lock(seconds: float) -> None:
    """Keep Python's lock for ``seconds`` in one C call, as opening torch's libraries does (blocked on the disk)."""
    ctypes.PyDLL(None).usleep(int(seconds * 1_000_000))  # a PyDLL call keeps the lock, unlike ctypes' CDLL calls


def test_serve_dates_a_line_that_waited_unread_behind_a_held_interpreter_lock():
    read_end, write_end = os.pipe()
    engine = RecordingEngine()
    watch = StallWatch(engine.clock)
    # The manager is another process: its line arrives while a thread of ours holds the lock, whoever runs first.
    manager = subprocess.Popen(["sh", "-c", "sleep 0.6; printf 'BEGIN\\nEND\\n'"], stdout=write_end)
    os.close(write_end)
    held = {}

    def loader():  # as torch's libraries load: one long call that never lets the lock go
        time.sleep(0.2)
        held["from"] = time.perf_counter()
        hold_the_interpreter_lock(2.0)
        held["to"] = time.perf_counter()

    thread = threading.Thread(target=loader)
    thread.start()
    with os.fdopen(read_end, "rb") as commands:
        serve(engine, commands, io.BytesIO(), watch)
    thread.join()
    manager.wait()
    (line, received, handled), _ = engine.received
    assert line == "BEGIN"
    assert handled - held["from"] > 1.5, "the lock was not held: nothing to date"
    assert received is not None and received - held["from"] < 0.2  # counted from the stall's start, not the read
    assert watch.running  # still loading: the watch goes on


def test_serve_stops_the_watch_once_nothing_loads():
    engine = RecordingEngine(loading=False)
    watch = StallWatch(engine.clock)
    serve(engine, io.BytesIO(b"START 15\nEND\n"), io.BytesIO(), watch)
    assert not watch.running
    assert engine.received[0][1] is not None


def test_a_move_dated_earlier_leaves_the_loading_network_less_time_to_wait():
    # A 5 s turn whose line waited 4 s unread: the stand-in must answer at once, not wait 3 s more for the network.
    engine = PbrainEngine.loading(GatedLoader(), {("freestyle", 9)})
    send(engine, "START 9", "INFO timeout_turn 5000")
    began = time.perf_counter()
    lines = engine.handle("BEGIN", received=began - 4.0)
    assert time.perf_counter() - began < 1.0
    (note,) = [line for line in lines if "still loading" in line]
    assert float(re.search(r"\(([\d.]+) s waited", note).group(1)) < 0.5
    assert len(final(lines)) == 1 and engine.game is not None and len(engine.game.moves) == 1
