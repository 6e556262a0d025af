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


def worker_main(worker_id: int, run_dir: str, config_data: dict, seed: int, stop_event, parent_pid: int) -> None:
    """Entry point of a self-play process (started with the 'spawn' method)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the learner's to handle; it stops us in order
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))

    import torch

    from azero.checkpoint import CheckpointError, load_checkpoint, read_latest
    from azero.config import from_mapping
    from azero.evaluator import NetEvaluator
    from azero.network import pick_device

    from .engine import SelfPlayEngine
    from .shards import shard_from_games, write_shard

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
            if stop_event.is_set():
                return None, None
            time.sleep(1.0)

    step, net = load_latest()
    if net is None:
        return
    evaluator = NetEvaluator(net, device)
    engine = SelfPlayEngine(game.size, game.rule, game.n_in_row, evaluator, config.search, config.selfplay, seed=seed)
    pending = []
    last_write = last_poll = time.monotonic()
    meta = {"size": game.size, "rule": game.rule, "n_in_row": game.n_in_row, "worker": worker_id}

    def flush():
        nonlocal pending, last_write
        if pending:
            write_shard(shard_dir, shard_from_games(pending, {**meta, "step": step}), worker_id)
            pending = []
        last_write = time.monotonic()

    while not stop_event.is_set() and not stopping and os.getppid() == parent_pid:
        pending.extend(engine.step())
        now = time.monotonic()
        if now - last_write > SHARD_SECONDS or sum(len(g.outcome) for g in pending) >= SHARD_POSITIONS:
            flush()
        if now - last_poll > WEIGHTS_POLL_SECONDS:
            last_poll = now
            latest = read_latest(run_dir)
            if latest is not None and latest[0] != step:
                try:
                    new_net, _ = load_checkpoint(latest[1], game.rule, game.size, game.n_in_row, device=device)
                except CheckpointError:
                    continue  # a newer pointer will come; keep playing with the weights we have
                flush()  # a shard holds games of one checkpoint
                step = latest[0]
                evaluator.replace_net(new_net)
    flush()
