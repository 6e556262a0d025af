"""The training loop: a learner process plus self-play worker processes, all resumable.

The run folder holds everything (see :class:`RunFolder`).  The learner
reads new shards into a sliding window, trains on random symmetric samples
at a fixed ratio of samples per new position, and publishes a checkpoint
every few hundred steps or minutes; the workers pick it up.  Killing the
learner at any moment loses only the games in flight and the steps since
its last checkpoint; the same command resumes from the last checkpoint and
the shards on disk.

Where each part lives:

- this file: :class:`Learner` (its state on disk, the replay window's
  data, one step's bookkeeping, metrics) and :func:`train`, the loop that
  runs the learner and the workers;
- ``step.py``: the algorithm itself, to read top to bottom: the optimizer,
  the learning-rate warm-up, the losses and :func:`training_step`;
- ``gauntlet.py``: the arena games played after some checkpoints (the
  run's Elo curve);
- ``config.py``: every hyper-parameter, with what it does where it is
  declared (``azero train --help-settings`` prints them);
- ``pool.py`` and ``ray_selfplay.py``: the self-play workers, local or on
  Ray; ``run_folder.py``: the run's files; ``metrics.py``: its tables and
  plots; ``compute.py``: the hardware it ran on.
"""

from __future__ import annotations

import math
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from azero.model.checkpoint import CheckpointError, CheckpointInfo, load_checkpoint, load_tensors, read_latest, remove_unfinished_checkpoints, save_checkpoint, save_tensors
from azero.model.network import HEAD_OPTIONS, PolicyValueNet, copy_weights_across_heads, pick_device, same_trunk
from azero.train.compute import describe_hardware, seconds_in_metrics
from azero.train.config import ConfigError, TrainConfig
from azero.train.gauntlet import gauntlet_due, gauntlet_line, play_gauntlet
from azero.train.metrics import MetricsLog, plot_run
from azero.train.pool import make_workers
from azero.train.run_folder import RunFolder, check_resumable
from azero.train.step import learning_rate, make_optimizer, training_step
from games.atomic import atomic_write_text
from games.constants import rule_code
from selfplay.replay import ReplayWindow
from selfplay.shards import ShardError, list_shards, read_shard, remove_unfinished_shards

STATUS_SECONDS = 1.0


@dataclass
class Counters:
    step: int = 0
    games: int = 0
    positions: int = 0  # training positions ingested
    samples: int = 0  # positions sampled for training steps
    last_shard: str = ""  # name of the newest shard ingested (shards sort by write time)
    parent: str | None = None
    seconds_before: float = 0.0  # training time of the earlier sessions of this run
    hardware: tuple[str, ...] = ()  # every machine the run has trained on, in order
    started_from: str = ""  # the checkpoint whose weights the run began with (train.init_from), if any


class NonFiniteWeights(ValueError):
    """The network's weights are NaN or infinite: training stops before it publishes them."""


