"""The ``azero`` command.

Subcommands are registered only once they work.  Bad input ends with one
line on stderr (what was wrong, what is accepted) and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys

from azero import __version__
from azero.arena.ratings import DEFAULT_ANCHOR, DEFAULT_ANCHOR_ELO
from azero.pbrain.one_line_parser import EXIT_BAD_INPUT, OneLineParser  # pbrain-azero shares it
from azero.players.spec import PLAYER_SPEC_TEXT  # the players a tournament takes (a light module: no numba)
from games.constants import RULES


class CommandError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 2."""


def _board_size(text: str) -> int:
    from games.coords import check_size

    try:
        return check_size(int(text))
    except ValueError as error:
        if "board size" in str(error):
            raise argparse.ArgumentTypeError(str(error))
        raise argparse.ArgumentTypeError(f"expected a whole number for the board size, got {text!r}")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _add_rule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rule", choices=list(RULES), default="freestyle", help="game rules (default: %(default)s)")
    parser.add_argument("--n-in-row", type=int, default=5, help="stones in a row to win (default: %(default)s)")


def _add_backend_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """--backend and --address, the same for every command that can spread work over a Ray cluster."""
    parser.add_argument("--backend", choices=("local", "ray"), default="local",
                        help=f"where {what}: local = this machine's processes; ray = a Ray cluster, "
                             "pip install -e '.[ray]' (default: %(default)s)")
    parser.add_argument("--address", help="with --backend ray: the cluster to join, e.g. HEAD:6379 or auto "
                        "(default: RAY_ADDRESS, else a Ray instance on this machine)")


