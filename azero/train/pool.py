"""The local self-play pool: worker processes on this machine that play with the latest weights and write shards.

The learner publishes a checkpoint and then points ``checkpoints/latest.json``
at it; workers look at that pointer every few seconds and load new weights
between search steps.  A worker stops when asked, when its parent (the
learner) disappears, or on SIGTERM; games in flight are dropped, finished
games are written first.  The Ray pool (azero.train.ray_selfplay) plays the
same :class:`selfplay.worker.SelfPlaySession` on a cluster.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

import torch

from azero.model.checkpoint import CheckpointError, load_checkpoint, read_latest
from azero.model.network import pick_device
from azero.train.compute import describe_hardware
from azero.train.config import TrainConfig, from_mapping
from azero.train.run_folder import RunFolder
from selfplay.shards import remove_unfinished_shards, write_shard
from selfplay.worker import WEIGHTS_POLL_SECONDS, SelfPlaySession


def stop_requested(stop_flag) -> bool:
    """Has the learner asked the workers to stop? (A plain read of a shared byte: nothing to die holding.)"""
    return bool(stop_flag.value)


def worker_main(worker_id: int, run_dir: str, config_data: dict, seed: int, stop_flag, parent_pid: int) -> None:
    """Entry point of a self-play process (started with the 'spawn' method); ``stop_flag`` is a shared RawValue."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the learner's to handle; it stops us in order
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))

    torch.set_num_threads(1)
    config = from_mapping(config_data)
    device = pick_device(config.train.device)
    run_dir = Path(run_dir)
    shard_dir = run_dir / "shards"
    game = config.game

    def load_latest():
        while True:
            latest = read_latest(run_dir)
            if latest is not None:
                try:
                    net, _ = load_checkpoint(latest[1], game.rule, game.size, game.n_in_row, device=device)
                    return latest[0], net
                except CheckpointError as error:
                    print(f"worker {worker_id}: {error}; waiting for the next checkpoint", file=sys.stderr)
            if stop_requested(stop_flag):
                return None, None
            time.sleep(1.0)

    def write(shard) -> None:
        if shard is not None:
            write_shard(shard_dir, shard, worker_id)

    step, net = load_latest()
    if net is None:
        return
    session = SelfPlaySession(worker_id, config, seed, device, step, net)
    last_poll = time.monotonic()
    while not stop_requested(stop_flag) and not stopping and os.getppid() == parent_pid:
        session.play()
        if session.due():
            write(session.take_shard())
        now = time.monotonic()
        if now - last_poll > WEIGHTS_POLL_SECONDS:
            last_poll = now
            latest = read_latest(run_dir)
            if latest is not None and latest[0] != session.step:
                try:
                    new_net, _ = load_checkpoint(latest[1], game.rule, game.size, game.n_in_row, device=device)
                except CheckpointError:
                    continue  # a newer pointer will come; keep playing with the weights we have
                write(session.switch_weights(latest[0], new_net))
    write(session.take_shard())


QUICK_DEATH_SECONDS = 20.0  # a worker that dies this soon after starting did not get going
MAX_QUICK_DEATHS = 5


class WorkersFailing(ValueError):
    """Self-play workers keep dying as soon as they start: the run cannot make games (the CLI: one line, exit 2)."""


class LocalWorkers:
    """The default backend: self-play worker processes on this machine, writing shards into the run folder.

    A worker that dies is started again; its games in flight are lost (a
    shard is written whole or not at all) and the temporary file of a shard
    it was writing is deleted.
    """

    def __init__(self, config: TrainConfig, folder: RunFolder, log):
        self.config, self.folder, self.log = config, folder, log
        self.count = default_workers(config)
        self.context = multiprocessing.get_context("spawn")
        # A lock-free shared byte, not an Event: an Event's check takes a lock, and a worker killed while
        # holding it would block the learner's next check for good (no new workers, no Ctrl-C).
        self.stop_flag = self.context.RawValue("b", 0)
        self.stopping = False  # the learner's own copy: it never reads shared memory a worker can hold
        self.processes: list = []
        self.started_at: dict[int, float] = {}
        self.quick_deaths: dict[int, int] = {}

    def describe(self, device: torch.device) -> str:
        return describe_hardware(device, self.count)

    def start(self, seed: int) -> None:
        self.processes = [self._start(i, seed + i) for i in range(self.count)]

    def _start(self, worker_id: int, seed: int):
        self.started_at[worker_id] = time.monotonic()
        process = self.context.Process(
            target=worker_main, name=f"azero-selfplay-{worker_id}",
            args=(worker_id, str(self.folder.root), self.config.to_dict(), seed, self.stop_flag, os.getpid()),
            daemon=True,
        )
        process.start()
        return process

    def tend(self) -> None:
        """Start a new worker in place of each one that stopped; give up on one that cannot stay up.

        A worker that dies within seconds of starting, again and again (a
        setting it cannot run with, a broken install), would be restarted for
        ever while the run reports "0 games": after MAX_QUICK_DEATHS in a row
        the run stops with WorkersFailing instead.
        """
        for i, process in enumerate(self.processes):
            if not process.is_alive() and not self.stopping:
                remove_unfinished_shards(self.folder.shards, worker=i)  # its games in flight are dropped
                lived = time.monotonic() - self.started_at.get(i, 0.0)
                self.quick_deaths[i] = self.quick_deaths.get(i, 0) + 1 if lived < QUICK_DEATH_SECONDS else 0
                if self.quick_deaths[i] >= MAX_QUICK_DEATHS:
                    raise WorkersFailing(f"self-play worker {i} died {self.quick_deaths[i]} times in a row within "
                                         f"{QUICK_DEATH_SECONDS:.0f} s of starting (exit code {process.exitcode}); "
                                         "its messages are above")
                self.log(f"self-play worker {i} stopped (exit code {process.exitcode}); starting a new one")
                self.processes[i] = self._start(i, seed=int(time.time()) + i)

    def request_stop(self) -> None:
        self.stopping = True
        self.stop_flag.value = 1

    def join(self) -> None:
        """Wait for the workers to write their finished games and exit."""
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()


def default_workers(config: TrainConfig) -> int:
    return config.selfplay.workers or (os.cpu_count() or 1)


def make_workers(backend: str, config: TrainConfig, folder: RunFolder, log, address: str | None = None):
    """``ray``: actors on the Ray cluster at ``address``; anything else: local processes (as the arena does)."""
    if backend == "ray":
        from azero.train.ray_selfplay import RayWorkers

        return RayWorkers(config, folder, log, address)
    return LocalWorkers(config, folder, log)
