"""Checkpoints on disk: exact round trips, clear refusals, no unpickling, atomic writes."""

import io
import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as save_tensors_to_bytes

import azero.model.checkpoint as checkpoint_module
import games.atomic as atomic_module
from azero.model.checkpoint import CheckpointError, CheckpointInfo, load_checkpoint, read_info, save_checkpoint
from azero.model.network import NetConfig, PolicyValueNet
from azero.model.planes import NUM_PLANES

# global_pool_every=1 puts a pooling branch in every block, so every kind of layer is in the file.
NET = NetConfig(blocks=2, channels=8, global_pool_every=1, head_channels=4, value_hidden=8)


def small_net(seed: int = 0) -> PolicyValueNet:
    torch.manual_seed(seed)
    net = PolicyValueNet(NetConfig(**NET.to_dict()))
    # Non-trivial batch-norm statistics, so a round trip that forgot the buffers would show.
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.num_batches_tracked.fill_(7)
    return net.eval()


def info_for(net: PolicyValueNet, **changes) -> CheckpointInfo:
    fields = dict(rule="freestyle", size=7, n_in_row=4, net=net.config.to_dict(), step=42, games=10, positions=300,
                  parent="step-00000040.safetensors", preset="gomoku9", extra={"samples": 123, "last_shard": "x"})
    fields.update(changes)
    return CheckpointInfo(**fields)


@pytest.fixture
def saved(tmp_path):
    net = small_net()
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, net, info_for(net))
    return path, net


def planes(batch: int = 3, size: int = 7) -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    x = (torch.rand(batch, NUM_PLANES, size, size, generator=generator) > 0.7).float()
    x[:, 5] = 1.0  # the on-board plane
    return x


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp"))


# -- round trip -----------------------------------------------------------------


def test_round_trip_gives_identical_outputs_and_metadata(saved):
    path, net = saved
    loaded, info = load_checkpoint(path, rule="freestyle", size=7, n_in_row=4)
    assert not loaded.training, "a loaded net should be in eval mode"
    for size in (7, 9):  # fully convolutional: any board size reads the same weights
        with torch.no_grad():
            want_logits, want_value = net(planes(size=size))
            got_logits, got_value = loaded(planes(size=size))
        assert torch.equal(got_logits, want_logits)
        assert torch.equal(got_value, want_value)
    original = net.state_dict()
    for name, tensor in loaded.state_dict().items():
        assert torch.equal(tensor, original[name]), name
    assert (info.rule, info.size, info.n_in_row, info.step, info.games, info.positions) == ("freestyle", 7, 4, 42, 10, 300)
    assert info.net == NET.to_dict()
    assert info.parent == "step-00000040.safetensors" and info.preset == "gomoku9"
    assert info.extra == {"samples": 123, "last_shard": "x"}
    assert read_info(path) == info
    assert leftovers(path.parent) == []


def test_rules_may_be_given_in_any_spelling_the_engine_accepts(saved):
    path, _ = saved
    load_checkpoint(path, rule=" Freestyle ", size=7, n_in_row=4)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(rule="renju"), ["freestyle", "renju"]),
        (dict(rule="standard"), ["freestyle", "standard"]),
        (dict(size=9), ["7x7", "9x9"]),
        (dict(n_in_row=5), ["4 in a row", "5"]),
    ],
)
def test_loading_for_other_rules_or_board_names_both(saved, kwargs, words):
    path, _ = saved
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path, **kwargs)
    message = str(error.value)
    assert "\n" not in message
    assert path.name in message
    for word in words:
        assert word in message, (word, message)


# -- damaged and foreign files ------------------------------------------------------


def expect_checkpoint_error(path: Path, *words: str) -> str:
    """Both entry points must refuse ``path`` with CheckpointError (never another exception)."""
    for read in (load_checkpoint, read_info):
        try:
            read(path)
        except CheckpointError as error:
            message = str(error)
        except Exception as error:  # noqa: BLE001 - the point is which exception
            pytest.fail(f"{read.__name__} raised {type(error).__name__} ({error}), not CheckpointError")
        else:
            pytest.fail(f"{read.__name__} accepted {path.name}")
        assert "\n" not in message.strip()
        for word in words:
            assert word in message, (word, message)
    return message


