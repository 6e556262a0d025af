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
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from azero.arena.store import ArenaError, ArenaStore

# The worker's side, re-exported: callers name them as azero.arena.tournament's.
from azero.arena.worker import GameKind, ScheduledGame, StoredProgress, Task, _init_worker, play_task
from azero.players.spec import parse_spec, pinned
from games.constants import BLACK, WHITE
from games.gomoku import check_rules

BATCH_GAMES = 16  # games of one pairing a worker plays at once (batched search)


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
    from azero.arena.store import player_facts

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
            from azero.model.checkpoint import CheckpointError, load_checkpoint, resolve_checkpoint
            from azero.players.network import trained_search

            try:
                path = resolve_checkpoint(parsed.path)
                _, info = load_checkpoint(path, kind.rule, kind.size, kind.n_in_row)
                trained_search(info.search, path)  # the settings it will play with: refused here, not in a worker
            except CheckpointError as error:
                raise ArenaError(str(error)) from None
        elif parsed.kind == "pbrain":
            _check_engine(parsed.command, kind)


def _check_engine(command: str, kind: GameKind) -> None:
    from azero.players.pbrain_client import GOMOCUP_N_IN_ROW

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
    from azero.search.openings import default_opening_moves

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


def run_tournament(db_path: str | Path, specs: list[str], kind: GameKind, games_per_pairing: int,
                   candidate: str | None = None, workers: int = 1, opening_stones: int | None = None,
                   opening_seed: int = 0, openings: list[list[int]] | None = None, turn_ms: int = 1000,
                   device: str = "cpu", progress: bool = True, stop=None, announce=None,
                   backend: str = "local", address: str | None = None) -> RunSummary:
    """Play every scheduled game not yet in the database; Ctrl-C stops cleanly (run again to resume).

    A game another run on the database has claimed is left to it (see
    :class:`ScheduleClaims`); the summary says how many.

    ``backend`` "local" plays in this machine's processes (``workers`` of
    them); "ray" on the Ray cluster at ``address`` (:mod:`azero.arena.ray_backend`;
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
            from azero.arena.ray_backend import run_arena_tasks

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
