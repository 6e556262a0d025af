"""checkpoints/RATINGS.md is written from the arena's games and the checkpoints' metadata, never typed."""

from __future__ import annotations

import shutil

import pytest
from tiny_nets import TINY, tiny_checkpoint

from azero.arena.card import reproducing_command, write_card
from azero.arena.store import ArenaStore
from azero.cli import main
from azero.model.checkpoint import CheckpointInfo, save_checkpoint
from azero.model.network import NetConfig, PolicyValueNet
from games.constants import BLACK, DRAW, WHITE

SIZE = 8


def shipped_checkpoint(path, seed=0, **extra):
    """A tiny gomoku8 checkpoint with the training facts a real run records."""
    import torch

    torch.manual_seed(seed)
    config = NetConfig(**TINY)
    info = CheckpointInfo(rule="freestyle", size=SIZE, n_in_row=5, net=config.to_dict(), step=1234, games=5678,
                          positions=91011, extra=extra)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(path, PolicyValueNet(config), info)
    return path


def play(store, first, second, wins=0, draws=0, losses=0):
    """Store games of ``first`` against ``second`` with these results for ``first``, colours alternating."""
    a, b = store.register(first), store.register(second)
    results = [1.0] * wins + [0.5] * draws + [0.0] * losses
    for i, score in enumerate(results):
        black, white = (a, b) if i % 2 == 0 else (b, a)
        first_won = {1.0: True, 0.0: False}.get(score)
        if first_won is None:
            winner = DRAW
        else:
            winner = BLACK if (black is a) == first_won else WHITE
        store.record_game(black=black.id, white=white.id, rule="freestyle", size=SIZE, n_in_row=5, opening=[27],
                          moves=[27, 28], winner=winner, reason="five")


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    directory = tmp_path / "checkpoints"
    path = shipped_checkpoint(directory / "gomoku8.safetensors", seed=1, train_seconds=5400.0,
                              hardware=["2-core AMD EPYC, 2 self-play workers"],
                              command="azero train --preset gomoku8 --run runs/gomoku8")
    previous = shipped_checkpoint(directory / "previous" / "gomoku8-v1.safetensors", seed=2)
    return directory, path, previous


def card_text(directory, db):
    return write_card(db, directory).read_text()


def test_the_card_gives_training_facts_ratings_records_and_targets(shipped, tmp_path):
    directory, path, previous = shipped
    db = tmp_path / "arena.sqlite"
    me = f"az:{path}:sims=400"
    with ArenaStore(db) as store:
        play(store, me, "pure:5000", wins=38, draws=2)
        play(store, me, "heuristic", wins=20, losses=20)
        play(store, me, f"az:{previous}:sims=400", wins=35, losses=5)
        play(store, f"az:{previous}:sims=400", "heuristic", wins=5, losses=35)
    text = card_text(directory, db)
    assert "## gomoku8: freestyle, 8x8" in text
    assert "step 1234, 5,678 self-play games, 91,011 training positions; 1.50 h" in text
    assert "2-core AMD EPYC" in text
    # The tiny net is not the preset's: the command gets the settings that train its shape.
    command = next(line for line in text.splitlines() if line.startswith("- **Reproduce:**"))
    assert command.startswith("- **Reproduce:** `azero train --preset gomoku8 --run runs/gomoku8 ")
    assert "net.channels=8" in command and command.endswith("net.value_head=scalar net.opponent_policy=false`")
    assert "| gomoku8@400 | pure:5000 | 38/2/0 | 97.5% |" in text
    assert "| gomoku8@400 | heuristic | 20/0/20 | 50.0% |" in text
    assert "| ≥95% against `pure:5000` at 400 simulations | 40 | 38/2/0, 97.5% | yes |" in text
    gap_line = next(line for line in text.splitlines() if "above the previous version `gomoku8-v1@400`" in line)
    assert "35/0/5 head to head" in gap_line and gap_line.endswith("| yes |")
    assert "| **gomoku8@400** | +0 |" in text  # level with the anchor: 50% against it
    assert "generated" in text.lower() and "do not edit" in text


