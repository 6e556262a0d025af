"""Player specs: the strings people type to name a player, read by :func:`parse_spec` and written by :func:`spec_text`.

=====================  ==============================================================
``random``             a uniformly random legal move
``heuristic``          the threat-aware pattern bot (:mod:`azero.players.heuristic`)
``pure:N``             pure Monte-Carlo tree search with N random playouts per move
``az:PATH``            a checkpoint (or a training run's folder: its latest checkpoint, or a
                       ``.onnx`` export from ``azero export``, run by onnxruntime on the CPU) with
                       PUCT search; options ``:sims=N`` (default 400) and/or ``:time=S``
                       (seconds per move; ``sims`` then caps it), ``:vct=N`` (VCT nodes at the
                       root, default 20000; 0 is the search before VCT), ``:replyvct=N`` (VCT
                       nodes at each of the root's moves: does it leave the opponent a
                       VCT? default 0), ``:leafvct=N`` (VCT nodes at each quiet leaf,
                       default 0) and ``:defence=1`` (threat defence, off by default)
``pbrain:COMMAND``     any engine that speaks the Gomocup protocol, run as a subprocess
``human:NAME``         a person at the window (moves come from clicks, not from here)
=====================  ==============================================================

A spec is a value (:class:`PlayerSpec`); :func:`spec_text` is the one
writer of its text, so every spec built in azero (a strength added for the
window, a checkpoint pinned for a tournament) is written the same way:
options in a fixed order, a default left out.  ``parse_spec(spec_text(s)) == s``
for every spec ``parse_spec`` returns.

This module imports nothing heavy (no numba, numpy or torch): the command
line reads its help text and checks specs before anything loads.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

DEFAULT_SIMULATIONS = 400
TIME_MODE_MAX_SIMULATIONS = 20000  # the tree's capacity when thinking by the clock
# VCT nodes at the root when a net plays (what an az: spec without :vct= gets): the tactics suite's wins need
# about this many (tests/test_tactics_suite.py).
PLAY_VCT_ROOT_BUDGET = 20000
MAX_VCT_NODES = 10**7  # the root's VCT budget a spec may ask for
MAX_VCT_NODES_PER_MOVE = 10**6  # leafvct and replyvct
MAX_SECONDS = 3600.0
MAX_HUMAN_NAME = 40
KINDS = ("random", "heuristic", "pure", "az", "pbrain", "human")

SPEC_HELP = ("random, heuristic, pure:N, az:PATH[:sims=N][:time=S][:vct=N][:replyvct=N][:leafvct=N][:defence=1], pbrain:COMMAND "
             "or human:NAME")
# The command line's words for the players a tournament takes (people do not play in one).
PLAYER_SPEC_TEXT = ("random, heuristic, pure:N (N playouts), "
                    "az:CHECKPOINT[:sims=N][:time=SECONDS][:vct=N][:replyvct=N][:leafvct=N][:defence=1], "
                    "pbrain:COMMAND (a Gomocup engine)")


def default_simulations(seconds: float | None) -> int:
    """The simulations an ``az:`` spec without ``:sims=`` has: a fixed count, or the cap of a player on the clock."""
    return TIME_MODE_MAX_SIMULATIONS if seconds is not None else DEFAULT_SIMULATIONS


@dataclass(frozen=True)
class PlayerSpec:
    """A parsed player spec (nothing loaded yet); :attr:`text` is its canonical spelling."""

    kind: str  # random | heuristic | pure | az | pbrain | human
    path: str = ""  # az: the checkpoint file (or run folder, or .onnx export)
    simulations: int = 0  # az: simulations per move (a cap when seconds is set); pure: playouts
    seconds: float | None = None  # az: thinking time per move
    vct: int | None = None  # az: VCT nodes at the root (None: the play default; 0: no VCT, no threat defence)
    defence: bool = False  # az: threat defence on (azero/search/defence.py)
    leaf_vct: int = 0  # az: VCT nodes at each quiet leaf of the tree (0: none; needs the root's VCT)
    reply_vct: int = 0  # az: VCT nodes at each root's child, the opponent attacking (0: none; needs the root's VCT)
    command: str = ""  # pbrain: the command line
    name: str = ""  # human: the person's name

    @property
    def text(self) -> str:
        """The spec as a string (:func:`spec_text`)."""
        return spec_text(self)

    @property
    def timed(self) -> bool:
        """Does this player think by the clock (so its games should not share a batch)?"""
        return self.seconds is not None or self.kind == "pbrain"


def net_spec(path, simulations: int | None = None, seconds: float | None = None, vct: int | None = None,
             defence: bool = False, leaf_vct: int = 0, reply_vct: int = 0) -> PlayerSpec:
    """An ``az:`` spec for the network at ``path``; ``simulations`` None is the default for the clock or not."""
    return PlayerSpec("az", path=str(path), simulations=default_simulations(seconds) if simulations is None else simulations,
                      seconds=seconds, vct=vct, defence=defence, leaf_vct=leaf_vct, reply_vct=reply_vct)


def _number_text(value: float) -> str:
    """Seconds, short where that reads back exactly ('2', '0.5'), else every digit."""
    short = format(value, "g")
    return short if float(short) == value else repr(float(value))


def spec_text(spec: PlayerSpec) -> str:
    """The one writer of a player spec's text; ``parse_spec`` reads it back to an equal spec.

    Options of an ``az:`` spec come in a fixed order (sims, time, vct,
    replyvct, leafvct, defence), each left out at its default.
    """
    if spec.kind in ("random", "heuristic"):
        return spec.kind
    if spec.kind == "pure":
        return f"pure:{spec.simulations}"
    if spec.kind == "pbrain":
        return f"pbrain:{spec.command}"
    if spec.kind == "human":
        return f"human:{spec.name}"
    if spec.kind != "az":
        raise ValueError(f"unknown player kind {spec.kind!r}; the kinds are {', '.join(KINDS)}")
    if _AZ_OPTION.match(spec.path):
        # It would read back as a path with an option: refuse rather than write a spec that means something else.
        raise ValueError(f"a checkpoint path ending like an option cannot be written in a spec: {spec.path!r}")
    options = []
    if spec.simulations != default_simulations(spec.seconds):
        options.append(f"sims={spec.simulations}")
    if spec.seconds is not None:
        options.append(f"time={_number_text(spec.seconds)}")
    if spec.vct is not None:
        options.append(f"vct={spec.vct}")
    if spec.reply_vct:
        options.append(f"replyvct={spec.reply_vct}")
    if spec.leaf_vct:
        options.append(f"leafvct={spec.leaf_vct}")
    if spec.defence:
        options.append("defence=1")
    return ":".join([f"az:{spec.path}"] + options)


def with_strength(spec: str | PlayerSpec, simulations: int, seconds: float | None = None) -> str:
    """The spec at another strength: ``simulations`` a move, thinking ``seconds`` when given; a non-network as it is."""
    parsed = spec if isinstance(spec, PlayerSpec) else parse_spec(spec)
    if parsed.kind != "az":
        return parsed.text
    return spec_text(dataclasses.replace(parsed, simulations=simulations, seconds=seconds))


def with_checkpoint(parsed: PlayerSpec, path) -> str:
    """An ``az:`` spec with its checkpoint file replaced by ``path`` and its options kept."""
    return spec_text(dataclasses.replace(parsed, path=str(path)))


def pinned(spec: str) -> str:
    """The spec with an ``az:`` run folder replaced by the checkpoint file it stands for now.

    A tournament pins its players once, so a run that publishes a newer
    checkpoint meanwhile does not change a player in the middle of it.
    """
    parsed = parse_spec(spec)
    if parsed.kind != "az":
        return parsed.text
    from azero.model.checkpoint import resolve_checkpoint

    return with_checkpoint(parsed, resolve_checkpoint(parsed.path))


_AZ_OPTION = re.compile(r"^(.*):(sims|time|vct|leafvct|replyvct|defence)=([^:/\\]*)$")  # a folder named 'x:time=2/' is part of the path


def _az_options(rest: str) -> tuple[str, list[tuple[str, str]]]:
    """The path of an ``az:`` spec and its options as typed, last first."""
    path, options = rest, []
    while (m := _AZ_OPTION.match(path)) is not None:
        path = m.group(1)
        options.append((m.group(2), m.group(3)))
    return path, options


def strength_given(spec: str) -> bool:
    """Does this text of an ``az:`` spec set the strength itself (``:sims=`` or ``:time=``)?"""
    kind, _, rest = spec.strip().partition(":")
    return kind == "az" and any(option in ("sims", "time") for option, _ in _az_options(rest)[1])


def parse_spec(spec: str) -> PlayerSpec:
    """Parse a player spec, or raise ValueError saying what is accepted."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"empty player spec; use {SPEC_HELP}")
    spec = spec.strip()
    kind, _, rest = spec.partition(":")
    if kind in ("random", "heuristic") and not rest:
        return PlayerSpec(kind)
    if kind == "pure":
        if not rest.isascii() or not rest.isdigit() or int(rest) < 1:
            raise ValueError(f"pure:N needs a positive whole number of playouts, got {spec!r}")
        return PlayerSpec("pure", simulations=int(rest))
    if kind == "az" and rest:
        return _parse_az(spec, rest)
    if kind == "pbrain" and rest.strip():
        return PlayerSpec("pbrain", command=rest.strip())
    if kind == "human" and rest.strip():
        name = rest.strip()
        if len(name) > MAX_HUMAN_NAME or not name.isprintable():
            raise ValueError(f"a human's name is up to {MAX_HUMAN_NAME} printable characters, got {name!r}")
        return PlayerSpec("human", name=name)
    raise ValueError(f"unknown player {spec!r}; use {SPEC_HELP}")


