import math
import sys

import pytest

from azero.train import metrics
from azero.train.metrics import MetricsLog, plot_run, read_table

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def csv_path(run_dir, table):
    return run_dir / "metrics" / f"{table}.csv"


def test_rows_round_trip(tmp_path):
    with MetricsLog(tmp_path, tensorboard=False) as log:
        log.log("train", {"step": 1, "time": 1700000000.5, "policy_loss": 2.5, "value_loss": 0.75, "note": "a, b"})
        log.log("train", {"step": 2, "time": 1700000001.0, "policy_loss": 2.25, "value_loss": 0.5, "note": "x\ny"})
    table = read_table(tmp_path, "train")
    assert list(table) == ["step", "time", "policy_loss", "value_loss", "note"]
    assert table["step"] == [1.0, 2.0]
    assert table["time"] == [1700000000.5, 1700000001.0]
    assert table["policy_loss"] == [2.5, 2.25]
    assert table["note"] == ["a, b", "x y"]  # quoting survives; a newline would break the one-row-one-line rule
    assert read_table(tmp_path, "eval") == {}


def test_step_and_time_lead_the_header(tmp_path):
    with MetricsLog(tmp_path, tensorboard=False) as log:
        log.log("selfplay", {"mean_length": 40.0, "time": 5.0, "step": 3})
    assert csv_path(tmp_path, "selfplay").read_text().splitlines()[0] == "step,time,mean_length"


def test_new_key_rewrites_with_union_header_and_keeps_rows(tmp_path):
    with MetricsLog(tmp_path, tensorboard=False) as log:
        log.log("train", {"step": 1, "loss": 3.0})
        log.log("train", {"step": 2, "loss": 2.0})
        log.log("train", {"step": 3, "loss": 1.5, "lr": 0.01})
        log.log("train", {"step": 4, "lr": 0.001})
    table = read_table(tmp_path, "train")
    assert list(table) == ["step", "loss", "lr"]
    assert table["step"] == [1.0, 2.0, 3.0, 4.0]
    assert table["loss"][:3] == [3.0, 2.0, 1.5] and math.isnan(table["loss"][3])
    assert all(math.isnan(v) for v in table["lr"][:2]) and table["lr"][2:] == [0.01, 0.001]


def test_resume_appends(tmp_path):
    with MetricsLog(tmp_path, tensorboard=False) as log:
        log.log("eval", {"step": 100, "vs_previous_score": 0.6})
    with MetricsLog(tmp_path, tensorboard=False) as log:
        log.log("eval", {"step": 200, "vs_previous_score": 0.7})
        log.log("eval", {"step": 300, "vs_previous_score": 0.55, "vs_pure1000_score": 0.9})
    table = read_table(tmp_path, "eval")
    assert table["step"] == [100.0, 200.0, 300.0]
    assert table["vs_previous_score"] == [0.6, 0.7, 0.55]
    assert csv_path(tmp_path, "eval").read_text().count("step") == 1  # one header, not one per session


def test_rows_are_on_disk_before_close(tmp_path):
    log = MetricsLog(tmp_path, tensorboard=False)
    log.log("train", {"step": 1, "loss": 1.0})
    assert read_table(tmp_path, "train")["loss"] == [1.0]  # what a kill -9 right now would leave
    log.close()


def test_truncated_last_line_is_skipped_and_repaired(tmp_path):
    with MetricsLog(tmp_path, tensorboard=False) as log:
        log.log("train", {"step": 1, "policy_loss": 2.0, "value_loss": 1.0})
        log.log("train", {"step": 2, "policy_loss": 1.5, "value_loss": 0.5})
    with open(csv_path(tmp_path, "train"), "a") as handle:
        handle.write("3,1.2")  # kill -9 in the middle of a row
    assert read_table(tmp_path, "train")["step"] == [1.0, 2.0]

    with MetricsLog(tmp_path, tensorboard=False) as log:
        log.log("train", {"step": 3, "policy_loss": 1.25, "value_loss": 0.25})
    table = read_table(tmp_path, "train")
    assert table["step"] == [1.0, 2.0, 3.0]
    assert table["value_loss"] == [1.0, 0.5, 0.25]


