"""Training metrics: one CSV per table under ``run_dir/metrics``, mirrored to TensorBoard, and a progress plot.

The CSV files are the record that counts.  Training may be killed with
``kill -9`` at any moment, so every row is flushed as soon as it is written,
a reader ignores a half-written last line, and a resumed run cuts that line
off before it appends.  TensorBoard is a convenience on top: it buffers, and
when it cannot be imported the run goes on with CSV only.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import re
import sys
from pathlib import Path
from typing import IO

from games.atomic import atomic_write_bytes, atomic_write_text

Value = float | int | str

# Tables become file names, so keep them to plain names (no "../", no separators).
_TABLE_NAME = re.compile(r"[A-Za-z0-9_-]+")

# These two go first in a header so the files read naturally; they are axes, not metrics.
_LEADING = ("step", "time")

_warned_no_tensorboard = False


class MetricsLog:
    """Append rows to ``run_dir/metrics/<table>.csv`` (and TensorBoard); a new log over an old run appends."""

    def __init__(self, run_dir: Path, tensorboard: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.metrics_dir = self.run_dir / "metrics"
        self.metrics_dir.mkdir(parents=True, exist_ok=True)
        self._headers: dict[str, list[str]] = {}
        self._files: dict[str, IO[str]] = {}
        self._writer = _summary_writer(self.run_dir / "tensorboard") if tensorboard else None

    def log(self, table: str, row: dict[str, Value | None]) -> None:
        """Append ``row`` to ``table``; numeric values also go to TensorBoard as ``<table>/<key>`` at ``row["step"]``.

        Values are numbers or str (None makes an empty cell).  Pass ``step`` and ``time`` (unix seconds) in the row.
        """
        if not _TABLE_NAME.fullmatch(table):
            raise ValueError(f"bad metrics table name {table!r}")
        if not row:
            raise ValueError("empty metrics row")  # it would write a blank line, or a blank header
        row = {str(key): _clean(value) for key, value in row.items()}
        if table not in self._files:
            self._open(table)
        header = self._headers[table]
        new_keys = [key for key in _ordered(row) if key not in header]
        handle = self._files[table]
        if not header:
            header.extend(new_keys)
            csv.writer(handle, lineterminator="\n").writerow(header)
        elif new_keys:
            # Rare: a metric appeared mid-run.  Rewrite the whole file under the wider header.
            self._widen(table, new_keys)
            handle = self._files[table]
        csv.writer(handle, lineterminator="\n").writerow([row.get(key, "") for key in header])
        # Flushed to the OS, the row survives kill -9 of this process.
        handle.flush()
        if self._writer is not None:
            self._tensorboard(table, row)

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()
        self._headers.clear()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _path(self, table: str) -> Path:
        return self.metrics_dir / f"{table}.csv"

    def _open(self, table: str) -> None:
        """Open ``table`` for appending, after cutting off a line that a killed run left half-written."""
        path = self._path(table)
        header: list[str] = []
        if path.exists():
            _drop_partial_line(path)
            with open(path, encoding="utf-8", newline="") as handle:
                header = next(csv.reader(handle), [])
        self._headers[table] = header
        self._files[table] = open(path, "a", encoding="utf-8", newline="")

    def _widen(self, table: str, new_keys: list[str]) -> None:
        path = self._path(table)
        self._files.pop(table).close()
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))[1:]
        header = self._headers[table]
        header.extend(new_keys)
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(header)
        # Old rows are short of the new columns: pad them with empty cells, which read back as NaN.
        writer.writerows(old + [""] * (len(header) - len(old)) for old in rows)
        # Atomic, so a kill during the rewrite leaves the old file, never a cut-down one.
        atomic_write_text(path, text.getvalue())
        self._files[table] = open(path, "a", encoding="utf-8", newline="")

    def _tensorboard(self, table: str, row: dict[str, Value]) -> None:
        step = row.get("step")
        walltime = row.get("time")
        for key, value in row.items():
            if key in _LEADING or isinstance(value, str):
                continue
            self._writer.add_scalar(
                f"{table}/{key}",
                value,
                global_step=int(step) if isinstance(step, numbers.Real) else None,
                walltime=float(walltime) if isinstance(walltime, numbers.Real) else None,
            )


def read_table(run_dir: Path, table: str) -> dict[str, list[float | str]]:
    """The columns of ``table``: numbers as floats (empty cells as NaN), anything else as str; {} if there is none.

    A final line without its newline is a row a killed run never finished, so it is skipped.
    """
    path = Path(run_dir) / "metrics" / f"{table}.csv"
    try:
        # errors="replace": a kill can cut a multi-byte character in the last (skipped) line.
        text = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    lines = text.split("\n")[:-1]  # the last piece is "" or the unfinished line
    rows = csv.reader(lines)
    header = next(rows, None)
    if not header:
        return {}
    columns: dict[str, list[float | str]] = {key: [] for key in header}
    for row in rows:
        if len(row) > len(header):
            continue  # not a row this module wrote; don't let it shift the columns
        row = row + [""] * (len(header) - len(row))
        for key, cell in zip(header, row):
            columns[key].append(_parse(cell))
    return columns


def plot_run(run_dir: Path, out: Path | None = None) -> Path:
    """Draw losses, learning rate, self-play statistics and evaluation scores against step; return the PNG's path.

    Writes ``run_dir/plots/progress.png`` unless ``out`` is given.  Any table or
    column may be missing: such a panel says "no data yet".
    """
    # Figure + the Agg canvas, not pyplot: no display is needed, no backend is
    # switched for the rest of the process, and no figure lingers in pyplot's registry.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    run_dir = Path(run_dir)
    out = Path(out) if out is not None else run_dir / "plots" / "progress.png"
    train = read_table(run_dir, "train")
    selfplay = read_table(run_dir, "selfplay")
    evaluation = read_table(run_dir, "eval")

    figure = Figure(figsize=(12, 8), layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(run_dir.name)
    losses, lr, games, scores = figure.subplots(2, 2).flat

    losses.set_title("training loss")
    if not _lines(losses, train, ["policy_loss", "value_loss", "opponent_policy_loss", "loss"], "loss"):
        _no_data(losses)

    lr.set_title("learning rate")
    if _lines(lr, train, ["lr"], "learning rate"):
        if all(v > 0 for v in _numbers(train["lr"]) if not math.isnan(v)):
            lr.set_yscale("log")  # schedules step the rate down by factors of ten
    else:
        _no_data(lr)

    # Game length is tens of moves, the rates lie in [0, 1]: the rates get their own axis on the right.
    games.set_title("self-play")
    rate_keys = ["black_win_rate", "draw_rate", "resign_rate", "resign_false_positive_rate"]
    has_length = _lines(games, selfplay, ["mean_length"], "mean game length", legend=False)
    rates = games.twinx() if has_length else games
    has_rates = _lines(rates, selfplay, rate_keys, "rate", legend=False, linestyle="--", color_offset=1)
    if has_rates:
        rates.set_ylim(0, 1)
    if has_length or has_rates:
        handles = games.get_legend_handles_labels()[0]
        if rates is not games:
            handles += rates.get_legend_handles_labels()[0]
        games.legend(handles=handles, loc="best", fontsize="small")
    else:
        _no_data(games)

    scores.set_title("evaluation")
    score_keys = sorted(key for key in evaluation if key.endswith("_score"))
    if _lines(scores, evaluation, score_keys, "score (win 1, draw 0.5)"):
        scores.set_ylim(0, 1)
        scores.axhline(0.5, color="grey", linewidth=0.5)
    else:
        _no_data(scores)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Atomic, so a viewer reloading the file never shows half an image.
    atomic_write_bytes(out, buffer.getvalue())
    return out


def _lines(
    axes,
    table: dict[str, list[float | str]],
    keys: list[str],
    ylabel: str,
    *,
    legend: bool = True,
    linestyle: str = "-",
    color_offset: int = 0,
) -> bool:
    """Plot each of ``keys`` found in ``table`` against step; return whether any had a value to draw."""
    x = _numbers(table.get("step") or list(range(len(next(iter(table.values()), [])))))
    drawn = False
    for index, key in enumerate(keys):
        # Drop the empty cells rather than plot NaN: a gap on each side would leave a lone point invisible.
        points = [(a, b) for a, b in zip(x, _numbers(table.get(key, []))) if not (math.isnan(a) or math.isnan(b))]
        if points:
            xs, ys = zip(*points)
            label = key.removesuffix("_score")
            marker = "." if len(xs) < 50 else ""  # early in a run, show the few points themselves
            axes.plot(xs, ys, linestyle, marker=marker, label=label, color=f"C{index + color_offset}")
            drawn = True
    if not drawn:
        return False
    axes.set_xlabel("step" if "step" in table else "row")
    axes.set_ylabel(ylabel)
    axes.grid(True, alpha=0.3)
    if legend:
        axes.legend(loc="best", fontsize="small")
    return True


def _no_data(axes) -> None:
    axes.set_xticks([])
    axes.set_yticks([])
    axes.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=axes.transAxes, color="grey")


def _numbers(column: list[float | str]) -> list[float]:
    """The column as floats, with NaN (a gap in the line) where a cell holds text."""
    return [math.nan if isinstance(value, str) else float(value) for value in column]


def _ordered(row: dict[str, Value]) -> list[str]:
    return [key for key in _LEADING if key in row] + [key for key in row if key not in _LEADING]


def _clean(value: Value | None) -> Value:
    if value is None:
        return ""  # an empty cell, read back as NaN
    if isinstance(value, bool):
        return int(value)  # "True" would read back as text
    if isinstance(value, str):
        # One row is one line: a reader drops an unfinished last line by looking for the newline.
        return value.replace("\r", " ").replace("\n", " ")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)  # numpy and torch scalars print in their own ways
    raise TypeError(f"metric values must be numbers or str, not {type(value).__name__}")


def _parse(cell: str) -> float | str:
    if cell == "":
        return math.nan
    try:
        return float(cell)
    except ValueError:
        return cell


def _drop_partial_line(path: Path) -> None:
    """Cut off a last line without its newline, so the next row starts on a line of its own."""
    with open(path, "rb+") as handle:
        data = handle.read()
        if data and not data.endswith(b"\n"):
            handle.truncate(data.rfind(b"\n") + 1)


def _summary_writer(log_dir: Path):
    """A TensorBoard SummaryWriter, or None (warning once per process) when TensorBoard cannot be imported."""
    global _warned_no_tensorboard
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception as error:  # ImportError, or a broken protobuf/tensorboard install
        if not _warned_no_tensorboard:
            print(f"warning: TensorBoard unavailable ({error}); logging metrics to CSV only", file=sys.stderr)
            _warned_no_tensorboard = True
        return None
    # CSV is the crash-proof record; a short flush interval keeps TensorBoard near-live without a write per row.
    return SummaryWriter(log_dir=str(log_dir), flush_secs=10)
