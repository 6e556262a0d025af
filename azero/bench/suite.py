"""``azero bench``: is self-play as fast as the network allows?

For one preset it measures, on this machine and device:

| key | what |
|---|---|
| engine_moves_per_s | random-playout moves per second, one core (the rules engine) |
| mcts_sims_per_s | search simulations per second with a free evaluator, one process (the tree's own cost) |
| mcts_sims_per_s_without_vct | the same with VCT and threat defence off (the search before them): their cost |
| net_evals_per_s | network evaluations per second at the self-play batch, all workers at once (the ceiling) |
| selfplay_evals_per_s | network evaluations per second while really playing, all workers at once |
| selfplay_to_net_ratio | the two above divided: 1.0 means search, engine and plumbing cost nothing |
| games_per_hour, positions_per_hour | self-play output (positions = moves searched in full, the training targets) |
| baseline_games_per_hour | one process, a Python object tree, one leaf per network call, same net, same evaluations per move |
| speedup_vs_baseline | games_per_hour / baseline_games_per_hour |

The network has random weights: its cost does not depend on them.  Games
per hour come from moves per hour divided by the mean game length of the
free-evaluator run, because few games finish inside a short measurement.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import time

import numpy as np

from azero.train.config import TrainConfig, from_mapping

WARMUP_SECONDS = 3.0



def time_evaluations(evaluator, planes, seconds: float, warmup: float = WARMUP_SECONDS) -> tuple[int, float]:
    """Positions ``evaluator`` evaluates in about ``seconds`` (after ``warmup`` seconds of warm-up), and the time taken."""
    deadline = time.perf_counter() + warmup
    while time.perf_counter() < deadline:
        evaluator(planes)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        evaluator(planes)
        count += planes.shape[0]
    return count, time.perf_counter() - start

def _make_net(config: TrainConfig, device: str):
    import torch

    from azero.model.evaluator import NetEvaluator
    from azero.model.network import PolicyValueNet, pick_device

    torch.manual_seed(0)
    dev = pick_device(device)
    return NetEvaluator(PolicyValueNet(config.net), dev)


def _engine(config: TrainConfig, evaluator, seed: int):
    from selfplay.engine import SelfPlayEngine

    g = config.game
    return SelfPlayEngine(g.size, g.rule, g.n_in_row, evaluator, config.search, config.selfplay, seed=seed)


def _measure_selfplay(engine, seconds: float) -> dict:
    deadline = time.perf_counter() + WARMUP_SECONDS
    while time.perf_counter() < deadline:
        engine.step()
    s = engine.searcher
    start = (s.evaluations, s.simulations, engine.moves_played, engine.full_moves, engine.games_finished, engine.length_total)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        engine.step()
    elapsed = time.perf_counter() - t0
    end = (s.evaluations, s.simulations, engine.moves_played, engine.full_moves, engine.games_finished, engine.length_total)
    d = [b - a for a, b in zip(start, end)]
    return {"seconds": elapsed, "evaluations": d[0], "simulations": d[1], "moves": d[2], "full_moves": d[3],
            "games": engine.games_finished, "length_total": engine.length_total}


def _worker(kind: str, config_data: dict, seconds: float, device: str, seed: int, queue) -> None:
    """One benchmark process: 'net' (the evaluator alone at the self-play batch) or 'selfplay'."""
    import torch

    torch.set_num_threads(1)
    config = from_mapping(config_data)
    evaluator = _make_net(config, device)
    if kind == "net":
        g = config.game
        batch = config.selfplay.games_per_worker * config.search.leaves_per_game
        planes = np.random.default_rng(seed).random((batch, 6, g.size, g.size)).astype(np.float32)
        count, elapsed = time_evaluations(evaluator, planes, seconds)
        queue.put({"evaluations": count, "seconds": elapsed})
    else:
        queue.put(_measure_selfplay(_engine(config, evaluator, seed), seconds))


def _in_processes(kind: str, config: TrainConfig, workers: int, seconds: float, device: str) -> list[dict]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_worker, args=(kind, config.to_dict(), seconds, device, i, queue))
                 for i in range(workers)]
    for p in processes:
        p.start()
    results = [queue.get(timeout=seconds + 600) for _ in processes]
    for p in processes:
        p.join()
    return results


def _baseline_moves_per_s(config: TrainConfig, evaluations_per_move: int, seconds: float, device: str) -> float:
    """Moves per second of the plain search: Python nodes, batch-1 network calls, fresh tree each move."""
    import torch

    from azero.search.simple_mcts import SimpleMCTS
    from games.gomoku import Gomoku

    torch.set_num_threads(1)
    evaluator = _make_net(config, device)
    search = SimpleMCTS(evaluator, config.search)
    g = config.game
    rng = np.random.default_rng(0)
    game = Gomoku(g.size, g.rule, g.n_in_row)
    moves = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        if game.is_over:
            game = Gomoku(g.size, g.rule, g.n_in_row)
        root = search.search(game.board, g.size, game.to_move, -1 if game.last_move is None else game.last_move,
                             g.n_in_row, game.rule_code, evaluations_per_move)
        visits = search.visit_counts(root, g.size)
        game.play(int(rng.choice(visits.size, p=visits / visits.sum())))
        moves += 1
    return moves / (time.perf_counter() - t0)


def selfplay_benchmark(config: TrainConfig, seconds: float = 20.0, device: str = "auto", progress=None,
                       backend: str = "local", address: str | None = None) -> dict:
    """The measurements in the module's table; ``backend="ray"`` adds self-play on Ray actors beside the local one."""
    from azero.bench.engine import _timed
    from azero.model.evaluator import UniformEvaluator
    from azero.model.network import pick_device
    from games.constants import rule_code
    from games.playout import count_playout_moves, seed_playouts

    say = progress or (lambda message: None)
    g = config.game
    config.train.device = device
    workers = config.selfplay.workers or (os.cpu_count() or 1)
    report: dict = {"preset": config.preset, "device": str(pick_device(device)), "workers": workers,
                    "batch_size": config.selfplay.games_per_worker * config.search.leaves_per_game,
                    "size": g.size, "rule": g.rule, "simulations": config.selfplay.simulations,
                    "fast_simulations": config.selfplay.fast_simulations, "seconds_per_measurement": seconds}

    say("the rules engine (random playouts, one core)")
    seed_playouts(0)
    code = rule_code(g.rule)
    count_playout_moves(g.size, g.n_in_row, code, 1)
    moves, elapsed = _timed(lambda: count_playout_moves(g.size, g.n_in_row, code, 100), min(seconds, 5.0))
    report["engine_moves_per_s"] = round(moves / elapsed)

    say("search with a free evaluator (one process)")
    free = _measure_selfplay(_engine(config, UniformEvaluator(), seed=0), seconds)
    report["mcts_sims_per_s"] = round(free["simulations"] / free["seconds"])
    mean_length = free["length_total"] / max(free["games"], 1)
    say("the same without VCT and threat defence (their cost)")
    plain = copy.deepcopy(config)
    plain.search.vct_budget = plain.search.vct_root_budget = 0
    plain.search.threat_defence = False
    without = _measure_selfplay(_engine(plain, UniformEvaluator(), seed=0), seconds)
    report["mcts_sims_per_s_without_vct"] = round(without["simulations"] / without["seconds"])
    report["mean_game_length"] = round(mean_length, 1)

    say(f"the network alone at batch {report['batch_size']} ({workers} processes)")
    net = _in_processes("net", config, workers, seconds, device)
    report["net_evals_per_s"] = round(sum(r["evaluations"] / r["seconds"] for r in net))

    say(f"self-play with the network ({workers} processes)")
    play = _in_processes("selfplay", config, workers, seconds, device)
    evals = sum(r["evaluations"] / r["seconds"] for r in play)
    moves_per_s = sum(r["moves"] / r["seconds"] for r in play)
    full_per_s = sum(r["full_moves"] / r["seconds"] for r in play)
    report["selfplay_evals_per_s"] = round(evals)
    report["selfplay_to_net_ratio"] = round(evals / report["net_evals_per_s"], 3)
    report["games_per_hour"] = round(moves_per_s * 3600 / mean_length)
    report["positions_per_hour"] = round(full_per_s * 3600)
    evaluations_per_move = max(1, round(sum(r["evaluations"] for r in play) / max(sum(r["moves"] for r in play), 1)))
    report["evaluations_per_move"] = evaluations_per_move

    if backend == "ray":
        from azero.train.ray_selfplay import measure_selfplay

        say(f"self-play as Ray actors ({workers}, the way azero train --backend ray plays)")
        config.selfplay.workers = workers
        on_ray = measure_selfplay(config, seconds, WARMUP_SECONDS, address)
        report["ray_workers"] = on_ray["workers"]
        report["ray_positions_per_hour"] = round(on_ray["full_moves_per_s"] * 3600)
        report["ray_games_per_hour"] = round(on_ray["moves_per_s"] * 3600 / mean_length)
        report["ray_to_local_ratio"] = round(report["ray_positions_per_hour"] / max(report["positions_per_hour"], 1), 3)

    say(f"the baseline: Python tree, one leaf per network call, {evaluations_per_move} evaluations per move")
    baseline_moves = _baseline_moves_per_s(config, evaluations_per_move, seconds, device)
    report["baseline_games_per_hour"] = round(baseline_moves * 3600 / mean_length, 1)
    report["speedup_vs_baseline"] = round(report["games_per_hour"] / max(report["baseline_games_per_hour"], 1e-9), 1)
    return report