def test_truncated_header_starts_a_fresh_table(tmp_path):
    csv_path(tmp_path, "train").parent.mkdir(parents=True)
    csv_path(tmp_path, "train").write_text("step,pol")
    assert read_table(tmp_path, "train") == {}
    with MetricsLog(tmp_path, tensorboard=False) as log:
        log.log("train", {"step": 1, "policy_loss": 2.0})
    assert read_table(tmp_path, "train") == {"step": [1.0], "policy_loss": [2.0]}


def test_bad_table_name_is_refused(tmp_path):
    with MetricsLog(tmp_path, tensorboard=False) as log, pytest.raises(ValueError):
        log.log("../train", {"step": 1})


def full_run(run_dir):
    with MetricsLog(run_dir, tensorboard=False) as log:
        for step in range(0, 200, 10):
            log.log(
                "train",
                {
                    "step": step,
                    "policy_loss": 3.0 - step / 100,
                    "value_loss": 1.0 - step / 400,
                    "loss": 4.0 - step / 80,
                    "lr": 0.02 if step < 100 else 0.002,
                },
            )
        for step in range(0, 200, 50):
            log.log(
                "selfplay",
                {
                    "step": step,
                    "games": step * 5,
                    "mean_length": 30 + step / 10,
                    "black_win_rate": 0.55,
                    "draw_rate": 0.05,
                    "resign_rate": 0.3,
                    "resign_false_positive_rate": 0.02,
                },
            )
        for step in (50, 150):
            log.log("eval", {"step": step, "vs_pure1000_score": step / 200, "vs_previous_score": 0.55, "elo": 10.0})


def assert_png(path):
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000


def test_plot_full_run(tmp_path):
    full_run(tmp_path)
    out = plot_run(tmp_path)
    assert out == tmp_path / "plots" / "progress.png"
    assert_png(out)
    assert not [p for p in out.parent.iterdir() if p != out]  # no temporary file left beside it


def test_plot_only_train_table(tmp_path):
    with MetricsLog(tmp_path, tensorboard=False) as log:
        log.log("train", {"step": 1, "policy_loss": 2.0, "value_loss": 1.0})
    assert_png(plot_run(tmp_path))


def test_plot_no_tables_and_custom_out(tmp_path):
    assert_png(plot_run(tmp_path))
    assert_png(plot_run(tmp_path, tmp_path / "elsewhere" / "p.png"))


def test_plot_header_only_and_partial_selfplay(tmp_path):
    csv_path(tmp_path, "eval").parent.mkdir(parents=True)
    csv_path(tmp_path, "eval").write_text("step,vs_previous_score\n")
    with MetricsLog(tmp_path, tensorboard=False) as log:
        log.log("selfplay", {"step": 1, "draw_rate": 0.1})  # rates without mean_length
    assert_png(plot_run(tmp_path))


def test_tensorboard_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    with MetricsLog(tmp_path) as log:
        log.log("train", {"step": 7, "time": 1700000000.0, "policy_loss": 2.0, "note": "text is CSV only"})
    events = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert events and all(e.stat().st_size > 0 for e in events)

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(tmp_path / "tensorboard"))
    accumulator.Reload()
    assert accumulator.Tags()["scalars"] == ["train/policy_loss"]
    [event] = accumulator.Scalars("train/policy_loss")
    assert (event.step, event.value, event.wall_time) == (7, 2.0, 1700000000.0)


def test_missing_tensorboard_warns_once_and_logs_csv(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # makes the import raise ImportError
    monkeypatch.setattr(metrics, "_warned_no_tensorboard", False)
    for run in ("a", "b"):
        with MetricsLog(tmp_path / run) as log:
            log.log("train", {"step": 1, "loss": 1.0})
        assert read_table(tmp_path / run, "train")["loss"] == [1.0]
    assert capsys.readouterr().err.count("TensorBoard unavailable") == 1
    assert not (tmp_path / "a" / "tensorboard").exists()


def test_values_are_normalised(tmp_path):
    np = pytest.importorskip("numpy")
    with MetricsLog(tmp_path, tensorboard=False) as log:
        log.log("train", {"step": np.int64(5), "loss": np.float32(0.5), "resigned": True, "lr": None})
        with pytest.raises(ValueError):
            log.log("train", {})
    table = read_table(tmp_path, "train")
    assert (table["step"], table["loss"], table["resigned"]) == ([5.0], [0.5], [1.0])
    assert math.isnan(table["lr"][0])
