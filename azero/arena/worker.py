"""What runs inside an arena worker: the game kinds and tasks, playing a task's games, storing each one.

The run (:mod:`azero.arena.tournament`) schedules and hands out :class:`Task` s; a
worker process (local, or a Ray task in :mod:`azero.arena.ray_backend`) plays
them here.  Kept apart from the scheduling so both backends depend on this
module and neither on the other.  Workers end with their run, even one
killed with kill -9 (:func:`_die_with_parent`).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass

from azero.arena.store import ArenaStore
from games.constants import BLACK

PARENT_POLL_S = 0.5  # how often a worker looks whether its run is still there
ORPHAN_GRACE_S = 5.0  # an orphaned worker's time to close its engines before it is ended outright
EXIT_TERMINATED = 143  # a worker ended from outside (as a shell reports SIGTERM)
PR_SET_PDEATHSIG = 1  # Linux prctl option: a signal for this process when its parent dies


@dataclass(frozen=True)
class GameKind:
    rule: str
    size: int
    n_in_row: int

    @property
    def tag(self) -> str:
        return f"{self.rule}/{self.size}/{self.n_in_row}"


@dataclass(frozen=True)
class ScheduledGame:
    key: str
    first: str  # spec of the player whose colour is first_colour
    second: str
    first_colour: int
    opening: tuple[int, ...]


@dataclass
class Task:
    """Games of one pairing for one worker."""

    first: str
    second: str
    kind: GameKind
    games: list[ScheduledGame]
    db_path: str
    turn_ms: int
    device: str
    seed: int


_worker_store: ArenaStore | None = None
_leaving = False  # this worker has been told to end


def _init_worker(parent_pid: int | None = None) -> None:
    """Worker processes: one torch thread (the processes are the parallelism), Ctrl-C handled by the parent.

    ``parent_pid``, the run's process, makes the worker end when that process does (see :func:`_die_with_parent`).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _leave)
    if parent_pid is not None:
        _die_with_parent(parent_pid)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def _leave(*_) -> None:
    """Told to end (SIGTERM): leave through the finally blocks, so outside engines are ended too.

    Only once: a second signal must not cut that leaving short.
    """
    global _leaving
    if not _leaving:
        _leaving = True
        sys.exit(EXIT_TERMINATED)


def _die_with_parent(parent_pid: int) -> None:
    """End this worker when the run that started it ends, even by kill -9, which leaves nobody to end it.

    Otherwise an orphaned worker plays its task to the end, storing games
    nobody asked for, and then waits for more work forever.  On Linux the
    kernel signals the worker when its parent dies (prctl PR_SET_PDEATHSIG);
    everywhere, a watchdog thread also compares os.getppid() with the run's
    pid and ends the worker when they differ.
    """
    if sys.platform.startswith("linux"):
        # The kernel signals when the *thread* that started us ends; the handler checks that the process is gone.
        signal.signal(signal.SIGUSR1, lambda *_: _leave() if os.getppid() != parent_pid else None)
        _ask_for_signal_at_parent_death(signal.SIGUSR1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="azero-parent-watch", daemon=True).start()


def _ask_for_signal_at_parent_death(signum: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # no prctl here (another C library, a sandbox): the watchdog alone


def _watch_parent(parent_pid: int) -> None:
    """The watchdog: once the run's process is gone, end as SIGTERM would, and for sure after ORPHAN_GRACE_S.

    The grace is for engines to be closed; a worker idle in the pool, or
    blocked on a pipe to the dead run, never gets back to exiting by itself.
    """
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
    except OSError:
        pass
    time.sleep(ORPHAN_GRACE_S)
    os._exit(EXIT_TERMINATED)


@dataclass
class PlayedGame:
    """One finished game of a task, as the database stores it (players as specs, not ids)."""

    scheduled: ScheduledGame
    moves: list[int]
    winner: int
    reason: str
    detail: str
    seconds: float

    def store(self, store: ArenaStore, kind: GameKind, ids: dict[str, int]) -> bool:
        """Record it under its schedule key (False if that game was already stored)."""
        first, second = self.scheduled.first, self.scheduled.second
        black, white = (first, second) if self.scheduled.first_colour == BLACK else (second, first)
        return store.record_game(black=ids[black], white=ids[white], rule=kind.rule, size=kind.size,
                                 n_in_row=kind.n_in_row, opening=list(self.scheduled.opening), moves=self.moves,
                                 winner=self.winner, reason=self.reason, detail=self.detail, seconds=self.seconds,
                                 schedule_key=self.scheduled.key)


def play_games_of(task: Task, on_game) -> None:
    """Play one task's games at once, calling ``on_game(PlayedGame)`` as each ends; no database needed."""
    from azero.arena.match import play_games
    from azero.players.factory import make_player

    kind = task.kind
    game = (kind.rule, kind.size, kind.n_in_row)
    first = make_player(task.first, seed=task.seed, device=task.device, turn_ms=task.turn_ms, game=game)
    second = make_player(task.second, seed=task.seed + 1, device=task.device, turn_ms=task.turn_ms, game=game)

    def finished_game(finished) -> None:
        on_game(PlayedGame(task.games[finished.index], list(finished.game.moves), finished.winner, finished.reason,
                           finished.detail, finished.seconds))

    try:
        play_games(first, second, [list(g.opening) for g in task.games], [g.first_colour for g in task.games],
                   kind.size, kind.rule, kind.n_in_row, on_finish=finished_game)
    finally:
        first.close()
        second.close()


def play_task(task: Task, on_game=None) -> None:
    """Play one task's games, storing each as it ends (then calling ``on_game(played)``)."""
    global _worker_store
    if _worker_store is None or str(_worker_store.path) != task.db_path:
        _worker_store = ArenaStore(task.db_path)
    store = _worker_store
    ids = {spec: store.register(spec, task.turn_ms).id for spec in (task.first, task.second)}

    def store_game(played: PlayedGame) -> None:
        played.store(store, task.kind, ids)
        if on_game is not None:
            on_game(played)

    play_games_of(task, store_game)


class StoredProgress:
    """Moves the progress bar to the count of these games in the database, the one record every backend shares."""

    def __init__(self, store: ArenaStore, keys: list[str], bar):
        self.store, self.keys, self.bar, self.shown = store, keys, bar, 0

    def __call__(self) -> None:
        if self.bar is not None:
            stored = len(self.store.endings(self.keys))
            self.bar.update(stored - self.shown)
            self.shown = stored