def test_the_reproduce_command_names_the_net_settings_its_preset_no_longer_gives():
    preset_net = {"blocks": 4, "channels": 48, "global_pool_every": 2, "head_channels": 32, "value_hidden": 64}
    heads = {"value_head": "wdl", "opponent_policy": True}
    command = "azero train --preset gomoku9 --run runs/g9 selfplay.workers=3"
    assert reproducing_command(command, {**preset_net, **heads}) == command
    assert reproducing_command(command, preset_net) == command + " net.value_head=scalar net.opponent_policy=false"
    wide = "azero train --preset gomoku9 --run runs/g9 net.channels=64"
    assert reproducing_command(wide, {**preset_net, **heads, "channels": 64}) == wide
    gone = "azero train --preset gomoku7 --run runs/g7"
    assert reproducing_command(gone, preset_net) == gone, "a preset that no longer exists: the command as it ran"


def test_targets_need_the_score_and_enough_games(shipped, tmp_path):
    directory, path, _ = shipped
    db = tmp_path / "arena.sqlite"
    with ArenaStore(db) as store:
        play(store, f"az:{path}:sims=400", "pure:5000", wins=37, draws=1, losses=2)  # 93.75% < 95%
        play(store, f"az:{path}:sims=200", "heuristic", wins=10)
    assert "| ≥95% against `pure:5000` at 400 simulations | 40 | 37/1/2, 93.8% | no |" in card_text(directory, db)
    few = tmp_path / "few.sqlite"
    with ArenaStore(few) as store:
        play(store, f"az:{path}:sims=400", "pure:5000", wins=30)
    assert "| 30 | 30/0/0, 100.0% | no (fewer than 40 games) |" in card_text(directory, few)


def test_a_shipped_file_without_games_says_so(shipped, tmp_path):
    directory, _, previous = shipped
    db = tmp_path / "arena.sqlite"
    with ArenaStore(db) as store:
        play(store, f"az:{previous}:sims=400", "heuristic", wins=3)
    text = card_text(directory, db)
    assert "## gomoku8" in text and "No arena games of this file" in text


def test_games_of_an_older_file_under_the_same_name_never_count(shipped, tmp_path):
    directory, path, _ = shipped
    old = shipped_checkpoint(tmp_path / "old" / "gomoku8.safetensors", seed=7)
    db = tmp_path / "arena.sqlite"
    with ArenaStore(db) as store:
        play(store, f"az:{old}:sims=400", "pure:5000", losses=40)
        play(store, f"az:{path}:sims=400", "pure:5000", wins=40)
    text = card_text(directory, db)
    assert "| gomoku8@400 | pure:5000 | 40/0/0 | 100.0% |" in text  # the shipped file takes the plain name
    assert "0/0/40" not in text.split("Games of the shipped")[1].split("Targets")[0]


def test_a_version_moved_to_previous_and_its_successor_are_named_after_where_they_are_now(shipped, tmp_path):
    directory, path, previous = shipped
    db = tmp_path / "arena.sqlite"
    # The first version was rated while it was checkpoints/gomoku8; then it moved to previous/gomoku8-v1
    # and a new file took its name (and, arriving second, got a hash-suffixed label).
    first_version = tmp_path / "then" / "gomoku8.safetensors"
    first_version.parent.mkdir()
    shutil.copy(previous, first_version)
    with ArenaStore(db) as store:
        play(store, f"az:{first_version}:sims=400", "heuristic", wins=10, losses=30)
        play(store, f"az:{path}:sims=400", "heuristic", wins=39, losses=1)
        play(store, f"az:{path}:sims=400", f"az:{previous}:sims=400", wins=36, losses=4)
        assert {p.label for p in store.players()} >= {"gomoku8@400", "gomoku8@400~" + store.players()[2].key[3:11]}
    text = card_text(directory, db)
    assert "| gomoku8@400 | heuristic | 39/0/1 | 97.5% |" in text
    assert "| gomoku8@400 | gomoku8-v1@400 | 36/0/4 | 90.0% |" in text
    assert "| gomoku8-v1@400 |" in text and "~" not in text
    with ArenaStore(db) as store:  # the games are untouched: 40 + 40 + 40
        assert len(store.games("freestyle", SIZE, 5)) == 120
    assert card_text(directory, db) == text  # naming again changes nothing


