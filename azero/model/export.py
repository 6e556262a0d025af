"""Export a checkpoint's network to ONNX (``pip install -e '.[onnx]'``), and check it against torch.

The exported graph is what the search reads, nothing more: batch norm
folded into the convolutions (:func:`azero.model.network.fold_batch_norm`, as
:class:`azero.model.evaluator.NetEvaluator` runs it), one input and two outputs:

| name | shape | meaning |
|---|---|---|
| ``planes`` | float32 ``[batch, 6, size, size]`` | :mod:`azero.model.planes`, side to move's view; ``batch`` is dynamic |
| ``policy_logits`` | float32 ``[batch, size*size]`` | one logit per point (the search masks and softmaxes them) |
| ``value`` | float32 ``[batch]`` | the side to move's expected result in [-1, 1] (P(win) - P(loss) for a WDL head) |

The opponent-reply head is left out (training only).  The game the net was
trained for travels in the model's ``metadata_props``: ``rule``, ``size``,
``n_in_row`` as plain text any ONNX tool can show, and ``azero_checkpoint``,
the source checkpoint's whole metadata as JSON; :mod:`azero.model.onnx_evaluator`
reads them back, so ``az:NET.onnx`` plays like ``az:NET.safetensors``.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from azero.model.onnx_evaluator import FORMAT, INPUT_NAME, OUTPUT_NAMES  # the file format is the reader's
from azero.model.planes import NUM_PLANES, encode
from games.atomic import atomic_write_bytes
from games.gomoku import Gomoku
from games.randomplay import play_random_nearby

# The opset torch's exporter implements its operators in (torchlib's): no version conversion, which can fail,
# and onnxruntime has run it since 1.14.
OPSET = 18
CHECK_POSITIONS = 64
EXPORT_BATCH = 2  # the example batch traced; the batch dimension is declared dynamic, so any batch runs


@dataclass
class ExportReport:
    """Where the ONNX file went and how closely it agrees with torch."""

    path: Path
    rule: str
    size: int
    n_in_row: int
    positions: int  # positions compared
    max_policy_difference: float  # max |onnx - torch| over every logit of every position
    max_value_difference: float

    def to_dict(self) -> dict:
        return {"path": str(self.path), "rule": self.rule, "size": self.size, "n_in_row": self.n_in_row,
                "positions": self.positions, "max_policy_difference": self.max_policy_difference,
                "max_value_difference": self.max_value_difference}

    def summary(self) -> str:
        return (f"wrote {self.path} ({self.rule}, {self.size}x{self.size}, {self.n_in_row} in a row); on "
                f"{self.positions} positions onnxruntime and torch differ by at most "
                f"{self.max_policy_difference:.2e} (policy logits) and {self.max_value_difference:.2e} (value)")


def require_onnx_packages() -> None:
    """Raise ImportError, saying what to install, unless torch's exporter and onnxruntime can both run."""
    import importlib.util

    missing = [name for name in ("onnx", "onnxscript", "onnxruntime") if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(f"ONNX export needs {', '.join(missing)}; install them with: pip install -e '.[onnx]'")


def export_onnx(checkpoint: str | Path, destination: str | Path | None = None, check_positions: int = CHECK_POSITIONS,
                seed: int = 0) -> ExportReport:
    """Export ``checkpoint`` (a file, or a run folder: its latest) to ``destination`` (default: beside it, ``.onnx``).

    Then run ``check_positions`` game-like positions through onnxruntime
    and the torch evaluator and report the largest differences.
    """
    if check_positions < 1:
        raise ValueError(f"the check needs at least one position, got {check_positions}")
    require_onnx_packages()
    import onnx
    import torch

    from azero.model.checkpoint import load_checkpoint, resolve_checkpoint
    from azero.model.network import fold_batch_norm

    source = resolve_checkpoint(checkpoint)
    net, info = load_checkpoint(source)
    target = Path(destination) if destination is not None else source.with_suffix(".onnx")
    folded = fold_batch_norm(net).eval()
    example = torch.zeros(EXPORT_BATCH, NUM_PLANES, info.size, info.size)
    with torch.no_grad(), _quiet_exporter():
        program = torch.onnx.export(
            folded, (example,), input_names=[INPUT_NAME], output_names=list(OUTPUT_NAMES),
            dynamic_shapes={"planes": {0: torch.export.Dim("batch")}}, opset_version=OPSET, dynamo=True,
            verbose=False,
        )
    model = program.model_proto
    model.doc_string = (f"azero policy-value net for {info.rule} {info.size}x{info.size}, {info.n_in_row} in a row: "
                        "planes [B, 6, S, S] -> policy_logits [B, S*S], value [B] (side to move, -1..1)")
    metadata = {"azero_format": FORMAT, "rule": info.rule, "size": str(info.size), "n_in_row": str(info.n_in_row),
                "azero_checkpoint": info.to_json()}
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    # One self-contained file (weights inside, not in a .data file beside it), written whole or not at all.
    atomic_write_bytes(target, model.SerializeToString())
    policy_gap, value_gap = compare_with_torch(target, net, random_positions(info.rule, info.size, info.n_in_row,
                                                                             check_positions, seed))
    return ExportReport(target, info.rule, info.size, info.n_in_row, check_positions, policy_gap, value_gap)


def compare_with_torch(onnx_path: str | Path, net, planes: np.ndarray) -> tuple[float, float]:
    """The largest |onnxruntime - torch| of the policy logits and of the values on ``planes``.

    Torch runs as the search runs it (:class:`azero.model.evaluator.NetEvaluator`,
    on the CPU), so the numbers say what changes for the search.
    """
    from azero.model.evaluator import NetEvaluator
    from azero.model.onnx_evaluator import OnnxEvaluator

    torch_logits, torch_values = NetEvaluator(net, "cpu")(planes)
    onnx_logits, onnx_values = OnnxEvaluator(onnx_path)(planes)
    return (float(np.max(np.abs(onnx_logits - torch_logits))), float(np.max(np.abs(onnx_values - torch_values))))


def random_positions(rule: str, size: int, n_in_row: int, count: int, seed: int = 0) -> np.ndarray:
    """``count`` positions of clustered random play, 0 to about half the board filled, as planes (side to move)."""
    rng = np.random.default_rng(seed)
    planes = np.empty((count, NUM_PLANES, size, size), dtype=np.float32)
    for i in range(count):
        game = play_random_nearby(Gomoku(size, rule, n_in_row), rng, max_moves=int(rng.integers(0, size * size // 2)))
        planes[i] = encode(game.board, size, game.to_move, game.last_move, game.forbidden_mask())
    return planes


@contextlib.contextmanager
def _quiet_exporter():
    """Keep torch's notes about itself off the console: optional packages (torchvision) it lacks, and its
    own internal deprecations (FutureWarning from torch.export's pytree code), neither of which the user can act on."""
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        exporter_log.setLevel(level)
