"""The protocol engine on an ONNX export (issue 23): no torch in the process, and the process within max_memory."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("onnx", reason="ONNX export needs onnx: pip install -e '.[onnx]'")
pytest.importorskip("onnxscript", reason="torch's ONNX exporter needs onnxscript: pip install -e '.[onnx]'")
pytest.importorskip("onnxruntime", reason="running an exported net needs onnxruntime: pip install -e '.[onnx]'")

import onnx
from fake_players import FirstPointSearcher
from tiny_nets import tiny_checkpoint

from azero.model.export import export_onnx
from azero.model.onnx_evaluator import FORMAT
from azero.pbrain.engine import PbrainEngine
from azero.pbrain.loading import ONNX_FORMAT, checkpoint_game
from azero.pbrain.memory import TORCH_BYTES

MIB = 2**20


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[int, Path]:
    """Tiny freestyle nets for 9x9 and 15x15, exported (torch runs here, in the test process, only)."""
    folder = tmp_path_factory.mktemp("onnx")
    paths = {}
    for size in (9, 15):
        checkpoint = tiny_checkpoint(folder / f"tiny{size}.safetensors", size=size, n_in_row=5, seed=size)
        paths[size] = export_onnx(checkpoint, folder / f"tiny{size}.onnx", check_positions=4).path
    return paths


def test_an_exports_header_says_its_game_without_torch_or_onnxruntime(exported):
    assert ONNX_FORMAT == FORMAT  # the engine's copy of the format tag (the reader's module imports numba)
    assert checkpoint_game(str(exported[9])) == (exported[9], "freestyle", 9, 5)
    assert checkpoint_game(str(exported[15]))[1:] == ("freestyle", 15, 5)


def test_a_damaged_or_foreign_onnx_file_is_refused_in_one_line(exported, tmp_path):
    whole = exported[9].read_bytes()
    foreign = onnx.load(str(exported[9]))
    del foreign.metadata_props[:]  # a real ONNX model, but not an azero export
    files = {"empty.onnx": b"", "noise.onnx": bytes(range(256)) * 40, "cut.onnx": whole[:len(whole) // 2],
             "foreign.onnx": foreign.SerializeToString(), "varint.onnx": b"\xff" * 20}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=r"is not a readable azero ONNX export") as error:
            checkpoint_game(str(tmp_path / name))
        assert len(str(error.value).splitlines()) == 1, str(error.value)
    with pytest.raises(ValueError, match="no checkpoint at"):
        checkpoint_game(str(tmp_path / "missing.onnx"))


TORCH_FREE_ENGINE = """
import json, sys
from azero.pbrain.main import build_engine, parse_arguments

engine = build_engine(parse_arguments(["--checkpoint", sys.argv[1], "--sims", "64"]))
lines = engine.handle("START 9") + engine.handle("INFO timeout_turn 500")
engine.wait_until_ready()  # the network loads and warms up on the background thread

def free_point():
    return next(f"{x},{y}" for y in range(9) for x in range(9) if y * 9 + x not in engine.game.moves)

lines += engine.handle("BEGIN")
lines += engine.handle(f"TURN {free_point()}")
lines += engine.handle("INFO max_memory 104857600")
lines += engine.handle(f"TURN {free_point()}")
player = engine.players_by_game["freestyle", 9]
print(json.dumps({"lines": lines, "torch": "torch" in sys.modules, "onnxruntime": "onnxruntime" in sys.modules,
                  "evaluator": type(player.evaluator).__name__, "moves": len(engine.game.moves)}))
"""


def test_an_onnx_engine_plays_without_ever_importing_torch(exported):
    done = subprocess.run([sys.executable, "-c", TORCH_FREE_ENGINE, str(exported[9])], capture_output=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report = json.loads(done.stdout.decode().splitlines()[-1])
    lines = report["lines"]
    assert report["evaluator"] == "OnnxEvaluator" and report["onnxruntime"] and report["moves"] == 5, report
    assert sum(1 for line in lines if re.match(r"^MESSAGE azero: \d+ simulations", line)) == 3, lines  # the net
    assert not any(line.startswith("ERROR") for line in lines), lines
    assert report["torch"] is False
    # 100 MiB is below what even the export needs: said once, and without sending it to the export it plays.
    (note,) = [line for line in lines if line.startswith("MESSAGE max_memory")]
    assert "onnxruntime" in note and "azero export" not in note, note


def test_a_torch_engine_below_its_memory_names_the_export_to_play(tmp_path):
    assert "torch" in sys.modules  # the test process made its nets with torch, as a .safetensors engine does
    for exported_already in (False, True):
        net = tmp_path / f"net{int(exported_already)}.safetensors"
        if exported_already:
            net.with_suffix(".onnx").write_bytes(b"")
        engine = PbrainEngine({("freestyle", 9): FirstPointSearcher(str(net), simulations=20000)}, measure_memory=lambda: 355 * MIB)
        lines = engine.handle("START 9") + engine.handle(f"INFO max_memory {350 * MIB}") + engine.handle("BEGIN")
        (note,) = [line for line in lines if line.startswith("MESSAGE max_memory")]
        assert "355 MiB without a search tree" in note and f"torch alone takes about {TORCH_BYTES // MIB} MiB" in note
        if exported_already:
            assert f"play {net.with_suffix('.onnx')} instead" in note, note
        else:
            assert f"azero export {net}" in note and f"play {net.with_suffix('.onnx')}" in note, note


def memory_mib(pid: int) -> tuple[float, float]:
    """(resident now, the most resident so far) of a process, in MiB, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    read = lambda key: int(re.search(rf"^{key}:\s+(\d+) kB", status, re.MULTILINE).group(1)) / 1024
    return read("VmRSS"), read("VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads the engine's memory from /proc (Linux)")
def test_an_onnx_engine_process_stays_within_350_mib(exported):
    """Gomocup's and c-gomoku-cli's default limit, which the engine exceeds with torch (docs/engine.md)."""
    limit = 350 * MIB
    process = subprocess.Popen([sys.executable, "-m", "azero.pbrain", "--checkpoint", str(exported[15]), "--sims", "400"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.decode().strip()) for line in process.stdout],
                     daemon=True).start()

    def ask(command: str) -> list[str]:
        process.stdin.write(f"{command}\n".encode())
        process.stdin.flush()
        answer = [lines.get(timeout=120)]
        while answer[-1].startswith(("MESSAGE", "DEBUG")):
            answer.append(lines.get(timeout=120))
        return answer

    try:
        assert ask("START 15") == ["OK"]
        # A minute for the first move: it waits for the network to load (a move that cannot wait is the heuristic's).
        for info in ("timeout_turn 60000", "timeout_match 0", f"max_memory {limit}", "rule 0"):
            process.stdin.write(f"INFO {info}\n".encode())
        answers = ask("BEGIN")
        process.stdin.write(b"INFO timeout_turn 1000\n")
        taken = {answers[-1]}
        for _ in range(3):
            ours = next(f"{x},{y}" for y in range(15) for x in range(15) if f"{x},{y}" not in taken)
            answers += ask(f"TURN {ours}")
            taken |= {ours, answers[-1]}
        resident, peak = memory_mib(process.pid)
        assert not any(line.startswith(("ERROR", "MESSAGE max_memory")) for line in answers), answers
        assert sum(1 for line in answers if line.startswith("MESSAGE azero:")) == 4, answers  # the net played
        assert peak * MIB <= limit, f"resident {resident:.0f} MiB, at most {peak:.0f} MiB, over {limit // MIB} MiB"
        process.stdin.write(b"END\n")
        process.stdin.flush()
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