class Learner:
    def __init__(self, config: TrainConfig, folder: RunFolder, log=print, command: str = "", machine: str | None = None):
        self.config = config
        self.command = command  # the command line that runs (and so reproduces) this training
        self.folder = folder
        self.log = log
        self.device = pick_device(config.train.device)
        # This session's hardware, for the checkpoints (train() passes its worker pool's description).
        self.machine = machine or describe_hardware(self.device, 1)
        if self.device.type == "cpu":
            torch.set_num_threads(1)  # the cores belong to the self-play workers
        torch.manual_seed(config.train.seed)
        self.rng = np.random.default_rng(config.train.seed + int(time.time()))
        game = config.game
        self.net = PolicyValueNet(config.net).to(self.device)
        self.optimizer = make_optimizer(self.net, config.train)
        self.counters = Counters()
        self.window = ReplayWindow(config.train.window, game.size, rule_code(game.rule))
        self.metrics = MetricsLog(folder.root)
        self.ingested: set[str] = set()
        self.selfplay_since: list = []  # shards read since the last self-play metrics row
        self.recent_losses: list[tuple[float, float, float]] = []
        self.checkpoints_written = 0
        self.skipped_steps = 0  # steps refused for a non-finite loss or gradient
        self.started = time.monotonic()
        self.positions_at_start = 0  # set once resumed: the rate counts this session's positions only

    # -- state on disk --------------------------------------------------------
    def resume_or_start(self) -> None:
        latest = read_latest(self.folder.root)
        if latest is None:
            if self.config.train.init_from:
                self.start_from(self.config.train.init_from)
            self.save_checkpoint()
            return
        step, path = latest
        game = self.config.game
        net, info = load_checkpoint(path, game.rule, game.size, game.n_in_row, device=self.device)
        self.net.load_state_dict(net.state_dict())
        self.counters = Counters(step=info.step, games=info.games, positions=info.positions,
                                 samples=int(info.extra.get("samples", 0)), last_shard=str(info.extra.get("last_shard", "")),
                                 parent=path.name, hardware=tuple(info.extra.get("hardware", ())),
                                 started_from=str(info.extra.get("started_from", "")))
        seconds = info.extra.get("train_seconds")
        self.counters.seconds_before = float(seconds) if isinstance(seconds, (int, float)) else seconds_in_metrics(self.folder.root)
        if self.folder.trainer_state.exists():
            try:
                tensors, meta = load_tensors(self.folder.trainer_state)
                if isinstance(meta, dict) and meta.get("step") == step:
                    self._load_optimizer(tensors, meta)
            except (CheckpointError, KeyError, ValueError, RuntimeError) as error:
                self.log(f"optimizer state not restored ({error}); starting it afresh")
        self.log(f"resuming {self.folder.root} at step {step} ({info.games} games, {info.positions} positions)")

    def start_from(self, path: str) -> None:
        """Begin a new run with another checkpoint's weights (same trunk; heads, rules and board may differ).

        Transfer learning: a renju net starts from a freestyle one of the same
        board, which already knows how to make and stop fives.
        """
        net, info = load_start(path, self.config, self.device)
        for change in copy_weights_across_heads(self.net, net):
            self.log(f"train.init_from: {change}")
        self.counters.started_from = f"{Path(path).name} ({info.rule} {info.size}x{info.size}, step {info.step}, " \
                                     f"{info.games} games)"
        self.log(f"starting from the weights of {path} ({info.rule}, step {info.step})")

    def _optimizer_tensors(self) -> tuple[dict, dict]:
        tensors, meta = {}, {"step": self.counters.step, "params": {}}
        for i, param in enumerate(self.net.parameters()):
            state = self.optimizer.state.get(param)
            if state:
                tensors[f"{i}.exp_avg"] = state["exp_avg"]
                tensors[f"{i}.exp_avg_sq"] = state["exp_avg_sq"]
                meta["params"][str(i)] = float(state["step"])
        return tensors, meta

    def _load_optimizer(self, tensors: dict, meta: dict) -> None:
        for i, param in enumerate(self.net.parameters()):
            if str(i) in meta["params"]:
                self.optimizer.state[param] = {
                    "step": torch.tensor(meta["params"][str(i)]),
                    "exp_avg": tensors[f"{i}.exp_avg"].to(self.device),
                    "exp_avg_sq": tensors[f"{i}.exp_avg_sq"].to(self.device),
                }

    def save_checkpoint(self) -> Path:
        self.check_weights_finite()
        c = self.counters
        game = self.config.game
        path = self.folder.checkpoint(c.step)
        info = CheckpointInfo(
            rule=game.rule, size=game.size, n_in_row=game.n_in_row, net=self.config.net.to_dict(), step=c.step,
            games=c.games, positions=c.positions, parent=c.parent, preset=self.config.preset,
            search=asdict(self.config.search),  # a net plays with the search it was trained with (players.network)
            extra={"samples": c.samples, "last_shard": c.last_shard, "train_seconds": c.seconds_before + self.elapsed(),
                   "hardware": list(self.hardware_so_far()), "command": self.command, "started_from": c.started_from},
        )
        save_checkpoint(path, self.net, info)
        tensors, meta = self._optimizer_tensors()
        save_tensors(self.folder.trainer_state, tensors, meta)
        self.folder.publish(c.step)  # only now may workers (and a resume) use it
        c.parent = path.name
        self.checkpoints_written += 1
        return path

    # -- data -----------------------------------------------------------------
    def fill_window_from_disk(self) -> None:
        """On resume: the newest shards up to the window size, oldest first; later ones count as new."""
        shards = list_shards(self.folder.shards)
        old = [p for p in shards if p.name <= self.counters.last_shard]
        chosen, held = [], 0
        for path in reversed(old):
            if held >= self.config.train.window:
                break
            try:
                shard = read_shard(path, self.config.game.size)
            except ShardError as error:
                self.log(f"skipping {error}")
                continue
            chosen.append(shard)
            held += shard.positions
        for shard in reversed(chosen):
            self.window.add(shard)
        self.ingested.update(p.name for p in old)

    def ingest_new_shards(self) -> int:
        added = 0
        for path in list_shards(self.folder.shards):
            if path.name in self.ingested:
                continue
            self.ingested.add(path.name)
            try:
                shard = read_shard(path, self.config.game.size)
            except ShardError as error:
                self.log(f"skipping {error}")
                continue
            self.window.add(shard)
            self.counters.games += shard.games
            self.counters.positions += shard.positions
            self.counters.last_shard = max(self.counters.last_shard, path.name)
            self.selfplay_since.append(shard)
            added += shard.positions
        return added

    # -- learning -------------------------------------------------------------
    def lr_now(self) -> float:
        return learning_rate(self.config.train, self.counters.step)

    def wants_step(self) -> bool:
        t = self.config.train
        return len(self.window) >= t.min_positions and self.counters.samples < t.train_ratio * self.counters.positions

    def train_step(self) -> tuple[float, float, float]:
        """One optimizer step on a fresh batch (azero.train.step.training_step); returns (policy, value,
        opponent-policy) losses, the last NaN without that head, all three NaN for a refused step."""
        t = self.config.train
        batch = self.window.sample(t.batch_size, self.rng)
        losses = training_step(self.net, self.optimizer, batch, t, self.lr_now())
        if losses is None:  # a non-finite loss or gradient: the weights are unchanged
            self.skipped_steps += 1
            self.log(f"refused a training step: its loss or gradient is not finite ({self.skipped_steps} so far)")
            return math.nan, math.nan, math.nan
        self.counters.step += 1
        self.counters.samples += t.batch_size
        return losses.as_tuple()

    def check_weights_finite(self) -> None:
        """Refuse to publish a network with a NaN or infinite weight (NonFiniteWeights says which tensors)."""
        bad = [name for name, tensor in self.net.state_dict().items()
               if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]
        if bad:
            raise NonFiniteWeights(f"the network's weights became non-finite at step {self.counters.step} "
                                   f"({len(bad)} tensors, first {bad[0]}); nothing was published. Lower "
                                   "train.lr and resume from the last checkpoint")

    # -- reporting ------------------------------------------------------------
    def elapsed(self) -> float:
        """Seconds of this session (since the workers started)."""
        return time.monotonic() - self.started

    def hardware_so_far(self) -> tuple[str, ...]:
        known = self.counters.hardware
        return known if self.machine in known else known + (self.machine,)

    def positions_per_s(self) -> float:
        return (self.counters.positions - self.positions_at_start) / max(self.elapsed(), 1e-9)

    def log_checkpoint_metrics(self) -> None:
        c = self.counters
        if self.recent_losses:
            losses = np.array(self.recent_losses)
            pol, val = (float(x) for x in losses[:, :2].mean(axis=0))
            row = {"step": c.step, "time": time.time(), "loss": pol + val, "policy_loss": pol,
                   "value_loss": val, "lr": self.lr_now(), "games": c.games,
                   "positions": c.positions, "samples": c.samples, "window": len(self.window)}
            opponent = losses[:, 2][~np.isnan(losses[:, 2])]  # NaN without the head (or a batch with no reply)
            if opponent.size:
                row["opponent_policy_loss"] = float(opponent.mean())
            self.metrics.log("train", row)
            self.recent_losses = []
        shards = self.selfplay_since
        if shards:
            lengths = np.concatenate([s.game_length for s in shards]).astype(float)
            winners = np.concatenate([s.game_winner for s in shards])
            resigned = np.concatenate([s.game_resigned for s in shards])
            checked = np.concatenate([s.game_resign_checked for s in shards])
            wrong = np.concatenate([s.game_resign_wrong for s in shards])
            games = len(lengths)
            self.metrics.log("selfplay", {
                "step": c.step, "time": time.time(), "games": c.games, "new_games": games,
                "mean_length": float(lengths.mean()), "black_win_rate": float(np.mean(winners == 1)),
                "white_win_rate": float(np.mean(winners == 2)), "draw_rate": float(np.mean(winners == 3)),
                "resign_rate": float(resigned.mean()),
                "resign_false_positive_rate": float(wrong.sum() / checked.sum()) if checked.sum() else float("nan"),
                "positions_per_s": self.positions_per_s(), "elapsed_s": self.elapsed(),
            })
            self.selfplay_since = []

    def plot(self) -> None:
        try:
            plot_run(self.folder.root)
        except Exception as error:  # a plot must never stop training
            self.log(f"plot not written: {error}")

    def evaluate(self, stop=None) -> dict:
        """The arena gauntlet of the newest checkpoint (azero.train.gauntlet); returns its eval row."""
        return play_gauntlet(self.config, self.folder, self.counters.step, self.device, self.metrics,
                             log=self.log, stop=stop)


