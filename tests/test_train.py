"""Training: the real ``azero train`` end to end, kill -9 and resume, Ctrl-C, bad input, and the replay window.

The runs are tiny (7x7, four in a row, a one-block net, a few simulations)
but go through the real command line, the real learner and a real self-play
worker process.  One fresh run is shared (module fixture); the kill and
Ctrl-C tests work on copies of it, so only one run pays for the wait before
the first shard (self-play writes shards every 20 s).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tomllib
import torch
from tiny_nets import tiny_checkpoint

from azero.cli import main
from azero.model.checkpoint import CheckpointError, CheckpointInfo, load_checkpoint, read_info, save_checkpoint
from azero.model.network import PolicyValueNet
from azero.model.planes import LAST_MOVE, NUM_PLANES, OPPONENT, OWN, encode
from azero.train.config import build_config, load_file
from azero.train.metrics import read_table
from games.constants import BLACK, FREESTYLE, RENJU, WHITE
from games.renju import forbidden_mask
from selfplay.replay import ReplayWindow, apply_symmetry
from selfplay.shards import Shard, list_shards, read_shard, remove_unfinished_shards

REPO = Path(__file__).resolve().parents[1]
_SCRIPT = Path(sys.executable).with_name("azero")
AZERO = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "azero"]
ENV = dict(os.environ, PYTHONWARNINGS="ignore", PYTHONUNBUFFERED="1")

SIZE, N_IN_ROW = 7, 4
TINY = [
    f"game.size={SIZE}", f"game.n_in_row={N_IN_ROW}", "net.blocks=1", "net.channels=8",
    "selfplay.simulations=8", "selfplay.fast_simulations=4", "selfplay.games_per_worker=8",
    "train.batch_size=16", "train.window=2000", "train.min_positions=50", "train.checkpoint_every_steps=5",
    "eval.every_checkpoints=0",
    "train.checkpoint_every_seconds=3600",  # checkpoints by steps only, however slow the machine
]
STEPS = 10
CHECKPOINT_EVERY = 5

# Generous: numba may compile from scratch (its cache is keyed on the sources), and the machine is shared.
START_TIMEOUT = 240.0
WORKERS_EXIT_TIMEOUT = 30.0

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process checks read /proc (Linux)")
needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs Ray: pip install -e '.[ray]'")


def train_command(run_dir: Path, *extra: str) -> list[str]:
    return [*AZERO, "train", "--run", str(run_dir), "--workers", "1", "--no-progress", *extra, *TINY]


# -- processes, seen through /proc ----------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, start time) of every process we can see."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
        table[int(entry)] = (int(fields[1]), fields[0], fields[19])
    return table


def _alive(pid: int, start: str) -> bool:
    """The process ``pid`` started at ``start`` still runs (a zombie has finished running)."""
    info = _proc_table_one(pid)
    return info is not None and info[2] == start and info[1] not in ("Z", "X")


def _proc_table_one(pid: int):
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), fields[0], fields[19]


class TrainProcess:
    """``azero train`` in a subprocess (its own session), with every descendant it ever had remembered."""

    def __init__(self, args: list[str], log_path: Path):
        self.args, self.log_path = args, log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(args, cwd=REPO, env=ENV, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.seen: dict[int, str] = {}  # pid -> start time of each descendant

    def scan(self) -> None:
        table = _proc_table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        todo = list(children.get(self.proc.pid, []))
        while todo:
            pid = todo.pop()
            self.seen.setdefault(pid, table[pid][2])
            todo.extend(children.get(pid, []))

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def wait_for(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.scan()
            if condition():
                return
            if self.proc.poll() is not None:
                pytest.fail(f"azero train exited ({self.proc.returncode}) while waiting for {what}:\n{self.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} after {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.2)

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            self.scan()
            if time.monotonic() > deadline:
                pytest.fail(f"azero train still running after {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.2)
        self._log.flush()
        return self.proc.returncode

    def living_descendants(self) -> list[int]:
        return [pid for pid, start in self.seen.items() if _alive(pid, start)]

    def wait_descendants_gone(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.living_descendants():
            if time.monotonic() > deadline:
                details = {pid: _cmdline(pid) for pid in self.living_descendants()}
                pytest.fail(f"processes of azero train still running {timeout:.0f} s after it ended: {details}")
            time.sleep(0.2)

    def cleanup(self) -> None:
        """Kill what this test started and is still running (by pid), and close the log."""
        if self.proc.poll() is None:
            self.scan()
            self.proc.kill()
            self.proc.wait(timeout=30)
        for pid in self.living_descendants():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._log.close()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200]
    except OSError:
        return "?"


@pytest.fixture
def spawn():
    started: list[TrainProcess] = []

    def start(args: list[str], log_path: Path) -> TrainProcess:
        process = TrainProcess(args, log_path)
        started.append(process)
        return process

    yield start
    for process in started:
        process.cleanup()


# -- run folder helpers -----------------------------------------------------------------------


def latest(run_dir: Path) -> tuple[int, Path] | None:
    try:
        data = json.loads((run_dir / "checkpoints" / "latest.json").read_text())
    except (OSError, ValueError):
        return None
    return int(data["step"]), run_dir / "checkpoints" / data["file"]


def latest_step(run_dir: Path) -> int:
    found = latest(run_dir)
    return -1 if found is None else found[0]


def stopped_line(log: str) -> tuple[int, int]:
    """(step, games) from the learner's last line: 'stopped at step N: G games, ...'."""
    lines = [line for line in log.splitlines() if line.startswith("stopped at step ")]
    assert lines, f"no 'stopped at step' line in the log:\n{log[-3000:]}"
    head = lines[-1][len("stopped at step "):]
    step, rest = head.split(":", 1)
    return int(step), int(rest.split()[0])


