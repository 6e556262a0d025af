"""Self-play on a Ray cluster: ``azero train --backend ray`` (needs ``pip install -e '.[ray]'``).

The learner runs in the driver, the process that ran ``azero train``, on
that machine's best device, and keeps the run folder exactly as the local
backend does; start the command on the node with the best GPU.  Self-play
runs in Ray actors spread over the cluster, one per CPU (as the local
backend starts one worker per core, the learner shares); on a node with GPUs each actor there takes a share of them
and runs its network batches on a GPU, elsewhere on its CPU.  So nodes
need no shared file system:

- weights go out through the object store: each new checkpoint is put
  there once, and an actor fetches it when its step differs from the one it
  plays (checkpoints are cached on each node under their SHA-256);
- games come back through it: an actor's call returns its finished games as
  encoded shards, which the driver writes into the run folder atomically.

An actor that dies (its process killed, its node lost) is replaced; the
games it had in flight are lost and nothing of them is written.  The
learner checkpoints as it does locally, so a killed driver resumes with
the same command (its actors die with it).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from azero.arena.ray_backend import checkpoint_on_this_node, connect, put_checkpoint
from azero.model.checkpoint import read_latest
from azero.train.compute import describe_hardware
from selfplay.shards import encode_shard, write_shard_bytes
from selfplay.worker import WEIGHTS_POLL_SECONDS

STOP_WAIT_SECONDS = 30  # how long stopping waits for the actors' last finished games


class SelfPlayActor:
    """One self-play worker on a Ray node (wrapped with ``ray.remote`` when used)."""

    def __init__(self, worker_id: int, config_data: dict, seed: int):
        from azero.model.network import pick_device
        from azero.train.config import from_mapping

        torch.set_num_threads(1)
        self.worker_id, self.seed = worker_id, seed
        self.config = from_mapping(config_data)
        self.device = pick_device("auto")  # Ray shows an actor only the GPUs it was given
        self.session = None

    def pid(self) -> int:
        return os.getpid()

    def play(self, weights: list, seconds: float = WEIGHTS_POLL_SECONDS) -> list[bytes]:
        """Play about ``seconds`` with checkpoint ``weights[0] = (step, sha, ref)``; return the shards that are due.

        Calls as short as the local workers' weight polls keep the weights
        as fresh; a shard goes back when it is due (SHARD_SECONDS or a
        shard's worth of positions), or when the weights change.  The
        reference comes inside a list so that Ray does not fetch the bytes
        on every call, only when the step changes.
        """
        import ray

        from azero.model.checkpoint import load_checkpoint
        from selfplay.worker import SelfPlaySession

        step, sha, ref = weights[0]
        shards = []
        if self.session is None or self.session.step != step:
            g = self.config.game
            net, _ = load_checkpoint(checkpoint_on_this_node(sha, ray.get(ref)), g.rule, g.size, g.n_in_row,
                                     device=self.device)
            if self.session is None:
                self.session = SelfPlaySession(self.worker_id, self.config, self.seed, self.device, step, net)
            else:
                shards.append(self.session.switch_weights(step, net))
        self.session.play(seconds)
        if self.session.due():
            shards.append(self.session.take_shard())
        return [encode_shard(shard) for shard in shards if shard is not None]

    def counters(self) -> dict:
        """What this actor has played so far (for ``azero bench --backend ray``)."""
        e = self.session.engine
        return {"moves": e.moves_played, "full_moves": e.full_moves, "evaluations": e.searcher.evaluations}

    def flush(self) -> list[bytes]:
        """The finished games not sent yet (when training stops)."""
        shard = self.session.take_shard() if self.session is not None else None
        return [] if shard is None else [encode_shard(shard)]


@dataclass
class Slot:
    """Where one actor runs: a node (None = anywhere) and its share of that node's GPUs."""

    node: str | None
    gpus: float


def plan_slots(nodes: list[dict], wanted: int = 0) -> list[Slot]:
    """One actor per CPU of each living node (the learner shares its node's, as with local workers).

    An actor on a node with GPUs gets an equal share of them (a GPU
    inference actor); ``wanted`` > 0 overrides the count, taking nodes in
    turn (more than the cluster's CPUs: the extra ones go anywhere).
    """
    per_node = []
    for node in nodes:
        if not node.get("Alive", True):
            continue
        resources = node.get("Resources", {})
        cpus = int(resources.get("CPU", 0))
        if cpus < 1:
            continue
        gpus = float(resources.get("GPU", 0))
        per_node.append([Slot(node["NodeID"], gpus / cpus) for _ in range(cpus)])
    slots = []
    while any(per_node):  # round robin, so a capped count spreads over the nodes
        for queue in per_node:
            if queue:
                slots.append(queue.pop(0))
    if not slots:
        slots = [Slot(None, 0.0)]
    if wanted:
        slots = slots[:wanted] + [Slot(None, 0.0)] * max(0, wanted - len(slots))
    return slots


def start_actors(ray, slots: list[Slot], config, seed: int, first: int = 0) -> list:
    """One SelfPlayActor per slot (worker ids from ``first``): one CPU, its share of GPUs, on its node if it is still there."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    actor_class = ray.remote(SelfPlayActor)

    def one(index: int, slot: Slot):
        options = {"num_cpus": 1, "num_gpus": slot.gpus, "max_restarts": 0, "max_task_retries": 0}
        if slot.node is not None:  # soft: if the node is gone, anywhere else
            options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(slot.node, soft=True)
        return actor_class.options(**options).remote(index, config.to_dict(), seed + index)

    return [one(first + i, slot) for i, slot in enumerate(slots)]


def measure_selfplay(config, seconds: float, warmup: float, address: str | None = None) -> dict:
    """Self-play throughput of the training actors on the cluster, the way ``azero train --backend ray`` plays.

    Randomly initialised weights (their cost does not depend on them) go
    out through the object store; each actor plays call after call, as in
    training, and the moves searched in full (the training positions) are
    counted from the actors' own counters between the warm-up and the end.
    """
    import tempfile

    from azero.model.checkpoint import CheckpointInfo, save_checkpoint
    from azero.model.network import PolicyValueNet

    ray = connect(address)
    try:
        g = config.game
        torch.manual_seed(0)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "random.safetensors"
            save_checkpoint(path, PolicyValueNet(config.net),
                            CheckpointInfo(rule=g.rule, size=g.size, n_in_row=g.n_in_row, net=config.net.to_dict()))
            weights = [(0, *put_checkpoint(ray, path))]
        slots = plan_slots(ray.nodes(), config.selfplay.workers)
        actors = start_actors(ray, slots, config, seed=0)
        ray.get([actor.play.remote(weights, warmup) for actor in actors])
        before = ray.get([actor.counters.remote() for actor in actors])
        t0 = time.perf_counter()
        running = {actor.play.remote(weights): actor for actor in actors}
        while running:
            done, _ = ray.wait(list(running), num_returns=1)
            actor = running.pop(done[0])
            ray.get(done[0])
            if time.perf_counter() - t0 < seconds:
                running[actor.play.remote(weights)] = actor
        elapsed = time.perf_counter() - t0
        after = ray.get([actor.counters.remote() for actor in actors])
        for actor in actors:
            ray.kill(actor, no_restart=True)
    finally:
        ray.shutdown()
    delta = {key: sum(a[key] - b[key] for a, b in zip(after, before)) for key in before[0]}
    return {"workers": len(slots), "seconds": elapsed, **{f"{key}_per_s": v / elapsed for key, v in delta.items()}}


class RayWorkers:
    """The learner's self-play as Ray actors (same interface as ``azero.train.learner.LocalWorkers``)."""

    def __init__(self, config, folder, log, address: str | None = None):
        self.ray = ray = connect(address)
        self.config, self.folder, self.log = config, folder, log
        nodes = ray.nodes()
        self.slots = plan_slots(nodes, config.selfplay.workers)
        self.count = len(self.slots)
        resources = ray.cluster_resources()
        self.cluster = (sum(1 for n in nodes if n.get("Alive", True)), int(resources.get("CPU", 0)),
                        int(resources.get("GPU", 0)))
        self.actors: list = []
        self.running: dict = {}  # object ref of a play call -> actor index
        self.weights = None  # (step, sha, object ref of the checkpoint's bytes)
        self.stopping = False

    def describe(self, device: torch.device) -> str:
        nodes, cpus, gpus = self.cluster
        gpu_actors = sum(1 for s in self.slots if s.gpus > 0)
        on_gpus = f", {gpu_actors} of them on GPUs" if gpu_actors else ""
        actors = "a Ray actor" if self.count == 1 else "Ray actors"
        return (f"{describe_hardware(device, self.count)} ({actors}{on_gpus}) on a Ray cluster of "
                f"{nodes} node{'s' if nodes != 1 else ''} ({cpus} CPUs, {gpus} GPUs)")

    def start(self, seed: int) -> None:
        self.actors = start_actors(self.ray, self.slots, self.config, seed)
        for i in range(self.count):
            self._submit(i)

    def _refresh_weights(self) -> None:
        latest = read_latest(self.folder.root)
        if latest is not None and (self.weights is None or self.weights[0] != latest[0]):
            self.weights = (latest[0], *put_checkpoint(self.ray, Path(latest[1])))

    def _submit(self, index: int) -> None:
        self._refresh_weights()
        ref = self.actors[index].play.remote([self.weights])
        self.running[ref] = index

    def tend(self) -> None:
        """Write the shards that came back, replace actors that died, send the newest weights with each call."""
        done, _ = self.ray.wait(list(self.running), num_returns=len(self.running), timeout=0)
        for ref in done:
            index = self.running.pop(ref)
            if self._collect(ref, index) and not self.stopping:
                self._submit(index)

    def _collect(self, ref, index: int) -> bool:
        """Write one call's shards; False (and a replacement started) when its actor died."""
        ray = self.ray
        try:
            shards = ray.get(ref)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as error:
            if self.stopping:
                return False
            self.log(f"self-play worker {index} stopped (its Ray actor died: {type(error).__name__}); starting a new one")
            ray.kill(self.actors[index], no_restart=True)
            self.actors[index] = start_actors(ray, [self.slots[index]], self.config, int(time.time()), first=index)[0]
            self._submit(index)
            return False
        except ray.exceptions.RayTaskError as error:
            raise error.as_instanceof_cause() from None
        for data in shards:
            write_shard_bytes(self.folder.shards, data, index)
        return True

    def request_stop(self) -> None:
        self.stopping = True

    def join(self) -> None:
        """Wait a little for the calls in flight (their finished games are written), then end the actors."""
        ray = self.ray
        self.stopping = True
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while self.running and time.monotonic() < deadline:
            done, _ = ray.wait(list(self.running), num_returns=1, timeout=max(0.0, deadline - time.monotonic()))
            for ref in done:
                self._collect(ref, self.running.pop(ref))
        flushes = {actor.flush.remote(): i for i, actor in enumerate(self.actors)}
        done, _ = ray.wait(list(flushes), num_returns=len(flushes), timeout=max(1.0, deadline - time.monotonic()))
        for ref in done:
            self._collect(ref, flushes[ref])
        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        self.running.clear()
        ray.shutdown()