def load_start(path: str, config: TrainConfig, device=None):
    """The net and info of ``train.init_from``, refused in one line unless it has this run's board and trunk."""
    net, info = load_checkpoint(path, size=config.game.size, device=device or torch.device("cpu"))
    # The loaded config, so a checkpoint from before a net option has that option's default.
    if not same_trunk(net.config, config.net):
        theirs, ours = net.config.to_dict(), config.net.to_dict()
        differ = ", ".join(f"{key} {theirs[key]} there, {ours[key]} here" for key in ours
                           if key not in HEAD_OPTIONS and theirs.get(key) != ours[key])
        raise ConfigError(f"train.init_from: {path} holds a {info.net['blocks']}x{info.net['channels']} net "
                          f"({differ}): set net.* to match it (only net.value_head and net.opponent_policy may "
                          "differ)")
    return net, info


def check_start(config: TrainConfig, folder: RunFolder) -> None:
    """Before anything is created: a new run's ``train.init_from`` must load and fit (a failure leaves no folder)."""
    if config.train.init_from and read_latest(folder.root) is None:
        load_start(config.train.init_from, config)


def train(config: TrainConfig, run_dir: Path, progress: bool = True, log=None, command: str = "",
          backend: str = "local", address: str | None = None) -> Counters:
    """Run (or resume) training in ``run_dir`` until a limit or Ctrl-C; returns the final counters.

    ``command`` is the command line that runs it; checkpoints record it so a
    shipped one says how to reproduce its run.  ``backend`` says where
    self-play runs: ``local`` worker processes, or ``ray`` actors on the Ray
    cluster at ``address``; the learner and the run folder are the same.
    """
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    folder = RunFolder(run_dir)
    check_resumable(folder, config)
    check_start(config, folder)
    device = pick_device(config.train.device)
    workers = make_workers(backend, config, folder, log, address)
    folder.create()
    # Temporary files of checkpoint writes a kill interrupted (step checkpoints, latest.json, trainer state):
    # no writer is alive now, so they can only be debris.
    remove_unfinished_checkpoints(folder.checkpoints)
    remove_unfinished_checkpoints(folder.root)
    learner = Learner(config, folder, log=log, command=command, machine=workers.describe(device))
    learner.resume_or_start()  # refuses a folder whose checkpoints are for another game or net
    atomic_write_text(folder.config, config.to_toml())
    learner.fill_window_from_disk()
    log(f"run folder {run_dir} | learner on {device} | {learner.machine} | Ctrl-C stops (the same command resumes)")

    remove_unfinished_shards(folder.shards)  # left by a crashed earlier session (its workers, or a Ray driver)
    workers.start(seed=config.train.seed * 1000 + learner.counters.step)
    interrupted = []

    def on_signal(signum, _frame):
        interrupted.append(signum)

    previous_handlers = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    t = config.train
    learner.started = started = time.monotonic()
    learner.positions_at_start = learner.counters.positions
    last_checkpoint_time = started
    last_checkpoint_step = learner.counters.step
    bar = _status_bar(progress, t.max_steps, learner.counters.step)
    last_status = 0.0
    try:
        while not interrupted:
            now = time.monotonic()
            if t.max_minutes and now - started >= t.max_minutes * 60:
                break
            if t.max_steps and learner.counters.step >= t.max_steps:
                break
            workers.tend()
            learner.ingest_new_shards()
            if learner.wants_step():
                losses = learner.train_step()
                if not math.isnan(losses[0]):  # a refused step has no losses to average
                    learner.recent_losses.append(losses)
            else:
                time.sleep(0.05)
            c = learner.counters
            if c.step > last_checkpoint_step and (
                c.step - last_checkpoint_step >= t.checkpoint_every_steps or now - last_checkpoint_time >= t.checkpoint_every_seconds
            ):
                learner.save_checkpoint()
                learner.log_checkpoint_metrics()
                last_checkpoint_step, last_checkpoint_time = c.step, time.monotonic()
                if gauntlet_due(config, learner.checkpoints_written):
                    try:
                        row = learner.evaluate(stop=lambda: bool(interrupted))
                    except Exception as error:  # like the plot: the arena must never stop training
                        log(f"arena gauntlet at step {c.step} failed: {error}")
                    else:
                        log(gauntlet_line(c.step, row))
                learner.plot()  # after the evaluation, so the plot shows it
            if now - last_status >= STATUS_SECONDS:
                last_status = now
                _update_status(bar, learner)
    finally:
        for s, handler in previous_handlers.items():
            signal.signal(s, handler)
        workers.request_stop()
        try:
            if learner.counters.step > last_checkpoint_step:
                learner.save_checkpoint()
                learner.log_checkpoint_metrics()
                learner.plot()
        finally:  # even when the last checkpoint is refused (non-finite weights), the workers are stopped
            workers.join()
            learner.ingest_new_shards()  # the workers' last finished games
            learner.metrics.close()
        if bar is not None:
            bar.close()
    log(f"stopped at step {learner.counters.step}: {learner.counters.games} games, "
        f"{learner.counters.positions} positions; latest checkpoint {learner.folder.checkpoint(read_latest(folder.root)[0])}")
    return learner.counters


def _status_bar(progress: bool, max_steps: int, initial: int):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=max_steps or None, initial=initial, unit="step", dynamic_ncols=True, file=sys.stderr)


def _update_status(bar, learner: Learner) -> None:
    if bar is None:
        return
    c = learner.counters
    bar.n = c.step
    loss = learner.recent_losses[-1] if learner.recent_losses else (math.nan, math.nan)
    rate = learner.positions_per_s()
    status = (f"games {c.games} | positions {c.positions} ({rate:.0f}/s) | window {len(learner.window)} | "
              f"loss p {loss[0]:.3f} v {loss[1]:.3f} | lr {learner.lr_now():.1e} | ckpt {c.parent}")
    if len(learner.window) < learner.config.train.min_positions:
        status = f"filling the window: {len(learner.window)}/{learner.config.train.min_positions} positions | " + status
    bar.set_postfix_str(status, refresh=False)
    bar.refresh()
