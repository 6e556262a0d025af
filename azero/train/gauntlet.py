"""The arena gauntlet a training run plays after some checkpoints: its Elo curve as it trains.

Every ``eval.every_checkpoints`` checkpoints, ``train()`` (azero.train.learner)
has the newest checkpoint play the references (the heuristic bot, pure-rollout
MCTS) and the run's latest earlier evaluated checkpoints.  The games go into
``RUN/arena.sqlite``, so the run's Elo curve (``plots/elo.png``) is refitted
over every gauntlet so far, and ``azero arena ratings --db RUN/arena.sqlite``
reads the same games.
"""

from __future__ import annotations

import time

import torch

from azero.arena.report import head_to_head, plot_elo, rate
from azero.arena.store import ArenaStore
from azero.arena.tournament import GameKind, run_tournament
from azero.train.config import TrainConfig
from azero.train.metrics import MetricsLog
from azero.train.run_folder import RunFolder


def play_gauntlet(config: TrainConfig, folder: RunFolder, step: int, device: torch.device, metrics: MetricsLog,
                  log=print, stop=None) -> dict:
    """Play the checkpoint of ``step`` against the references and earlier evaluated checkpoints; returns the eval row.

    The row (``step``, ``time``, ``vs_NAME_score`` for each opponent and the
    checkpoint's ``elo`` with its interval) is also logged to ``metrics``'s
    eval table.  ``stop()`` true ends the games early: the row then has
    no scores (the games played so far are stored, the next gauntlet rates
    them) and is not logged.
    """
    e, game = config.eval, config.game
    kind = GameKind(game.rule, game.size, game.n_in_row)
    db = folder.root / "arena.sqlite"
    setting = f":sims={e.simulations}"
    candidate = f"az:{folder.checkpoint(step)}{setting}"
    references = (["heuristic"] if e.heuristic else []) + ([f"pure:{e.pure_playouts}"] if e.pure_playouts else [])
    with ArenaStore(db) as store:
        earlier = sorted(p.step for p in store.players()
                         if p.kind == "az" and p.run == folder.root.name and p.step is not None and p.step < step)
    previous = [f"az:{folder.checkpoint(s)}{setting}" for s in earlier if folder.checkpoint(s).is_file()]
    previous = previous[len(previous) - e.previous:] if e.previous else []
    opponents = references + previous
    row = {"step": step, "time": time.time()}
    if not opponents:
        return row
    summary = run_tournament(db, opponents, kind, e.games, candidate=candidate, workers=1,
                             device=str(device), progress=False, stop=stop)
    if summary.interrupted:
        return row  # stopping: the games played so far are stored, the next gauntlet rates them
    with ArenaStore(db) as store:
        me = store.register(candidate).label
        for spec in opponents:
            name = "previous" if spec.startswith("az:") else spec.replace(":", "")
            if spec.startswith("az:") and spec != previous[-1]:
                continue  # the table keeps one 'previous' column: the latest earlier checkpoint
            wins, draws, losses = head_to_head(store, kind, me, store.register(spec).label)
            row[f"vs_{name}_score"] = (wins + 0.5 * draws) / max(wins + draws + losses, 1)
        anchor = references[0] if references else store.register(previous[0]).label
        ratings = rate(store, kind, anchor)
        mine = next(r for r in ratings if r.player == me)
        row.update(elo=mine.elo, elo_low=mine.low, elo_high=mine.high)
        try:
            plot_elo(store, ratings, kind, folder.root / "plots" / "elo.png", run=folder.root.name, anchor=anchor)
        except Exception as error:  # a plot must never stop training
            log(f"Elo plot not written: {error}")
    metrics.log("eval", row)
    return row


def gauntlet_due(config: TrainConfig, checkpoints_written: int) -> bool:
    """Whether the checkpoint just written (the ``checkpoints_written``-th of this session) is one to evaluate."""
    e = config.eval
    return bool(e.every_checkpoints and e.games and checkpoints_written % e.every_checkpoints == 0)


def gauntlet_line(step: int, row: dict) -> str:
    """The log line of a gauntlet's row: its scores and Elo."""
    scores = ", ".join(f"{k} {v:.2f}" for k, v in row.items() if k.endswith("_score"))
    elo = f"; Elo {row['elo']:.0f} [{row['elo_low']:.0f}, {row['elo_high']:.0f}]" if "elo" in row else ""
    return f"arena at step {step}: {scores}{elo}"
