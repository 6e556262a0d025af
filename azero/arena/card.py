"""``checkpoints/RATINGS.md``: what the arena says about each shipped network, written from the games.

Nothing in the card is typed by hand.  For every shipped checkpoint the
card reads its metadata (net, training step, games, positions, training
time, hardware, the command that reproduces the run) and, from an arena
database, every game of its rule and size: the Elo table anchored to the
heuristic bot, the shipped net's record against each reference, the
project's targets with whether the games meet them, and the Elo-against-
training-step plot where the database holds a run's checkpoints.

A shipped file is recognised in the database by its SHA-256, so games of
an older file under the same name never count for a newer one; the card
also renames the players of the shipped files and of their earlier versions
(``previous/NAME-vK``) after where those files are now.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from pathlib import Path

from azero.arena.ratings import DEFAULT_ANCHOR, Rating
from azero.arena.report import plot_elo, rate, record, results
from azero.arena.store import ArenaStore, PlayerRecord, file_sha256, label_setting
from azero.arena.tournament import GameKind
from azero.model.checkpoint import CheckpointInfo, read_info
from azero.model.network import NetConfig
from azero.model.shipped import SHIPPED
from azero.train.config import build_config
from games.atomic import atomic_write_text

MIN_GAMES = 40  # a target is judged on at least this many games


@dataclass(frozen=True)
class Target:
    """A score the shipped net must reach against one reference at a fixed number of simulations."""

    opponent: str
    simulations: int
    score: float  # the least share of points, draws counting half


# The project's goals for each shipped network (issue 6), judged from the games.
TARGETS: dict[str, list[Target]] = {
    "gomoku8": [Target("pure:5000", 400, 0.95)],
    "gomoku9": [Target("pure:10000", 400, 0.95), Target("heuristic", 400, 0.90)],
    "gomoku15": [Target("pure:10000", 800, 1.0), Target("heuristic", 800, 0.90)],
    "renju15": [],
}
PREVIOUS_VERSION_ELO = 200.0  # each shipped version must be this much stronger than the one it replaces
PREVIOUS_DIR = "previous"  # checkpoints/previous/NAME-vK.safetensors: earlier shipped versions, kept to be rated


def _simulations(label: str) -> int | None:
    """400 from 'gomoku8@400'; None for a timed setting ('gomoku8@5s')."""
    setting = label_setting(label)
    return int(setting) if setting.isdigit() else None


def _hours(info: CheckpointInfo, short: bool = False) -> str:
    seconds = info.extra.get("train_seconds")
    if not isinstance(seconds, (int, float)) or seconds <= 0:
        return "hours not recorded" if short else "hours not recorded (this checkpoint predates the record)"
    return f"{seconds / 3600:.2f} h" if short else f"{seconds / 3600:.2f} h of the learner's wall clock"


def _size_text(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} KB"


def _fmt_elo(value: float) -> str:
    return f"{value:+.0f}" if math.isfinite(value) else "n/a"


def shipped_players(store: ArenaStore, sha: str) -> list[PlayerRecord]:
    return [p for p in store.players() if p.kind == "az" and p.key.startswith(f"az:{sha}:")]


def previous_versions(directory: Path, name: str) -> list[Path]:
    """Earlier shipped versions of ``name``, oldest first (``NAME-v1``, ``NAME-v2``, ...)."""
    found = []
    for path in (directory / PREVIOUS_DIR).glob(f"{name}-v*.safetensors"):
        number = path.stem.rsplit("-v", 1)[-1]
        if number.isdigit():
            found.append((int(number), path))
    return [path for _, path in sorted(found)]


def reproducing_command(command: str, net: dict) -> str:
    """The recorded training command, plus the ``net.*`` settings the checkpoint has and its preset no longer gives.

    A preset may change after a net shipped (the two KataGo heads were
    switched on after the first nets were trained), and the card must still
    name a command that trains a net of this shape.
    """
    words = shlex.split(command)
    if "--preset" not in words[:-1]:
        return command
    overrides = [word for word in words if "=" in word and not word.startswith("-")]
    try:
        now = build_config(words[words.index("--preset") + 1], overrides).net.to_dict()
    except ValueError:  # a preset since removed or renamed: the command as it ran is all there is
        return command
    trained = NetConfig(**net).to_dict()  # as loading reads it: metadata from before an option gets its default
    added = [f"net.{key}={str(value).lower() if isinstance(value, bool) else value}"
             for key, value in trained.items() if key in now and now[key] != value]
    return shlex.join([*words, *added])


def _section(store: ArenaStore, directory: Path, name: str, path: Path,
             card_dir: Path) -> tuple[list[str], str, Path | None]:
    """The card's section for one shipped network, its row of the summary table, and its Elo plot if drawn."""
    info = read_info(path)
    sha = file_sha256(path)
    kind = GameKind(info.rule, info.size, info.n_in_row)
    net = info.net
    lines = [f"## {name}: {info.rule}, {info.size}x{info.size}", ""]
    heads = [text for key, value, text in (("value_head", "wdl", "a win/draw/loss value head"),
                                           ("opponent_policy", True, "an opponent-reply policy head"))
             if net.get(key) == value]
    lines.append(f"- **File:** `{path.name}`, {_size_text(path)}, SHA-256 `{sha[:16]}`; a {net['blocks']}-block, "
                 f"{net['channels']}-channel residual net{' with ' + ' and '.join(heads) if heads else ''}.")
    lines.append(f"- **Training:** step {info.step}, {info.games:,} self-play games, {info.positions:,} training "
                 f"positions; {_hours(info)}.")
    hardware = info.extra.get("hardware")
    if hardware:
        lines.append(f"- **Hardware:** {'; then '.join(str(h) for h in hardware)}.")
    if info.extra.get("started_from"):
        lines.append(f"- **Started from** the weights of {info.extra['started_from']}.")
    command = info.extra.get("command")
    command = reproducing_command(command, net) if command else command
    lines.append(f"- **Reproduce:** `{command}`" if command else
                 "- **Reproduce:** not recorded in this checkpoint (it predates the record).")
    lines.append("")
    games = store.games(kind.rule, kind.size, kind.n_in_row)
    mine = shipped_players(store, sha)
    row = (f"| `{name}` | {info.rule} {info.size}x{info.size} | {net['blocks']}x{net['channels']} | "
           f"{info.games:,} games, {_hours(info, short=True)} |")
    if not games or not mine:
        lines += [f"No arena games of this file in `{store.path.name}` yet.", ""]
        return lines, row + " not rated yet | |", None
    ratings = rate(store, kind, save=False) if DEFAULT_ANCHOR in {g.black for g in games} | {g.white for g in games} else []
    by_label = {r.player: r for r in ratings}
    scored = results(games)

    lines += [f"Elo over all {len(games)} {kind.rule} {kind.size}x{kind.size} games in the database "
              f"({DEFAULT_ANCHOR} = 0, 95% intervals):", "",
              "| player | Elo | 95% interval | games | W/D/L | score |", "|---|---|---|---|---|---|"]
    for r in sorted(ratings, key=lambda r: -r.elo):
        shown = f"**{r.player}**" if r.player in {p.label for p in mine} else r.player
        lines.append(f"| {shown} | {_fmt_elo(r.elo)} | {_fmt_elo(r.low)} .. {_fmt_elo(r.high)} | {r.games} | "
                     f"{r.wins}/{r.draws}/{r.losses} | {100 * r.score:.1f}% |")
    lines.append("")

    lines += [f"Games of the shipped `{name}` (W/D/L from its side):", "",
              "| shipped | opponent | W/D/L | score |", "|---|---|---|---|"]
    for player in mine:
        opponents = sorted({b if w == player.label else w for b, w, _ in scored if player.label in (b, w)})
        for opponent in opponents:
            rec = record(scored, player.label, opponent)
            lines.append(f"| {player.label} | {opponent} | {rec.text()} | {100 * rec.score:.1f}% |")
    lines.append("")

    checks = _target_lines(store, name, mine, scored, by_label, directory)
    if checks:
        lines += ["Targets:", "", "| target | games | result | met |", "|---|---|---|---|",
                  *(line for line, _ in checks), ""]
    main = max(mine, key=lambda p: by_label[p.label].games if p.label in by_label else 0)
    rating = by_label.get(main.label)
    elo = f"{_fmt_elo(rating.elo)} [{_fmt_elo(rating.low)}, {_fmt_elo(rating.high)}] at {label_setting(main.label)} " \
          f"simulations ({rating.games} games)" if rating else "not rated"
    met = f"{sum(ok for _, ok in checks)} of {len(checks)}" if checks else "none set"
    row += f" {elo} | {met} |"

    plot = None
    if any(p.kind == "az" and p.run and p.step is not None for p in store.players()
           if p.rule == kind.rule and p.size == kind.size):
        plot = plot_elo(store, ratings, kind, card_dir / f"elo-{name}.png")
        lines += [f"![Elo against training step, {name}]({_relative(plot, card_dir)})", ""]
    return lines, row, plot