def check_shards(run_dir: Path) -> list[Shard]:
    """Every finished shard reads back and holds sane training data for this run."""
    paths = list_shards(run_dir / "shards")
    shards = []
    for path in paths:
        shard = read_shard(path, SIZE)  # raises ShardError if unreadable
        assert shard.meta["size"] == SIZE and shard.meta["rule"] == "freestyle" and shard.meta["n_in_row"] == N_IN_ROW
        assert shard.positions > 0 and shard.games > 0
        assert set(np.unique(shard.boards)) <= {0, BLACK, WHITE}
        assert set(np.unique(shard.to_move)) <= {BLACK, WHITE}
        assert set(np.unique(shard.outcome)) <= {-1, 0, 1}
        policy = shard.policy.astype(np.float64)
        assert np.all(policy >= 0)
        assert np.allclose(policy.sum(axis=1), 1.0, atol=2e-2)
        assert np.all(policy[shard.boards != 0] == 0), "search policy on an occupied point"
        assert np.all(shard.game_length[~shard.game_resigned] >= 2 * N_IN_ROW - 1)
        assert np.all(np.isin(shard.game_winner, [BLACK, WHITE, 3]))
        shards.append(shard)
    return shards


def parent_chain(run_dir: Path, name: str, hops: int = 100_000) -> list[str]:
    """Checkpoint file names from ``name`` back through ``parent`` metadata."""
    chain = [name]
    for _ in range(hops):
        parent = read_info(run_dir / "checkpoints" / chain[-1]).parent
        if parent is None:
            break
        chain.append(parent)
    return chain


# -- the shared fresh run -------------------------------------------------------------------------


@dataclass
class FreshRun:
    run_dir: Path
    returncode: int
    log: str
    descendants_seen: int
    leftover: list[int]
    seconds: float


@pytest.fixture(scope="module")
def fresh_run(tmp_path_factory) -> FreshRun:
    if not Path("/proc/self/stat").exists():
        pytest.skip("process checks read /proc (Linux)")
    root = tmp_path_factory.mktemp("fresh")
    run_dir = root / "run"
    started = time.monotonic()
    process = TrainProcess(train_command(run_dir, "--steps", str(STEPS)), root / "train.log")
    try:
        returncode = process.wait(START_TIMEOUT + 120)
        seconds = time.monotonic() - started
        deadline = time.monotonic() + WORKERS_EXIT_TIMEOUT
        while process.living_descendants() and time.monotonic() < deadline:
            time.sleep(0.2)
        return FreshRun(run_dir, returncode, process.log(), len(process.seen), process.living_descendants(), seconds)
    finally:
        process.cleanup()


def copy_run(fresh: FreshRun, tmp_path: Path) -> Path:
    assert fresh.returncode == 0, fresh.log[-3000:]
    target = tmp_path / "run"
    shutil.copytree(fresh.run_dir, target)
    return target


# -- end to end ------------------------------------------------------------------------------------