def test_a_run_s_checkpoints_in_the_database_give_the_elo_plot(shipped, tmp_path):
    directory, path, _ = shipped
    db = tmp_path / "arena.sqlite"
    with ArenaStore(db) as store:
        for step, wins in ((100, 5), (200, 10)):
            checkpoint = tiny_checkpoint(tmp_path / "runs" / "g8" / "checkpoints" / f"step-{step:08d}.safetensors",
                                         size=SIZE, n_in_row=5, seed=step, step=step)
            play(store, f"az:{checkpoint}:sims=100", "heuristic", wins=wins, losses=20 - wins)
        play(store, f"az:{path}:sims=400", "heuristic", wins=30, losses=10)
    text = card_text(directory, db)
    assert "![Elo against training step, gomoku8](elo-gomoku8.png)" in text
    assert (directory / "elo-gomoku8.png").read_bytes().startswith(b"\x89PNG")


def test_the_card_command_writes_the_file_and_refuses_a_missing_database(shipped, tmp_path, capsys):
    directory, path, _ = shipped
    db = tmp_path / "arena.sqlite"
    with ArenaStore(db) as store:
        play(store, f"az:{path}:sims=400", "heuristic", wins=2)
    assert main(["arena", "card", "--db", str(db), "--checkpoints", str(directory)]) == 0
    assert (directory / "RATINGS.md").read_text().startswith("# Ratings of the shipped networks")
    assert main(["arena", "card", "--db", str(tmp_path / "missing.sqlite"), "--checkpoints", str(directory)]) == 2
    assert "no arena database" in capsys.readouterr().err


def test_the_readme_block_gets_the_summary_table_and_plot_and_nothing_else_changes(shipped, tmp_path):
    directory, path, _ = shipped
    db = tmp_path / "arena.sqlite"
    with ArenaStore(db) as store:
        checkpoint = tiny_checkpoint(tmp_path / "runs" / "g8" / "checkpoints" / "step-00000100.safetensors",
                                     size=SIZE, n_in_row=5, step=100)
        play(store, f"az:{checkpoint}:sims=100", "heuristic", wins=5, losses=5)
        play(store, f"az:{path}:sims=400", "pure:5000", wins=40)
        play(store, f"az:{path}:sims=400", "heuristic", wins=20, draws=20)
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nbefore\n<!-- ratings:start (written by azero arena card) -->\nold table\n"
                      "<!-- ratings:end -->\nafter\n")
    assert main(["arena", "card", "--db", str(db), "--checkpoints", str(directory), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# Title\n\nbefore\n<!-- ratings:start") and text.endswith("<!-- ratings:end -->\nafter\n")
    assert "old table" not in text
    row = next(line for line in text.splitlines() if line.startswith("| `gomoku8`"))
    # 1 of 2: pure:5000 is beaten, but the previous version (previous/gomoku8-v1) was never played
    assert "freestyle 8x8 | 1x8 | 5,678 games, 1.50 h |" in row and "at 400 simulations (80 games) | 1 of 2 |" in row
    assert "| ≥200 Elo above the previous version `gomoku8-v1` | 0 | not played head to head | no |" in \
        (directory / "RATINGS.md").read_text()
    assert "![Elo against training step, gomoku8](checkpoints/elo-gomoku8.png)" in text
    assert "[checkpoints/RATINGS.md](checkpoints/RATINGS.md)" in text
    readme.write_text("# no block here\n")
    assert main(["arena", "card", "--db", str(db), "--checkpoints", str(directory), "--readme", str(readme)]) == 2


def test_the_committed_card_describes_the_committed_networks():
    """Swapping a shipped file without playing its games and writing the card again fails here."""
    from azero.arena.store import file_sha256
    from azero.model.shipped import SHIPPED, SHIPPED_DIR

    card = (SHIPPED_DIR / "RATINGS.md").read_text()
    shipped = [SHIPPED_DIR / f"{name}.safetensors" for name in set(SHIPPED.values())]
    assert any(path.is_file() for path in shipped)
    for path in shipped:
        if path.is_file():
            assert f"SHA-256 `{file_sha256(path)[:16]}`" in card, f"{path.name} changed since RATINGS.md was written"
