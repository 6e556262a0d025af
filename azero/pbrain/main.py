"""The ``pbrain-azero`` process: options, stdin and stdout around the protocol engine.

``pbrain-azero`` (and ``azero pbrain``, ``python -m azero.pbrain``) parse
the options (:func:`add_arguments`), check everything a command line can
get wrong before the first command is read (:func:`build_engine`: one line
on stderr, status 2), and then :func:`serve` reads one command a line and
writes every answer at once.

``run`` keeps a private duplicate of file descriptor 1 for the protocol and
points fd 1 and ``sys.stdout`` at stderr before loading anything, so
nothing that numba, torch or a stray ``print`` writes can reach the manager.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import BinaryIO, TextIO

# Only light modules here: ABOUT is answered before numpy, numba or torch are loaded (see azero.pbrain.loading).
from azero.pbrain.clock import CLOCK_RULES, MatchClock
from azero.pbrain.engine import PbrainEngine
from azero.pbrain.loading import light_player_loader, network_files, network_loader
from azero.pbrain.protocol import MAX_LINE_CHARS, ProtocolError
from azero.pbrain.stall_watch import StallWatch


def serve(engine: PbrainEngine, commands: BinaryIO, answers: BinaryIO, stall_watch: StallWatch | None = None) -> int:
    """Read commands until END or end of input, writing and flushing every answer at once; returns 0.

    ``stall_watch`` (on the engine's clock) dates each line read after the
    process stalled (see :mod:`azero.pbrain.stall_watch`); it is stopped
    once the engine has nothing loading in the background.
    """
    while not engine.finished:
        read_began = engine.clock()
        raw = commands.readline(MAX_LINE_CHARS + 1)
        if not raw:
            break  # the manager closed our input: nothing more will come
        received = None if stall_watch is None else stall_watch.arrival(read_began, engine.clock())
        if len(raw) > MAX_LINE_CHARS and not raw.endswith(b"\n"):
            while True:  # throw away the rest of the over-long line, a bounded piece at a time
                more = commands.readline(MAX_LINE_CHARS + 1)
                if not more or more.endswith(b"\n"):
                    break
            lines = engine.handle_overlong_line(received)
        else:
            lines = engine.handle(raw.decode("utf-8", errors="replace").rstrip("\r\n"), received)
        if lines:
            answers.write("".join(f"{line}\n" for line in lines).encode("ascii", errors="replace"))
            answers.flush()
            engine.answer_sent()
        if stall_watch is not None and stall_watch.running and not engine.loading_in_background:
            stall_watch.stop()  # loaded: nothing left in the process that holds the lock for long
    return 0


def claim_stdout_for_protocol() -> BinaryIO:
    """A private writer on the real stdout; fd 1 and ``sys.stdout`` now go to stderr.

    Whatever the libraries print (numba warnings, torch notices, a stray
    ``print``) lands on stderr, where managers do not look, instead of
    corrupting the protocol stream.
    """
    sys.stdout.flush()
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(protocol_fd, "wb")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``azero pbrain`` / ``pbrain-azero``."""
    parser.add_argument("--checkpoint", action="append", default=[], metavar="PATH",
                        help="a network to play with: a .safetensors checkpoint, a training run's folder, or an "
                             ".onnx export ('azero export'; runs without torch, in half the memory); repeat for "
                             "other board sizes and rules (START picks the one trained for the size and rule; the "
                             "same size under another rule stands in)")
    parser.add_argument("--player", metavar="SPEC",
                        help="play with a player without a network instead: random, heuristic or pure:N")
    parser.add_argument("--sims", type=int, metavar="N",
                        help="most simulations per move (default: as many as the time allows, up to 20000)")
    parser.add_argument("--device", default="cpu",
                        help="cpu, cuda, cuda:N, mps or auto (default: %(default)s; an .onnx export runs on the cpu)")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="torch's (or onnxruntime's) threads on the CPU (default: %(default)s; one network call "
                             "per search step is too small to share between threads)")
    parser.add_argument("--prepare", action="store_true",
                        help="load the networks, compile the search for each one's game into numba's cache, say how "
                             "long it took, and exit: run it once after installing or updating azero, or the first "
                             "game's moves are the heuristic's for a minute or two while that happens")
    parser.add_argument("--clock", default="manager", choices=CLOCK_RULES,
                        help="how moves share a match clock: manager (default: more for unsure moves, less for "
                             "forced ones) or flat (a twentieth of the time left on every move, the rule before "
                             "it: a baseline to measure the time manager against)")