@needs_proc
@pytest.mark.timeout(600)
def test_tiny_run_end_to_end(fresh_run):
    run, log = fresh_run.run_dir, fresh_run.log
    assert fresh_run.returncode == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    assert fresh_run.descendants_seen >= 1, "no self-play worker process was ever seen"
    assert fresh_run.leftover == [], "self-play processes outlived the learner"

    # The configuration the run used is in the folder, with the overrides applied.
    saved = load_file(run / "config.toml")
    assert (saved.game.size, saved.game.n_in_row, saved.net.blocks, saved.net.channels) == (SIZE, N_IN_ROW, 1, 8)
    assert saved.train.max_steps == STEPS and saved.selfplay.workers == 1

    # A loadable final checkpoint at exactly the step limit, published in latest.json.
    step, path = latest(run)
    assert (step, path.name) == (STEPS, f"step-{STEPS:08d}.safetensors")
    net, info = load_checkpoint(path, "freestyle", SIZE, N_IN_ROW)
    assert info.step == STEPS and info.games > 0 and info.positions > 0
    assert info.net["blocks"] == 1 and info.net["channels"] == 8 and info.preset == "gomoku9"
    assert info.extra["samples"] == STEPS * 16
    # What the run cost and how to run it again travel with the checkpoint (a shipped one has no run folder).
    assert info.extra["command"].startswith(f"azero train --preset gomoku9 --run {run}") and "net.channels=8" in info.extra["command"]
    assert "--steps" not in info.extra["command"], "a session's limit is not part of the recipe"
    assert 0 < info.extra["train_seconds"] <= fresh_run.seconds
    assert len(info.extra["hardware"]) == 1 and "1 self-play worker" in info.extra["hardware"][0]
    with torch.no_grad():
        logits, value = net(torch.zeros(2, NUM_PLANES, SIZE, SIZE))
    assert logits.shape == (2, SIZE * SIZE) and torch.isfinite(logits).all() and torch.all(value.abs() <= 1)
    # Checkpoints every 5 steps, each naming its parent, back to the step-0 net written before self-play began.
    assert parent_chain(run, path.name) == [f"step-{s:08d}.safetensors" for s in range(STEPS, -1, -CHECKPOINT_EVERY)]
    assert (run / "trainer_state.safetensors").is_file()
    assert not [p.name for p in (run / "checkpoints").iterdir() if p.name.startswith(".")], "temporary files left"

    # Metrics tables and the plot.
    train_rows = read_table(run, "train")
    assert train_rows["step"] == [float(s) for s in range(CHECKPOINT_EVERY, STEPS + 1, CHECKPOINT_EVERY)]
    assert all(math.isfinite(x) and x > 0 for x in train_rows["policy_loss"])
    selfplay_rows = read_table(run, "selfplay")
    assert selfplay_rows["step"] and all(g > 0 for g in selfplay_rows["new_games"])
    png = (run / "plots" / "progress.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000

    # Shards: readable, sane, and every game in them counted by the learner at the end.
    shards = check_shards(run)
    assert shards
    final_step, final_games = stopped_line(log)
    assert final_step == STEPS
    assert final_games == sum(s.games for s in shards) >= info.games


# -- kill -9 and resume ------------------------------------------------------------------------------


@needs_proc
@pytest.mark.timeout(600)
@pytest.mark.parametrize("backend", ["local", pytest.param("ray", marks=needs_ray)])
def test_kill_9_then_resume(fresh_run, tmp_path, spawn, backend):
    run = copy_run(fresh_run, tmp_path)
    start_step = latest_step(run)
    old_shards = {p.name for p in list_shards(run / "shards")}

    first = spawn(train_command(run, "--backend", backend, "--minutes", "5"), tmp_path / "first.log")
    # Two more checkpoints, and a worker that has played and written games with the new weights.
    first.wait_for(lambda: latest_step(run) >= start_step + 2 * CHECKPOINT_EVERY
                   and any(p.name not in old_shards for p in list_shards(run / "shards")),
                   START_TIMEOUT, "two new checkpoints and a new shard")
    first.scan()
    workers = first.living_descendants()
    assert workers, "no self-play worker running"
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=30)
    if backend == "local":
        # Nobody tells the workers; they notice their parent is gone and stop by themselves.
        first.wait_descendants_gone(WORKERS_EXIT_TIMEOUT)
    else:
        # Ray ends the actors of a driver that died (its own helper agents take a minute or two more).
        def actors() -> list[int]:
            return [pid for pid in first.living_descendants() if _cmdline(pid).startswith(("ray::SelfPlayActor", "ray::IDLE"))]

        deadline = time.monotonic() + WORKERS_EXIT_TIMEOUT
        while actors():
            assert time.monotonic() < deadline, f"Ray actors still running after their driver died: {actors()}"
            time.sleep(0.2)

    check_shards(run)  # nothing half-written, even though the learner died at a random moment
    saved_step, saved_path = latest(run)
    saved = read_info(saved_path)
    assert saved.step == saved_step >= start_step + 2 * CHECKPOINT_EVERY

    limit = saved_step + 3  # a little above the saved step (and not on the every-5 grid)
    second = spawn(train_command(run, "--backend", backend, "--minutes", "5", "--steps", str(limit)),
                   tmp_path / "second.log")
    assert second.wait(START_TIMEOUT + 120) == 0, second.tail()
    log = second.log()
    assert f"resuming {run} at step {saved_step}" in log, log[-3000:]
    assert "Traceback" not in log
    second.wait_descendants_gone(WORKERS_EXIT_TIMEOUT)

    step, path = latest(run)
    assert step == limit > saved_step
    final = read_info(path)
    assert final.step == limit
    assert final.games >= saved.games and final.positions >= saved.positions, "counters went backwards"
    assert final.extra["samples"] >= saved.extra["samples"]
    assert final.extra["train_seconds"] > saved.extra["train_seconds"], "the resumed session's time was not added"
    assert final.extra["hardware"] == saved.extra["hardware"], "the same machine is listed once"
    chain = parent_chain(run, path.name)
    assert chain[:2] == [path.name, saved_path.name], chain  # the resumed run's checkpoint descends from the saved one
    assert chain[-1] == "step-00000000.safetensors"
    stopped_step, stopped_games = stopped_line(log)
    assert stopped_step == limit and stopped_games >= saved.games
    shards = check_shards(run)
    assert stopped_games <= sum(s.games for s in shards)
    load_checkpoint(path, "freestyle", SIZE, N_IN_ROW)
    assert read_table(run, "train")["step"][-1] == limit


