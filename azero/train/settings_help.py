"""``azero train --help-settings``: every ``section.key``, its value, its accepted range and what it does.

What a setting does is written once, as the comment on its declaration in
its dataclass (GameConfig, TrainerConfig and EvalConfig in
azero/train/config.py, NetConfig in azero/model/network.py, SearchConfig in
azero/search/searcher.py, SelfPlayConfig in selfplay/engine.py); this
module reads those comments from the source, so the help cannot drift from
the code.  A field's comment is the one at the end of its line or, failing
that, the comment lines just above it; a comment block above a field also
explains the fields right below it that have none of their own (up to a
blank line or a field that has its own).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import textwrap
import tokenize
from functools import cache

from azero.model.network import VALUE_HEADS
from azero.train.config import RANGES, SECTIONS, TrainConfig, _toml_value
from games.constants import RULES
from games.coords import MAX_SIZE, MIN_SIZE

# What a setting without a number range (azero.bounds.Bounds in RANGES) accepts; true or false for a bool.
ACCEPTED: dict[str, str] = {
    "game.size": f"from {MIN_SIZE} to {MAX_SIZE}",
    "game.rule": ", ".join(RULES),
    "game.n_in_row": "from 3 to game.size; 5 for renju",
    "net.value_head": " or ".join(VALUE_HEADS),
    "train.device": "auto, cpu, cuda, cuda:N or mps",
    "train.init_from": "a checkpoint's path, or empty",
}

# How settings must fit together (each section's check() refuses the rest), said beside the range.
TOGETHER: dict[str, str] = {
    "selfplay.fast_simulations": "at most selfplay.simulations",
    "train.window": "at least train.batch_size",
    "train.min_positions": "at most train.window",
    "eval.games": "even",
}

_NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}


@cache
def declared_comments(cls: type) -> dict[str, str]:
    """The comment of each field of the dataclass ``cls``, as written at its declaration ('' where there is none)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # no source to read (a frozen executable): the help says so instead
        return {}
    comments: dict[int, str] = {}  # line number -> the comment's text
    code: set[int] = set()  # line numbers that hold code
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
        elif token.type not in _NOT_CODE:
            code.update(range(token.start[0], token.end[0] + 1))
    found: dict[str, str] = {}
    group = ""  # the comment block above the current group of fields
    previous_end = 0
    for node in ast.parse(source).body[0].body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        above, line = [], node.lineno - 1
        while line in comments and line not in code:
            above.insert(0, comments[line])
            line -= 1
        if above:
            group = " ".join(above)
        elif line != previous_end:  # a blank line (or something else) since the group's last field
            group = ""
        trailing = " ".join(comments[n] for n in range(node.lineno, node.end_lineno + 1) if n in comments and n in code)
        found[node.target.id] = trailing or group
        if trailing:
            group = ""
        previous_end = node.end_lineno
    return found


def explanations() -> dict[str, str]:
    """``section.key`` -> what the setting does, for every setting of every section."""
    found = {}
    for section in SECTIONS:
        cls = type(getattr(TrainConfig(), section))
        comments = declared_comments(cls)
        for f in dataclasses.fields(cls):
            key = f"{section}.{f.name}"
            found[key] = comments.get(f.name, "")
    return found


def accepted(section: str, key: str, kind: str) -> str:
    """What the setting ``section.key`` (of annotation ``kind``) accepts, in words."""
    name = f"{section}.{key}"
    bounds = RANGES.get(section, {}).get(key)
    text = str(bounds) if bounds is not None else ACCEPTED.get(name, "true or false" if kind == "bool" else "text")
    return f"{text}; {TOGETHER[name]}" if name in TOGETHER else text


def _section_title(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    if doc.startswith(cls.__name__ + "("):  # the signature dataclasses write when the class has no docstring
        return ""
    return doc.split("\n\n")[0].replace("\n", " ")


def settings_help(config: TrainConfig, width: int = 100) -> str:
    """Every setting: ``section.key = value`` (``config``'s), the built-in default where it differs, the accepted
    range, and what the setting does."""
    told = explanations()
    header = (f"Every setting of azero train: SECTION.KEY = the value this command would use (preset {config.preset} "
              "and any SECTION.KEY=VALUE given), then (the built-in default where that differs; the values accepted) "
              "and what the setting does. Change one with SECTION.KEY=VALUE on the command line.")
    lines = textwrap.wrap(header, width) + [""]
    defaults = TrainConfig()
    for section in SECTIONS:
        settings, cls = getattr(config, section), type(getattr(config, section))
        title = _section_title(cls)
        lines.append(f"[{section}]" + (f"  {title}" if title else ""))
        for f in dataclasses.fields(cls):
            value, default = getattr(settings, f.name), getattr(getattr(defaults, section), f.name)
            note = [] if value == default else [f"default {_toml_value(default)}"]
            note.append(accepted(section, f.name, str(f.type)))
            lines.append(f"  {section}.{f.name} = {_toml_value(value)}  ({'; '.join(note)})")
            explanation = told[f"{section}.{f.name}"] or "(not explained at its declaration)"
            lines.extend(textwrap.wrap(explanation, width, initial_indent=" " * 6, subsequent_indent=" " * 6))
        lines.append("")
    return "\n".join(lines)