def build_engine(args: argparse.Namespace) -> PbrainEngine:
    """The engine the options describe, its players loading in the background; ValueError for bad options.

    Everything the command line can get wrong is checked here, before the
    first command is read (one line on stderr, status 2); what needs torch
    or onnxruntime (the networks' weights) loads on the engine's background thread.
    """
    if bool(args.checkpoint) == bool(args.player):
        raise ValueError("give --checkpoint PATH (one or more) or --player SPEC, not both and not neither")
    if args.player:
        if args.sims is not None:
            raise ValueError("--sims applies to --checkpoint networks; pure:N sets its own playouts")
        return PbrainEngine.loading(light_player_loader(args.player), None)
    if args.sims is not None and args.sims < 1:
        raise ValueError(f"--sims must be a positive whole number, got {args.sims}")
    if args.threads < 1:
        raise ValueError(f"--threads must be a positive whole number, got {args.threads}")
    files = network_files(args.checkpoint)
    engine = PbrainEngine.loading(network_loader(files, args.sims, args.device, args.threads), set(files))
    engine.match_clock = MatchClock(engine.match_clock.default_turn_seconds, rule=args.clock)
    return engine


def prepare(engine: PbrainEngine, report: TextIO | None = None) -> int:
    """``--prepare``: play one move of every game the engine covers, so that numba caches all it compiles.

    A manager's first game after an install would otherwise wait a minute or
    two for that compile, its moves played by the heuristic.  Returns 0, or
    1 (with the ERROR on ``report``) when a network fails to load or play.
    """
    from azero.players.pbrain_client import RULE_BITS  # the INFO rule a manager sends for each of our rules

    report = report or sys.stderr
    for rule, size in sorted(engine.announced_games or {("freestyle", 15)}):
        began = time.perf_counter()
        answers = [*engine.handle(f"INFO rule {RULE_BITS[rule]}"), *engine.handle(f"START {size}")]
        try:
            engine.wait_until_ready()
        except ProtocolError as error:
            answers.append(f"ERROR {error}")
        answers += [*engine.handle("INFO timeout_turn 1000"), *engine.handle("BEGIN")]
        errors = [line for line in answers if line.startswith("ERROR")]
        if errors:
            print(f"pbrain-azero: {rule} {size}x{size}: {errors[0]}", file=report)
            return 1
        print(f"pbrain-azero: {rule} {size}x{size} ready in {time.perf_counter() - began:.1f} s", file=report)
    engine.handle("END")
    return 0


def run(args: argparse.Namespace, prog: str = "pbrain-azero") -> int:
    """Speak the protocol on stdin/stdout until END or end of input: 0; bad options: one line on stderr, 2."""
    answers = claim_stdout_for_protocol()
    try:
        engine = build_engine(args)
    except (ValueError, OSError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    if args.prepare:
        return prepare(engine)
    try:
        code = serve(engine, sys.stdin.buffer, answers, StallWatch(engine.clock))
    except (BrokenPipeError, KeyboardInterrupt):
        code = 0  # the manager went away or stopped us: nothing left to answer
    if engine.loading_in_background:
        # END came while torch was still loading: the interpreter must not tear down under that thread's import.
        sys.stderr.flush()
        os._exit(code)
    return code


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """``pbrain-azero``'s command line (None: sys.argv), every option's default filled in."""
    from azero.pbrain.one_line_parser import OneLineParser

    parser = OneLineParser(prog="pbrain-azero",
                           description="azero as a Gomocup/Piskvork brain: speaks the pbrain protocol on "
                                       "stdin/stdout.")
    add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """The ``pbrain-azero`` command (Gomocup managers want executables named pbrain-*)."""
    return run(parse_arguments(argv))


if __name__ == "__main__":
    sys.exit(main())