def _check_backend(args: argparse.Namespace) -> None:
    """--address only with --backend ray; and with ray, a missing Ray is one line now, before any work."""
    if args.address and args.backend != "ray":
        raise CommandError("--address names a Ray cluster: use it with --backend ray")
    if args.backend == "ray":
        from azero.arena.ray_backend import import_ray

        import_ray()


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="azero",
        description="AlphaZero for Gomoku: a fast rules engine, self-play training, a window to play and review "
        "games in, an Elo arena, a Gomocup engine and RL-ecosystem environments.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"azero {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    demo = commands.add_parser(
        "demo",
        help="watch two heuristic bots play one game",
        description="Two threat-aware heuristic bots (no network yet) play one game from the centre; the final "
        "board is printed: X black, O white, lower case the last move, '#' black's forbidden points in renju.",
    )
    demo.add_argument("--size", type=_board_size, default=15, help="board size, 5 to 20 (default: %(default)s)")
    _add_rule_options(demo)
    demo.add_argument("--seed", type=int, default=None, help="seed for the bots' tie-breaks, for a repeatable game (default: random)")
    demo.add_argument("--save", metavar="FILE", help="also save the game as a .psq or .sgf record")
    demo.set_defaults(handler=run_demo)

    show = commands.add_parser(
        "show",
        help="print a PSQ or SGF game record",
        description="Read a game record (.psq or .sgf), check every move, and print the final board and moves. "
        "--rule and --n-in-row apply to PSQ files, which carry no rule; SGF files name their own.",
    )
    show.add_argument("file", help="the record to show")
    _add_rule_options(show)
    show.set_defaults(handler=run_show)

    train = commands.add_parser(
        "train",
        help="train a network from zero by self-play (resumable)",
        description="Self-play reinforcement learning from zero knowledge. Self-play worker processes play with the "
        "latest network and write games to RUN/shards; the learner trains on a sliding window of them and writes "
        "checkpoints, metrics (CSV and TensorBoard) and a progress plot to RUN. Stop it at any time (Ctrl-C); "
        "the same command resumes. Any setting can be changed with SECTION.KEY=VALUE (see --help-settings for what "
        "each one does, --print-config for the whole configuration).",
    )
    train.add_argument("overrides", nargs="*", metavar="SECTION.KEY=VALUE",
                       help="change one setting of the preset, for example selfplay.simulations=100")
    train.add_argument("--preset", default="gomoku9", help="the recipe to start from (default: %(default)s; see --list-presets)")
    train.add_argument("--run", metavar="DIR", help="run folder (default: runs/PRESET)")
    train.add_argument("--minutes", type=_positive_float, help="stop after this many minutes (train.max_minutes)")
    train.add_argument("--steps", type=int, help="stop after this many training steps in total (train.max_steps)")
    train.add_argument("--workers", type=int, help="self-play processes (selfplay.workers; default one per core)")
    train.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (train.device; default auto)")
    train.add_argument("--print-config", action="store_true", help="print the full configuration and exit")
    train.add_argument("--help-settings", action="store_true",
                       help="explain every setting SECTION.KEY: its value (the preset's, with any overrides), the values "
                            "it accepts and what it does; then exit")
    train.add_argument("--list-presets", action="store_true", help="list the presets and exit")
    train.add_argument("--no-progress", action="store_true", help="no live status line (for logs)")
    _add_backend_arguments(train, "self-play runs")
    train.set_defaults(handler=run_train)

    bench = commands.add_parser(
        "bench",
        help="measure speed",
        description="Measure how fast azero runs on this machine for a preset: engine moves/s, search simulations/s "
        "with a free evaluator, network evaluations/s at the self-play batch size, self-play evaluations/s while "
        "really playing, their ratio, games and positions per hour, and a one-leaf-at-a-time Python MCTS baseline "
        "with the same network. 'azero bench engine' measures the rules engine alone.",
    )
    bench.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="change a setting of the preset, for example --set selfplay.games_per_worker=256 (repeatable)")
    bench.add_argument("--preset", default="gomoku9", help="the recipe whose net and search are measured (default: %(default)s)")
    bench.add_argument("--seconds", type=_positive_float, default=20.0, help="time per measurement (default: %(default)s)")
    bench.add_argument("--workers", type=int, help="self-play processes (default: the preset's, one per core)")
    bench.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: %(default)s)")
    bench.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    _add_backend_arguments(bench, "self-play is measured (ray: also on Ray actors, beside local processes)")
    bench.set_defaults(handler=run_bench)
    targets = bench.add_subparsers(dest="target", metavar="TARGET")
    engine = targets.add_parser(
        "engine",
        help="rules engine: random playouts and renju forbidden masks",
        description="Random-playout speed for each rule and renju forbidden-mask speed, on one core.",
    )
    engine.add_argument("--size", type=_board_size, default=15, help="board size (default: %(default)s)")
    engine.add_argument(
        "--seconds", type=_positive_float, default=2.0, help="time per measurement (default: %(default)s)"
    )
    engine.add_argument("--stones", type=int, default=40, help="stones in the renju mask positions (default: %(default)s)")
    engine.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    engine.set_defaults(handler=run_bench_engine)
    play = targets.add_parser(
        "play",
        help="the AI's reply time in the window, with other programs busy",
        description="Open the window (off-screen), let the pattern bot click the person's moves and time the AI's "
        "replies, with --busy cores kept busy by busy-loop processes, as on a laptop that is never idle.",
    )
    play.add_argument("--opponent", default=None, metavar="SPEC",
                      help="the AI: az:PATH[:sims=N][:time=S] (default: the shipped 15x15 net at the window's default level)")
    play.add_argument("--moves", type=int, default=10, help="AI moves to time (default: %(default)s)")
    play.add_argument("--busy", type=int, default=1, help="cores kept busy by another program (default: %(default)s)")
    play.add_argument("--threads", type=int, default=None, help="network threads (default: as azero play: half the cores)")
    play.add_argument("--live", action="store_true", help="with live analysis on (it searches on the person's turns)")
    play.add_argument("--json", action="store_true", help="print one JSON object instead of a line")
    play.set_defaults(handler=run_bench_play)
    onnx_bench = targets.add_parser(
        "onnx",
        help="the network in onnxruntime against torch, on the CPU",
        description="Export a checkpoint to ONNX in a temporary folder, then measure the positions per second "
        "torch and onnxruntime evaluate on the CPU, with the same number of threads, at each batch size. Needs "
        "pip install -e '.[onnx]'.",
    )
    onnx_bench.add_argument("--checkpoint", metavar="PATH", default=None,
                            help="the network, a .safetensors file or a run folder (default: the shipped 15x15 one)")
    onnx_bench.add_argument("--batches", type=_batch_sizes, default=None, metavar="N,N,...",
                            help="batch sizes (default: 1,8 and the self-play batch of the checkpoint's preset)")
    onnx_bench.add_argument("--threads", type=int, default=1, help="threads for both runtimes (default: %(default)s)")
    onnx_bench.add_argument("--seconds", type=_positive_float, default=3.0,
                            help="time per runtime, batch size and round (default: %(default)s)")
    onnx_bench.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    onnx_bench.set_defaults(handler=run_bench_onnx)
    _add_arena_parser(commands)

    play = commands.add_parser(
        "play",
        help="play against the AI in a window",
        description="Open a window and play against a checkpoint (the shipped one for the rules and size, or "
        "--checkpoint), or any player (--opponent). Click a point to play; buttons and keys: New game (N), Undo "
        "(U: your move and the AI's reply), Hint (H), Swap sides (S), Resign (R), move numbers (M), the "
        "network's policy map (P), the expected line (V), Save (Ctrl+S), Load the last save (L). Finished games "
        "are rated in the arena database as human:NAME against the AI. --screenshot renders a position to PNG "
        "without a window.",
    )
    from azero.play.app import add_arguments as add_play_arguments

    add_play_arguments(play)
    play.set_defaults(handler=run_play)

    review = commands.add_parser(
        "review",
        help="the AI's verdict on every move of a saved game",
        description="Search every position of a game (SGF or PSQ) with a network (the shipped one for its rules and "
        "size, or --checkpoint), print each side's inaccuracies, mistakes and blunders (the mover's win rate fell "
        "by 5, 10, 20 points or more) with the move the AI would have played and its line, then open the window "
        "on the review: the win-rate graph with the mistakes marked; left/right step through the game, up/down "
        "jump between mistakes, a click on the graph goes to that move. --screenshot draws it to a PNG instead.",
    )
    from azero.play.review_command import add_arguments as add_review_arguments

    add_review_arguments(review)
    review.set_defaults(handler=run_review)

    pbrain = commands.add_parser(
        "pbrain",
        help="be a Gomocup (Piskvork) engine on stdin/stdout",
        description="Speak the Gomocup/Piskvork brain protocol on stdin/stdout (START, BEGIN, TURN, BOARD, INFO, "
        "TAKEBACK, RESTART, END, ABOUT), thinking within the time the manager gives. Nothing but protocol lines "
        "goes to stdout. The same program is installed as 'pbrain-azero' for managers that want that name.",
    )
    from azero.pbrain.main import add_arguments as add_pbrain_arguments

    add_pbrain_arguments(pbrain)
    pbrain.set_defaults(handler=run_pbrain)

    export = commands.add_parser(
        "export",
        help="export a network to ONNX",
        description="Write a checkpoint's network as an ONNX file that onnxruntime runs (batch norm folded, any "
        "batch size): input planes [B, 6, S, S], outputs policy_logits [B, S*S] and value [B]. The rules and "
        "board size go in the model's metadata, so the file plays as az:NET.onnx. Then compare onnxruntime's "
        "outputs with torch's on random positions and print the largest differences. Needs pip install -e '.[onnx]'.",
    )
    export.add_argument("checkpoint", help="a .safetensors checkpoint, or a training run's folder (its latest)")
    export.add_argument("--output", "-o", metavar="FILE",
                        help="the ONNX file to write (default: the checkpoint's path with .onnx)")
    export.add_argument("--positions", type=int, default=64,
                        help="random positions on which to compare onnxruntime with torch (default: %(default)s)")
    export.add_argument("--json", action="store_true", help="print one JSON object instead of a line")
    export.set_defaults(handler=run_export)
    return parser