def _whole(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _parse_az(spec: str, rest: str) -> PlayerSpec:
    path, options = _az_options(rest)
    path = path.strip()  # 'az:x :sims=5' is the file x, as 'az:x ' is
    simulations, seconds, vct, defence = None, None, None, None
    node_budgets: dict[str, int] = {}  # leafvct, replyvct
    for option, value in options:
        if option == "defence":
            if defence is not None or value not in ("0", "1"):
                raise ValueError(f"defence must be given once, as 0 or 1, in {spec!r}")
            defence = value == "1"
        elif option == "vct":
            if vct is not None or not _whole(value) or int(value) > MAX_VCT_NODES:
                raise ValueError(f"vct must be given once, as a whole number of nodes up to {MAX_VCT_NODES}, in {spec!r}")
            vct = int(value)
        elif option in ("leafvct", "replyvct"):
            if option in node_budgets or not _whole(value) or int(value) > MAX_VCT_NODES_PER_MOVE:
                raise ValueError(f"{option} must be given once, as a whole number of nodes up to "
                                 f"{MAX_VCT_NODES_PER_MOVE}, in {spec!r}")
            node_budgets[option] = int(value)
        elif option == "sims":
            if simulations is not None or not _whole(value) or int(value) < 1:
                raise ValueError(f"sims must be given once, as a positive whole number, in {spec!r}")
            simulations = int(value)
        else:
            try:
                seconds_value = float(value)
            except ValueError:
                seconds_value = math.nan
            if seconds is not None or not (math.isfinite(seconds_value) and 0 < seconds_value <= MAX_SECONDS):
                raise ValueError(f"time must be given once, as seconds between 0 and {MAX_SECONDS:g}, in {spec!r}")
            seconds = seconds_value
    if not path:
        raise ValueError(f"az: needs a checkpoint path, got {spec!r}")
    if defence and vct == 0:
        raise ValueError(f"defence=1 needs the VCT (vct above 0), in {spec!r}")
    for option, nodes in node_budgets.items():
        if nodes and vct == 0:
            raise ValueError(f"{option} needs the root's VCT (vct above 0), in {spec!r}")
    return net_spec(path, simulations, seconds, vct, bool(defence), node_budgets.get("leafvct", 0),
                    node_budgets.get("replyvct", 0))
