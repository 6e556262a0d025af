"""The Elo of the window's strength levels, read from the shipped arena database.

``checkpoints/arena.sqlite`` holds the games behind ``checkpoints/RATINGS.md``.
A level is a network at some simulations (or seconds) a move; its Elo is that
player's rating over all the database's games of its rule and size, with the
pattern bot (``heuristic``) at 0, so a person can read "medium: Elo +615" as
"beats the pattern bot about 97 games in 100".  The database is opened
read-only and never changed (it is a committed file).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from azero.arena.ratings import DEFAULT_ANCHOR
from azero.arena.store import ArenaError, ArenaStore, player_facts
from azero.model.shipped import SHIPPED_DB


def level_elos(base: str, levels: dict[str, tuple[int, float | None]],
               db: str | Path = SHIPPED_DB) -> dict[str, tuple[float, float]]:
    """{level: (Elo, half the 95% interval)} for the network ``base`` ('az:FILE'); unrated levels are left out.

    The interval matters: against the pattern bot every level wins nearly
    every game, so neighbouring levels' Elo can come out in either order.

    A player is found by its arena key (the file's hash and the search), so
    a renamed copy of a shipped net finds its ratings and another net with
    the same name does not.  Games played with the search before VCT
    (``:vct=0``) stand in where the play search has none.
    """
    from azero.arena.report import rate
    from azero.arena.tournament import GameKind
    from azero.players.spec import parse_spec

    try:
        facts = player_facts(base)
        with ArenaStore(db, read_only=True) as store:
            kind = GameKind(facts["rule"], facts["size"], facts["n_in_row"])
            games = store.games(kind.rule, kind.size, kind.n_in_row)
            if not any(DEFAULT_ANCHOR in (g.black, g.white) for g in games):
                return {}
            ratings = {r.player: (float(r.elo), float(r.high - r.low) / 2)
                       for r in rate(store, kind, DEFAULT_ANCHOR, save=False)}
            labels = {p.key: p.label for p in store.players()}
    except ArenaError:
        return {}  # no shipped database, or not one this azero reads: the levels show no Elo
    elos = {}
    network = parse_spec(base)
    for name, (simulations, seconds) in levels.items():
        for vct in (network.vct, 0):
            level = dataclasses.replace(network, simulations=simulations, seconds=seconds, vct=vct)
            label = labels.get(player_facts(level)["key"])
            if label in ratings:
                elos[name] = ratings[label]
                break
    return elos
