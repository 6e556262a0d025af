"""Checkpoints on disk: safetensors weights with JSON metadata, written atomically.

Safetensors holds only tensors and a string header, so loading a file from
a stranger cannot run code (unlike pickle).  The metadata (rules, size,
net shape, training step, games seen, parent) lives in the header under
the key ``azero``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors_from_bytes
from safetensors.torch import save as save_tensors_to_bytes

from azero.bounds import check_bounds
from azero.model.network import NET_RANGES, NetConfig, PolicyValueNet
from games.atomic import atomic_write_bytes
from games.constants import RULE_NAMES, rule_code
from games.coords import check_size
from games.gomoku import check_rules

FORMAT = "azero-checkpoint-1"
MAX_CHECKPOINT_BYTES = 1 << 30
MAX_COUNT = 2**63 - 1  # step, games, positions: the arena's SQLite store and numpy hold 64-bit integers
MAX_TEXT_CHARACTERS = 100_000  # parent, preset and the texts of ``extra``: names and command lines, not documents
# What azero.train.learner writes in ``extra``, and the kind of value each holds; other keys are kept unread.
EXTRA_KINDS = {"samples": "count", "train_seconds": "seconds", "hardware": "texts",
               "last_shard": "text", "command": "text", "started_from": "text"}
# The search settings a checkpoint records: at most this many (SearchConfig has 16), each name a short word.
MAX_SEARCH_SETTINGS = 64
MAX_SETTING_NAME = 64
# games.atomic.atomic_write_bytes writes NAME through ".NAME.<8 hex digits>.tmp" beside it, then renames.
UNFINISHED_WRITE = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{8}\.tmp")


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
    # The search settings the net was trained with (azero.search.searcher.SearchConfig as a mapping); None in a
    # file from before they were recorded.  Playing takes some of them as its defaults: azero.players.network.
    search: dict | None = None

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


def remove_unfinished_checkpoints(directory: str | Path) -> int:
    """Delete the temporary files of checkpoint writes that never finished; return how many.

    A learner killed while writing a checkpoint, its trainer state or the
    ``latest.json`` pointer leaves the temporary file of that write behind
    (an atomic write renames it only once it is whole); nothing reads it, but
    over many crashes they pile up, each as large as a checkpoint.  A write in
    progress looks the same, so call this only when no process is writing
    checkpoints into ``directory``.
    """
    try:
        entries = list(Path(directory).iterdir())
    except FileNotFoundError:
        return 0
    stale = [path for path in entries if _is_unfinished_checkpoint(path.name)]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def _is_unfinished_checkpoint(name: str) -> bool:
    match = UNFINISHED_WRITE.fullmatch(name)
    return match is not None and (match["name"].endswith(".safetensors") or match["name"] == "latest.json")


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
        return _checked_info(meta)
    except ValueError as error:
        raise CheckpointError(f"{path} has damaged metadata ({error})") from None


def _checked_info(meta: dict) -> CheckpointInfo:
    """The metadata with every field checked for its type and range; a ValueError names the first wrong one.

    A file from anywhere may carry any JSON here, and what passes is trusted
    later: the window plays by its rules, the arena stores its counts.
    """
    fields = dataclasses.fields(CheckpointInfo)
    for f in fields:
        if f.name not in meta and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"no {f.name}")
    info = CheckpointInfo(**{f.name: meta[f.name] for f in fields if f.name in meta})
    check_size(info.size)
    check_rules(info.rule, info.n_in_row, info.size)
    _check_net_settings(info.net)
    for name in ("step", "games", "positions"):
        _check_count(name, getattr(info, name))
    if not _is_number(info.created) or info.created < 0:
        raise ValueError(f"created must be a time in seconds since 1970, got {_shown(info.created)}")
    for name in ("parent", "preset"):
        value = getattr(info, name)
        if value is not None:
            _check_text(name, value)
    _check_extra(info.extra)
    check_search_settings(info.search)
    return info


def _check_net_settings(net: object) -> None:
    """The types NetConfig declares and the ranges a run may train (a net outside them was not made by azero)."""
    if not isinstance(net, dict):
        raise ValueError(f"net must be a mapping of the net's settings, got {_shown(net)}")
    kinds = {f.name: f.type for f in dataclasses.fields(NetConfig)}  # "int", "str" or "bool" (postponed annotations)
    for name, value in net.items():
        if name not in kinds:
            raise ValueError(f"net has an unknown setting {_shown(name)}; a net has {', '.join(kinds)}")
        wanted = {"int": int, "str": str, "bool": bool}[kinds[name]]
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            raise ValueError(f"net.{name} must be of type {kinds[name]}, got {_shown(value)}")
    config = NetConfig(**net)
    config.check()
    check_bounds("net", config, NET_RANGES)


def check_search_settings(search: object) -> None:
    """The shape of a checkpoint's search settings: None, or a small mapping from names to numbers and true/false.

    Which names a search has, their types and their ranges are the search
    layer's (above this one): azero.players.network.trained_search checks
    those before a net plays with them.
    """
    if search is None:
        return
    if not isinstance(search, dict) or len(search) > MAX_SEARCH_SETTINGS:
        raise ValueError(f"search must be a mapping of at most {MAX_SEARCH_SETTINGS} search settings, "
                         f"got {_shown(search)}")
    for name, value in search.items():
        if not isinstance(name, str) or not name.isidentifier() or len(name) > MAX_SETTING_NAME:
            raise ValueError(f"search has a setting named {_shown(name)}; a setting's name is a short word")
        if not (isinstance(value, bool) or _is_number(value)):
            raise ValueError(f"search.{name} must be a number or true/false, got {_shown(value)}")


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise ValueError(f"{name} must be a whole number from 0 to {MAX_COUNT}, got {_shown(value)}")


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or len(value) > MAX_TEXT_CHARACTERS:
        raise ValueError(f"{name} must be a text of at most {MAX_TEXT_CHARACTERS} characters, got {_shown(value)}")


def _check_extra(extra: object) -> None:
    if not isinstance(extra, dict):
        raise ValueError(f"extra must be a mapping, got {_shown(extra)}")
    for key, kind in EXTRA_KINDS.items():
        if key not in extra:
            continue
        value, name = extra[key], f"extra.{key}"
        if kind == "count":
            _check_count(name, value)
        elif kind == "seconds" and (not _is_number(value) or value < 0):
            raise ValueError(f"{name} must be a number of seconds, got {_shown(value)}")
        elif kind == "texts":
            if not isinstance(value, list):
                raise ValueError(f"{name} must be a list of texts, got {_shown(value)}")
            for item in value:
                _check_text(name, item)
        elif kind == "text":
            _check_text(name, value)


def _is_number(value: object) -> bool:
    """A finite number (not true/false); a whole number beyond :data:`MAX_COUNT` is not one (JSON has no limit)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) <= MAX_COUNT if isinstance(value, int) else math.isfinite(value)


