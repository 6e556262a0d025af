"""One self-play worker's session: play games with the weights it is given, hand back finished games as shards.

Games finished are taken as a shard every ``SHARD_SECONDS`` (or sooner when
many are waiting).  The processes and actors that run sessions are the
training pools' (azero.train.pool, azero.train.ray_selfplay).
"""

from __future__ import annotations

import time

SHARD_SECONDS = 20.0
SHARD_POSITIONS = 4096
WEIGHTS_POLL_SECONDS = 3.0


class SelfPlaySession:
    """One worker's self-play: the engine, the weights it plays with, and its finished games not yet sent.

    Shared by the local worker process (which writes shards to the run
    folder) and the Ray actor (which returns them to the driver).  A shard
    holds games of one checkpoint, so changing weights first takes the
    finished games as a shard of their own.
    """

    def __init__(self, worker_id: int, config, seed: int, device, step: int, net):
        from azero.model.evaluator import NetEvaluator
        from selfplay.engine import SelfPlayEngine

        game = config.game
        self.worker_id, self.step, self.device = worker_id, step, device
        self.evaluator = NetEvaluator(net, device)
        self.engine = SelfPlayEngine(game.size, game.rule, game.n_in_row, self.evaluator, config.search,
                                     config.selfplay, seed=seed)
        self.meta = {"size": game.size, "rule": game.rule, "n_in_row": game.n_in_row, "worker": worker_id}
        self.pending: list = []
        self.last_take = time.monotonic()

    def play(self, seconds: float = 0.0) -> None:
        """One search step of every game at once, then more until ``seconds`` have passed."""
        t0 = time.monotonic()
        self.pending.extend(self.engine.step())
        while time.monotonic() - t0 < seconds and not self.due():
            self.pending.extend(self.engine.step())

    def due(self) -> bool:
        """A shard's worth of positions is waiting, or SHARD_SECONDS have passed since the last shard."""
        return (time.monotonic() - self.last_take > SHARD_SECONDS
                or sum(len(g.outcome) for g in self.pending) >= SHARD_POSITIONS)

    def take_shard(self):
        """The finished games as one shard (None when there are none)."""
        from selfplay.shards import shard_from_games

        shard = shard_from_games(self.pending, {**self.meta, "step": self.step}) if self.pending else None
        self.pending = []
        self.last_take = time.monotonic()
        return shard

    def switch_weights(self, step: int, net):
        """Play on with ``net`` (checkpoint ``step``); returns the shard of the games of the old weights."""
        shard = self.take_shard()
        self.step = step
        self.evaluator.replace_net(net)
        return shard
