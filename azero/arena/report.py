"""What the arena's games say: Elo tables, the Elo-against-training-step plot, and PGN export.

Ratings are fitted over *all* stored games of one kind (rule, size, row
length), people's included, by :func:`azero.arena.ratings.fit_ratings`, with one
reference player held fixed (``heuristic`` at 0 by default: the bot's
strength does not depend on the machine, the net or the clock).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from azero.arena.ratings import DEFAULT_ANCHOR, DEFAULT_ANCHOR_ELO, Rating, fit_ratings
from azero.arena.store import ArenaError, ArenaStore, GameRow, label_setting
from azero.arena.tournament import GameKind

PGN_RESULT = {"black": "1-0", "white": "0-1", "draw": "1/2-1/2"}


def pick_kind(store: ArenaStore, rule: str | None = None, size: int | None = None,
              n_in_row: int | None = None) -> GameKind:
    """The game kind to report on: the one matching the filters, which must be unique."""
    kinds = [k for k in store.game_kinds()
             if (rule is None or k[0] == rule) and (size is None or k[1] == size) and (n_in_row is None or k[2] == n_in_row)]
    if not kinds:
        raise ArenaError(f"no games in {store.path}" + (" for that rule/size" if (rule or size or n_in_row) else ""))
    if len(kinds) > 1:
        listed = ", ".join(f"{r} {s}x{s} ({n} in a row, {g} games)" for r, s, n, g in kinds)
        raise ArenaError(f"{store.path} holds several kinds of game: {listed}; choose one with --rule and --size")
    rule, size, n_in_row, _ = kinds[0]
    return GameKind(rule, size, n_in_row)


def results(games: list[GameRow]) -> list[tuple[str, str, float]]:
    """(black, white, black's score) per game."""
    score = {"black": 1.0, "white": 0.0, "draw": 0.5}
    return [(g.black, g.white, score[g.result]) for g in games]


@dataclass
class Record:
    """One player's wins, draws and losses against another."""

    wins: int = 0
    draws: int = 0
    losses: int = 0

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        return (self.wins + 0.5 * self.draws) / self.games if self.games else float("nan")

    def text(self) -> str:
        return f"{self.wins}/{self.draws}/{self.losses}"


def record(games: list[tuple[str, str, float]], player: str, opponent: str) -> Record:
    """``player``'s record against ``opponent`` in ``games`` (as :func:`results` gives them)."""
    tally = Record()
    for black, white, score in games:
        if {black, white} == {player, opponent}:
            mine = score if black == player else 1.0 - score
            if mine == 1.0:
                tally.wins += 1
            elif mine == 0.0:
                tally.losses += 1
            else:
                tally.draws += 1
    return tally


def head_to_head(store: ArenaStore, kind: GameKind, player: str, opponent: str) -> tuple[int, int, int]:
    """(wins, draws, losses) of ``player`` against ``opponent`` (labels) in games of ``kind``."""
    tally = record(results(store.games(kind.rule, kind.size, kind.n_in_row)), player, opponent)
    return tally.wins, tally.draws, tally.losses


def resolve_anchor(store: ArenaStore, kind: GameKind, anchor: str | None = None) -> str:
    """The player to hold fixed in ``kind``'s ratings: ``anchor`` if given (it must have played), else the default.

    When the default reference (the pattern bot) has no game of this kind, as
    after a first game against a network on a new board, the most-played
    program anchors the table instead (ties by name); a person never does.
    """
    games = store.games(kind.rule, kind.size, kind.n_in_row)
    if not games:
        raise ArenaError(f"no {kind.rule} {kind.size}x{kind.size} games in {store.path}")
    counts: dict[str, int] = {}
    for g in games:
        for player in (g.black, g.white):
            counts[player] = counts.get(player, 0) + 1
    played = sorted(counts)
    if anchor is not None:
        if anchor not in counts:
            raise ArenaError(f"the anchor {anchor!r} has no {kind.rule} {kind.size}x{kind.size} games; "
                             f"choose --anchor among: {', '.join(played)}")
        return anchor
    if DEFAULT_ANCHOR in counts:
        return DEFAULT_ANCHOR
    programs = [p for p in played if not p.startswith("human:")] or played
    return min(programs, key=lambda p: (-counts[p], p))


def rate(store: ArenaStore, kind: GameKind, anchor: str | None = None, anchor_elo: float = DEFAULT_ANCHOR_ELO,
         save: bool = True) -> list[Rating]:
    """Fit Elo over every game of ``kind`` (anchor: see :func:`resolve_anchor`).

    The fit is kept in the ratings table when ``save``, unless the store is
    open read-only (a database this user may not write is still rated).
    """
    anchor = resolve_anchor(store, kind, anchor)
    games = store.games(kind.rule, kind.size, kind.n_in_row)
    ratings = fit_ratings(results(games), anchor, anchor_elo)
    if save and not store.read_only:
        store.save_ratings(kind.rule, kind.size, kind.n_in_row, anchor, anchor_elo, ratings)
    return ratings


def plot_elo(store: ArenaStore, ratings: list[Rating], kind: GameKind, out: str | Path, run: str | None = None,
             anchor: str | None = None) -> Path:
    """Elo of each run's checkpoints against their training step (95% intervals), references as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_label = {r.player: r for r in ratings}
    players = [p for p in store.players() if p.label in by_label]
    runs: dict[str, list] = {}
    for p in players:
        if p.kind == "az" and p.step is not None and p.run is not None and (run is None or p.run == run):
            runs.setdefault(p.run, []).append(p)
    if run is not None and run not in runs:
        known = sorted({p.run for p in players if p.run})
        raise ArenaError(f"no rated checkpoints of run {run!r}" + (f"; runs with ratings: {', '.join(known)}" if known else ""))
    figure, axes = plt.subplots(figsize=(9, 5.5))
    for name, members in sorted(runs.items()):
        # One search setting per line, so 'sims=160' and 'sims=800' curves are not mixed.
        for setting in sorted({label_setting(m.label) for m in members}):
            points = sorted((m.step, by_label[m.label]) for m in members if label_setting(m.label) == setting)
            steps = [s for s, _ in points]
            elo = [r.elo for _, r in points]
            errors = [[r.elo - r.low for _, r in points], [r.high - r.elo for _, r in points]]
            axes.errorbar(steps, elo, yerr=errors, marker="o", capsize=3, label=f"{name} @{setting}")
    plotted = {m.label for members in runs.values() for m in members}
    # References: fixed players (bots, engines, shipped checkpoints), not people or other runs' checkpoints.
    training = {p.label for p in players if p.kind == "human" or (p.kind == "az" and p.run is not None)}
    references = [r for r in ratings if r.player not in plotted and r.player not in training]
    for i, r in enumerate(sorted(references, key=lambda r: -r.elo)):
        style = "-" if r.player == anchor else "--"
        axes.axhline(r.elo, linestyle=style, color=f"C{(i + 3) % 10}", alpha=0.6, linewidth=1)
        axes.annotate(f"{r.player} {r.elo:.0f}", xy=(0, r.elo), xycoords=("axes fraction", "data"),
                      xytext=(4, 2), textcoords="offset points", fontsize=8, alpha=0.8)
    if not runs:
        axes.text(0.5, 0.5, "no rated checkpoints from training runs yet", ha="center", transform=axes.transAxes)
    axes.set_xlabel("training step")
    axes.set_ylabel(f"Elo ({anchor} = {DEFAULT_ANCHOR_ELO:.0f}; bars: 95% interval)" if anchor == DEFAULT_ANCHOR
                    else f"Elo (anchor {anchor})")
    axes.set_title(f"Elo against training step, {kind.rule} {kind.size}x{kind.size}")
    axes.grid(alpha=0.3)
    if runs:
        axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp.png")
    figure.savefig(temporary, dpi=110)
    plt.close(figure)
    temporary.replace(out)
    return out


def _pgn_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def export_pgn(store: ArenaStore, out, kind: GameKind | None = None) -> int:
    """Write every game (of ``kind``, or all) as PGN that BayesElo and Ordo read; returns the count.

    PGN's "White" is the player who moves first, so it is Gomoku's *black*
    (BayesElo's white advantage then measures the first-move advantage).
    The moves go into a comment, which rating tools skip.
    """
    games = store.games(*(kind.rule, kind.size, kind.n_in_row) if kind else (None, None, None))
    lines = []
    for g in games:
        date = time.strftime("%Y.%m.%d", time.gmtime(g.played_at))
        tags = [("Event", f"azero arena, {g.rule} {g.size}x{g.size}"), ("Site", "azero"), ("Date", date),
                ("Round", str(g.id)), ("White", g.black), ("Black", g.white), ("Result", PGN_RESULT[g.result]),
                ("Variant", f"gomoku-{g.rule}-{g.size}x{g.size}-{g.n_in_row}"), ("Opening", g.opening),
                ("Termination", g.reason)]
        lines.extend(f'[{name} "{_pgn_text(value)}"]' for name, value in tags)
        lines.append("")
        lines.append(f"{{first player black; moves: {g.moves}}} {PGN_RESULT[g.result]}")
        lines.append("")
    text = "\n".join(lines)
    if out == "-":
        import sys

        sys.stdout.write(text)
    else:
        from games.atomic import atomic_write_text

        atomic_write_text(Path(out), text)
    return len(games)