def _shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut short: a damaged file may hold megabytes where a number belongs."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


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
    _check_tensor_shapes(info, tensors, path)
    _check_values(tensors, path)
    net = PolicyValueNet(NetConfig(**info.net))
    try:
        net.load_state_dict(tensors, strict=True)
    except RuntimeError as error:  # not expected after the checks above; torch's message spans lines
        raise CheckpointError(f"{path.name}: weights do not fit the net its metadata describes "
                              f"({' '.join(str(error).split())})") from None
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


def _check_tensor_shapes(info: CheckpointInfo, tensors: dict, path: Path) -> None:
    """Every tensor the described net has, in its shape, and no other; one line names the first difference."""
    config = NetConfig(**info.net)
    with torch.device("meta"):  # shapes only: nothing is allocated, however large the metadata says the heads are
        wanted = {name: tuple(t.shape) for name, t in PolicyValueNet(config).state_dict().items()}
    difference = _first_difference(wanted, {name: tuple(t.shape) for name, t in tensors.items()})
    if difference:
        heads = f"a {config.value_head} value head" + (" and an opponent-reply head" if config.opponent_policy else "")
        raise CheckpointError(f"{path.name}: weights do not fit the net its metadata describes (with {heads}): "
                              f"{difference}")


def _first_difference(wanted: dict[str, tuple], found: dict[str, tuple]) -> str | None:
    for name, shape in wanted.items():
        if name not in found:
            return f"the file has no {name} (of shape {_shape_text(shape)})"
        if found[name] != shape:
            return f"{name} is {_shape_text(found[name])} in the file, {_shape_text(shape)} in that net"
    unexpected = sorted(set(found) - set(wanted))
    if unexpected:
        more = f" and {len(unexpected) - 1} more" if len(unexpected) > 1 else ""
        return f"the file has {unexpected[0]}{more}, which that net has no place for"
    return None


def _shape_text(shape: tuple) -> str:
    return "x".join(map(str, shape)) if shape else "a single number"


def _check_values(tensors: dict, path: Path) -> None:
    """Refuse weights that make every evaluation NaN (a diverged training): the search would then play nonsense."""
    not_finite = sorted(name for name, t in tensors.items()
                        if t.is_floating_point() and not bool(torch.isfinite(t).all()))
    if not_finite:
        raise CheckpointError(f"{path.name}: {len(not_finite)} of {len(tensors)} weight tensors are not finite "
                              f"(NaN or infinite values, first {not_finite[0]}); use an earlier checkpoint")
    # Batch norm divides by the square root of its running variance: a negative one gives NaN just the same.
    negative = sorted(name for name, t in tensors.items() if name.endswith("running_var") and bool((t < 0).any()))
    if negative:
        raise CheckpointError(f"{path.name}: {len(negative)} batch-norm running variances are negative "
                              f"(first {negative[0]}); use an earlier checkpoint")


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