def with_metadata(net: PolicyValueNet, metadata: dict | None, tensors: dict | None = None) -> bytes:
    tensors = tensors if tensors is not None else {k: v.contiguous() for k, v in net.state_dict().items()}
    return save_tensors_to_bytes(tensors, metadata=metadata)


def test_missing_file(tmp_path):
    expect_checkpoint_error(tmp_path / "nope.safetensors", "no checkpoint")


@pytest.mark.parametrize("cut", [0, 3, 8, 20, 0.5, -1])
def test_truncated_file(saved, cut):
    path, _ = saved
    data = path.read_bytes()
    n = int(len(data) * cut) if isinstance(cut, float) else (len(data) + cut if cut < 0 else cut)
    path.write_bytes(data[:n])
    expect_checkpoint_error(path, path.name)


@pytest.mark.parametrize("seed", range(4))
def test_random_bytes(tmp_path, seed):
    path = tmp_path / "random.safetensors"
    rng = torch.Generator().manual_seed(seed)
    path.write_bytes(bytes(torch.randint(0, 256, (4096,), generator=rng, dtype=torch.uint8).tolist()))
    expect_checkpoint_error(path, path.name)


def test_random_bytes_behind_a_plausible_header_length(tmp_path):
    path = tmp_path / "random.safetensors"
    path.write_bytes((100).to_bytes(8, "little") + os.urandom(300))
    expect_checkpoint_error(path, path.name)


def test_safetensors_file_without_azero_metadata(tmp_path):
    net = small_net()
    path = tmp_path / "plain.safetensors"
    path.write_bytes(with_metadata(net, None))
    expect_checkpoint_error(path, "no azero metadata")
    path.write_bytes(with_metadata(net, {"format": "pt"}))
    expect_checkpoint_error(path, "no azero metadata")
    path.write_bytes(with_metadata(net, {"azero": json.dumps({"format": "something-else", "rule": "freestyle"})}))
    expect_checkpoint_error(path, "no azero metadata")
    path.write_bytes(with_metadata(net, {"azero": "{not json"}))
    expect_checkpoint_error(path, path.name)


@pytest.mark.parametrize(
    "lie",
    [
        {"blocks": 3},  # more blocks than the file holds
        {"blocks": 1},  # fewer
        {"channels": 16},  # other widths
        {"head_channels": 8},
        {"value_hidden": 4},
        {"global_pool_every": 0},  # pooling branches the file has, the net would not
    ],
)
def test_metadata_that_lies_about_the_net_shape(tmp_path, lie):
    net = small_net()
    meta = json.loads(info_for(net).to_json())
    meta["net"] = {**meta["net"], **lie}
    path = tmp_path / "liar.safetensors"
    path.write_bytes(with_metadata(net, {"azero": json.dumps(meta)}))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    "field, value",
    [
        ("net", {"blocks": -1, "channels": 8}),
        ("net", {"bogus": 1}),
        ("net", "eight channels"),
        ("net", None),
        ("rule", "chess"),
        ("rule", 5),
        ("size", "7"),
        ("size", 7.0),
        ("size", 99),
        ("size", True),
        ("step", "abc"),  # the counters are checked too
        ("games", None),
        ("positions", -5),
        ("extra", [1]),
    ],
)
def test_damaged_metadata_fields(tmp_path, field, value):
    net = small_net()
    meta = json.loads(info_for(net).to_json())
    meta[field] = value
    path = tmp_path / "damaged.safetensors"
    path.write_bytes(with_metadata(net, {"azero": json.dumps(meta)}))
    expect_checkpoint_error(path, "damaged metadata")


def test_metadata_missing_a_required_field(tmp_path):
    net = small_net()
    meta = json.loads(info_for(net).to_json())
    del meta["size"]
    path = tmp_path / "damaged.safetensors"
    path.write_bytes(with_metadata(net, {"azero": json.dumps(meta)}))
    expect_checkpoint_error(path, "damaged metadata")


def test_extra_or_missing_tensors(tmp_path):
    net = small_net()
    metadata = {"azero": info_for(net).to_json()}
    tensors = {k: v.contiguous() for k, v in net.state_dict().items()}
    path = tmp_path / "extra.safetensors"
    path.write_bytes(with_metadata(net, metadata, {**tensors, "surprise": torch.zeros(3)}))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(path)
    path.write_bytes(with_metadata(net, metadata, {k: v for k, v in tensors.items() if "value_fc" not in k}))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(path)


