"""Checkpoint faults a fault-injection trial found: writes killed midway, non-finite weights, heads that do not
fit the metadata, and metadata out of range.  Each is refused (or cleaned up) with one complete line."""

import math
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tiny_nets import TINY, tiny_checkpoint

from azero.model.checkpoint import CheckpointError, CheckpointInfo, load_checkpoint, load_tensors, read_info, remove_unfinished_checkpoints, save_checkpoint, save_tensors
from azero.model.network import NetConfig, PolicyValueNet

REPO = Path(__file__).resolve().parents[1]


def refusal(path: Path, *, metadata_only_too: bool = False) -> str:
    """The one-line CheckpointError ``load_checkpoint`` (and ``read_info`` when asked) gives for ``path``."""
    readers = (load_checkpoint, read_info) if metadata_only_too else (load_checkpoint,)
    messages = []
    for read in readers:
        try:
            read(path)
        except CheckpointError as error:
            messages.append(str(error))
        except Exception as error:  # noqa: BLE001 - the point is which exception
            pytest.fail(f"{read.__name__} raised {type(error).__name__} ({error}), not CheckpointError")
        else:
            pytest.fail(f"{read.__name__} accepted {path.name}")
    for message in messages:
        assert "\n" not in message, message
    return messages[0]


def rewritten(source: Path, path: Path, tensors: dict | None = None, **metadata) -> Path:
    """A copy of the checkpoint ``source`` with other tensors and metadata fields (None values are kept as null)."""
    old_tensors, meta = load_tensors(source)
    save_tensors(path, old_tensors if tensors is None else tensors, {**meta, **metadata})
    return path


@pytest.fixture
def source(tmp_path) -> Path:
    return tiny_checkpoint(tmp_path / "source.safetensors", size=7, n_in_row=4, step=3)


# -- (a) temporary files of a write killed midway ---------------------------------------------------------

