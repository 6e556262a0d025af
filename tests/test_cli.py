"""The ``azero`` command: help, the demo, record display, the engine benchmark, and bad input."""

import json
import os
import subprocess
import sys

import pytest

from azero.cli import main
from games.records import load_record


def run_azero(*args):
    """Run the installed entry point as a user would; returns (exit code, stdout, stderr)."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    done = subprocess.run([sys.executable, "-m", "azero", *args], capture_output=True, text=True, env=env, timeout=300)
    return done.returncode, done.stdout, done.stderr


def test_help_lists_only_working_subcommands():
    code, out, _ = run_azero("--help")
    assert code == 0
    listed = {line.split()[0] for line in out.split("COMMAND", 2)[-1].splitlines()[1:]
              if line.startswith("    ") and not line.startswith("     ")}  # deeper lines continue a wrapped help
    assert listed == {"demo", "show", "train", "bench", "arena", "play", "review", "pbrain", "export"}


@pytest.mark.parametrize("args", [["demo", "--help"], ["show", "--help"], ["train", "--help"], ["bench", "--help"],
                                  ["bench", "engine", "--help"], ["arena", "run", "--help"],
                                  ["arena", "ratings", "--help"], ["arena", "plot", "--help"], ["arena", "export", "--help"],
                                  ["pbrain", "--help"], ["play", "--help"], ["review", "--help"],
                                  ["export", "--help"], ["bench", "onnx", "--help"], ["bench", "play", "--help"]])
def test_every_subcommand_has_help_with_defaults(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: azero" in out
    if args[-2:] != ["bench", "--help"]:
        assert "default" in out


def test_demo_plays_a_whole_game_and_saves_it(tmp_path, capsys):
    path = tmp_path / "demo.sgf"
    assert main(["demo", "--rule", "renju", "--size", "11", "--seed", "3", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    record = load_record(path)
    game = record.to_game()
    assert game.is_over and record.rule == "renju" and record.size == 11
    assert game.result_text() in out and f"after {len(game.moves)} moves" in out


def test_demo_is_repeatable_with_a_seed(capsys):
    main(["demo", "--seed", "5", "--size", "9"])
    first = capsys.readouterr().out
    main(["demo", "--seed", "5", "--size", "9"])
    assert capsys.readouterr().out == first


def test_show_prints_a_record(tmp_path, capsys):
    path = tmp_path / "g.psq"
    path.write_text("Piskvorky 15x15, 11:11, 0\n8,8,0\n9,9,0\n")
    assert main(["show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "moves: h8 i7" in out and "still playing after 2 moves" in out


def test_bench_engine_json_has_every_number():
    code, out, err = run_azero("bench", "engine", "--json", "--seconds", "0.05", "--stones", "20")
    assert code == 0, err
    report = json.loads(out)
    for key in [
        "freestyle_moves_per_s",
        "standard_moves_per_s",
        "renju_moves_per_s",
        "renju_forbidden_masks_per_s",
    ]:
        assert report[key] > 0
    assert report["size"] == 15 and report["renju_mask_stones"] == 20


@pytest.mark.parametrize(
    "args, words",
    [
        (["demo", "--size", "30"], "board size must be from 5 to 20"),
        (["demo", "--size", "big"], "expected a whole number"),
        (["demo", "--rule", "go"], "invalid choice"),
        (["demo", "--rule", "renju", "--n-in-row", "4"], "renju is defined for five"),
        (["demo", "--save", "/nonexistent-dir/x.sgf", "--seed", "1", "--size", "5"], "error"),
        (["demo", "--save", "game.txt", "--seed", "1", "--size", "5"], "use a .psq or .sgf file"),
        (["show", "/nonexistent.sgf"], "cannot read it"),
        (["show", "notes.txt"], "unknown record type"),
        (["bench", "engine", "--seconds", "-1"], "expected a positive number"),
        (["bench", "engine", "--seconds", "inf"], "expected a positive number"),
        (["bench", "engine", "--seconds", "nan"], "expected a positive number"),
        (["demo", "--save", "", "--seed", "1", "--size", "5"], "use a .psq or .sgf file"),
        (["show", "x.psq", "--rule", "renju", "--n-in-row", "4"], "renju is defined for five"),
        (["bench", "engine", "--stones", "500"], "--stones must be from 0"),
        (["bench", "--seconds", "0"], "positive number"),
        (["bench", "--preset", "nope"], "unknown preset"),
        (["bench", "--set", "search.c_puct=nan"], "finite number"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_input_gets_one_clear_line_and_exit_2(args, words, tmp_path):
    os.chdir(tmp_path)
    code, out, err = run_azero(*args)
    assert code == 2
    assert words in err
    assert err.count("\n") == 1 and err.startswith("azero")  # one line
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_bad_record_file_gets_one_clear_line(tmp_path):
    path = tmp_path / "bad.sgf"
    path.write_text("(;GM[4]SZ[15];B[hh];B[ii])")
    code, _, err = run_azero("show", str(path))
    assert code == 2 and "Traceback" not in err
    assert err.strip().count("\n") == 0 and "it is white's turn" in err