@needs_proc
@pytest.mark.timeout(600)
@pytest.mark.parametrize("backend", ["local", pytest.param("ray", marks=needs_ray)])
def test_a_killed_selfplay_worker_is_replaced_and_training_goes_on(fresh_run, tmp_path, spawn, backend):
    """SIGKILL the self-play worker mid-game (a local process, or a Ray actor): a new one starts, training goes on.

    A low train.train_ratio makes the learner wait for data (a step per 160 new positions), so the step
    limit can only be reached with games from the replacement worker, whatever the machine's speed.
    """
    from selfplay.worker import SHARD_POSITIONS

    run = copy_run(fresh_run, tmp_path)
    ratio = 0.1

    def max_step(positions: int) -> int:
        """The learner steps while samples (16 a step) < ratio * positions."""
        return math.ceil(ratio * positions / 16)

    def on_disk() -> int:
        return sum(read_shard(p, SIZE).positions for p in list_shards(run / "shards"))

    # The killed worker writes about one shard before the kill; the limit needs more than two full ones.
    limit = math.ceil(max_step(on_disk() + 2 * (SHARD_POSITIONS + 400)) / CHECKPOINT_EVERY) * CHECKPOINT_EVERY
    old_shards = {p.name for p in list_shards(run / "shards")}
    process = spawn(train_command(run, "--backend", backend, "--minutes", "5", "--steps", str(limit),
                                  f"train.train_ratio={ratio}"), tmp_path / "train.log")
    learner = process.proc.pid

    def workers() -> list[int]:
        """Living self-play processes: the learner's 'spawn' children (not its resource tracker), or Ray's actors."""
        process.scan()
        if backend == "ray":
            return [pid for pid in process.living_descendants() if _cmdline(pid).startswith("ray::SelfPlayActor")]
        return [pid for pid in process.living_descendants()
                if (_proc_table_one(pid) or (0,))[0] == learner and "spawn_main" in _cmdline(pid)]

    def temporary_files() -> list[str]:
        return [p.name for p in (run / "shards").iterdir() if p.name.startswith(".") or not p.name.endswith(".npz")]

    # The worker is in its game loop (it has written games), so it has games in flight.
    process.wait_for(lambda: workers() and any(p.name not in old_shards for p in list_shards(run / "shards")),
                     START_TIMEOUT, "running self-play worker with a new shard")
    [victim] = workers()
    assert victim != learner
    victim_start = process.seen[victim]
    os.kill(victim, signal.SIGKILL)
    killed_ns = time.time_ns()
    step_at_kill = latest_step(run)
    process.wait_for(lambda: not _alive(victim, victim_start), 30, "end of the killed worker")
    shards_at_kill = {p.name for p in list_shards(run / "shards")}
    positions_at_kill = on_disk()
    assert max_step(positions_at_kill) < limit, (
        f"the killed worker wrote {positions_at_kill} positions: enough to reach step {limit} without a new worker")

    replaced = (f"self-play worker 0 stopped (exit code -{int(signal.SIGKILL)}); starting a new one" if backend == "local"
                else "self-play worker 0 stopped (its Ray actor died: ActorDiedError); starting a new one")
    process.wait_for(lambda: replaced in process.log(), 60, f"log line {replaced!r}")
    # Killed at any moment, it may have left the temporary file of a shard it was writing: the learner deletes it.
    assert temporary_files() == [], "a half-written shard was left behind" 
    process.wait_for(lambda: [pid for pid in workers() if pid != victim], 60, "new self-play worker")
    [successor] = workers()
    assert successor != victim and successor != learner

    def new_shards() -> list[Path]:
        return [p for p in list_shards(run / "shards") if p.name not in shards_at_kill]

    process.wait_for(lambda: new_shards() and latest_step(run) > step_at_kill, START_TIMEOUT,
                     "new shard and new checkpoint after the kill")
    assert all(int(p.name.split("-")[0]) > killed_ns for p in new_shards())

    assert process.wait(START_TIMEOUT + 120) == 0, process.tail()
    log = process.log()
    assert "Traceback" not in log, log[-3000:]
    assert log.count("starting a new one") == 1, log[-3000:]  # the new worker ran to the end
    step, games = stopped_line(log)
    assert step == limit == latest_step(run)
    load_checkpoint(latest(run)[1], "freestyle", SIZE, N_IN_ROW)
    process.wait_descendants_gone(WORKERS_EXIT_TIMEOUT)
    # Every shard reads back; the killed worker's games in flight were dropped, not half written.
    shards = check_shards(run)
    assert games == sum(s.games for s in shards), "the learner counted other games than those on disk"
    assert temporary_files() == [], "a half-written shard was left behind"


# -- Ctrl-C -----------------------------------------------------------------------------------------------


