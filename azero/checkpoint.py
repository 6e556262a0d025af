"""Checkpoints on disk: safetensors weights with JSON metadata, written atomically.

Safetensors holds only tensors and a string header, so loading a file from
a stranger cannot run code (unlike pickle).  The metadata (rules, size,
net shape, training step, games seen, parent) lives in the header under
the key ``azero``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors_from_bytes
from safetensors.torch import save as save_tensors_to_bytes

from games.atomic import atomic_write_bytes
from games.constants import RULE_NAMES, rule_code

from .network import NetConfig, PolicyValueNet

FORMAT = "azero-checkpoint-1"
MAX_CHECKPOINT_BYTES = 1 << 30


class CheckpointError(ValueError):
    """A checkpoint file that is missing, damaged, or made for other rules or another board."""


@dataclass
class CheckpointInfo:
    rule: str
    size: int
    n_in_row: int
    net: dict
    step: int = 0
    games: int = 0
    positions: int = 0
    parent: str | None = None
    preset: str | None = None
    created: float = field(default_factory=time.time)
    extra: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **self.__dict__}, sort_keys=True)


def save_checkpoint(path: str | Path, net: PolicyValueNet, info: CheckpointInfo) -> None:
    """Write weights and metadata to ``path`` in one atomic rename (a crash leaves the old file or the new, never half)."""
    save_tensors(path, net.state_dict(), json.loads(info.to_json()))


def _read(path: Path) -> tuple[dict, dict]:
    tensors, meta = load_tensors(path)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} has no azero metadata (format {FORMAT}); was it written by azero?")
    return tensors, meta


def read_latest(run_dir: str | Path) -> tuple[int, Path] | None:
    """The (step, path) a training run last published (``RUN/checkpoints/latest.json``), or None before the first."""
    pointer = Path(run_dir) / "checkpoints" / "latest.json"
    try:
        data = json.loads(pointer.read_text())
        return int(data["step"]), Path(run_dir) / "checkpoints" / str(data["file"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file, or a training run's folder standing for its latest checkpoint."""
    path = Path(path)
    if path.is_dir():
        latest = read_latest(path)
        if latest is None or not latest[1].is_file():
            raise CheckpointError(f"{path} is a folder but not a training run with a published checkpoint "
                                  "(no checkpoints/latest.json); give a .safetensors file")
        return latest[1]
    return path


def read_info(path: str | Path) -> CheckpointInfo:
    """The metadata of a checkpoint, checked for the fields every checkpoint has."""
    _, meta = _read(Path(path))
    return _info_from(meta, Path(path))


def _info_from(meta: dict, path: Path) -> CheckpointInfo:
    try:
        known = {k: meta[k] for k in CheckpointInfo.__dataclass_fields__ if k in meta}
        info = CheckpointInfo(**known)
        rule_code(info.rule)
        NetConfig(**info.net).check()
        if not (isinstance(info.size, int) and 5 <= info.size <= 20):
            raise ValueError(f"board size {info.size!r}")
        for name in ("step", "games", "positions"):
            value = getattr(info, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                raise ValueError(f"{name} {value!r}")
        if not isinstance(info.extra, dict) or not (info.parent is None or isinstance(info.parent, str)):
            raise ValueError("extra must be a mapping and parent a name")
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(f"{path} has damaged metadata ({str(error)[:80]})") from None
    return info


def load_checkpoint(path: str | Path, rule: str | int | None = None, size: int | None = None,
                    n_in_row: int | None = None, device: str | torch.device = "cpu") -> tuple[PolicyValueNet, CheckpointInfo]:
    """Build the net stored at ``path``; if rules or size are given they must match the checkpoint's."""
    path = Path(path)
    tensors, meta = _read(path)
    info = _info_from(meta, path)
    if rule is not None and rule_code(rule) != rule_code(info.rule):
        raise CheckpointError(
            f"{path.name} was trained for {info.rule}, not {RULE_NAMES[rule_code(rule)]}; pick a {RULE_NAMES[rule_code(rule)]} checkpoint")
    if size is not None and size != info.size:
        raise CheckpointError(f"{path.name} was trained on {info.size}x{info.size}, not {size}x{size}")
    if n_in_row is not None and n_in_row != info.n_in_row:
        raise CheckpointError(f"{path.name} was trained for {info.n_in_row} in a row, not {n_in_row}")
    _check_shape(info, tensors, path)
    net = PolicyValueNet(NetConfig(**info.net))
    try:
        net.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"{path.name}: weights do not fit the net its metadata describes ({str(error)[:100]})") from None
    return net.to(device).eval(), info


def _check_shape(info: CheckpointInfo, tensors: dict, path: Path) -> None:
    """Compare the net the metadata describes with the tensors before building it (a lying header must not allocate)."""
    blocks = len({name.split(".")[1] for name in tensors if name.startswith("blocks.")})
    stem = tensors.get("stem.0.weight")
    channels = int(stem.shape[0]) if stem is not None and stem.dim() == 4 else -1
    if info.net.get("blocks") != blocks or info.net.get("channels") != channels:
        raise CheckpointError(
            f"{path.name}: weights do not fit the net its metadata describes ({info.net.get('blocks')} blocks of "
            f"{info.net.get('channels')} channels; the weights hold {blocks} of {channels})")


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict) -> None:
    """Atomic safetensors write of tensors with JSON metadata under the header key ``azero``."""
    data = save_tensors_to_bytes({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()},
                                 metadata={"azero": json.dumps(metadata, sort_keys=True)})
    atomic_write_bytes(path, data)


def load_tensors(path: str | Path) -> tuple[dict[str, torch.Tensor], object]:
    """Tensors and the parsed ``azero`` metadata (None when absent) of a safetensors file; never unpickles."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {path}") from None
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path} is {size} bytes, too large to be an azero checkpoint")
    data = path.read_bytes()
    try:
        tensors = load_tensors_from_bytes(data)
        header_len = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + header_len])
        meta = json.loads(header.get("__metadata__", {}).get("azero", "null"))
    except (SafetensorError, ValueError, UnicodeDecodeError, TypeError, AttributeError) as error:
        raise CheckpointError(f"{path} is not a readable safetensors checkpoint ({str(error)[:80]})") from None
    return tensors, meta
