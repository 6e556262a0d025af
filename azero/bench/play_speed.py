"""``azero bench play``: how long the AI takes to answer a move in the window, on a laptop that is never idle.

It opens the real window (SDL's off-screen driver unless a display is
asked for), sets the network's threads as ``azero play`` does, optionally
starts busy-loop processes (``--busy N``: another program keeps N cores
busy), and plays the person's side with the pattern bot: each of its moves
is a click, and the clock runs from the click to the AI's stone on the
board, the window ticking at 30 frames a second meanwhile, as in play.
The window's warm-up (loading the network, and compiling the search the
first time after an install or an update) is timed apart.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time


def _spin() -> None:
    while True:
        pass


def measure(spec: str, moves: int = 10, busy: int = 1, threads: int | None = None, seed: int = 0,
            live: bool = False) -> dict:
    """Seconds from each click to the AI's reply for ``moves`` moves of one game against the AI ``spec``."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from azero.play.app import network_threads, set_network_threads
    from azero.play.choices import Choices, checkpoint_variant
    from azero.play.session import PlaySession
    from azero.play.thinker import Thinker
    from azero.play.window import Window
    from azero.players.factory import make_player
    from azero.players.simple import HeuristicPlayer
    from azero.players.spec import parse_spec

    parsed = parse_spec(spec)
    if parsed.kind != "az":
        raise ValueError(f"azero bench play measures a network: az:PATH[:sims=N], got {spec!r}")
    threads = network_threads(threads)
    set_network_threads(threads)
    spinners = [multiprocessing.get_context("spawn").Process(target=_spin, daemon=True) for _ in range(busy)]
    for process in spinners:
        process.start()
    variant = checkpoint_variant(spec)
    choices = Choices([variant], custom=(parsed.simulations, parsed.seconds))
    session = PlaySession(size=variant.size, rule=variant.rule, ai_spec=choices.opponent_spec(), db_path=None)
    window = Window(session, Thinker(lambda wanted: make_player(wanted, seed=seed)), choices)
    person = HeuristicPlayer(seed)
    times: list[float] = []
    try:
        window.live_on = live
        started = time.perf_counter()
        while window.thinker.busy:  # loading the network (and, after an install or update, compiling the search)
            window.tick()
            time.sleep(1 / 30)
        warm_up = time.perf_counter() - started
        while len(times) < moves and not session.over:
            while not session.human_to_move and not session.over:  # the AI's first move (white: none)
                window.tick()
                time.sleep(1 / 30)
            if session.over:
                break
            window.click(person.choose_moves([session.game])[0])
            clicked = time.perf_counter()
            played = len(session.game.moves)
            while len(session.game.moves) == played and not session.over:
                window.tick()
                time.sleep(1 / 30)
            if len(session.game.moves) > played:
                times.append(time.perf_counter() - clicked)
    finally:
        window.close()
        for process in spinners:
            process.kill()
    return {"spec": spec, "threads": threads, "busy_cores": busy, "cores": os.cpu_count(), "moves": len(times),
            "median_s": statistics.median(times) if times else None, "mean_s": statistics.fmean(times) if times else None,
            "max_s": max(times) if times else None, "seconds": times, "warm_up_s": warm_up}


def format_report(report: dict) -> str:
    return (f"{report['spec']}: {report['moves']} AI moves with {report['busy_cores']} of {report['cores']} cores "
            f"kept busy by another program, network threads {report['threads']}\n"
            f"  seconds a move: median {report['median_s']:.2f}, mean {report['mean_s']:.2f}, max {report['max_s']:.2f}\n"
            f"  before the first move: {report['warm_up_s']:.1f} s loading the network"
            " (and compiling the search, once after an install or update)")
