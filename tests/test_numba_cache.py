"""Compiled kernels must never outlive an edit of the code they were compiled from."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from games import numba_cache

ROOT = Path(__file__).resolve().parent.parent


def copy_project(tmp_path):
    for package in numba_cache.PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_cache_folder_changes_with_any_source_file(tmp_path):
    root = copy_project(tmp_path)
    before = numba_cache.source_digest(root)
    assert numba_cache.source_digest(root) == before
    with open(root / "games" / "lines.py", "a") as handle:
        handle.write("\n# an edit\n")
    assert numba_cache.source_digest(root) != before


def test_the_cache_folder_changes_with_a_file_in_a_subpackage(tmp_path):
    # The search's kernels (azero/search/) call the rules (games/): an edit there must not meet an old cache either.
    root = copy_project(tmp_path)
    before = numba_cache.source_digest(root)
    with open(root / "azero" / "search" / "mcts.py", "a") as handle:
        handle.write("\n# an edit\n")
    assert numba_cache.source_digest(root) != before


def test_a_users_numba_cache_dir_wins(monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/somewhere/else")
    assert numba_cache.configure() is None


def test_editing_a_callee_in_another_file_recompiles_its_callers(tmp_path):
    """numba alone would keep the playout kernel's cached copy of the old win check."""
    root = copy_project(tmp_path / "project")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(root))
    env.pop("NUMBA_CACHE_DIR", None)
    script = (
        "from games.playout import count_playout_moves, seed_playouts; "
        "seed_playouts(0); print(count_playout_moves(5, 5, 0, 20))"
    )

    def moves_in_twenty_games():
        done = subprocess.run([sys.executable, "-c", script], env=env, cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return int(done.stdout)

    normal = moves_in_twenty_games()
    assert moves_in_twenty_games() == normal  # same code, cached
    lines = root / "games" / "lines.py"
    text = lines.read_text()
    assert "        return length >= n_in_row\n" in text
    lines.write_text(text.replace("        return length >= n_in_row\n", "        return False\n", 1))
    assert moves_in_twenty_games() == 20 * 25  # nobody can win any more: every game fills the 5x5 board
    assert normal < 20 * 25
