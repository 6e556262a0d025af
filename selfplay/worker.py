"""A self-play worker process: play games with the latest published weights, write shards.

The learner publishes a checkpoint and then points ``checkpoints/latest.json``
at it; workers look at that pointer every few seconds and load new weights
between search steps.  Games finished are written as a shard every
``SHARD_SECONDS`` (or sooner when many are waiting).  A worker stops when
asked, when its parent (the learner) disappears, or on SIGTERM; games in
flight are dropped, finished games are written first.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

SHARD_SECONDS = 20.0
SHARD_POSITIONS = 4096
WEIGHTS_POLL_SECONDS = 3.0


class SelfPlaySession:
    """One worker's self-play: the engine, the weights it plays with, and its finished games not yet sent.

    Shared by the local worker process (which writes shards to the run
    folder) and the Ray actor (which returns them to the driver).  A shard
    holds games of one checkpoint, so changing weights first takes the
    finished games as a shard of their own.
    """

    def __init__(self, worker_id: int, config, seed: int, device, step: int, net):
        from azero.evaluator import NetEvaluator

        from .engine import SelfPlayEngine

        game = config.game
        self.worker_id, self.step, self.device = worker_id, step, device
        self.evaluator = NetEvaluator(net, device)
        self.engine = SelfPlayEngine(game.size, game.rule, game.n_in_row, self.evaluator, config.search,
                                     config.selfplay, seed=seed)
        self.meta = {"size": game.size, "rule": game.rule, "n_in_row": game.n_in_row, "worker": worker_id}
        self.pending: list = []
        self.last_take = time.monotonic()

    def play(self, seconds: float = 0.0) -> None:
        """One search step of every game at once, then more until ``seconds`` have passed."""
        t0 = time.monotonic()
        self.pending.extend(self.engine.step())
        while time.monotonic() - t0 < seconds and not self.due():
            self.pending.extend(self.engine.step())

    def due(self) -> bool:
        """A shard's worth of positions is waiting, or SHARD_SECONDS have passed since the last shard."""
        return (time.monotonic() - self.last_take > SHARD_SECONDS
                or sum(len(g.outcome) for g in self.pending) >= SHARD_POSITIONS)

    def take_shard(self):
        """The finished games as one shard (None when there are none)."""
        from .shards import shard_from_games

        shard = shard_from_games(self.pending, {**self.meta, "step": self.step}) if self.pending else None
        self.pending = []
        self.last_take = time.monotonic()
        return shard

    def switch_weights(self, step: int, net):
        """Play on with ``net`` (checkpoint ``step``); returns the shard of the games of the old weights."""
        shard = self.take_shard()
        self.step = step
        self.evaluator.replace_net(net)
        return shard


def stop_requested(stop_flag) -> bool:
    """Has the learner asked the workers to stop? (A plain read of a shared byte: nothing to die holding.)"""
    return bool(stop_flag.value)


def worker_main(worker_id: int, run_dir: str, config_data: dict, seed: int, stop_flag, parent_pid: int) -> None:
    """Entry point of a self-play process (started with the 'spawn' method); ``stop_flag`` is a shared RawValue."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the learner's to handle; it stops us in order
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))

    import torch

    from azero.checkpoint import CheckpointError, load_checkpoint, read_latest
    from azero.config import from_mapping
    from azero.network import pick_device

    from .shards import write_shard

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
