"""Where numba keeps compiled kernels: a folder per version of azero's source code.

numba's own on-disk cache (``cache=True``) checks only the file a function is
written in.  A kernel that calls a kernel from another file (the benchmark
calling the renju check, later the search calling the rules) would keep
running the *old* code of its callee after an edit or a ``git pull``, with no
warning.  So the cache goes in a folder named after a hash of every source
file of the project: any edit anywhere starts a fresh, consistent cache.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

PACKAGES = ("games", "azero", "selfplay")
KEEP_VERSIONS = 4  # older cache folders than the newest few are removed


def source_digest(root: Path) -> str:
    """A short hash of the Python sources of the project's packages under ``root``."""
    digest = hashlib.sha256()
    for package in PACKAGES:
        # Every file, subpackages too: the search's kernels live in azero/search/ and call the rules in games/.
        for path in sorted((root / package).rglob("*.py")):
            digest.update(f"{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_base() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "azero" / "numba"


def configure() -> Path | None:
    """Point numba's cache at this source version's folder; returns it (None when left to numba)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None  # the user chose a folder: theirs wins
    from numba.core import config

    base = cache_base()
    folder = base / source_digest(Path(__file__).resolve().parent.parent)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".writable"
        probe.touch()
    except OSError:
        return None  # not writable: numba falls back to its own places
    config.CACHE_DIR = str(folder)
    _forget_old_versions(base, folder)
    return folder


def _forget_old_versions(base: Path, current: Path) -> None:
    try:
        folders = sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in [p for p in folders if p != current][KEEP_VERSIONS - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def compiled(module: str) -> bool:
    """Has this version of the source already compiled kernels of ``module`` ('azero/mcts')? False when unknown.

    The window says "compiling" on a first start after an install or an
    update, instead of leaving a person to wonder why the AI takes a minute.
    """
    from numba.core import config

    package, name = module.split("/")
    folder = Path(config.CACHE_DIR) if config.CACHE_DIR else None
    if folder is None or not folder.is_dir():
        return False
    return any(folder.glob(f"{package}_*/{name}.*.nbi"))