@needs_proc
@pytest.mark.timeout(600)
def test_ctrl_c_stops_cleanly_with_a_final_checkpoint(fresh_run, tmp_path, spawn):
    run = copy_run(fresh_run, tmp_path)
    start_step = latest_step(run)
    old_shards = {p.name for p in list_shards(run / "shards")}
    process = spawn(train_command(run, "--minutes", "5"), tmp_path / "train.log")
    # Training under way (a new checkpoint), and the worker in its game loop (a new shard).
    process.wait_for(lambda: latest_step(run) > start_step
                     and any(p.name not in old_shards for p in list_shards(run / "shards")),
                     START_TIMEOUT, "a new checkpoint and a new shard")
    process.scan()
    assert process.living_descendants()
    os.killpg(process.proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    returncode = process.wait(120)
    log = process.log()
    # The learner handles SIGINT itself: it stops, saves and returns normally, so the exit status is 0.
    assert returncode == 0, log[-3000:]
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log[-3000:]
    step, _games = stopped_line(log)
    assert step > start_step
    final_step, path = latest(run)
    assert final_step == step, "the final step was not checkpointed"
    assert read_info(path).step == step
    load_checkpoint(path, "freestyle", SIZE, N_IN_ROW)
    process.wait_descendants_gone(15.0)  # the learner joined its workers before exiting
    check_shards(run)


# -- bad presets and overrides ----------------------------------------------------------------------------


def run_main(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exit_info:  # argparse errors
        code = exit_info.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "args, words",
    [
        (["--preset", "nope"], ["unknown preset 'nope'", "gomoku9", "gomoku15", "renju15"]),
        (["--preset", "../gomoku9"], ["unknown preset"]),
        (["foo=1"], ["'foo=1'", "section.key=value"]),
        (["nope.x=1"], ["unknown section 'nope'", "selfplay"]),
        (["train.nope=1"], ["train.nope", "batch_size"]),
        (["train.lr=abc"], ["train.lr", "number", "abc"]),
        (["selfplay.simulations=1.5"], ["selfplay.simulations", "whole number", "1.5"]),
        (["game.size=30"], ["board size", "30"]),
        (["game.size=4"], ["board size", "4"]),
        (["game.rule=go"], ["unknown rule", "go", "freestyle"]),
        (["game.rule=renju", "game.n_in_row=4"], ["renju", "five"]),
        (["game.n_in_row=12"], ["n_in_row"]),
        (["selfplay.fast_simulations=500"], ["fast_simulations"]),
        (["search.tactics=1"], ["search.tactics", "true or false"]),
        (["train.batch_size=512", "train.window=100"], ["window"]),
        (["--steps", "-1"], ["max_steps"]),
        (["--workers", "-2"], ["workers"]),
        (["--minutes", "0"], ["positive number"]),
        (["--steps", "many"], ["--steps", "many"]),
    ],
)
def test_bad_preset_or_override_is_one_line_and_exit_2(args, words, capsys):
    # --print-config: were the input wrongly accepted, nothing would start.
    code, out, err = run_main(["train", "--print-config", *args], capsys)
    assert code == 2, (out, err)
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("azero train: error:"), err
    for word in words:
        assert word in err, (word, err)


@pytest.mark.parametrize("override", ["train.lr=nan", "train.lr=inf", "train.train_ratio=nan", "train.max_minutes=nan",
                                      "search.c_puct=nan"])
def test_non_finite_numbers_are_refused(override, capsys):
    code, _, err = run_main(["train", "--print-config", override], capsys)
    assert code == 2, err


def test_the_installed_command_exits_2_with_one_line():
    done = subprocess.run([*AZERO, "train", "--preset", "nope", "--run", "unused"], cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "azero train: error: unknown preset 'nope'; presets are gomoku15, gomoku8, gomoku9, renju15"]


def test_print_config_shows_overrides_and_flags(capsys):
    code, out, err = run_main(["train", "--print-config", "--steps", "7", "--workers", "3", "--minutes", "2.5",
                               "--device", "cpu", "selfplay.simulations=77", "game.rule=renju", "train.lr=0.01",
                               "search.tactics=false", "net.channels=24"], capsys)
    assert code == 0, err
    printed = tomllib.loads(out)
    assert printed["preset"] == "gomoku9"
    assert printed["selfplay"]["simulations"] == 77
    assert printed["game"] == {"size": 9, "rule": "renju", "n_in_row": 5}
    assert printed["train"]["lr"] == 0.01 and printed["search"]["tactics"] is False and printed["net"]["channels"] == 24
    assert printed["train"]["max_steps"] == 7 and printed["train"]["max_minutes"] == 2.5
    assert printed["selfplay"]["workers"] == 3 and printed["train"]["device"] == "cpu"
    assert printed["net"]["blocks"] == 4  # untouched values come from the preset
    # What is printed is a complete config that reads back to the same thing.
    expected = build_config("gomoku9", ["selfplay.simulations=77", "game.rule=renju", "train.lr=0.01",
                                        "search.tactics=false", "net.channels=24", "train.max_steps=7",
                                        "train.max_minutes=2.5", "selfplay.workers=3", 'train.device="cpu"'])
    assert printed == tomllib.loads(expected.to_toml())


def test_print_config_of_other_presets(capsys):
    code, out, _ = run_main(["train", "--print-config", "--preset", "renju15"], capsys)
    assert code == 0
    printed = tomllib.loads(out)
    assert printed["preset"] == "renju15" and printed["game"] == {"size": 15, "rule": "renju", "n_in_row": 5}


def test_list_presets(capsys):
    code, out, _ = run_main(["train", "--list-presets"], capsys)
    assert code == 0
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert names == ["gomoku15", "gomoku8", "gomoku9", "renju15"]
    assert all(len(line.split()) > 3 for line in out.splitlines()), "each preset has a description"


@pytest.mark.parametrize("change, section", [("game.size=9", "game"), ("game.n_in_row=5", "game"),
                                             ("net.channels=16", "net")])
def test_resuming_with_another_game_or_net_is_refused(tmp_path, monkeypatch, capsys, change, section):
    import azero.train.learner

    run = tmp_path / "run"
    run.mkdir()
    original = build_config("gomoku9", TINY).to_toml()
    (run / "config.toml").write_text(original)

    def must_not_start(*_args, **_kwargs):
        raise AssertionError("training started in a folder that holds another run")

    monkeypatch.setattr(azero.train.learner, "Learner", must_not_start)
    code, _, err = run_main(["train", "--run", str(run), "--no-progress", *TINY, change], capsys)
    assert code == 2, err
    # (The CLI prints the configuration before it looks at the folder; the error is the one last line.)
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
    assert errors[0].startswith("azero train: error:") and "Traceback" not in err, err
    message = errors[0]
    assert str(run) in message and f"other {section} settings" in message, message
    assert "size=7" in message if section == "game" else "channels=8" in message, message
    assert (run / "config.toml").read_text() == original, "the refused run rewrote the folder's config"


def test_resuming_with_other_limits_or_rates_is_allowed(tmp_path):
    from azero.train.run_folder import RunFolder, check_resumable

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text(build_config("gomoku9", TINY).to_toml())
    check_resumable(RunFolder(run), build_config("gomoku9", [*TINY, "train.lr=0.01", "train.max_steps=99",
                                                             "selfplay.simulations=16", "eval.games=2"]))


def test_a_refused_resume_leaves_the_folder_resumable(tmp_path, monkeypatch):
    import azero.train.learner
    import azero.train.pool
    import azero.train.run_folder

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    config7 = build_config("gomoku9", TINY)
    net = PolicyValueNet(config7.net)
    info = CheckpointInfo(rule="freestyle", size=SIZE, n_in_row=N_IN_ROW, net=config7.net.to_dict(), step=0)
    save_checkpoint(azero.train.run_folder.RunFolder(run).checkpoint(0), net, info)
    azero.train.run_folder.RunFolder(run).publish(0)  # a run folder whose config.toml was lost (or from an older version)

    def must_not_start(*_args, **_kwargs):
        raise AssertionError("self-play started in a folder that holds another run")

    monkeypatch.setattr(azero.train.pool.LocalWorkers, "start", must_not_start)
    config9 = build_config("gomoku9", [*TINY, "game.size=9"])
    with pytest.raises(CheckpointError, match="7x7, not 9x9"):
        azero.train.learner.train(config9, run, progress=False, log=lambda _message: None)
    azero.train.run_folder.check_resumable(azero.train.run_folder.RunFolder(run), config7)  # the right settings must still resume


# -- the replay window ----------------------------------------------------------------------------------


def expected_point(y: int, x: int, symmetry: int, size: int) -> tuple[int, int]:
    """Where symmetry s sends (row y, column x): s % 4 quarter turns (anticlockwise, row 0 on top), then a mirror."""
    for _ in range(symmetry % 4):
        y, x = size - 1 - x, y
    if symmetry >= 4:
        x = size - 1 - x
    return y, x


def transform_grid(grid: np.ndarray, symmetry: int) -> np.ndarray:
    """The same map, written point by point (independent of numpy's rot90): [..., S, S] -> [..., S, S]."""
    size = grid.shape[-1]
    out = np.empty_like(grid)
    for y in range(size):
        for x in range(size):
            ty, tx = expected_point(y, x, symmetry, size)
            out[..., ty, tx] = grid[..., y, x]
    return out


@pytest.mark.parametrize("symmetry", range(8))
def test_each_symmetry_moves_a_single_stone_where_expected(symmetry):
    size = 7
    board = np.zeros(size * size, dtype=np.int8)
    y, x, py, px = 1, 2, 5, 3  # a stone at (1, 2); the policy on (5, 3); neither on an axis of symmetry
    board[y * size + x] = BLACK
    planes = encode(board, size, WHITE, y * size + x)[None]
    policy = np.zeros((1, size * size), dtype=np.float32)
    policy[0, py * size + px] = 1.0
    new_planes, new_policy = apply_symmetry(planes, policy, symmetry)
    ty, tx = expected_point(y, x, symmetry, size)
    assert list(zip(*np.nonzero(new_planes[0, OPPONENT]))) == [(ty, tx)]
    assert list(zip(*np.nonzero(new_planes[0, LAST_MOVE]))) == [(ty, tx)]
    assert new_planes[0, OWN].sum() == 0
    assert np.flatnonzero(new_policy[0]).tolist() == [int(np.dot(expected_point(py, px, symmetry, size), (size, 1)))]
    assert new_planes.flags.c_contiguous and new_policy.flags.c_contiguous


def test_the_eight_symmetries_are_eight_different_maps():
    images = {expected_point(1, 2, s, 7) for s in range(8)}
    assert len(images) == 8
    planes = np.random.default_rng(0).random((1, NUM_PLANES, 5, 5)).astype(np.float32)
    results = [apply_symmetry(planes, planes[:, 0].reshape(1, 25), s)[0].tobytes() for s in range(8)]
    assert len(set(results)) == 8


def make_positions(ids, size: int, rng: np.random.Generator, rule: int = FREESTYLE) -> Shard:
    """Position ``i`` has ``i + 1`` stones (so a sample tells which it is), a policy on empty points, outcome by i,
    and a reply on an empty point (none for every fourth)."""
    cells = size * size
    boards, to_move, last, policy, outcome, reply = [], [], [], [], [], []
    for i in ids:
        board = np.zeros(cells, dtype=np.int8)
        points = rng.choice(cells, size=i + 1, replace=False)
        board[points[0::2]] = BLACK
        board[points[1::2]] = WHITE
        side = BLACK if (i + 1) % 2 == 0 else WHITE
        empty = np.flatnonzero(board == 0)
        p = np.zeros(cells, dtype=np.float64)
        chosen = rng.choice(empty, size=min(5, empty.size), replace=False)
        p[chosen] = rng.random(chosen.size) + 0.1
        boards.append(board)
        to_move.append(side)
        last.append(points[-1])
        policy.append(p / p.sum())
        outcome.append(i % 3 - 1)
        reply.append(-1 if i % 4 == 3 else rng.choice(empty))
    n = len(boards)
    return Shard(
        boards=np.array(boards, dtype=np.int8), to_move=np.array(to_move, dtype=np.int8),
        last_move=np.array(last, dtype=np.int16), policy=np.array(policy, dtype=np.float16),
        outcome=np.array(outcome, dtype=np.int8), reply=np.array(reply, dtype=np.int16),
        game_length=np.array([n], dtype=np.int16),
        game_winner=np.array([BLACK], dtype=np.int8), game_resigned=np.zeros(1, dtype=np.bool_),
        game_resign_checked=np.zeros(1, dtype=np.bool_), game_resign_wrong=np.zeros(1, dtype=np.bool_),
        meta={"size": size, "rule": "freestyle", "n_in_row": 5},
    )


def original_planes(shard: Shard, k: int, size: int, rule: int) -> np.ndarray:
    board = shard.boards[k]
    forbidden = forbidden_mask(board, size) if rule == RENJU else None
    return encode(board, size, int(shard.to_move[k]), int(shard.last_move[k]), forbidden)


def check_samples(window: ReplayWindow, shard: Shard, ids: list[int], batch: int, seed: int, rule: int) -> set:
    size = window.size
    sample = window.sample(batch, np.random.default_rng(seed))
    planes, policy, value, reply = sample.planes, sample.policy, sample.value, sample.reply
    assert planes.shape == (batch, NUM_PLANES, size, size) and planes.dtype == np.float32
    assert policy.shape == (batch, size * size) and policy.dtype == np.float32
    assert value.shape == (batch,) and value.dtype == np.float32 and reply.shape == (batch,)
    used = set()
    for b in range(batch):
        stones = planes[b, OWN] + planes[b, OPPONENT]
        i = int(stones.sum()) - 1
        assert i in ids, f"sample {b} is not one of the positions held"
        k = ids.index(i)
        # The policy mass sits on empty points of the transformed board, and still sums to one.
        assert policy[b][stones.reshape(-1) > 0].sum() == 0
        assert abs(policy[b].sum() - 1) < 1e-2
        assert value[b] == shard.outcome[k]
        # Planes, policy and the opponent's reply were moved by one and the same symmetry.
        want_planes = original_planes(shard, k, size, rule)
        want_policy = shard.policy[k].astype(np.float32).reshape(size, size)
        want_reply = np.zeros(size * size, np.float32)
        if shard.reply[k] >= 0:
            want_reply[shard.reply[k]] = 1
        got_reply = np.zeros(size * size, np.float32)
        if reply[b] >= 0:
            got_reply[reply[b]] = 1
        matches = [s for s in range(8) if np.array_equal(transform_grid(want_planes, s), planes[b])
                   and np.array_equal(transform_grid(want_policy, s).reshape(-1), policy[b])
                   and np.array_equal(transform_grid(want_reply.reshape(size, size), s).reshape(-1), got_reply)]
        assert matches, f"sample {b} (position {i}): planes, policy and reply do not fit any one symmetry"
        used.update(matches)
    return used


def test_window_samples_are_consistent_under_symmetries():
    size, rng = 7, np.random.default_rng(3)
    ids = list(range(20))
    shard = make_positions(ids, size, rng)
    window = ReplayWindow(100, size, FREESTYLE)
    window.add(shard)
    used = check_samples(window, shard, ids, batch=96, seed=1, rule=FREESTYLE)
    assert len(used) == 8, "a random symmetry per position should use all eight over 96 samples"


def test_window_samples_are_consistent_under_symmetries_in_renju():
    size = 9
    board = np.zeros(size * size, dtype=np.int8)
    for y, x in [(4, 2), (4, 3), (2, 4), (3, 4)]:
        board[y * size + x] = BLACK
    for y, x in [(0, 0), (0, 8), (8, 0), (8, 7)]:
        board[y * size + x] = WHITE
    assert forbidden_mask(board, size).sum() == 1  # (4, 4) is a double three
    policy = np.zeros(size * size, dtype=np.float16)
    policy[[4 * size + 5, 5 * size + 4]] = 0.5
    # 8 stones: stone count 8 means id 7 for check_samples.
    shard = Shard(boards=board[None], to_move=np.array([BLACK], np.int8), last_move=np.array([8 * size + 7], np.int16),
                  policy=policy[None], outcome=np.array([1], np.int8), reply=np.array([4 * size + 6], np.int16),
                  game_length=np.array([9], np.int16),
                  game_winner=np.array([BLACK], np.int8), game_resigned=np.zeros(1, np.bool_),
                  game_resign_checked=np.zeros(1, np.bool_), game_resign_wrong=np.zeros(1, np.bool_),
                  meta={"size": size, "rule": "renju", "n_in_row": 5})
    window = ReplayWindow(10, size, RENJU)
    window.add(shard)
    planes = window.sample(4, np.random.default_rng(0)).planes
    assert all(planes[b, 4].sum() == 1 for b in range(4)), "the forbidden point is in every sample"
    check_samples(window, shard, [7], batch=32, seed=2, rule=RENJU)


def held_ids(window: ReplayWindow) -> list[int]:
    return sorted(int(np.count_nonzero(window.boards[k])) - 1 for k in range(len(window)))


def test_window_keeps_only_the_newest_positions():
    size, rng, capacity = 7, np.random.default_rng(5), 10
    window = ReplayWindow(capacity, size, FREESTYLE)
    with pytest.raises(ValueError):
        window.sample(1, rng)
    window.add(make_positions(range(0, 6), size, rng))
    assert len(window) == 6 and held_ids(window) == list(range(6))
    window.add(make_positions(range(6, 13), size, rng))  # wraps around the ring
    assert len(window) == capacity and window.added == 13
    assert held_ids(window) == list(range(3, 13))
    window.add(make_positions(range(13, 38), size, rng))  # one shard larger than the window
    assert len(window) == capacity
    assert held_ids(window) == list(range(28, 38))
    planes = window.sample(200, rng).planes
    sampled = {int((planes[b, OWN] + planes[b, OPPONENT]).sum()) - 1 for b in range(200)}
    assert sampled == set(range(28, 38)), "samples come from the newest positions only, all of them"


KILLED_MID_WRITE = """
import os, signal, sys
from pathlib import Path
import numpy as np
from selfplay.shards import Shard, write_shard
empty = {name: np.zeros(0, np.int8) for name in Shard.__dataclass_fields__ if name != "meta"}
os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)  # the worker dies between write and rename
write_shard(Path(sys.argv[1]), Shard(**empty, meta={}), worker=int(sys.argv[2]))
"""


def test_the_temporary_file_of_a_worker_killed_mid_write_is_removed_for_that_worker_only(tmp_path):
    for worker in (0, 1):
        killed = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(tmp_path), str(worker)])
        assert killed.returncode == -signal.SIGKILL
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and all(name.startswith(".") and name.endswith(".tmp") for name in left), left
    assert list_shards(tmp_path) == []  # never read as a shard
    assert remove_unfinished_shards(tmp_path, worker=1) == 1
    assert [p.name for p in tmp_path.iterdir()] == [left[0]] and "-w000" in left[0]  # worker 0 may still be writing
    assert remove_unfinished_shards(tmp_path) == 1 and list(tmp_path.iterdir()) == []