def test_metadata_claiming_a_giant_net_is_refused_before_building_it(tmp_path, monkeypatch):
    net = small_net()
    meta = json.loads(info_for(net).to_json())
    meta["net"] = {**meta["net"], "blocks": 10**9}
    path = tmp_path / "giant.safetensors"
    path.write_bytes(with_metadata(net, {"azero": json.dumps(meta)}))
    real = checkpoint_module.PolicyValueNet

    def guarded(config):
        if config.blocks > 1000 or config.channels > 4096:
            raise AssertionError(f"load_checkpoint started building a {config.blocks}-block net from a {path.stat().st_size}-byte file")
        return real(config)

    monkeypatch.setattr(checkpoint_module, "PolicyValueNet", guarded)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_a_directory_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "dir.safetensors"
    path.mkdir()
    with pytest.raises((CheckpointError, OSError)):  # an OSError is still one line in the CLI
        load_checkpoint(path)


# -- never unpickle --------------------------------------------------------------------


class Payload:
    """Unpickling this creates a marker file: proof that something ran code from the file."""

    marker: Path

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("kind", ["pickle", "torch.save"])
def test_loading_never_unpickles(tmp_path, monkeypatch, kind):
    marker = tmp_path / "code-ran"
    payload = Payload()
    payload.marker = marker
    path = tmp_path / "model.safetensors"
    if kind == "pickle":
        path.write_bytes(pickle.dumps({"state_dict": payload}, protocol=2))
    else:
        buffer = io.BytesIO()
        torch.save({"state_dict": payload, "weights": small_net().state_dict()}, buffer)
        path.write_bytes(buffer.getvalue())

    def forbidden(*_args, **_kwargs):
        raise AssertionError("the checkpoint loader unpickled something")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    expect_checkpoint_error(path, path.name)
    assert not marker.exists()


# -- atomic writes -----------------------------------------------------------------------


def test_overwrite_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    for seed in range(3):
        net = small_net(seed)
        save_checkpoint(path, net, info_for(net, step=seed))
    assert read_info(path).step == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.safetensors"]


class FailingFile:
    """A file object that writes part of the data, then fails like a full disk (or a Ctrl-C)."""

    def __init__(self, handle, error: BaseException):
        self.handle, self.error = handle, error

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()
        return False

    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        raise self.error

    def __getattr__(self, name):
        return getattr(self.handle, name)


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failed_write_leaves_the_old_file_intact(saved, monkeypatch, error):
    path, old_net = saved
    before = path.read_bytes()
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic_module.os, "fdopen", lambda fd, mode: FailingFile(real_fdopen(fd, mode), error))
    new_net = small_net(seed=5)
    with pytest.raises(type(error)) as raised:
        save_checkpoint(path, new_net, info_for(new_net, step=99))
    if isinstance(error, OSError):
        assert str(path) in str(raised.value), "the error should name the checkpoint, not a temporary file"
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert leftovers(path.parent) == []
    net, info = load_checkpoint(path)
    assert info.step == 42
    with torch.no_grad():
        assert torch.equal(net(planes())[0], old_net(planes())[0])


def test_failed_fsync_or_rename_leaves_the_old_file_intact(saved, monkeypatch):
    path, _ = saved
    before = path.read_bytes()
    net = small_net(seed=6)
    for name in ("fsync", "replace"):
        def fail(*_args, **_kwargs):
            raise OSError(5, "Input/output error")

        with monkeypatch.context() as patch:
            patch.setattr(atomic_module.os, name, fail)
            with pytest.raises(OSError, match="cannot write"):
                save_checkpoint(path, net, info_for(net, step=77))
        assert path.read_bytes() == before, name
        assert leftovers(path.parent) == [], name
    assert read_info(path).step == 42


def test_first_write_that_fails_leaves_nothing(tmp_path, monkeypatch):
    path = tmp_path / "new.safetensors"
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic_module.os, "fdopen", lambda fd, mode: FailingFile(real_fdopen(fd, mode), OSError(28, "full")))
    net = small_net()
    with pytest.raises(OSError):
        save_checkpoint(path, net, info_for(net))
    assert list(tmp_path.iterdir()) == []
