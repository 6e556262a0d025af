"""The window, driven headless through posted pygame events: clicks, keys, the AI's replies, saves, ratings."""

import os
import time

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402
from tiny_nets import tiny_checkpoint  # noqa: E402

from azero.arena.store import ArenaStore  # noqa: E402
from azero.model.evaluator import UniformEvaluator  # noqa: E402
from azero.play.choices import Choices, bot_variants, checkpoint_variant  # noqa: E402
from azero.play.session import PlaySession  # noqa: E402
from azero.play.window import Thinker, Window  # noqa: E402
from azero.players.factory import make_player  # noqa: E402
from azero.players.network import NetPlayer  # noqa: E402
from azero.players.simple import HeuristicPlayer  # noqa: E402
from games import coords  # noqa: E402
from games.constants import BLACK, WHITE  # noqa: E402
from games.gomoku import Gomoku  # noqa: E402


def open_window(tmp_path, size=9, rule="freestyle", human=BLACK, make=None, db=True, variants=None,
                save_format="sgf"):
    """A window against the heuristic bot (or the variants given), whose players ``make`` builds from specs."""
    variants = variants or bot_variants("heuristic", rule, size)
    choices = Choices(variants, side=human)
    choices.start(choices.find(rule, size))
    session = PlaySession(size=size, rule=rule, human=human, human_name="tester", ai_spec=choices.opponent_spec(),
                          db_path=str(tmp_path / "arena.sqlite") if db else None)
    seeds = iter(range(100))
    make = make or (lambda spec: make_player(spec, seed=next(seeds)))
    return Window(session, Thinker(make), choices, save_dir=tmp_path / "saves", save_format=save_format)


def click(window, notation):
    move = coords.from_notation(notation, window.session.size)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=window.geometry.centre(move)))
    window.tick()


def key(window, name, mod=0):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(name), mod=mod))
    window.tick()


def settle(window, until, seconds=60.0):
    """Tick until ``until()`` holds (the AI thinks on its own thread)."""
    deadline = time.time() + seconds
    while not until():
        assert time.time() < deadline, f"timed out; status: {window.status}"
        window.tick()
        time.sleep(0.01)


def test_a_click_plays_the_ai_answers_and_undo_takes_both_back(tmp_path):
    window = open_window(tmp_path)
    try:
        click(window, "e5")
        settle(window, lambda: len(window.session.game.moves) == 2)
        game = window.session.game
        assert game.moves[0] == coords.from_notation("e5", 9) and game.to_move == BLACK
        assert "played" in window.status and "your move" in window.status
        click(window, "e5")  # taken
        assert "taken" in window.status and len(game.moves) == 2
        key(window, "u")
        assert window.session.game.moves == [] and "took back 2" in window.status
    finally:
        window.close()


def test_a_finished_game_is_rated_and_can_be_saved_and_loaded(tmp_path):
    window = open_window(tmp_path, size=7)
    helper = HeuristicPlayer(9)
    try:
        while not window.session.over:
            settle(window, lambda: window.session.over or window.session.human_to_move)
            if window.session.over:
                break
            move = helper.choose_moves([window.session.game])[0]
            click(window, coords.to_notation(move, 7))
        assert window.session.result_text()
        with ArenaStore(tmp_path / "arena.sqlite") as store:
            games = store.games()
        assert len(games) == 1 and games[0].black == "human:tester" and games[0].white == "heuristic"
        assert games[0].moves.split() == [coords.to_notation(m, 7) for m in window.session.game.moves]
        key(window, "s", mod=pygame.KMOD_CTRL)
        saved = list((tmp_path / "saves").glob("*.sgf"))
        assert len(saved) == 1 and "saved" in window.status
        moves = list(window.session.game.moves)
        key(window, "n")
        assert window.session.game.moves == []
        key(window, "l")
        assert window.session.game.moves == moves and "loaded" in window.status
        with ArenaStore(tmp_path / "arena.sqlite") as store:
            assert len(store.games()) == 1  # a loaded game is not rated twice
    finally:
        window.close()


def test_resigning_is_a_rated_loss(tmp_path):
    window = open_window(tmp_path)
    try:
        click(window, "e5")
        settle(window, lambda: window.session.human_to_move)
        key(window, "r")
        assert window.session.over and "AI wins" in window.status
        with ArenaStore(tmp_path / "arena.sqlite") as store:
            (game,) = store.games()
        assert (game.result, game.reason) == ("white", "resign")
    finally:
        window.close()


