"""When did a command really arrive?  Stalls of the whole interpreter, noticed while the network loads.

A move's time counts from the moment the manager sent it, but the engine
can only look at the clock once it has read the line.  While torch loads on
the background thread its libraries are opened with Python's global lock
held, for up to seconds at a time on a busy 2-core machine; a line that
arrives then waits, unread, until the lock is free, and the engine would
count its move from too late and could overrun the turn (a suspect when
four engines starting cold at once lost a game on time; a held lock delays
a line by as long, measured in tests/test_pbrain_stall_watch.py).

:class:`StallWatch` runs a thread that beats every :data:`BEAT_S`; when
one beat comes over :data:`STALL_S` after the one before, nothing in the
process ran Python in between (the lock was held, or the machine gave us
no CPU), and :class:`StallRecord` keeps that stall.  A line read right
after a stall is counted from the stall's start (:meth:`StallRecord.arrival`):
it may have arrived then, and a move that starts its clock too early only
thinks a little less.  The watch runs only while the background loading
does (:func:`azero.pbrain.main.serve` stops it); after that nothing in the
process holds the lock for long.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

BEAT_S = 0.01
# Gaps shorter than this are ordinary scheduling, and the measured safety margin pays for them.
STALL_S = 0.1
# Stalls this close together are one: a read that waits through several counts from the first.
CHAIN_S = 0.1
KEPT_STALLS = 64


class StallRecord:
    """The beats seen and the stalls between them; :meth:`arrival` dates a line read after them.

    Kept apart from the thread so that the dating rule can be checked with
    made-up times.
    """

    def __init__(self, now: float):
        self._last_beat = now
        self._stalls: deque[tuple[float, float]] = deque(maxlen=KEPT_STALLS)  # (began, ended), oldest first
        self._lock = threading.Lock()

    def beat(self, now: float) -> None:
        with self._lock:
            if now - self._last_beat > STALL_S:
                self._stalls.append((self._last_beat, now))
            self._last_beat = now

    def arrival(self, read_began: float, read_ended: float) -> float:
        """The earliest moment a line read between ``read_began`` and ``read_ended`` may have arrived.

        ``read_ended`` when nothing stalled just before it; else the start of
        the chain of stalls that ended at the read (a stall still going on,
        from the beat's point of view, counts from the last beat) — never
        before the read began.
        """
        with self._lock:
            arrived = read_ended
            if read_ended - self._last_beat > STALL_S:  # the reader got the lock back before the beat did
                arrived = self._last_beat
            for began, ended in reversed(self._stalls):
                if ended < arrived - CHAIN_S:
                    break
                arrived = min(arrived, began)
            return max(read_began, min(arrived, read_ended))


class StallWatch:
    """A daemon thread beating into a :class:`StallRecord` until :meth:`stop`."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.clock = clock
        self.record = StallRecord(clock())
        self._stopped = threading.Event()
        threading.Thread(target=self._beat, name="azero-stall-watch", daemon=True).start()

    def _beat(self) -> None:
        while not self._stopped.wait(BEAT_S):
            self.record.beat(self.clock())

    def arrival(self, read_began: float, read_ended: float) -> float:
        """:meth:`StallRecord.arrival` while beating; once stopped, ``read_ended`` (no beats, no stalls seen)."""
        return self.record.arrival(read_began, read_ended) if self.running else read_ended

    def stop(self) -> None:
        self._stopped.set()

    @property
    def running(self) -> bool:
        return not self._stopped.is_set()
