"""Tournaments: round robins and gauntlets in worker processes, stored in an :class:`ArenaStore`.

A tournament is a *schedule*: for every pairing, every opening of a seeded
balanced set is played twice, once with each colour.  Each scheduled game
has a key naming the two players' identities, the game kind, the opening
set and index, and the colours; the store keeps finished games under that
key.  Running the same command again therefore plays only what is missing
(an interrupted run resumes; a larger ``--games`` adds openings to the
set), and nothing is counted twice.

Games of one pairing are played in batches inside a worker (a net player
searches a whole batch in one network call); players that think by the
clock (``az:...:time=S``, ``pbrain:``) play one game at a time per worker,
so their time is their own.  Workers write each game the moment it ends.

The run claims a task's games in the database just before a worker takes
it (:meth:`ArenaStore.claim`), so two runs on one database share the
schedule, each playing what the other has not claimed, and each says at
the end what it stored and what it left to the other.  Every player is
checked (each checkpoint loaded, each engine's program found) before the
database is made or written, and workers end with their run, even one
killed with kill -9.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import shlex
import shutil
import signal
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from games.constants import BLACK, WHITE
from games.gomoku import check_rules

from .arena_store import ArenaError, ArenaStore
from .players import parse_spec, pinned

BATCH_GAMES = 16  # games of one pairing a worker plays at once (batched search)
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


@dataclass
class RunSummary:
    scheduled: int = 0
    already_played: int = 0  # stored before this run began
    played: int = 0  # stored by this run
    interrupted: bool = False
    reasons: dict = field(default_factory=dict)  # how this run's games ended: reason -> count
    left_to_others: int = 0  # not played here: another process on the database had claimed them (or stored them)
    others_stored: int = 0  # of those, how many were stored when this run ended


def pairings(specs: list[str], candidate: str | None = None) -> list[tuple[str, str]]:
    """Every pair (round robin) or the candidate against each of the others (gauntlet)."""
    if candidate is not None:
        return [(candidate, other) for other in specs if other != candidate]
    return list(itertools.combinations(specs, 2))


def game_kind_for(specs: list[str], rule: str | None, size: int | None, n_in_row: int | None) -> GameKind:
    """The game every player must play: given, or read from the checkpoints (which must agree)."""
    from .arena_store import player_facts

    found = {(f["rule"], f["size"], f["n_in_row"]) for f in map(player_facts, specs) if f["kind"] == "az"}
    if rule is None and size is None and len(found) > 1:
        raise ArenaError("the checkpoints were trained for different games: "
                         + ", ".join(f"{r} {s}x{s}" for r, s, _ in sorted(found)) + "; give --rule and --size")
    if len(found) == 1:  # what is not given comes from the checkpoints
        trained = next(iter(found))
        rule = trained[0] if rule is None else rule
        size = trained[1] if size is None else size
        n_in_row = trained[2] if n_in_row is None else n_in_row
    kind = GameKind(rule or "freestyle", size or 15, 5 if n_in_row is None else n_in_row)
    check_rules(kind.rule, kind.n_in_row, kind.size)  # ValueError: one line saying what is accepted
    for r, s, n in found:
        if (r, s, n) != (kind.rule, kind.size, kind.n_in_row):
            raise ArenaError(f"a checkpoint was trained for {r} {s}x{s} ({n} in a row), but the games are "
                             f"{kind.rule} {kind.size}x{kind.size} ({kind.n_in_row} in a row)")
    return kind


def check_players(specs: list[str], kind: GameKind) -> None:
    """Refuse a player that could not play ``kind``, before any database is made or written.

    Each spec is parsed, each checkpoint loaded whole (a header that reads
    well may still describe other weights), each engine's program looked
    for; otherwise the first worker to build the player would fail only
    after the database had been made and the player registered.
    """
    for spec in specs:
        parsed = parse_spec(spec)
        if parsed.kind == "human":
            raise ArenaError(f"{spec} is a person, who plays at the window; an arena cannot ask a person for moves")
        if parsed.kind == "az":
            from .checkpoint import CheckpointError, load_checkpoint, resolve_checkpoint

            try:
                load_checkpoint(resolve_checkpoint(parsed.path), kind.rule, kind.size, kind.n_in_row)
            except CheckpointError as error:
                raise ArenaError(str(error)) from None
        elif parsed.kind == "pbrain":
            _check_engine(parsed.command, kind)


def _check_engine(command: str, kind: GameKind) -> None:
    from .pbrain_client import GOMOCUP_N_IN_ROW

    try:
        program = shlex.split(command)[0]
    except (ValueError, IndexError):
        raise ArenaError(f"cannot read the engine command {command!r}") from None
    if shutil.which(program) is None:
        raise ArenaError(f"no engine program {program!r} (pbrain:{command}): give its path, or put it on PATH")
    if kind.n_in_row != GOMOCUP_N_IN_ROW:
        raise ArenaError(f"pbrain engines play five in a row; this game needs {kind.n_in_row}")


def schedule(store: ArenaStore, specs: list[str], kind: GameKind, games_per_pairing: int,
             candidate: str | None = None, opening_stones: int | None = None, opening_seed: int = 0,
             openings: list[list[int]] | None = None, turn_ms: int = 1000) -> list[ScheduledGame]:
    """Every game of the tournament, whether already played or not (see the module docstring).

    Two specs that name one player (a checkpoint under two paths, say) are refused: its games
    against itself would mean nothing.
    """
    from .openings import default_opening_moves

    if games_per_pairing < 2:
        raise ArenaError("each pairing needs at least 2 games (one opening, both colours)")
    pairs_needed = math.ceil(games_per_pairing / 2)
    if openings is None:
        stones = default_opening_moves(kind.size) if opening_stones is None else opening_stones
        openings = store.openings(kind.rule, kind.size, kind.n_in_row, stones, opening_seed, pairs_needed)
        set_name = f"{stones}stones/seed{opening_seed}"
    else:
        set_name = "file:" + format(zlib.crc32(repr(openings).encode()), "08x")
    if not openings:
        raise ArenaError(f"no openings could be made for {kind.rule} {kind.size}x{kind.size}")
    keys: dict[str, str] = {}
    for spec in specs:
        key = store.register(spec, turn_ms).key
        if key in keys.values():
            same = next(s for s, k in keys.items() if k == key)
            raise ArenaError(f"{same!r} and {spec!r} are the same player (same file and setting); list it once")
        keys[spec] = key
    games = []
    for first, second in pairings(specs, candidate):
        a, b = sorted((first, second), key=lambda s: keys[s])  # one key per game whoever is listed first
        for index in range(pairs_needed):
            opening = tuple(openings[index % len(openings)])
            for colour in (BLACK, WHITE):
                key = f"{kind.tag}|{keys[a]}|{keys[b]}|{set_name}#{index}|{'black' if colour == BLACK else 'white'}"
                games.append(ScheduledGame(key, a, b, colour, opening))
    return games


def _tasks(missing: list[ScheduledGame], kind: GameKind, db_path: str, turn_ms: int, device: str) -> list[Task]:
    by_pair: dict[tuple[str, str], list[ScheduledGame]] = {}
    for game in missing:
        by_pair.setdefault((game.first, game.second), []).append(game)
    tasks = []
    for (first, second), games in by_pair.items():
        timed = parse_spec(first).timed or parse_spec(second).timed
        batch = 1 if timed else BATCH_GAMES
        for start in range(0, len(games), batch):
            chunk = games[start:start + batch]
            seed = zlib.crc32(chunk[0].key.encode())
            tasks.append(Task(first, second, kind, chunk, db_path, turn_ms, device, seed))
    # Interleave pairings so an interrupted run has spread its games over all of them.
    tasks.sort(key=lambda t: (t.games[0].key.rsplit("#", 1)[-1], t.first, t.second))
    return tasks


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
    from .match import play_games
    from .players import make_player

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


def run_tournament(db_path: str | Path, specs: list[str], kind: GameKind, games_per_pairing: int,
                   candidate: str | None = None, workers: int = 1, opening_stones: int | None = None,
                   opening_seed: int = 0, openings: list[list[int]] | None = None, turn_ms: int = 1000,
                   device: str = "cpu", progress: bool = True, stop=None, announce=None,
                   backend: str = "local", address: str | None = None) -> RunSummary:
    """Play every scheduled game not yet in the database; Ctrl-C stops cleanly (run again to resume).

    A game another run on the database has claimed is left to it (see
    :class:`ScheduleClaims`); the summary says how many.

    ``backend`` "local" plays in this machine's processes (``workers`` of
    them); "ray" on the Ray cluster at ``address`` (:mod:`azero.ray_backend`;
    ``workers`` None means one task per CPU of the cluster).

    ``stop()``, when given, is asked after every game; True stops the tournament as Ctrl-C does
    (the training loop passes its own interrupt flag, since it handles SIGINT itself).
    ``announce(summary)`` is called once the schedule is known, before any game.
    """
    specs = [pinned(spec) for spec in specs]
    candidate = pinned(candidate) if candidate is not None else None
    if candidate is not None and candidate not in specs:
        specs = [candidate] + specs
    if len(specs) < 2:
        raise ArenaError("a tournament needs at least two players")
    check_players(specs, kind)
    with ArenaStore(db_path) as store:
        games = schedule(store, specs, kind, games_per_pairing, candidate, opening_stones, opening_seed, openings,
                         turn_ms)
        done = store.played_keys([g.key for g in games])
    missing = [g for g in games if g.key not in done]
    summary = RunSummary(scheduled=len(games), already_played=len(games) - len(missing))
    if announce is not None:
        announce(summary)
    tasks = _tasks(missing, kind, str(db_path), turn_ms, device)
    claims = ScheduleClaims(db_path)
    bar = None
    if progress and missing:
        from tqdm import tqdm

        bar = tqdm(total=len(missing), desc="arena games", unit="game", dynamic_ncols=True)
    def count(_finished=None) -> None:
        if bar is not None:
            bar.update(1)
        if stop is not None and stop():
            raise KeyboardInterrupt

    missing_keys = [g.key for g in missing]
    try:
        if backend == "ray":
            from .ray_backend import run_arena_tasks

            # This process stores every game the cluster plays, so it claims all it hands out at once.
            run_arena_tasks([claims.take(task) for task in tasks], workers, str(db_path), missing_keys, bar, address)
        elif workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                task = claims.take(task)
                if task.games:
                    play_task(task, on_game=count)
        else:
            _run_in_pool(tasks, workers, str(db_path), missing_keys, bar, claims)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        if bar is not None:
            bar.close()
        claims.finish(summary)
    return summary


class ScheduleClaims:
    """A run's claims on its scheduled games, taken a task at a time just before the task is played.

    Another run on the database skips what this one has claimed, and this
    one skips what another has, so each game is played once.  What the run
    claimed is also how it tells, at the end, the games it stored from
    those another process stored: the database is the one record of what
    was played, whatever became of the workers.
    """

    def __init__(self, db_path: str | Path):
        self.store = ArenaStore(db_path)
        self.mine: list[str] = []  # keys this run claimed
        self.others: list[str] = []  # keys it found stored or claimed by another process

    def take(self, task: Task) -> Task:
        """The task less the games another process has stored or claimed since the schedule was read."""
        keys = [g.key for g in task.games]
        claimed = set(self.store.claim(keys))
        self.mine += [key for key in keys if key in claimed]
        self.others += [key for key in keys if key not in claimed]
        return dataclasses.replace(task, games=[g for g in task.games if g.key in claimed])

    def finish(self, summary: RunSummary) -> None:
        """Count what this run stored and what it left to others, and give back the claims it did not play."""
        try:
            for reason in self.store.endings(self.mine).values():
                summary.played += 1
                summary.reasons[reason] = summary.reasons.get(reason, 0) + 1
            summary.left_to_others = len(self.others)
            summary.others_stored = len(self.store.endings(self.others))
            self.store.release_claims(self.mine)
        finally:
            self.store.close()


class StoredProgress:
    """Moves the progress bar to the count of these games in the database, the one record every backend shares."""

    def __init__(self, store: ArenaStore, keys: list[str], bar):
        self.store, self.keys, self.bar, self.shown = store, keys, bar, 0

    def __call__(self) -> None:
        if self.bar is not None:
            stored = len(self.store.endings(self.keys))
            self.bar.update(stored - self.shown)
            self.shown = stored


def _run_in_pool(tasks: list[Task], workers: int, db_path: str, keys: list[str], bar, claims: ScheduleClaims) -> None:
    """Tasks in worker processes; progress is read from the database, the only thing they share.

    A ProcessPoolExecutor, not a multiprocessing.Pool: when a worker dies
    (killed, out of memory) the executor says so (BrokenProcessPool) where a
    Pool would wait for the lost task forever.  And no queue between the
    processes: a worker killed while holding a queue's lock would leave the
    others blocked on it for good.  A task is claimed and handed out only
    when a worker is free for it, so another run on the database can take
    the tasks this one has not reached.
    """
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    context = mp.get_context("spawn")  # fork after torch/numba threads have started is unsafe
    size = min(workers, len(tasks))
    executor = ProcessPoolExecutor(size, mp_context=context, initializer=_init_worker, initargs=(os.getpid(),))
    watcher = ArenaStore(db_path)
    show_progress = StoredProgress(watcher, keys, bar)
    waiting = list(tasks)
    try:
        running: set = set()
        while waiting or running:
            while waiting and len(running) < size:
                task = claims.take(waiting.pop(0))
                if task.games:
                    running.add(executor.submit(play_task, task))
            done, running = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                future.result()  # re-raises a worker's error here
            show_progress()
        executor.shutdown(wait=True)
    except BrokenProcessPool:
        _stop_executor(executor)
        raise ArenaError("a worker process died (killed, or out of memory?); every finished game is stored: "
                         "run the same command again to play the rest") from None
    except BaseException:
        _stop_executor(executor)  # games in flight are dropped; every finished one is already stored
        raise
    finally:
        watcher.close()


def _stop_executor(executor) -> None:
    """Cancel what has not started and end the workers (SIGTERM: they close their engines on the way out)."""
    executor.shutdown(wait=False, cancel_futures=True)
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1))
