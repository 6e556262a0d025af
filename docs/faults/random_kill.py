"""Kill training and the arena at random instants, many times over, and check that nothing is lost or orphaned.

    python docs/faults/random_kill.py --trials 20 --out /tmp/azero-kill

Each trial starts (or resumes) a small `azero train` run or an `azero arena
run` in its own process group, lets it work for a random few seconds, then
sends SIGKILL to a random victim: the learner or arena parent, one of its
workers, or the whole group.  After each kill it checks what a user relies on:

- no process of the group is left after 20 seconds (workers die with their parent);
- every checkpoint and every shard of the run loads (nothing half-written);
- the run's counters never go backwards from one trial to the next;
- no arena game is stored twice, and the database stays readable.

It prints one line per trial and a summary; the exit status is 1 if any
check failed.  It takes a few minutes on two cores (run it by hand, not in CI).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

TRAIN = ["train", "--preset", "gomoku9", "--workers", "2", "--no-progress", "net.blocks=1", "net.channels=16",
         "selfplay.simulations=16", "selfplay.fast_simulations=8", "selfplay.games_per_worker=8",
         "train.batch_size=32", "train.min_positions=64", "train.checkpoint_every_steps=20",
         "train.checkpoint_every_seconds=5", "eval.every_checkpoints=0"]
ARENA = ["arena", "run", "--size", "9", "--workers", "2", "--no-progress", "heuristic", "random", "pure:1000"]


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (zombies excluded), read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "azero.cli", *args], cwd=cwd, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def kill_somewhere(process: subprocess.Popen, rng: random.Random) -> str:
    workers = children(process.pid)
    victim = rng.choice(["parent", "worker", "group"] if workers else ["parent", "group"])
    if victim == "group":
        os.killpg(process.pid, signal.SIGKILL)
    elif victim == "worker":
        os.kill(rng.choice(workers), signal.SIGKILL)
        time.sleep(rng.uniform(1, 4))  # the parent goes on for a while without it, then dies too
        os.kill(process.pid, signal.SIGKILL)
    else:
        os.kill(process.pid, signal.SIGKILL)
    return victim


def orphans_after(pgid: int, seconds: float = 20.0) -> list[int]:
    deadline = time.time() + seconds
    while time.time() < deadline:
        left = group_members(pgid)
        if not left:
            return []
        time.sleep(0.2)
    left = group_members(pgid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


def check_run(run: Path, before: dict) -> tuple[list[str], dict]:
    from azero.model.checkpoint import CheckpointError, load_checkpoint
    from selfplay.shards import ShardError, list_shards, read_shard

    problems = []
    for path in sorted((run / "checkpoints").glob("*.safetensors")):
        try:
            load_checkpoint(path)
        except CheckpointError as error:
            problems.append(f"checkpoint {path.name}: {error}")
    for path in list_shards(run / "shards"):
        try:
            read_shard(path, 9)
        except ShardError as error:
            problems.append(f"shard {path.name}: {error}")
    counters = {}
    latest = sorted((run / "checkpoints").glob("*.safetensors"))
    if latest:
        from azero.model.checkpoint import read_info

        info = read_info(latest[-1])
        counters = {"step": info.step, "games": info.games, "positions": info.positions}
        for key, value in counters.items():
            if value < before.get(key, 0):
                problems.append(f"{key} went back from {before[key]} to {value}")
    return problems, counters or before


def check_arena(db: Path) -> tuple[list[str], int]:
    if not db.exists():
        return [], 0
    try:
        with sqlite3.connect(db) as connection:
            keys = [row[0] for row in connection.execute("SELECT schedule_key FROM games WHERE schedule_key IS NOT NULL")]
    except sqlite3.DatabaseError as error:
        return [f"database unreadable: {error}"], 0
    twice = len(keys) - len(set(keys))
    return ([f"{twice} games stored twice"] if twice else []), len(keys)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--out", default="/tmp/azero-kill", help="where the run and the database go (emptied)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = Path(args.out)
    if out.exists():
        import shutil

        shutil.rmtree(out)
    out.mkdir(parents=True)
    run, db = out / "run", out / "arena.sqlite"
    counters: dict = {}
    failures = 0
    for trial in range(1, args.trials + 1):
        kind = "train" if trial % 2 else "arena"
        # Each arena trial asks for more games than the last (new openings), so there is always work to kill.
        arena = ARENA + ["--db", str(db), "--games", str(20 * trial)]
        process = start(TRAIN + ["--run", str(run)] if kind == "train" else arena, out)
        time.sleep(rng.uniform(8, 25) if kind == "train" else rng.uniform(3, 12))
        ended_itself = process.poll() is not None
        victim = "none (it had finished)" if ended_itself else kill_somewhere(process, rng)
        process.wait()
        left = orphans_after(process.pid)
        if kind == "train":
            problems, counters = check_run(run, counters)
            state = json.dumps(counters)
        else:
            problems, stored = check_arena(db)
            state = f"{stored} games stored"
        if left:
            problems.append(f"{len(left)} orphan processes")
        failures += bool(problems)
        print(f"trial {trial:2d} {kind:5s} killed {victim:22s} {'OK ' if not problems else 'FAIL'} {state}"
              + ("".join(f"\n    {p}" for p in problems)), flush=True)
    print(f"{args.trials - failures} of {args.trials} trials passed every check")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
