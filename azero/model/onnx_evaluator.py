"""An evaluator that runs an exported network (:mod:`azero.model.export`) through onnxruntime on the CPU.

Same call as :class:`azero.model.evaluator.NetEvaluator`: planes ``[B, C, S, S]``
(float32 numpy) in, ``(logits [B, S*S], values [B])`` out, so the search
and :class:`azero.players.network.NetPlayer` take either.  It needs onnxruntime
(``pip install -e '.[onnx]'``); the network itself runs without torch, and so does
this module: :mod:`azero.model.checkpoint` (which imports torch, about 200 MiB
of a process) is imported only on the way to a :class:`CheckpointError`, so
a protocol engine playing an export never loads torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from azero.model.planes import NUM_PLANES
from games.constants import RULE_NAMES, rule_code
from games.coords import check_size
from games.gomoku import check_rules

# The file format azero.model.export writes and this reads: one input, two outputs, this tag in the metadata.
INPUT_NAME = "planes"
OUTPUT_NAMES = ("policy_logits", "value")
FORMAT = "azero-onnx-1"


@dataclass(frozen=True)
class OnnxNetInfo:
    """The game an exported net was trained for, from its ``metadata_props``."""

    rule: str
    size: int
    n_in_row: int
    checkpoint: dict = field(default_factory=dict)  # the source checkpoint's metadata (step, net shape, ...)


class OnnxEvaluator:
    """An exported azero net in an onnxruntime session on the CPU.

    ``threads``: onnxruntime's intra-op threads (None: its default, one per
    physical core); each call runs one batch on them.
    """

    def __init__(self, path: str | Path, threads: int | None = None):
        self.path = Path(path)
        try:
            import onnxruntime
        except ImportError:
            # A CheckpointError, as for any az: network that cannot be loaded: the commands show it as one line.
            raise _checkpoint_error(f"running {self.path.name} needs onnxruntime; install it with: "
                                    "pip install -e '.[onnx]'") from None
        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its notes on graph rewrites are not for players
        if not self.path.is_file():
            raise _checkpoint_error(f"no ONNX model at {self.path}")
        try:
            self.session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types, one per failure
            raise _checkpoint_error(f"{self.path} is not a model onnxruntime can run ({' '.join(str(error).split())})") \
                from None
        self.info = _read_info(self.session, self.path)

    def __call__(self, planes: np.ndarray):
        logits, values = self.session.run(list(OUTPUT_NAMES), {INPUT_NAME: np.ascontiguousarray(planes, np.float32)})
        return logits, values


def load_onnx_evaluator(path: str | Path, rule: str | int | None = None, size: int | None = None,
                        n_in_row: int | None = None, threads: int | None = None) -> OnnxEvaluator:
    """An evaluator for the model at ``path``; if rules or size are given they must be the ones it was trained for."""
    evaluator = OnnxEvaluator(path, threads)
    info, name = evaluator.info, Path(path).name
    if rule is not None and rule_code(rule) != rule_code(info.rule):
        wanted = RULE_NAMES[rule_code(rule)]
        raise _checkpoint_error(f"{name} was trained for {info.rule}, not {wanted}; pick a {wanted} network")
    if size is not None and size != info.size:
        raise _checkpoint_error(f"{name} was trained on {info.size}x{info.size}, not {size}x{size}")
    if n_in_row is not None and n_in_row != info.n_in_row:
        raise _checkpoint_error(f"{name} was trained for {info.n_in_row} in a row, not {n_in_row}")
    return evaluator


def _read_info(session, path: Path) -> OnnxNetInfo:
    """The game from the model's metadata, checked as a checkpoint's is; CheckpointError if it is not an azero export."""
    props = session.get_modelmeta().custom_metadata_map
    if props.get("azero_format") != FORMAT:
        raise _checkpoint_error(f"{path} has no azero metadata (format {FORMAT}); export it with 'azero export'")
    try:
        size = check_size(_whole_number(props.get("size")))
        rule, n_in_row = check_rules(props.get("rule"), _whole_number(props.get("n_in_row")), size)
        checkpoint = json.loads(props.get("azero_checkpoint", "{}"))
    except ValueError as error:  # json's decode error is a ValueError too
        raise _checkpoint_error(f"{path} has damaged metadata ({error})") from None
    inputs = session.get_inputs()
    wanted = [NUM_PLANES, size, size]
    if len(inputs) != 1 or inputs[0].name != INPUT_NAME or list(inputs[0].shape[1:]) != wanted:
        shapes = ", ".join(f"{i.name} {i.shape}" for i in inputs)
        raise _checkpoint_error(f"{path} does not read planes [batch, {NUM_PLANES}, {size}, {size}] (its inputs: {shapes})")
    return OnnxNetInfo(RULE_NAMES[rule], size, n_in_row, checkpoint if isinstance(checkpoint, dict) else {})


def _checkpoint_error(message: str) -> Exception:
    """A :class:`~azero.model.checkpoint.CheckpointError` (the error every face shows as one line), torch imported only now."""
    from azero.model.checkpoint import CheckpointError

    return CheckpointError(message)


def _whole_number(text: str | None) -> int | str | None:
    """Metadata values are strings: ``"15"`` becomes 15; anything else is passed on for the checks to name."""
    return int(text) if isinstance(text, str) and text.isascii() and text.isdigit() else text