def test_window_counts_every_position_added():
    rng = np.random.default_rng(6)
    window = ReplayWindow(10, 7, FREESTYLE)
    window.add(make_positions(range(0, 25), 7, rng))
    assert window.added == 25


def test_training_gauntlet_builds_the_runs_elo_curve(tmp_path):
    """Every evaluation is an arena gauntlet: games land in RUN/arena.sqlite, Elo in eval.csv and plots/elo.png."""
    from azero.arena.store import ArenaStore
    from azero.train.learner import Learner
    from azero.train.run_folder import RunFolder

    config = build_config("gomoku9", [*TINY, "eval.games=2", "eval.simulations=4", "eval.pure_playouts=20",
                                      "eval.previous=1", "train.device=\"cpu\""])
    folder = RunFolder(tmp_path / "myrun")
    folder.checkpoints.mkdir(parents=True)
    learner = Learner(config, folder, log=lambda *_: None)
    rows = []
    for step in (0, 5, 10):
        learner.counters.step = step
        learner.save_checkpoint()
        rows.append(learner.evaluate())
    learner.metrics.close()
    assert "vs_previous_score" not in rows[0] and {"vs_heuristic_score", "vs_pure20_score", "elo"} <= set(rows[0])
    assert "vs_previous_score" in rows[1] and rows[2]["elo_low"] <= rows[2]["elo"] <= rows[2]["elo_high"]
    with ArenaStore(folder.root / "arena.sqlite") as store:
        games = store.games()
        labels = {p.label: p for p in store.players()}
    # 3 gauntlets: 2 references each, plus the one previous checkpoint for the last two; 2 games per pairing.
    assert len(games) == 2 * (2 + 3 + 3)
    assert labels["myrun/step-00000010@4"].step == 10 and labels["myrun/step-00000010@4"].run == "myrun"
    assert not any({g.black, g.white} == {"myrun/step-00000010@4", "myrun/step-00000000@4"} for g in games)  # 1 previous
    assert (folder.root / "plots" / "elo.png").stat().st_size > 10_000
    assert read_table(folder.root, "eval")["elo"][-1] == rows[2]["elo"]