def format_report(r: dict) -> str:
    lines = [
        f"azero bench: preset {r['preset']} ({r['size']}x{r['size']} {r['rule']}), device {r['device']}, "
        f"{r['workers']} self-play processes, batch {r['batch_size']}, {r['simulations']}/{r['fast_simulations']} simulations",
        f"  engine (random playouts, one core)      {r['engine_moves_per_s']:>12,} moves/s",
        f"  search, free evaluator (one process)    {r['mcts_sims_per_s']:>12,} simulations/s",
        f"    without VCT and threat defence        {r['mcts_sims_per_s_without_vct']:>12,} simulations/s",
        f"  network alone at batch {r['batch_size']:<4}             {r['net_evals_per_s']:>12,} evaluations/s",
        f"  self-play                               {r['selfplay_evals_per_s']:>12,} evaluations/s",
        f"  self-play / network                     {r['selfplay_to_net_ratio']:>12.3f}",
        f"  self-play games                         {r['games_per_hour']:>12,} games/hour "
        f"(mean length {r['mean_game_length']} moves)",
        f"  training positions                      {r['positions_per_hour']:>12,} positions/hour",
        f"  baseline (Python tree, batch 1)         {r['baseline_games_per_hour']:>12,} games/hour "
        f"({r['evaluations_per_move']} evaluations per move)",
        f"  speed-up over the baseline              {r['speedup_vs_baseline']:>12.1f}x",
    ]
    if "ray_positions_per_hour" in r:
        lines += [
            f"  self-play as {r['ray_workers']} Ray actors              {r['ray_positions_per_hour']:>12,} positions/hour "
            f"({r['ray_games_per_hour']:,} games/hour)",
            f"  Ray / local processes                   {r['ray_to_local_ratio']:>12.3f}",
        ]
    return "\n".join(lines)