def _name_files(store: ArenaStore, directory: Path) -> None:
    """Label the shipped files and their earlier versions after where they are now (``gomoku15``, ``gomoku15-v2``).

    Earlier versions first: a file that moved to ``previous/`` gives up its
    old name before the new file under that name takes it.
    """
    names = dict.fromkeys(SHIPPED.values())
    for path in [p for name in names for p in previous_versions(directory, name)]:
        store.name_checkpoint(file_sha256(path), path.stem)
    for name in names:
        path = directory / f"{name}.safetensors"
        if path.is_file():
            store.name_checkpoint(file_sha256(path), name)


def _relative(path: Path, start: Path) -> str:
    try:
        return path.resolve().relative_to(start.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _target_lines(store: ArenaStore, name: str, mine: list[PlayerRecord], scored, by_label: dict[str, Rating],
                  directory: Path) -> list[tuple[str, bool]]:
    """One table line per target of ``name``, with whether the games meet it."""
    lines = []
    at = {_simulations(p.label): p.label for p in mine}
    for target in TARGETS.get(name, []):
        label = at.get(target.simulations)
        want = f"≥{100 * target.score:g}% against `{target.opponent}` at {target.simulations} simulations"
        if label is None:
            lines.append((f"| {want} | 0 | not played | no |", False))
            continue
        rec = record(scored, label, target.opponent)
        if not rec.games:
            lines.append((f"| {want} | 0 | not played | no |", False))
            continue
        met = rec.games >= MIN_GAMES and rec.score >= target.score - 1e-9
        verdict = "yes" if met else ("no" if rec.games >= MIN_GAMES else f"no (fewer than {MIN_GAMES} games)")
        lines.append((f"| {want} | {rec.games} | {rec.text()}, {100 * rec.score:.1f}% | {verdict} |", met))
    previous = previous_versions(directory, name)
    if not previous:
        return lines
    old_by_setting = {label_setting(p.label): p.label for p in shipped_players(store, file_sha256(previous[-1]))}
    compared = False
    for player in mine:
        old = old_by_setting.get(label_setting(player.label))
        if old is None or player.label not in by_label or old not in by_label:
            continue
        rec = record(scored, player.label, old)
        if not rec.games:
            continue
        compared = True
        gap = by_label[player.label].elo - by_label[old].elo
        met = gap >= PREVIOUS_VERSION_ELO and rec.games >= MIN_GAMES
        lines.append((f"| ≥{PREVIOUS_VERSION_ELO:.0f} Elo above the previous version `{old}` | {rec.games} | "
                      f"{_fmt_elo(gap)} Elo ({rec.text()} head to head, {100 * rec.score:.1f}%) | "
                      f"{'yes' if met else 'no'} |", met))
    if not compared:
        lines.append((f"| ≥{PREVIOUS_VERSION_ELO:.0f} Elo above the previous version `{previous[-1].stem}` | 0 | "
                      "not played head to head | no |", False))
    return lines


README_START = "<!-- ratings:start (written by azero arena card) -->"
README_END = "<!-- ratings:end -->"
SUMMARY_HEADER = ["| network | game | net | training | Elo (heuristic = 0, 95% interval) | targets met |",
                  "|---|---|---|---|---|---|"]


def write_card(db_path: str | Path, directory: str | Path = "checkpoints", out: str | Path | None = None,
               readme: str | Path | None = None) -> Path:
    """Write ``RATINGS.md`` (and its plots) for every shipped checkpoint in ``directory``; returns its path.

    With ``readme``, the summary table also replaces the part of that file
    between :data:`README_START` and :data:`README_END` (which must be there).
    """
    directory = Path(directory)
    out = Path(out) if out else directory / "RATINGS.md"
    header = ["# Ratings of the shipped networks", "",
              f"Generated by `azero arena card --db {Path(db_path).as_posix()}` from the arena's games; do not edit "
              "by hand. Every game: balanced openings, each played with both colours, fixed simulations a move. "
              "Players: `NAME@SIMS` is a network at SIMS simulations a move, `pure:N` a pure Monte-Carlo search with "
              "N random playouts a move, `heuristic` the pattern bot (the anchor, Elo 0). W/D/L are wins, draws and "
              "losses.", ""]
    body: list[str] = []
    summary: list[str] = []
    plots: list[tuple[str, Path]] = []
    with ArenaStore(db_path) as store:
        _name_files(store, directory)
        for name in dict.fromkeys(SHIPPED.values()):
            path = directory / f"{name}.safetensors"
            if path.is_file():
                lines, row, plot = _section(store, directory, name, path, out.parent)
                body += lines
                summary.append(row)
                if plot is not None:
                    plots.append((name, plot))
    if not body:
        body = [f"No shipped checkpoints in {directory}.", ""]
    table = SUMMARY_HEADER + summary if summary else []
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, "\n".join(header + table + ([""] if table else []) + body))
    if readme is not None:
        _update_readme(Path(readme), table, plots, out)
    return out


def _update_readme(readme: Path, table: list[str], plots: list[tuple[str, Path]], card: Path) -> None:
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise ValueError(f"{readme} has no ratings block to update (the lines {README_START} and {README_END})")
    before, rest = text.split(README_START, 1)
    _, after = rest.split(README_END, 1)
    link = _relative(card, readme.parent)
    images = [f"![Elo against training step, {name}]({_relative(plot, readme.parent)})" for name, plot in plots]
    block = [README_START, *table, "", *(line for image in images for line in (image, "")),
             f"Details, every game's record and the plots: [{link}]({link}).", README_END]
    atomic_write_text(readme, before + "\n".join(block) + after)
