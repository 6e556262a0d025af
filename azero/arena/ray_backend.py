"""Arena games on a Ray cluster (``azero arena run --backend ray``; needs ``pip install -e '.[ray]'``).

The driver keeps the database: remote tasks play a batch of games and
return them, and the driver stores each batch as it comes back.  So the
nodes need no shared file system and no database lock crosses a network,
and a task whose worker dies (a node lost, a process killed) is simply
played again from the games it had not yet stored: a game in flight is
dropped, never half-written, as with the local process pool.

Checkpoints travel through Ray's object store as bytes, once per file, and
each node writes them to a local cache under their SHA-256; a node never
reads a checkpoint by the driver's path, so no node can play a different
file under the same name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from pathlib import Path

from azero.arena.store import ArenaError, ArenaStore, file_sha256
from azero.arena.worker import PlayedGame, StoredProgress, Task
from azero.players.spec import parse_spec, with_checkpoint
from games.atomic import atomic_write_bytes

RAY_HINT = "the Ray backend needs Ray: pip install -e '.[ray]' (or pip install ray)"
TASK_RETRIES = 3  # a task lost with its worker is played again this many times before the run gives up
CACHE_DIR = Path(tempfile.gettempdir()) / "azero-checkpoints"


def import_ray():
    try:
        import ray
    except ImportError:
        raise ArenaError(RAY_HINT) from None
    return ray


def connect(address: str | None = None):
    """Ray, joined to the cluster at ``address`` (None: RAY_ADDRESS, or a new local instance)."""
    ray = import_ray()
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        except ConnectionError as error:
            raise ArenaError(f"cannot join the Ray cluster at {address}: {error}") from None
    return ray


def cluster_cpus(ray) -> int:
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def checkpoint_on_this_node(sha: str, data: bytes) -> Path:
    """The checkpoint's bytes as a local file named by their hash (written once per node, atomically)."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"{sha}.safetensors"
    if not path.is_file() or file_sha256(path) != sha:
        atomic_write_bytes(path, data)
    return path


def put_checkpoint(ray, path: Path) -> tuple[str, object]:
    """A checkpoint file in the object store: (its SHA-256, the reference of its bytes), the file read once."""
    data = Path(path).read_bytes()
    return hashlib.sha256(data).hexdigest(), ray.put(data)


def _play_remote(task: Task, checkpoints: dict[str, tuple[str, object]]) -> list[PlayedGame]:
    """Runs on a worker: the task's players with their checkpoints from the object store, every game played."""
    import ray

    from azero.arena.worker import _init_worker, play_games_of

    _init_worker()
    local = {}
    for spec, (sha, ref) in checkpoints.items():
        local[spec] = with_checkpoint(parse_spec(spec), checkpoint_on_this_node(sha, ray.get(ref)))
    here = dataclasses.replace(task, first=local.get(task.first, task.first), second=local.get(task.second, task.second))
    played: list[PlayedGame] = []
    play_games_of(here, played.append)  # each game keeps its ScheduledGame: the driver's specs and key
    return played


def run_arena_tasks(tasks: list[Task], workers: int | None, db_path: str, keys: list[str], bar,
                    address: str | None = None) -> None:
    """Play ``tasks`` on Ray, at most ``workers`` at once (None: one per CPU of the cluster), storing as they end."""
    ray = connect(address)
    limit = workers or cluster_cpus(ray)
    remote = ray.remote(num_cpus=1, max_retries=0)(_play_remote)
    shipped: dict[str, tuple[str, object]] = {}  # az spec -> (sha, object ref of its bytes), each file sent once
    with ArenaStore(db_path) as store:
        ids = {}
        for task in tasks:
            for spec in (task.first, task.second):
                if spec not in ids:
                    ids[spec] = store.register(spec, task.turn_ms).id
                parsed = parse_spec(spec)
                if parsed.kind == "az" and spec not in shipped:
                    shipped[spec] = put_checkpoint(ray, Path(parsed.path))
        queue = [(task, 0) for task in tasks]
        running: dict = {}
        show_progress = StoredProgress(store, keys, bar)
        try:
            while queue or running:
                while queue and len(running) < limit:
                    task, tries = queue.pop(0)
                    if not task.games:
                        continue
                    wanted = {s: shipped[s] for s in (task.first, task.second) if s in shipped}
                    running[remote.remote(task, wanted)] = (task, tries)
                done, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
                for ref in done:
                    task, tries = running.pop(ref)
                    try:
                        played = ray.get(ref)
                    except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                            ray.exceptions.ActorDiedError, ray.exceptions.ObjectLostError,
                            ray.exceptions.TaskUnschedulableError) as error:
                        if tries + 1 > TASK_RETRIES:
                            raise ArenaError(f"a Ray task of {task.first} against {task.second} was lost "
                                             f"{tries + 1} times ({type(error).__name__}); every finished game "
                                             "is stored: run the same command again to play the rest") from None
                        queue.append((_unplayed(store, task), tries + 1))
                        continue
                    except ray.exceptions.RayTaskError as error:
                        raise error.as_instanceof_cause() from None
                    for game in played:
                        game.store(store, task.kind, ids)
                show_progress()
        finally:
            for ref in running:
                ray.cancel(ref, force=True)


def _unplayed(store: ArenaStore, task: Task) -> Task:
    """The task less the games already stored (so a replayed task never plays a stored game twice)."""
    stored = store.played_keys([g.key for g in task.games])
    return dataclasses.replace(task, games=[g for g in task.games if g.key not in stored])