def test_a_runs_checkpoint_records_its_search_and_plays_with_it(tmp_path):
    """The learner writes the run's search settings into each checkpoint; a net player built from it uses them."""
    from azero.players.network import net_player
    from azero.train.learner import Learner
    from azero.train.run_folder import RunFolder

    config = build_config("gomoku9", [*TINY, "search.c_puct=2.5", "search.fpu_reduction=0.1", "train.device=\"cpu\""])
    folder = RunFolder(tmp_path / "run")
    folder.checkpoints.mkdir(parents=True)
    learner = Learner(config, folder, log=lambda *_: None)
    path = learner.save_checkpoint()
    learner.metrics.close()
    stored = read_info(path).search
    assert stored["c_puct"] == 2.5 and stored["fpu_reduction"] == 0.1
    player = net_player(path, 8)
    assert player.search_config.c_puct == 2.5 and player.search_config.fpu_reduction == 0.1


# -- starting from another net's weights (train.init_from) ------------------------------------------------


def _learner(tmp_path, *overrides):
    from azero.train.learner import Learner
    from azero.train.run_folder import RunFolder

    folder = RunFolder(tmp_path / "run")
    folder.create()
    config = build_config("gomoku9", [*TINY, "net.global_pool_every=1", "net.head_channels=4", "net.value_hidden=8",
                                      "net.value_head=scalar", "net.opponent_policy=false",  # the tiny nets' heads
                                      *overrides])
    return Learner(config, folder, log=lambda message: None)