def test_a_forbidden_click_in_renju_is_explained_and_refused(tmp_path):
    window = open_window(tmp_path, size=15, rule="renju", db=False)
    session = window.session
    try:
        # Two open twos crossing at h8: h8 would make two open threes at once.
        for black, white in (("h9", "a1"), ("h10", "a3"), ("f8", "a5"), ("g8", "a7")):
            session.play(coords.from_notation(black, 15))
            session.play(coords.from_notation(white, 15))
        window.tick()
        assert coords.from_notation("h8", 15) in session.game.forbidden_moves()
        click(window, "h8")
        assert "h8 is forbidden to black in renju: a double three" in window.status
        assert len(session.game.moves) == 8
    finally:
        window.close()


def test_hint_swap_and_the_analysis_overlays_with_a_network(tmp_path):
    net = NetPlayer(UniformEvaluator(), 48)
    window = open_window(tmp_path, make=lambda spec: net, db=False)
    try:
        click(window, "e5")
        settle(window, lambda: window.session.human_to_move)
        key(window, "h")
        settle(window, lambda: window.overlay.hint is not None)
        assert "hint" in window.status and window.session.game.board[window.overlay.hint] == 0
        key(window, "p")
        key(window, "v")
        key(window, "m")
        assert window.overlay.heat is not None and window.overlay.line and window.overlay.numbers
        assert window.session.black_win_rates[-1] is not None
        key(window, "s")  # swap: you are white now, and the AI moves for black
        settle(window, lambda: window.session.human_to_move)
        assert window.session.human == WHITE and window.session.game.to_move == WHITE
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        window.tick()
        assert not window.running
    finally:
        window.close()


def test_watch_mode_plays_a_whole_game_without_a_person(tmp_path):
    window = open_window(tmp_path, size=7, human=None)
    try:
        settle(window, lambda: window.session.over, seconds=60)
        with ArenaStore(tmp_path / "arena.sqlite") as store:
            assert store.games() == []  # only people's games are rated from the window
    finally:
        window.close()


