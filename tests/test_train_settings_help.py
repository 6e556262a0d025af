"""`azero train --help-settings` explains every setting, from the comment where the setting is declared."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import pytest
import tomllib

from azero.cli import main
from azero.train.config import PRESET_DIR, SECTIONS, TrainConfig, _toml_value, available_presets
from azero.train.settings_help import accepted, declared_comments, explanations


def run_main(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exit_info:  # argparse's --help and errors
        code = exit_info.code
    out, err = capsys.readouterr()
    return code, out, err


def every_key() -> list[tuple[str, str]]:
    return [(section, f.name) for section in SECTIONS for f in dataclasses.fields(getattr(TrainConfig(), section))]


def settings_shown(out: str) -> dict[str, tuple[str, str]]:
    """``section.key`` -> (the rest of its line: value and range, its explanation) from the printed help."""
    shown, lines = {}, out.splitlines()
    for i, line in enumerate(lines):
        match = re.fullmatch(r"  ([a-z]+\.[a-z_]+) = (.*)", line)
        if match:
            explanation = []
            for below in lines[i + 1:]:
                if not below.startswith(" " * 6):
                    break
                explanation.append(below.strip())
            shown[match[1]] = (match[2], " ".join(explanation))
    return shown


def test_every_setting_of_every_section_is_shown_with_an_explanation_and_a_range(capsys):
    code, out, err = run_main(["train", "--help-settings"], capsys)
    assert code == 0, err
    shown = settings_shown(out)
    assert len(every_key()) > 50
    for section, key in every_key():
        name = f"{section}.{key}"
        assert name in shown, name
        line, explanation = shown[name]
        assert explanation and "not explained" not in explanation, name
        assert re.search(r"\(.+\)$", line), (name, line)  # the values it accepts
    assert set(shown) == {f"{section}.{key}" for section, key in every_key()}
    headers = [line.split()[0] for line in out.splitlines() if line.startswith("[")]
    assert headers == [f"[{section}]" for section in SECTIONS]


@pytest.mark.parametrize("preset", available_presets())
def test_a_presets_values_are_shown(preset, capsys):
    code, out, err = run_main(["train", "--help-settings", "--preset", preset], capsys)
    assert code == 0, err
    shown = settings_shown(out)
    recipe = tomllib.loads((PRESET_DIR / f"{preset}.toml").read_text())
    for section in SECTIONS:
        for key, value in recipe.get(section, {}).items():
            line = shown[f"{section}.{key}"][0]
            assert tomllib.loads(f"v = {line.split('  (')[0]}")["v"] == value, (section, key, line)  # 90 as 90.0
            default = getattr(getattr(TrainConfig(), section), key)
            if value != default:
                assert f"(default {_toml_value(default)}; " in line, (section, key, line)
    assert f"preset {preset}" in out


def test_overrides_and_flags_show_and_the_built_in_default_beside_them(capsys):
    code, out, err = run_main(["train", "--help-settings", "--preset", "renju15", "train.lr=0.01", "--steps", "7"],
                              capsys)
    assert code == 0, err
    shown = settings_shown(out)
    assert shown["train.lr"][0] == "0.01  (default 0.002; above 0 and at most 10)"
    assert shown["train.max_steps"][0].startswith("7  (default 0; ")
    assert shown["game.rule"][0].startswith('"renju"  (default "freestyle"; freestyle, standard, renju')
    assert shown["selfplay.fast_simulations"][0].endswith("; at most selfplay.simulations)")


def test_a_bad_override_is_still_one_line_and_exit_2(capsys):
    code, out, err = run_main(["train", "--help-settings", "train.lr=-1"], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "train.lr" in err


def test_the_train_help_names_the_option(capsys):
    code, out, _ = run_main(["train", "--help"], capsys)
    assert code == 0
    assert "--help-settings" in out and "--print-config" in out


# -- the explanation lives at the declaration -------------------------------------------------------------


def test_the_explanation_is_the_declarations_comment():
    told = explanations()
    assert told["search.c_puct"] == "exploration weight in PUCT"  # azero/search/searcher.py
    assert told["train.lr"].startswith("AdamW learning rate")  # azero/train/config.py
    assert told["game.size"] and told["eval.games"] and told["train.seed"]
    # A comment block above a field explains it, and the fields below it that have none of their own.
    assert told["search.vct_reply_budget"].startswith("VCT nodes at each of the root's children")
    assert told["selfplay.random_opening_moves"] == told["selfplay.random_opening_fraction"]
    assert told["selfplay.random_opening_fraction"].startswith("Opening diversity")


@dataclass
class Example:
    """Not a real section: the cases of the comment reader."""

    plain: int = 1
    trailing: str = "a # b"  # the comment after the field
    # A block above: it explains this field
    # on two lines,
    first: int = 2
    second: int = 3  # but this one has its own
    third: int = 4

    # Another block.
    grouped: int = 5
    also_grouped: int = 6

    after_blank: int = 7

    def method(self) -> int:  # not a field
        return 1


def test_the_comment_reader():
    assert declared_comments(Example) == {
        "plain": "", "trailing": "the comment after the field",
        "first": "A block above: it explains this field on two lines,", "second": "but this one has its own",
        "third": "", "grouped": "Another block.", "also_grouped": "Another block.", "after_blank": "",
    }


@pytest.mark.parametrize("section, key", every_key())
def test_every_setting_says_what_it_accepts(section, key):
    kind = {f.name: str(f.type) for f in dataclasses.fields(getattr(TrainConfig(), section))}[key]
    text = accepted(section, key, kind)
    assert text and text != "text", (section, key)