def test_a_new_run_can_start_from_a_freestyle_net_of_the_same_board_for_renju(tmp_path):
    source = tiny_checkpoint(tmp_path / "freestyle.safetensors", size=SIZE, n_in_row=5, seed=3, step=77)
    learner = _learner(tmp_path, 'game.rule="renju"', "game.n_in_row=5", f'train.init_from="{source}"')
    learner.resume_or_start()
    step, path = latest(learner.folder.root)
    net, info = load_checkpoint(path, "renju", SIZE, 5)
    original, _ = load_checkpoint(source)
    assert step == 0 and info.rule == "renju"
    for name, tensor in original.state_dict().items():
        assert torch.equal(net.state_dict()[name], tensor), name
    assert info.extra["started_from"].startswith("freestyle.safetensors (freestyle 7x7, step 77")


def test_init_from_a_net_of_another_shape_is_refused_with_the_shapes(tmp_path):
    from azero.train.config import ConfigError
    source = tiny_checkpoint(tmp_path / "small.safetensors", size=SIZE, n_in_row=N_IN_ROW)
    learner = _learner(tmp_path, "net.channels=16", f'train.init_from="{source}"')
    with pytest.raises(ConfigError, match="1x8 net.*set net"):
        learner.resume_or_start()
    with pytest.raises(CheckpointError, match="9x9"):
        _learner(tmp_path, "game.size=9", f'train.init_from="{source}"').resume_or_start()


def test_init_from_is_ignored_when_the_run_resumes(tmp_path):
    learner = _learner(tmp_path)
    learner.resume_or_start()
    _, first = latest(learner.folder.root)
    before = load_checkpoint(first)[0].state_dict()
    source = tiny_checkpoint(tmp_path / "other.safetensors", size=SIZE, n_in_row=N_IN_ROW, seed=9)
    again = _learner(tmp_path, f'train.init_from="{source}"')
    again.resume_or_start()
    assert all(torch.equal(again.net.state_dict()[k], v) for k, v in before.items())
    assert again.counters.started_from == ""