def test_screenshot_command_renders_a_position(tmp_path):
    from azero.cli import main

    out = tmp_path / "shot.png"
    assert main(["play", "--opponent", "heuristic", "--size", "15", "--screenshot", str(out),
                 "--moves", "h8,i9,j8", "--numbers"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["play", "--opponent", "heuristic", "--screenshot", str(out), "--moves", "h8,h8"]) == 2
    # A bare position needs no AI, even where no checkpoint plays that game.
    assert main(["play", "--size", "15", "--rule", "renju", "--screenshot", str(out), "--moves", "h8"]) == 0


@pytest.mark.parametrize("bad", [["--opponent", "human:x"], ["--opponent", "pure:0"], ["--sims", "0", "--checkpoint", "x"],
                                 ["--opponent", "heuristic", "--white-opponent", "random", "--analyse"],
                                 ["--opponent", "heuristic", "--analyse"], ["--seconds", "-1"]])
def test_bad_play_options_are_one_line(bad, capsys):
    from azero.cli import main

    assert main(["play", *bad, "--screenshot", "x.png"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    """Tiny networks for two games: 9x9 freestyle and 15x15 renju."""
    folder = tmp_path_factory.mktemp("nets")
    return {"gomoku9": tiny_checkpoint(folder / "gomoku9.safetensors", size=9, n_in_row=5),
            "renju15": tiny_checkpoint(folder / "renju15.safetensors", size=15, n_in_row=5, rule="renju", seed=1)}


def test_the_game_and_side_chosen_in_the_window_start_at_new_game_and_strength_at_once(tmp_path, nets):
    variants = [checkpoint_variant(f"az:{nets['gomoku9']}"), checkpoint_variant(f"az:{nets['renju15']}")]
    window = open_window(tmp_path, variants=variants)
    session = window.session
    try:
        click(window, "e5")
        settle(window, lambda: session.human_to_move)
        key(window, "g")
        key(window, "c")
        # Nothing changes under a game in progress: the choice waits for New game, and the panel says so.
        assert (session.size, session.rule, session.human, len(session.game.moves)) == (9, "freestyle", BLACK, 2)
        assert window.choices.pending and "press New game" in window.status
        key(window, "n")
        assert (session.size, session.rule, session.human) == (15, "renju", WHITE)
        assert window.geometry.size == 15 and not window.choices.pending
        settle(window, lambda: session.human_to_move)  # the AI opened as black
        assert len(session.game.moves) == 1 and window.analysis is not None
        assert session.ai_spec == f"az:{nets['renju15']}:sims=200"
        key(window, "=")  # stronger: medium -> hard, from the AI's next move
        assert session.ai_spec == f"az:{nets['renju15']}:sims=800" and "800 simulations" in window.status
        key(window, "h")  # a hint comes from the AI at its new strength
        settle(window, lambda: window.overlay.hint is not None)
        assert f"az:{nets['renju15']}:sims=800" in window.thinker.players
        key(window, "r")
        assert session.over and "not rated: the strength changed during the game" in window.status
        with ArenaStore(tmp_path / "arena.sqlite") as store:
            assert store.games() == []  # the first game was abandoned by New game, the second is unrated
    finally:
        window.close()


def test_load_switches_to_the_ai_for_the_saved_game_and_refuses_a_game_nobody_here_plays(tmp_path):
    from games.records import GameRecord, save_record

    window = open_window(tmp_path, save_format="psq", db=False)  # the heuristic bot: every rule on 9x9 and 15x15
    session = window.session
    try:
        click(window, "e5")
        settle(window, lambda: session.human_to_move)
        key(window, "s", mod=pygame.KMOD_CTRL)
        (saved,) = (tmp_path / "saves").glob("*.psq")
        big = Gomoku.from_moves([coords.from_notation(m, 15) for m in ("h8", "i9", "j8")], 15, "standard")
        save_record(GameRecord.from_game(big), tmp_path / "saves" / "later.sgf")
        key(window, "l")  # the newest save: a 15x15 standard game
        assert (session.size, session.rule, session.game.moves) == (15, "standard", big.moves)
        assert window.geometry.size == 15 and window.choices.current.title == "standard 15x15"
        settle(window, lambda: session.human_to_move)  # white to move: the AI, then the person
        odd = Gomoku.from_moves([coords.from_notation("f6", 12)], 12, "freestyle")
        save_record(GameRecord.from_game(odd), tmp_path / "saves" / "latest.sgf")
        before = list(session.game.moves)
        key(window, "l")
        assert "no AI here plays freestyle 12x12" in window.status and session.game.moves == before
        (tmp_path / "saves" / "latest.sgf").unlink()
        (tmp_path / "saves" / "later.sgf").unlink()
        key(window, "l")  # the PSQ: read with the rules of the game on the board
        assert session.size == 9 and len(session.game.moves) == 2
    finally:
        window.close()


def test_the_shipped_checkpoints_are_the_default_and_a_screenshot_can_show_the_ais_analysis(tmp_path, nets,
                                                                                        monkeypatch, capsys):
    from azero.cli import main
    from azero.model import shipped as shipped_catalogue

    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "gomoku9.safetensors").write_bytes(nets["gomoku9"].read_bytes())
    monkeypatch.setattr(shipped_catalogue, "SHIPPED_DIR", shipped)
    out = tmp_path / "analysed.png"
    assert main(["play", "--screenshot", str(out), "--moves", "e5,d4", "--analyse", "--sims", "64"]) == 0
    said = capsys.readouterr().out
    assert "for black, win rate" in said and out.read_bytes()[:4] == b"\x89PNG"
    # Where no network plays a game the pattern bot does, so every rule stays playable; it has no analysis.
    assert main(["play", "--size", "15", "--rule", "renju", "--screenshot", str(out), "--analyse"]) == 2
    assert "--analyse needs a network" in capsys.readouterr().err
    assert main(["play", "--size", "12", "--screenshot", str(out), "--analyse"]) == 2
    assert "no AI here plays freestyle 12x12 (offered: freestyle 9x9, freestyle 15x15" in capsys.readouterr().err
    assert main(["play", "--checkpoint", str(nets["renju15"]), "--rule", "freestyle", "--screenshot", str(out)]) == 2
    assert "was trained for renju 15x15, not freestyle 15x15" in capsys.readouterr().err
    monkeypatch.setattr(shipped_catalogue, "SHIPPED_DIR", tmp_path / "nothing")
    assert main(["play", "--screenshot", str(out), "--analyse"]) == 2
    assert "no shipped checkpoints" in capsys.readouterr().err


def test_without_a_screen_play_says_so_instead_of_waiting_forever(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([sys.executable, "-m", "azero.cli", "play", "--opponent", "heuristic", "--no-record"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "azero play: error: no screen to open a window on" in done.stderr


def test_closing_the_window_while_the_ai_thinks_exits_at_once_without_a_traceback(tmp_path):
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import os, time
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        import pygame
        from azero.model.evaluator import UniformEvaluator
        from azero.play.choices import Choices, bot_variants
        from azero.play.session import PlaySession
        from azero.players.network import NetPlayer
        from azero.play.window import Thinker, Window

        choices = Choices(bot_variants("heuristic", "freestyle", 15), side=None)  # watch: the AI moves at once
        session = PlaySession(size=15, human=None, db_path=None)
        slow = NetPlayer(UniformEvaluator(), 10**7, seconds=60.0)  # would think for a minute
        window = Window(session, Thinker(lambda spec: slow), choices)
        while not window.thinker.busy:
            window.tick()
        time.sleep(0.5)  # well inside the search
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        started = time.time()
        window.run()
        print(f"closed in {time.time() - started:.2f} s")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=50, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "closed in" in done.stdout


def test_the_shipped_networks_load_and_a_bare_azero_play_offers_15x15_freestyle_first():
    from azero.cli import build_parser
    from azero.model.checkpoint import read_info
    from azero.model.shipped import SHIPPED, SHIPPED_DIR
    from azero.play.app import choices_from

    shipped = sorted(SHIPPED_DIR.glob("*.safetensors"))
    assert {p.stem for p in shipped} <= set(SHIPPED.values()) and (SHIPPED_DIR / "gomoku15.safetensors").is_file()
    for path in shipped:
        info = read_info(path)
        assert SHIPPED[(info.rule, info.size)] == path.stem and path.stat().st_size < 20 * 2**20
    choices = choices_from(build_parser().parse_args(["play"]))
    assert choices.current.title == "freestyle 15x15" and choices.current.is_network
    game = Gomoku.from_moves([coords.from_notation(m, 15) for m in ("h8", "i9", "h9")], 15, "freestyle")
    move = make_player(choices.spec_for(game.to_move)).choose_moves([game])[0]
    assert move in game.legal_moves()


# -- issue 19: the window on a busy laptop, live analysis, teaching, review -------------------------------------

def test_play_gives_the_network_half_the_cores_not_every_core(tmp_path, monkeypatch):
    """torch's default (a thread per core) made the AI's moves 20-40x slower beside one busy program."""
    import torch

    from azero.cli import main
    from azero.play import window as window_module
    from azero.play.app import network_threads

    assert network_threads(None, cores=2) == 1 and network_threads(None, cores=8) == 4
    assert network_threads(None, cores=64) == 4 and network_threads(3, cores=2) == 3
    before = torch.get_num_threads()
    monkeypatch.setattr(window_module.Window, "run", lambda self: self.close())
    try:
        torch.set_num_threads(2)
        assert main(["play", "--opponent", "heuristic", "--no-record", "--threads", "1"]) == 0
        assert torch.get_num_threads() == 1
        assert main(["play", "--opponent", "heuristic", "--no-record", "--threads", "0"]) == 2
    finally:
        torch.set_num_threads(before)


def test_closing_during_a_torch_search_stops_the_search_and_exits_cleanly(tmp_path):
    """Closing mid-search used to abort the process (exit 134): its thread was still inside torch at exit."""
    import subprocess
    import sys
    import textwrap

    net = tiny_checkpoint(tmp_path / "tiny9.safetensors", size=9, n_in_row=5)
    script = textwrap.dedent(f"""
        import os, time
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        import pygame
        from azero.play.choices import Choices, checkpoint_variant
        from azero.play.session import PlaySession
        from azero.players.factory import make_player
        from azero.play.window import Thinker, Window

        # Thinking by the clock for a minute (a fixed count that large would first allocate gigabytes of tree).
        choices = Choices([checkpoint_variant("az:{net}")], side=None, custom=(20000, 60.0))
        session = PlaySession(size=9, human=None, db_path=None)
        window = Window(session, Thinker(make_player), choices)
        while not window.thinker.busy:
            window.tick()
        time.sleep(1.0)  # well inside a search of a minute
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        started = time.time()
        window.run()
        print(f"closed in {{time.time() - started:.2f}} s; thread alive: {{window.thinker.alive}}")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "thread alive: False" in done.stdout and "Traceback" not in done.stderr


def test_the_title_and_panel_name_the_strength_the_ai_plays_at(tmp_path, nets):
    window = open_window(tmp_path, variants=[checkpoint_variant(f"az:{nets['gomoku9']}")], db=False)
    try:
        assert pygame.display.get_caption()[0] == "azero: gomoku9@200"  # medium; the arena's default is 400
        assert window.choices.strength_text().startswith("medium: 200 simulations")
        key(window, "=")
        assert pygame.display.get_caption()[0] == "azero: gomoku9@800" and window.ai_name == "gomoku9@800"
    finally:
        window.close()


def test_a_first_game_against_a_network_on_a_new_board_is_rated_out_of_the_box(tmp_path, nets, capsys):
    from azero.cli import main

    db = tmp_path / "arena.sqlite"
    game = Gomoku.from_moves([coords.from_notation(m, 9) for m in ("e5", "a1", "e6", "a2", "e4", "a3", "e3", "a4",
                                                                    "e7")], 9, "freestyle")
    with ArenaStore(db) as store:
        store.record_played("human:tester", f"az:{nets['gomoku9']}:sims=200", game, reason="five", winner=BLACK)
    assert main(["arena", "ratings", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "gomoku9@200 fixed at 0" in out and "human:tester" in out  # no heuristic games: the network anchors
    assert main(["arena", "ratings", "--db", str(db), "--anchor", "heuristic"]) == 2  # asked for by name: refused
    assert "the anchor 'heuristic' has no freestyle 9x9 games" in capsys.readouterr().err


def test_policy_map_and_line_show_on_the_persons_turn_without_a_hint(tmp_path):
    net = NetPlayer(UniformEvaluator(), 48)
    variants = [checkpoint_variant(f"az:{tiny_checkpoint(tmp_path / 'n9.safetensors', size=9, n_in_row=5)}")]
    window = open_window(tmp_path, variants=variants, make=lambda spec: net, db=False)
    try:
        click(window, "e5")
        settle(window, lambda: window.session.human_to_move)
        key(window, "p")
        key(window, "v")
        settle(window, lambda: window.overlay.heat is not None and window.overlay.line)
        assert window.analysis_at == len(window.session.game.moves)
    finally:
        window.close()


def test_long_status_lines_wrap_inside_the_panel():
    from azero.play.window import PANEL, wrap

    pygame.font.init()
    font = pygame.font.Font(None, 20)
    text = "f6 was a blunder: your win rate fell from 62% to 3%; e5 (ringed) was better. U takes your move back"
    lines = wrap(font, text, PANEL - 32, max_lines=6)
    assert len(lines) > 1 and " ".join(lines) == text
    assert all(font.size(line)[0] <= PANEL - 32 for line in lines)
    assert wrap(font, "x" * 300, 100, max_lines=9) and all(font.size(line)[0] <= 100 for line in wrap(font, "x" * 300, 100))


@pytest.mark.parametrize("size", [7, 9, 15, 19])
def test_coordinates_stay_clear_of_a_stone_in_the_corner(size):
    from azero.play.board_view import BoardGeometry

    pygame.font.init()
    g = BoardGeometry.fit(size, 720)
    font = pygame.font.Font(None, g.label_font_size())
    half_height = font.size("15")[1] / 2
    half_width = font.size(str(size))[0] / 2
    stone_edge = g.margin - g.stone_radius  # a stone on the first line reaches this close to the board's edge
    assert g.label_offset + max(half_height, half_width) < stone_edge
    assert g.pixels <= 720


def test_the_idle_window_draws_nothing(tmp_path):
    window = open_window(tmp_path, db=False)
    try:
        window.tick()
        drawn = window.frames
        for _ in range(20):
            window.tick()
        assert window.frames == drawn
        key(window, "m")  # something changed: it draws again
        assert window.frames == drawn + 1
    finally:
        window.close()


def test_every_key_is_in_the_readmes_key_table_and_escape_quits(tmp_path):
    from pathlib import Path

    from azero.play.window import KEYS

    readme = Path(__file__).resolve().parent.parent.joinpath("README.md").read_text()
    table = readme[readme.index("| control | key |"):]
    rows = table[:table.index("\n\n")].splitlines()[2:]
    documented = {k.strip() for row in rows for k in row.split("|")[2].replace("/", ",").split(",")}
    shown = {"escape": "Esc", "backspace": "Backspace", "left": "Left", "right": "Right", "home": "Home", "end": "End",
             "up": "Up", "down": "Down", "=": "+", "[+]": "+", "[-]": "-"}
    for name in KEYS:
        assert shown.get(name, name.upper()) in documented, f"{name} is not in the README's key table"
    window = open_window(tmp_path, db=False)
    try:
        key(window, "escape")
        assert not window.running
    finally:
        window.close()


def test_live_analysis_shows_candidates_on_the_persons_turn_and_stops_when_they_move(tmp_path):
    net = NetPlayer(UniformEvaluator(), 48)
    window = open_window(tmp_path, make=lambda spec: net, db=False)
    try:
        key(window, "a")
        assert "needs a network" in window.status  # the heuristic bot has nothing to show
    finally:
        window.close()
    variants = [checkpoint_variant(f"az:{tiny_checkpoint(tmp_path / 'n9.safetensors', size=9, n_in_row=5)}")]
    window = open_window(tmp_path, variants=variants, make=lambda spec: net, db=False)
    try:
        key(window, "a")
        assert window.live_on
        settle(window, lambda: window.overlay.candidates and window.analysis.simulations > 200)
        best, rate, visits = window.overlay.candidates[0]
        assert window.session.game.board[best] == 0 and 0.0 <= rate <= 1.0 and visits > 0
        assert window.analysis.simulations > 48  # it searches on past the AI's own simulations
        click(window, "e5")
        assert not window.thinker.analysing or window.thinker.busy  # the person's move ended the analysis
        settle(window, lambda: window.session.human_to_move)
        settle(window, lambda: window.overlay.candidates and window.analysis_at == 2)  # and it goes on after
        key(window, "a")
        assert not window.live_on
    finally:
        window.close()


def blunder_position():
    """9x9, black to move: white's b2-e2 four must be blocked at f2 (a1 is black's)."""
    game = Gomoku(9, "freestyle")
    for black, white in (("a2", "b2"), ("g9", "c2"), ("i7", "d2"), ("i5", "e2")):
        game.play(coords.from_notation(black, 9))
        game.play(coords.from_notation(white, 9))
    return game


def test_teaching_mode_shows_a_blunder_and_the_better_move_and_undo_takes_it_back(tmp_path):
    net = NetPlayer(UniformEvaluator(), 48)
    variants = [checkpoint_variant(f"az:{tiny_checkpoint(tmp_path / 'n9.safetensors', size=9, n_in_row=5)}")]
    window = open_window(tmp_path, variants=variants, make=lambda spec: net, db=False)
    try:
        window.session.resume(blunder_position())
        key(window, "t")
        click(window, "h8")  # ignores the four
        settle(window, lambda: "blunder" in window.status, seconds=60)
        assert "f2 (ringed) was better" in window.status
        assert window.overlay.better is None or window.overlay.better == coords.from_notation("f2", 9)
        key(window, "u")
        assert len(window.session.game.moves) == 8
        click(window, "f2")  # the block: no lesson
        settle(window, lambda: window.session.human_to_move)
        assert "fine" in window.status and "blunder" not in window.status
    finally:
        window.close()


def test_a_finished_game_is_reviewed_and_stepped_through(tmp_path):
    net = NetPlayer(UniformEvaluator(), 48)
    variants = [checkpoint_variant(f"az:{tiny_checkpoint(tmp_path / 'n9.safetensors', size=9, n_in_row=5)}")]
    window = open_window(tmp_path, variants=variants, make=lambda spec: net, db=False)
    try:
        window.session.resume(blunder_position())
        click(window, "h8")
        settle(window, lambda: window.session.over)  # white completes its five
        settle(window, lambda: window.reviewing, seconds=60)
        review = window.review
        assert len(review.positions) == 11 and review.black_win_rates[-1] == 0.0
        (blunder,) = [m for m in review.mistakes() if m.grade == "blunder"]
        assert (blunder.number, blunder.better) == (9, coords.from_notation("f2", 9))
        assert window.review_at == 10 and "review" in window.status
        key(window, "up")  # the previous mistake
        assert window.review_at == 9 and window.overlay.better == coords.from_notation("f2", 9)
        key(window, "left")
        assert window.review_at == 8
        key(window, "home")
        assert window.review_at == 0
        x, y, w, h = window.graph_rect
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(x + w - 3, y + h // 2)))
        window.tick()
        assert window.review_at == 10
        click(window, "a9")
        assert "reviewing" in window.status and len(window.session.game.moves) == 10
        key(window, "w")
        assert not window.reviewing
    finally:
        window.close()


def test_the_window_loads_the_network_at_once_and_says_when_it_compiles(tmp_path, monkeypatch):
    from games import numba_cache

    monkeypatch.setattr(numba_cache, "compiled", lambda module: False)  # as on the first start after an install
    net = NetPlayer(UniformEvaluator(), 16)
    variants = [checkpoint_variant(f"az:{tiny_checkpoint(tmp_path / 'n9.safetensors', size=9, n_in_row=5)}")]
    window = open_window(tmp_path, variants=variants, make=lambda spec: net, db=False)
    try:
        assert window.status.startswith("loading n9@200 and compiling the search")
        settle(window, lambda: window.status == "your move")
        assert window.thinker.players  # the player was made before the person's first move
    finally:
        window.close()


def test_live_analysis_in_watch_mode_shows_the_ais_search_while_it_plays(tmp_path):
    net = NetPlayer(UniformEvaluator(), 20000)  # long searches: their progress is what live analysis shows
    variants = [checkpoint_variant(f"az:{tiny_checkpoint(tmp_path / 'n9.safetensors', size=9, n_in_row=5)}")]
    window = open_window(tmp_path, variants=variants, human=None, make=lambda spec: net, db=False)
    try:
        key(window, "a")
        settle(window, lambda: window.overlay.candidates and window.thinker.busy)
        assert window.analysis_at == len(window.session.game.moves)  # the position being searched, not the last
    finally:
        window.close()


def test_live_analysis_rests_once_it_has_searched_its_visits(tmp_path, monkeypatch):
    from azero.play import thinker

    monkeypatch.setattr(thinker, "LIVE_MAX_VISITS", 300)
    net = NetPlayer(UniformEvaluator(), 48)
    variants = [checkpoint_variant(f"az:{tiny_checkpoint(tmp_path / 'n9.safetensors', size=9, n_in_row=5)}")]
    window = open_window(tmp_path, variants=variants, make=lambda spec: net, db=False)
    try:
        key(window, "a")
        settle(window, lambda: window.analysis is not None and window.analysis.simulations >= 300)
        time.sleep(0.3)
        window.tick()
        drawn = window.frames
        for _ in range(30):  # nothing more to search: no new answers, no redraws, an idle thinker
            window.tick()
            time.sleep(0.01)
        assert window.frames == drawn and not window.thinker.analysing
    finally:
        window.close()


def test_each_level_shows_its_elo_against_the_pattern_bot_from_the_ratings(tmp_path, nets):
    from azero.arena.level_ratings import level_elos
    from azero.play.choices import LEVELS

    db = tmp_path / "shipped.sqlite"
    base = f"az:{nets['gomoku9']}"
    won = Gomoku.from_moves([coords.from_notation(m, 9) for m in ("e5", "a1", "e6", "a2", "e4", "a3", "e3", "a4",
                                                                   "e7")], 9, "freestyle")
    with ArenaStore(db) as store:
        for game in range(6):  # easy wins 5 of 6 against the pattern bot; hard is never played
            black, white = (f"{base}:sims=32", "heuristic") if game < 5 else ("heuristic", f"{base}:sims=32")
            store.record_played(black, white, won, reason="five", winner=BLACK)
    elos = level_elos(base, LEVELS, db)
    assert set(elos) == {"easy"} and elos["easy"][0] > 0 and elos["easy"][1] > 0
    assert level_elos(base, LEVELS, tmp_path / "missing.sqlite") == {}  # no database: no Elo, no error
    choices = Choices([checkpoint_variant(base)], level="easy")
    choices._elos[base] = elos
    assert choices.strength_text() == f"easy: 32 simulations, Elo {elos['easy'][0]:+.0f} ±{elos['easy'][1]:.0f}"