def _add_game_filters(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--rule", choices=list(RULES), help=f"rules of the {what} (default: {'the only kind stored' if what == 'games' else 'read from the checkpoints, else freestyle'})")
    parser.add_argument("--size", type=_board_size, help=f"board size of the {what}")
    parser.add_argument("--n-in-row", type=int, help="stones in a row to win (default: 5, or the checkpoints')")


def _arena_action(actions, name: str, help: str, description: str, handler, what: str = "games"):
    """One ``azero arena`` action: every action reads or writes a database and picks a kind of game."""
    parser = actions.add_parser(name, help=help, description=description)
    parser.add_argument("--db", default="runs/arena.sqlite", help="the arena database (default: %(default)s)")
    _add_game_filters(parser, what)
    parser.set_defaults(handler=handler)
    return parser


def _add_arena_parser(commands) -> None:
    arena = commands.add_parser(
        "arena",
        help="tournaments and Elo ratings between checkpoints, bots, engines and people",
        description="Play rated games and read the ratings. Every game goes into one SQLite database "
        "(--db); ratings are fitted over all its games of one rule and size, anchored to a fixed reference "
        f"(by default {DEFAULT_ANCHOR} at Elo {DEFAULT_ANCHOR_ELO:g}).",
    )
    actions = arena.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    run = _arena_action(
        actions, "run", handler=run_arena_run, what="games to play",
        help="play a round robin or a gauntlet (resumable)",
        description="Play every pairing of PLAYERs (round robin), or --candidate against each PLAYER (gauntlet). "
        "Each pairing plays --games games: every opening of a seeded balanced set twice, once with each colour. "
        "Players: " + PLAYER_SPEC_TEXT + ". Games run in worker processes and are stored as they end; stop "
        "with Ctrl-C and run the same command again to play only what is missing. Ends with the ratings table.",
    )
    run.add_argument("players", nargs="+", metavar="PLAYER", help="player specs")
    run.add_argument("--candidate", metavar="PLAYER", help="gauntlet: play only this player against each PLAYER")
    run.add_argument("--games", type=int, default=20, help="games per pairing: each opening with both colours, so an odd number rounds up (default: %(default)s)")
    run.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    run.add_argument("--opening-stones", type=int, help="stones in each opening (default: 2 below 13x13, else 3)")
    run.add_argument("--opening-seed", type=int, default=0, help="which seeded set of openings (default: %(default)s)")
    run.add_argument("--openings", metavar="FILE", help="openings from a file instead, one per line ('h8 i9 j8')")
    run.add_argument("--turn-ms", type=int, default=1000, help="time per move for pbrain: engines, in ms (default: %(default)s)")
    run.add_argument("--device", default="cpu", help="where az: players run their nets (default: %(default)s)")
    _add_backend_arguments(run, "games run")
    run.add_argument("--anchor", default=None, help=f"reference player of the final table (default: {DEFAULT_ANCHOR}, "
                     "or the most-played program where it has no games)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")

    ratings = _arena_action(
        actions, "ratings", handler=run_arena_ratings,
        help="print the Elo table",
        description="Fit Elo by maximum likelihood (Bradley-Terry, draws as half points, as BayesElo and Ordo do) "
        "over every stored game of one rule and size, with 95% intervals, and print rating, interval, games, "
        "score and wins/draws/losses. The fit is also kept in the database.",
    )
    ratings.add_argument("--anchor", default=None, help=f"the player held fixed (default: {DEFAULT_ANCHOR}, or the "
                         "most-played program where it has no games of this rule and size)")
    ratings.add_argument("--anchor-elo", type=float, default=DEFAULT_ANCHOR_ELO, help="the anchor's rating (default: %(default)s)")
    ratings.add_argument("--json", action="store_true", help="print JSON instead of a table")

    plot = _arena_action(
        actions, "plot", handler=run_arena_plot,
        help="draw Elo against training step as PNG",
        description="Draw each training run's checkpoints' Elo (with 95% intervals) against their training step, "
        "with the reference players as horizontal lines.",
    )
    plot.add_argument("--run", metavar="NAME", help="only this run's checkpoints (the run folder's name)")
    plot.add_argument("--anchor", default=None, help=f"the player held fixed (default: {DEFAULT_ANCHOR}, or the "
                      "most-played program where it has no games of this rule and size)")
    plot.add_argument("--out", default="elo.png", help="the PNG to write (default: %(default)s)")

    card = actions.add_parser(
        "card", help="write checkpoints/RATINGS.md for the shipped networks",
        description="Write the ratings card of the shipped networks: for each checkpoint in --checkpoints, its "
        "training (steps, games, positions, hours, hardware, the command that reproduces it), the Elo table of its "
        "rule and board from the database's games, its record against each reference, the project's targets and "
        "whether the games meet them, and the Elo-against-training-step plot where the database has a run's "
        "checkpoints. A shipped file is recognised by its SHA-256, so games of an older file never count.",
    )
    card.add_argument("--db", default="checkpoints/arena.sqlite", help="the arena database (default: %(default)s)")
    card.add_argument("--checkpoints", default="checkpoints", help="folder of the shipped networks (default: %(default)s)")
    card.add_argument("--out", help="the Markdown file to write (default: CHECKPOINTS/RATINGS.md)")
    card.add_argument("--readme", metavar="FILE", help="also put the summary table and plots into FILE's ratings block "
                      "(README.md does this)")
    card.set_defaults(handler=run_arena_card)

    export = _arena_action(
        actions, "export", handler=run_arena_export,
        help="write the games as PGN for BayesElo or Ordo",
        description="Write stored games as PGN-like records that BayesElo and Ordo read: PGN's White is the "
        "player who moved first (Gomoku's black); moves are kept in a comment.",
    )
    export.add_argument("--out", default="-", help="file to write, '-' for standard output (default: %(default)s)")


def run_demo(args: argparse.Namespace) -> None:
    import numpy as np

    from azero.players.heuristic import heuristic_move
    from games.gomoku import Gomoku
    from games.records import GameRecord, save_record

    game = Gomoku(size=args.size, rule=args.rule, n_in_row=args.n_in_row)
    rng = np.random.default_rng(args.seed)
    game.play(game.size // 2 * (game.size + 1))  # the first stone on the centre, as people open
    while not game.is_over:
        game.play(heuristic_move(game, rng))
    print(game.render())
    print()
    print(f"{game.rule}, {game.size}x{game.size}: {game.result_text()} after {len(game.moves)} moves")
    print("moves: " + " ".join(game.notation(m) for m in game.moves))
    if args.save is not None:
        save_record(GameRecord.from_game(game, black="heuristic", white="heuristic"), args.save)
        print(f"saved to {args.save}")


def run_show(args: argparse.Namespace) -> None:
    from games.records import load_record

    record = load_record(args.file, rule=args.rule, n_in_row=args.n_in_row)
    game = record.to_game()
    print(game.render())
    print()
    players = f" ({record.black or '?'} vs {record.white or '?'})" if record.black or record.white else ""
    print(f"{game.rule}, {game.size}x{game.size}{players}: {game.result_text()} after {len(game.moves)} moves")
    print("moves: " + " ".join(game.notation(m) for m in game.moves))


def run_bench_engine(args: argparse.Namespace) -> None:
    from azero.bench.engine import engine_benchmark, format_report

    if not 0 <= args.stones <= args.size * args.size // 2:
        raise CommandError(f"--stones must be from 0 to half the board ({args.size * args.size // 2}), got {args.stones}")

    def progress(message: str) -> None:
        if not args.json:
            print(f"measuring {message} ...", file=sys.stderr, flush=True)

    report = engine_benchmark(size=args.size, seconds=args.seconds, stones=args.stones, progress=progress)
    print(json.dumps(report) if args.json else format_report(report))


def run_train(args: argparse.Namespace) -> None:
    from pathlib import Path

    from azero.train.config import available_presets, build_config

    if args.list_presets:
        from azero.train.config import load_preset

        for name in available_presets():
            print(f"{name:12s} {load_preset(name).description}")
        return
    overrides = list(args.overrides)
    for flag, key in ((args.minutes, "train.max_minutes"), (args.steps, "train.max_steps"),
                      (args.workers, "selfplay.workers"), (args.device, "train.device")):
        if flag is not None:
            overrides.append(f"{key}={flag!r}" if not isinstance(flag, str) else f'{key}="{flag}"')
    config = build_config(args.preset, overrides)
    if args.print_config:
        print(config.to_toml(), end="")
        return
    if args.help_settings:
        from azero.train.settings_help import settings_help

        print(settings_help(config))
        return
    from azero.train.run_folder import RunFolder, check_resumable
    from azero.train.learner import check_start, train

    _check_backend(args)
    run_dir = Path(args.run) if args.run else Path("runs") / config.preset
    check_resumable(RunFolder(run_dir), config)  # a bad start says so in one line, before the config is shown
    check_start(config, RunFolder(run_dir))
    print(config.to_toml(), file=sys.stderr)
    command = shlex.join(["azero", "train", "--preset", args.preset, "--run", str(run_dir), *args.overrides])
    train(config, run_dir, progress=not args.no_progress, command=command, backend=args.backend, address=args.address)


def run_bench(args: argparse.Namespace) -> None:
    from azero.bench.suite import format_report, selfplay_benchmark
    from azero.train.config import build_config

    overrides = list(args.overrides)
    if args.workers is not None:
        overrides.append(f"selfplay.workers={args.workers}")
    config = build_config(args.preset, overrides)
    _check_backend(args)  # before the local measurements

    def progress(message: str) -> None:
        if not args.json:
            print(f"measuring {message} ...", file=sys.stderr, flush=True)

    report = selfplay_benchmark(config, seconds=args.seconds, device=args.device, progress=progress,
                                backend=args.backend, address=args.address)
    print(json.dumps(report) if args.json else format_report(report))


def _batch_sizes(text: str) -> list[int]:
    parts = text.split(",")
    if not all(part.strip().isdigit() and 1 <= int(part) <= 65536 for part in parts):
        raise argparse.ArgumentTypeError(f"expected batch sizes from 1 to 65536 separated by commas, like 1,8,256, "
                                         f"got {text!r}")
    return [int(part) for part in parts]


def _require_onnx() -> None:
    from azero.model.export import require_onnx_packages

    try:
        require_onnx_packages()
    except ImportError as error:
        raise CommandError(str(error)) from None


def run_export(args: argparse.Namespace) -> None:
    from azero.model.export import export_onnx

    _require_onnx()
    if args.positions < 1:
        raise CommandError(f"--positions must be at least 1, got {args.positions}")
    report = export_onnx(args.checkpoint, args.output, check_positions=args.positions)
    print(json.dumps(report.to_dict()) if args.json else report.summary())


def run_bench_onnx(args: argparse.Namespace) -> None:
    from azero.bench.onnx_speed import format_report, inference_benchmark
    from azero.model.shipped import shipped_checkpoint

    _require_onnx()
    if args.threads < 1:
        raise CommandError(f"--threads must be at least 1, got {args.threads}")
    checkpoint = args.checkpoint or shipped_checkpoint("freestyle", 15)
    if checkpoint is None:
        raise CommandError("no shipped 15x15 network; give --checkpoint PATH")

    def progress(message: str) -> None:
        if not args.json:
            print(f"measuring {message} ...", file=sys.stderr, flush=True)

    report = inference_benchmark(checkpoint, args.batches, seconds=args.seconds, threads=args.threads,
                                 progress=progress)
    print(json.dumps(report) if args.json else format_report(report))


def run_bench_play(args: argparse.Namespace) -> None:
    from azero.bench.play_speed import format_report, measure
    from azero.model.shipped import shipped_checkpoint
    from azero.play.choices import DEFAULT_LEVEL, LEVELS

    if args.moves < 1 or args.busy < 0:
        raise CommandError("--moves must be positive and --busy at least 0")
    spec = args.opponent
    if spec is None:
        shipped = shipped_checkpoint("freestyle", 15)
        if shipped is None:
            raise CommandError("no shipped 15x15 network; give --opponent az:PATH")
        spec = f"az:{shipped}:sims={LEVELS[DEFAULT_LEVEL][0]}"
    report = measure(spec, moves=args.moves, busy=args.busy, threads=args.threads, live=args.live)
    print(json.dumps(report) if args.json else format_report(report))


def _open_arena(path: str, must_exist: bool = True, reading: bool = False):
    """The arena database at ``path``; ``reading``: one this user may not write opens read-only instead."""
    from pathlib import Path

    from azero.arena.store import ArenaReadOnlyError, ArenaStore

    if must_exist and not Path(path).is_file():
        raise CommandError(f"no arena database at {path} (play games first with 'azero arena run', or give --db)")
    try:
        return ArenaStore(path)
    except ArenaReadOnlyError:
        if not reading:
            raise
        return ArenaStore(path, read_only=True)


def _print_ratings(store, kind, anchor: str | None, anchor_elo: float = 0.0, as_json: bool = False) -> None:
    from dataclasses import asdict

    from azero.arena.ratings import format_table
    from azero.arena.report import rate, resolve_anchor

    anchor = resolve_anchor(store, kind, anchor)
    table = rate(store, kind, anchor, anchor_elo)
    if as_json:
        print(json.dumps({"rule": kind.rule, "size": kind.size, "n_in_row": kind.n_in_row, "anchor": anchor,
                          "anchor_elo": anchor_elo, "ratings": [asdict(r) for r in table]}))
        return
    games = len(store.games(kind.rule, kind.size, kind.n_in_row))
    print(f"{kind.rule} {kind.size}x{kind.size}, {kind.n_in_row} in a row: {games} games, {anchor} fixed at {anchor_elo:g}")
    print(format_table(table, anchor))


def run_arena_run(args: argparse.Namespace) -> None:
    from azero.arena.store import ArenaError
    from azero.arena.tournament import default_workers, game_kind_for, run_tournament

    if args.games < 2:
        raise CommandError(f"--games must be at least 2 (one opening with both colours), got {args.games}")
    if args.turn_ms < 1:
        raise CommandError(f"--turn-ms must be positive, got {args.turn_ms}")
    specs = list(dict.fromkeys(args.players))
    kind = game_kind_for(specs + ([args.candidate] if args.candidate else []), args.rule, args.size, args.n_in_row)
    openings = None
    if args.openings:
        from azero.search.openings import openings_from_file

        openings = openings_from_file(args.openings, kind.size, kind.rule, kind.n_in_row)
    if args.opening_stones is not None and not 0 <= args.opening_stones <= kind.size * kind.size // 4:
        raise CommandError(f"--opening-stones must be from 0 to {kind.size * kind.size // 4}, got {args.opening_stones}")
    if any(spec.startswith("az:") for spec in specs + [args.candidate or ""]):
        from azero.model.network import pick_device

        pick_device(args.device)  # a device that is not here: one line now, not a worker's traceback later
    _check_backend(args)
    if args.backend == "ray":
        from azero.arena.ray_backend import cluster_cpus, connect

        workers = args.workers or cluster_cpus(connect(args.address))
    else:
        workers = args.workers or default_workers()
    def announce(planned) -> None:
        print(f"arena: {kind.rule} {kind.size}x{kind.size}, {len(specs) + bool(args.candidate)} players, "
              f"{planned.scheduled} games ({planned.already_played} already stored), {workers} "
              f"{'Ray tasks at once' if args.backend == 'ray' else 'workers'}, database {args.db}",
              file=sys.stderr, flush=True)

    summary = run_tournament(args.db, specs, kind, args.games, candidate=args.candidate, workers=workers,
                             opening_stones=args.opening_stones, opening_seed=args.opening_seed, openings=openings,
                             turn_ms=args.turn_ms, device=args.device, progress=not args.no_progress,
                             announce=announce, backend=args.backend, address=args.address)
    endings = ", ".join(f"{n} {reason}" for reason, n in sorted(summary.reasons.items())) or "none"
    others = ""
    if summary.left_to_others and summary.others_stored == summary.left_to_others:
        others = f"; {summary.left_to_others} were played by another process"
    elif summary.left_to_others:
        others = (f"; {summary.left_to_others} were left to another process on this database "
                  f"({summary.others_stored} of them stored so far)")
    print(f"stored {summary.played} games this time (endings: {endings}); {summary.already_played} of "
          f"{summary.scheduled} were already stored{others}", file=sys.stderr)
    if summary.interrupted:
        print("interrupted: every finished game is stored; run the same command again to play the rest",
              file=sys.stderr)
    with _open_arena(args.db) as store:
        try:
            _print_ratings(store, kind, args.anchor)
        except ArenaError as error:
            print(f"no ratings table: {error}", file=sys.stderr)
    if summary.interrupted:
        raise KeyboardInterrupt


def run_arena_ratings(args: argparse.Namespace) -> None:
    from azero.arena.report import pick_kind

    with _open_arena(args.db, reading=True) as store:
        if store.read_only:
            print(f"note: {args.db} is read-only: the ratings are shown, not kept in it", file=sys.stderr)
        _print_ratings(store, pick_kind(store, args.rule, args.size, args.n_in_row), args.anchor, args.anchor_elo, args.json)


def run_arena_plot(args: argparse.Namespace) -> None:
    from azero.arena.report import pick_kind, plot_elo, rate, resolve_anchor

    with _open_arena(args.db, reading=True) as store:
        kind = pick_kind(store, args.rule, args.size, args.n_in_row)
        anchor = resolve_anchor(store, kind, args.anchor)
        path = plot_elo(store, rate(store, kind, anchor, save=False), kind, args.out, run=args.run, anchor=anchor)
    print(f"wrote {path}")


def run_arena_card(args: argparse.Namespace) -> None:
    from azero.arena.card import write_card

    with _open_arena(args.db):  # a clear error for a missing or foreign database
        pass
    print(f"wrote {write_card(args.db, args.checkpoints, args.out, args.readme)}")


def run_arena_export(args: argparse.Namespace) -> None:
    from azero.arena.report import export_pgn, pick_kind

    with _open_arena(args.db, reading=True) as store:
        kind = pick_kind(store, args.rule, args.size, args.n_in_row) if (args.rule or args.size or args.n_in_row) else None
        count = export_pgn(store, args.out, kind)
    if args.out != "-":
        print(f"wrote {count} games to {args.out}", file=sys.stderr)


def run_play(args: argparse.Namespace) -> None:
    from azero.play.app import run

    run(args)


def run_review(args: argparse.Namespace) -> None:
    from azero.play.review_command import run

    run(args)


def run_pbrain(args: argparse.Namespace) -> None:
    from azero.pbrain.main import run

    code = run(args, prog="azero pbrain")
    if code:
        raise SystemExit(code)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except (CommandError, ValueError, OSError) as error:
        print(f"azero {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("azero: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
