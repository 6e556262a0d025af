"""Faults the learner must survive: a worker dying at any instant, and shards with poisoned numbers."""

import io
import json
import os
import signal
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from azero.train.config import build_config
from azero.train.pool import LocalWorkers, stop_requested
from selfplay.shards import Shard, ShardError, decode_shard, encode_shard


def _read_stop_state_forever(flag):
    while True:
        stop_requested(flag)


def test_a_worker_killed_while_reading_the_stop_state_never_blocks_the_learner(tmp_path):
    """With a lock behind the stop state, a worker killed holding it froze tend() and Ctrl-C for good."""
    workers = LocalWorkers(build_config("gomoku9", []), folder=SimpleNamespace(shards=tmp_path), log=lambda m: None)
    for _ in range(5):  # killed at five random instants of its reads
        reader = workers.context.Process(target=_read_stop_state_forever, args=(workers.stop_flag,), daemon=True)
        reader.start()
        time.sleep(0.3)
        os.kill(reader.pid, signal.SIGKILL)
        reader.join()
    started = []
    workers._start = lambda worker_id, seed: started.append(worker_id) or reader  # no real self-play here
    workers.processes = [reader]

    def learner_side():
        workers.tend()  # the dead worker is replaced ...
        workers.request_stop()  # ... and the run can still be stopped
        stop_requested(workers.stop_flag)

    thread = threading.Thread(target=learner_side, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "the learner blocked on the stop state a dead worker held"
    assert started == [0] and stop_requested(workers.stop_flag)


def make_shard(positions=6, games=2, cells=81) -> Shard:
    rng = np.random.default_rng(0)
    policy = rng.random((positions, cells)).astype(np.float32)
    policy /= policy.sum(axis=1, keepdims=True)
    boards = np.zeros((positions, cells), np.int8)
    boards[:, 40] = 1  # black's first stone in the centre; white to move
    return Shard(boards=boards, to_move=np.full(positions, 2, np.int8), last_move=np.full(positions, 40, np.int16),
                 policy=policy.astype(np.float16), outcome=np.zeros(positions, np.int8),
                 reply=np.full(positions, -1, np.int16), game_length=np.full(games, 3, np.int16),
                 game_winner=np.full(games, 3, np.int8), game_resigned=np.zeros(games, np.bool_),
                 game_resign_checked=np.zeros(games, np.bool_), game_resign_wrong=np.zeros(games, np.bool_),
                 meta={"size": 9, "rule": "freestyle", "n_in_row": 5, "worker": 0, "step": 0})


def poisoned(change) -> bytes:
    shard = make_shard()
    change(shard)
    return encode_shard(shard)


def test_a_good_shard_is_read_back():
    shard = decode_shard(encode_shard(make_shard()), "good", size=9)
    assert shard.positions == 6 and shard.games == 2


def _set(field, index, value):
    def change(shard):
        getattr(shard, field)[index] = value
    return change


def _replace(field, value):
    def change(shard):
        setattr(shard, field, value)
    return change


POISONS = {
    "NaN in a policy": _set("policy", (0, 3), np.nan),
    "infinite policy": _set("policy", (1, 3), np.inf),
    "negative policy": _set("policy", (2, 3), -0.5),
    "policy not summing to 1": _replace("policy", np.full((6, 81), 0.5, np.float16)),
    "stone value 7": _set("boards", (0, 5), 7),
    "side to move 9": _set("to_move", 0, 9),
    "last move off the board": _set("last_move", 0, 81),
    "last move on an empty point": _set("last_move", 0, 3),
    "a million games in 10 KB": _replace("game_length", np.full(1_000_000, 3, np.int16)),
    "games of negative length": _set("game_length", 0, -4),
    "winner 5": _set("game_winner", 0, 5),
    "game arrays of different lengths": _replace("game_winner", np.zeros(3, np.int8)),
    "meta not a mapping": _replace("meta", [1, 2]),
}


@pytest.mark.parametrize("poison", list(POISONS))
def test_a_shard_with_poisoned_numbers_is_refused(poison):
    with pytest.raises(ShardError):
        decode_shard(poisoned(POISONS[poison]), poison, size=9)


def test_a_small_file_that_expands_to_millions_of_positions_is_refused_before_it_is_read():
    # Zeros compress about 1000:1: this is well under a megabyte on disk and gigabytes in memory.
    buffer = io.BytesIO()
    big = 4_000_000
    np.savez_compressed(buffer, boards=np.zeros((big, 81), np.int8), to_move=np.ones(big, np.int8),
                        last_move=np.full(big, -1, np.int16), policy=np.zeros((big, 81), np.float16),
                        outcome=np.zeros(big, np.int8), reply=np.full(big, -1, np.int16),
                        game_length=np.ones(1, np.int16), game_winner=np.zeros(1, np.int8),
                        game_resigned=np.zeros(1, np.bool_), game_resign_checked=np.zeros(1, np.bool_),
                        game_resign_wrong=np.zeros(1, np.bool_), meta=np.array(json.dumps({"size": 9})))
    data = buffer.getvalue()
    assert len(data) < 4_000_000
    with pytest.raises(ShardError, match="too large"):
        decode_shard(data, "bomb", size=9)


def small_learner(tmp_path):
    from azero.train.learner import Learner
    from azero.train.run_folder import RunFolder

    folder = RunFolder(tmp_path / "run")
    folder.create()
    config = build_config("gomoku9", ["net.blocks=1", "net.channels=8", "train.batch_size=4", "train.window=100", "train.min_positions=8"])
    learner = Learner(config, folder, log=lambda message: said.append(message))
    said = []
    learner.said = said
    learner.window.add(make_shard(positions=8))
    return learner


def test_a_step_with_a_non_finite_loss_is_refused_and_said(tmp_path, monkeypatch):
    import torch

    from azero.train import step

    learner = small_learner(tmp_path)
    before = {k: v.detach().clone() for k, v in learner.net.named_parameters()}
    real = step.policy_cross_entropy
    monkeypatch.setattr(step, "policy_cross_entropy", lambda *args: real(*args) * float("nan"))
    losses = learner.train_step()
    assert all(np.isnan(losses)) and learner.counters.step == 0 and learner.skipped_steps == 1
    assert all(torch.equal(before[k], v) for k, v in learner.net.named_parameters())
    assert "refused a training step" in learner.said[-1]
    monkeypatch.setattr(step, "policy_cross_entropy", real)
    learner.train_step()
    assert learner.counters.step == 1  # good steps go on


def test_a_network_with_non_finite_weights_is_never_published(tmp_path):
    import torch

    from azero.train.learner import NonFiniteWeights

    learner = small_learner(tmp_path)
    with torch.no_grad():
        next(learner.net.parameters())[0] = float("inf")
    with pytest.raises(NonFiniteWeights, match="nothing was published"):
        learner.save_checkpoint()
    assert not list((tmp_path / "run").rglob("*.safetensors"))


def test_a_failed_init_from_leaves_no_run_folder_and_says_why_in_one_line(tmp_path, capsys):
    from tiny_nets import tiny_checkpoint

    from azero.cli import main

    source = tiny_checkpoint(tmp_path / "small.safetensors", size=9, n_in_row=5)
    run = tmp_path / "run"
    said = []
    for setting in ("net.channels=16", f'train.init_from="{tmp_path / "missing.safetensors"}"'):
        overrides = [f'train.init_from="{source}"', "net.blocks=1", setting]
        assert main(["train", "--preset", "gomoku9", "--run", str(run), *overrides]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err  # no config dump, no traceback
        assert not run.exists()
        said.append(err)
    assert "channels 8 there, 16 here" in said[0] and "missing.safetensors" in said[1]


def _exit_at_once():
    raise SystemExit(3)


def test_workers_that_die_as_soon_as_they_start_stop_the_run_instead_of_looping(tmp_path):
    from azero.train.pool import MAX_QUICK_DEATHS, WorkersFailing

    workers = LocalWorkers(build_config("gomoku9", []), folder=SimpleNamespace(shards=tmp_path), log=lambda m: None)

    def start_dying(worker_id, seed):
        workers.started_at[worker_id] = time.monotonic()
        process = workers.context.Process(target=_exit_at_once, daemon=True)
        process.start()
        process.join()
        return process

    workers._start = start_dying
    workers.processes = [start_dying(0, 0)]
    with pytest.raises(WorkersFailing, match="died 5 times in a row"):
        for _ in range(MAX_QUICK_DEATHS + 1):
            workers.tend()