# Saves a checkpoint over ARGV[1] and is killed (SIGKILL: no cleanup runs) once the new bytes are written,
# before the rename that would publish them.
KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, "tests")
import games.atomic
from tiny_nets import tiny_checkpoint
games.atomic.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
tiny_checkpoint(Path(sys.argv[1]), size=7, n_in_row=4, step=99, seed=1)
"""


def test_a_write_killed_midway_leaves_a_temporary_file_that_the_cleanup_removes(source):
    folder = source.parent
    before = source.read_bytes()
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(source)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr
    left = [p.name for p in folder.iterdir() if p.name != source.name]
    assert len(left) == 1 and left[0].endswith(".tmp"), left  # what the fault left behind
    assert source.read_bytes() == before

    assert remove_unfinished_checkpoints(folder) == 1
    assert [p.name for p in folder.iterdir()] == [source.name]
    assert load_checkpoint(source)[1].step == 3
    assert remove_unfinished_checkpoints(folder) == 0


def test_the_cleanup_removes_only_temporary_files_of_checkpoint_writes(tmp_path):
    unfinished = [".step-00000250.safetensors.0a1b2c3d.tmp", ".trainer_state.safetensors.ffffffff.tmp",
                  ".latest.json.12345678.tmp"]
    kept = ["step-00000250.safetensors", "latest.json", "notes.tmp", ".hidden",
            ".config.toml.0a1b2c3d.tmp",  # not a checkpoint: the run folder's settings
            ".step-00000250.safetensors.tmp", ".step-00000250.safetensors.XYZ12345.tmp",  # not atomic_write names
            ".w001-000001.shard.0a1b2c3d.tmp"]
    for name in unfinished + kept:
        (tmp_path / name).write_bytes(b"x")
    assert remove_unfinished_checkpoints(tmp_path) == len(unfinished)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)


def test_the_cleanup_of_a_missing_folder_finds_nothing(tmp_path):
    assert remove_unfinished_checkpoints(tmp_path / "no-such-run" / "checkpoints") == 0


# -- (b) weights that are not finite -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_weight_is_refused(source, tmp_path, bad):
    tensors, _ = load_tensors(source)
    poisoned = tensors["value_fc.0.weight"].clone()
    poisoned[0, 0] = bad
    path = rewritten(source, tmp_path / "diverged.safetensors", {**tensors, "value_fc.0.weight": poisoned})
    message = refusal(path)
    assert f"1 of {len(tensors)} weight tensors are not finite" in message, message
    assert "value_fc.0.weight" in message and path.name in message


def test_the_refusal_counts_every_tensor_that_is_not_finite(source, tmp_path):
    tensors, _ = load_tensors(source)
    names = ["stem.0.weight", "policy_out.bias", "blocks.0.bn1.running_mean"]
    poisoned = {name: torch.full_like(tensors[name], math.nan) for name in names}
    path = rewritten(source, tmp_path / "diverged.safetensors", {**tensors, **poisoned})
    assert f"{len(names)} of {len(tensors)} weight tensors are not finite" in refusal(path)


def test_a_negative_batch_norm_variance_is_refused(source, tmp_path):
    tensors, _ = load_tensors(source)
    variance = tensors["stem.1.running_var"].clone()
    variance[0] = -1.0  # the net would divide by its square root: NaN for every position
    path = rewritten(source, tmp_path / "negative.safetensors", {**tensors, "stem.1.running_var": variance})
    message = refusal(path)
    assert "running variances are negative" in message and "stem.1.running_var" in message


# -- (c) heads and tensors that do not fit the metadata ------------------------------------------------------


def test_a_scalar_head_called_wdl_names_the_tensor_and_both_shapes(source, tmp_path):
    _, meta = load_tensors(source)
    path = rewritten(source, tmp_path / "lying.safetensors", net={**meta["net"], "value_head": "wdl"})
    message = refusal(path)
    assert message.endswith("value_fc.2.weight is 1x8 in the file, 3x8 in that net"), message
    assert "do not fit" in message and "wdl value head" in message


def test_a_missing_opponent_reply_head_is_named(source, tmp_path):
    _, meta = load_tensors(source)
    path = rewritten(source, tmp_path / "lying.safetensors", net={**meta["net"], "opponent_policy": True})
    message = refusal(path)
    assert message.endswith("the file has no opponent_policy_out.weight (of shape 1x4x1x1)"), message


def test_an_opponent_reply_head_the_metadata_does_not_mention_is_named(tmp_path):
    torch.manual_seed(0)
    config = NetConfig(**TINY, opponent_policy=True)
    path = tmp_path / "with-reply.safetensors"
    save_checkpoint(path, PolicyValueNet(config), CheckpointInfo(rule="freestyle", size=7, n_in_row=4,
                                                                 net={**config.to_dict(), "opponent_policy": False}))
    message = refusal(path)
    assert "the file has opponent_policy_out.bias and 1 more, which that net has no place for" in message, message


def test_a_tensor_of_the_wrong_shape_is_named(source, tmp_path):
    tensors, _ = load_tensors(source)
    path = rewritten(source, tmp_path / "reshaped.safetensors", {**tensors, "policy_out.weight": torch.zeros(1, 4)})
    assert refusal(path).endswith("policy_out.weight is 1x4 in the file, 1x4x1x1 in that net")


def test_a_head_larger_than_the_file_holds_is_named(source, tmp_path):
    _, meta = load_tensors(source)
    path = rewritten(source, tmp_path / "large-head.safetensors", net={**meta["net"], "value_hidden": 4096})
    assert refusal(path).endswith("value_fc.0.weight is 8x8 in the file, 4096x8 in that net")


# -- (d) metadata out of range ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, words",
    [
        (dict(n_in_row=99), ["n_in_row", "99"]),
        (dict(n_in_row="5"), ["n_in_row", "'5'"]),
        (dict(n_in_row=5.0), ["n_in_row", "5.0"]),
        (dict(n_in_row=2), ["n_in_row", "from 3"]),
        (dict(n_in_row=8), ["n_in_row", "board size (7)", "8"]),
        (dict(n_in_row=True), ["n_in_row", "True"]),
        (dict(n_in_row=None), ["n_in_row", "None"]),
        (dict(rule="renju"), ["renju", "five"]),  # with n_in_row 4
        (dict(rule="go"), ["unknown rule", "'go'"]),
        (dict(rule=None), ["unknown rule", "None"]),
        (dict(size=4), ["board size", "4"]),
        (dict(size=21), ["board size", "21"]),
        (dict(size=[7]), ["board size", "[7]"]),
        (dict(step=-1), ["step", "-1"]),
        (dict(step=2**63), ["step", str(2**63)]),
        (dict(games=1.5), ["games", "1.5"]),
        (dict(positions=True), ["positions", "True"]),
        (dict(created="yesterday"), ["created", "'yesterday'"]),
        (dict(created=math.nan), ["created", "nan"]),
        (dict(created=-1.0), ["created", "-1.0"]),
        (dict(parent=5), ["parent", "5"]),
        (dict(preset=["gomoku9"]), ["preset", "['gomoku9']"]),
        (dict(preset="x" * 100_001), ["preset", "at most 100000 characters", "xxx..."]),
        (dict(extra={"samples": -1}), ["extra.samples", "-1"]),
        (dict(extra={"samples": "12"}), ["extra.samples", "'12'"]),
        (dict(extra={"train_seconds": "long"}), ["extra.train_seconds", "'long'"]),
        (dict(extra={"train_seconds": -5}), ["extra.train_seconds", "-5"]),
        (dict(extra={"hardware": "cpu"}), ["extra.hardware", "list"]),
        (dict(extra={"hardware": [1]}), ["extra.hardware", "1"]),
        (dict(extra={"command": None}), ["extra.command", "None"]),
        (dict(extra={"started_from": 7}), ["extra.started_from", "7"]),
        (dict(extra={"last_shard": {}}), ["extra.last_shard", "{}"]),
        (dict(net="dict"), ["net", "mapping"]),
        (dict(net={"blocks": 1.0}), ["net.blocks", "int", "1.0"]),
        (dict(net={"blocks": True}), ["net.blocks", "True"]),
        (dict(net={"channels": "8"}), ["net.channels", "'8'"]),
        (dict(net={"opponent_policy": 1}), ["net.opponent_policy", "1"]),
        (dict(net={"value_head": 3}), ["net.value_head", "3"]),
        (dict(net={"value_head": "mse"}), ["net.value_head", "scalar, wdl", "'mse'"]),
        (dict(net={"value_hidden": 10**9}), ["net.value_hidden must be from 1 to 4096, got 1000000000"]),
        (dict(net={"blocks": 65}), ["net.blocks must be from 1 to 64, got 65"]),
        (dict(net={"heads": 2}), ["net", "'heads'"]),
    ],
)
def test_metadata_of_the_wrong_type_or_out_of_range_is_refused_in_one_line(source, tmp_path, changes, words):
    _, meta = load_tensors(source)
    if isinstance(changes.get("net"), dict):
        changes = {**changes, "net": {**meta["net"], **changes["net"]}}
    if isinstance(changes.get("extra"), dict):
        changes = {**changes, "extra": {**meta["extra"], **changes["extra"]}}
    path = rewritten(source, tmp_path / "damaged.safetensors", **changes)
    message = refusal(path, metadata_only_too=True)
    assert "damaged metadata" in message and message.endswith(")"), message
    for word in words:
        assert word in message, (word, message)


def test_a_missing_field_is_named(source, tmp_path):
    tensors, meta = load_tensors(source)
    del meta["n_in_row"]
    path = tmp_path / "damaged.safetensors"
    save_tensors(path, tensors, meta)
    assert "damaged metadata (no n_in_row)" in refusal(path, metadata_only_too=True)


@pytest.mark.parametrize(
    "changes",
    [
        dict(n_in_row=7),  # a row as long as the board
        dict(n_in_row=3),
        dict(size=20, n_in_row=5, rule="renju"),
        dict(rule=" Standard "),  # any spelling the engine accepts
        dict(parent=None, preset=None, created=0),
        dict(extra={"command": "azero train --run 'a\nb'"}),  # whatever azero itself may have written
        dict(step=2**63 - 1),
        dict(extra={}),
        dict(extra={"eval_baseline": "an older key", "samples": 0, "train_seconds": 0, "hardware": [],
                    "command": "", "started_from": "", "last_shard": ""}),
    ],
)
def test_metadata_at_the_edges_of_its_ranges_is_accepted(source, tmp_path, changes):
    path = rewritten(source, tmp_path / "edge.safetensors", **changes)
    load_checkpoint(path)
    assert read_info(path).size == changes.get("size", 7)


SHIPPED = sorted((REPO / "checkpoints").rglob("*.safetensors"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_checkpoint_still_loads(path):
    net, info = load_checkpoint(path)
    assert info.step > 0
    assert all(bool(torch.isfinite(t).all()) for t in net.state_dict().values() if t.is_floating_point())
