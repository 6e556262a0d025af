"""``azero bench onnx``: how fast a checkpoint's network runs in onnxruntime against torch, on the CPU.

Both run what the search calls (batch norm folded; torch in channels_last,
as :class:`azero.model.evaluator.NetEvaluator` runs it) on the same game-like
positions, with the same number of threads, at each batch size: 1 (a
person's game, the protocol engine), 8, and the self-play batch of the
checkpoint's preset (``games_per_worker * leaves_per_game``).  The numbers
are positions evaluated per second; the two runtimes take turns at each
batch so that other load on the machine falls on both alike.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

WARMUP_SECONDS = 0.5
FALLBACK_SELFPLAY_BATCH = 256  # for a checkpoint that names no preset
ROUNDS = 2  # each runtime measured this many times per batch, alternating; the best round counts


def selfplay_batch(preset: str | None) -> int:
    """The self-play batch of ``preset`` (leaves evaluated per network call), or the fallback for an unknown one."""
    from azero.train.config import ConfigError, load_preset

    if not preset:
        return FALLBACK_SELFPLAY_BATCH
    try:
        config = load_preset(preset)
    except ConfigError:
        return FALLBACK_SELFPLAY_BATCH
    return config.selfplay.games_per_worker * config.search.leaves_per_game


def inference_benchmark(checkpoint: str | Path, batches: list[int] | None = None, seconds: float = 3.0,
                        threads: int = 1, progress=None) -> dict:
    """Positions per second for torch and onnxruntime at each batch; exports the net to a temporary file first.

    ``batches`` default: 1, 8 and the checkpoint's self-play batch.
    ``seconds``: per runtime, batch and round.  ``threads``: for both runtimes.
    """
    import onnxruntime
    import torch

    from azero.model.checkpoint import load_checkpoint, resolve_checkpoint
    from azero.model.evaluator import NetEvaluator
    from azero.model.export import export_onnx, random_positions
    from azero.model.onnx_evaluator import OnnxEvaluator

    say = progress or (lambda message: None)
    source = resolve_checkpoint(checkpoint)
    net, info = load_checkpoint(source)
    batches = batches or [1, 8, selfplay_batch(info.preset)]
    report: dict = {"checkpoint": str(source), "rule": info.rule, "size": info.size, "threads": threads,
                    "seconds_per_measurement": seconds, "torch_version": torch.__version__,
                    "onnxruntime_version": onnxruntime.__version__}
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with tempfile.TemporaryDirectory() as folder:
            say("the export to ONNX and its check against torch")
            exported = export_onnx(source, Path(folder) / "net.onnx")
            report["max_policy_difference"] = exported.max_policy_difference
            report["max_value_difference"] = exported.max_value_difference
            runtimes = {"torch": NetEvaluator(net, "cpu"), "onnxruntime": OnnxEvaluator(exported.path, threads)}
            rows = []
            for batch in batches:
                planes = random_positions(info.rule, info.size, info.n_in_row, batch, seed=batch)
                best = dict.fromkeys(runtimes, 0.0)
                for round_number in range(ROUNDS):
                    for name, evaluator in runtimes.items():
                        say(f"{name} at batch {batch} (round {round_number + 1} of {ROUNDS})")
                        best[name] = max(best[name], _positions_per_second(evaluator, planes, seconds))
                rows.append({"batch": batch, "torch_positions_per_s": round(best["torch"]),
                             "onnxruntime_positions_per_s": round(best["onnxruntime"]),
                             "onnxruntime_to_torch": round(best["onnxruntime"] / best["torch"], 2)})
            report["rows"] = rows
    finally:
        torch.set_num_threads(previous_threads)
    return report


def _positions_per_second(evaluator, planes, seconds: float) -> float:
    from azero.bench.suite import time_evaluations

    count, elapsed = time_evaluations(evaluator, planes, seconds, warmup=WARMUP_SECONDS)
    return count / elapsed


def format_report(r: dict) -> str:
    threads = f"{r['threads']} thread{'s' if r['threads'] != 1 else ''}"
    lines = [
        (f"network speed on the CPU: {r['checkpoint']} ({r['rule']}, {r['size']}x{r['size']}), {threads}, "
         f"torch {r['torch_version']} vs onnxruntime {r['onnxruntime_version']}"),
        f"  {'batch':>6} {'torch':>14} {'onnxruntime':>14} {'ratio':>7}   (positions/s)",
    ]
    for row in r["rows"]:
        lines.append(f"  {row['batch']:>6} {row['torch_positions_per_s']:>14,} {row['onnxruntime_positions_per_s']:>14,} "
                     f"{row['onnxruntime_to_torch']:>6.2f}x")
    lines.append(f"  outputs agree to {r['max_policy_difference']:.1e} (policy logits), "
                 f"{r['max_value_difference']:.1e} (value)")
    return "\n".join(lines)
