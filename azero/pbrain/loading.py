"""Getting the players ready without delaying an answer: checkpoints' headers now, the networks in the background.

Importing torch and loading the networks take seconds, so they run on a
background thread (:class:`BackgroundWork`) while the engine answers ABOUT,
INFO and START at once.  What START needs, the game each checkpoint was
trained for, comes from the files' headers (:func:`checkpoint_game`), read
with neither torch nor onnxruntime, so that a bad command line fails before
the first command is read.

The players are built by :func:`azero.players.network.net_player`, as the
arena and the window build theirs (:func:`network_loader`).  An ONNX
export (``azero export``) runs through onnxruntime, and then torch is never
imported: the process needs about 180 MiB instead of about 355 (15x15).
"""

from __future__ import annotations

import json
import queue
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

from azero.pbrain.clock import DEFAULT_TURN_SECONDS
from azero.pbrain.memory import release_free_memory
from azero.pbrain.protocol import GOMOCUP_N_IN_ROW

# A safetensors file starts with the length of its JSON header; an azero checkpoint's header is a few KiB.
MAX_HEADER_BYTES = 1 << 20
# An ONNX file is a protobuf ModelProto; its metadata_props (field 14) hold the game (azero.model.export).
ONNX_METADATA_FIELD = 14
ONNX_FORMAT = "azero-onnx-1"  # azero.model.onnx_evaluator.FORMAT (that module imports numba: not before ABOUT)
MAX_ONNX_BYTES = 1 << 30
MAX_ONNX_FIELDS = 10_000  # a ModelProto has a dozen top-level fields and an entry per metadata key
_LIGHT_PLAYER_SPEC = re.compile(r"^(random|heuristic|pure:[0-9]+)$")

Players = tuple[Mapping[tuple[str, int], object], object]  # (players by (rule, size), the any-game player)


class BackgroundWork:
    """One worker thread running jobs in order, so that loading and warming up never delay an answer.

    :meth:`wait` blocks until every job submitted so far is done and raises
    the first failure (every later wait raises it again: a network that did
    not load stays unloaded).  The first job waits until :meth:`go` is
    called or ``hold_s`` has passed: importing torch holds Python's global
    lock for long stretches (loading its libraries), which would delay the
    answer to the manager's first command, usually ABOUT.
    """

    def __init__(self, hold_s: float = 0.0):
        self._go = threading.Event()
        self._hold_s = hold_s
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._done = threading.Condition()
        self._pending = 0
        self._failure: BaseException | None = None
        threading.Thread(target=self._work, name="azero-background", daemon=True).start()

    def submit(self, job: Callable[[], None]) -> None:
        with self._done:
            self._pending += 1
        self._jobs.put(job)

    def go(self) -> None:
        """Start the jobs now (the first answer is out)."""
        self._go.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the jobs (at most ``timeout_s``): True when all are done; raises the first failure."""
        self._go.set()  # someone needs the results: no reason to hold back
        deadline = None if timeout_s is None else time.monotonic() + max(0.0, timeout_s)
        with self._done:
            while self._pending:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._done.wait(None if left is None else min(left, 60.0))  # huge INFO times overflow a wait
            if self._failure is not None:
                raise self._failure
        return True

    @property
    def busy(self) -> bool:
        with self._done:
            return self._pending > 0

    def _work(self) -> None:
        self._go.wait(self._hold_s)
        while True:
            job = self._jobs.get()
            try:
                if self._failure is None:
                    job()
            except BaseException as error:  # kept for wait(), which raises it in the engine's thread
                traceback.print_exc(file=sys.stderr)
                self._failure = error
            finally:
                with self._done:
                    self._pending -= 1
                    self._done.notify_all()


# -- what the checkpoints play, from their headers ---------------------------------------------


def checkpoint_game(given: str) -> tuple[Path, str, int, int]:
    """(file, rule, size, n_in_row) of a checkpoint, an ONNX export or a training run's folder, from its header alone.

    Read without torch or onnxruntime, so that the command line is checked
    and START knows the sizes before the networks load; the full check of
    the file happens when it loads.  A file ending ``.onnx`` is an export
    (as :func:`azero.players.network.net_player` decides); any other, a
    safetensors checkpoint.  ValueError says what is wrong.
    """
    path = Path(given)
    if path.is_dir():  # a training run: its latest checkpoint, as azero.model.checkpoint.resolve_checkpoint reads it
        try:
            latest = json.loads((path / "checkpoints" / "latest.json").read_text())
            path = path / "checkpoints" / str(latest["file"])
        except (OSError, ValueError, KeyError, TypeError):
            raise ValueError(f"{given} is a folder but not a training run with a published checkpoint "
                             "(no checkpoints/latest.json); give a .safetensors file") from None
    onnx = path.suffix.lower() == ".onnx"
    try:
        meta = _onnx_metadata(path) if onnx else _safetensors_metadata(path)
        rule, size, n_in_row = meta["rule"], meta["size"], meta["n_in_row"]
        if not (isinstance(rule, str) and isinstance(size, int) and isinstance(n_in_row, int)):
            raise TypeError("rule, size or n_in_row of the wrong type")
    except FileNotFoundError:
        raise ValueError(f"no checkpoint at {path}") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, not a checkpoint file") from None
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        kind = "azero ONNX export" if onnx else "azero checkpoint"
        raise ValueError(f"{path} is not a readable {kind} ({str(error)[:80]})") from None
    return path, rule, size, n_in_row


def _safetensors_metadata(path: Path) -> dict:
    with open(path, "rb") as file:
        length = int.from_bytes(file.read(8), "little")
        if not 0 < length <= MAX_HEADER_BYTES:
            raise ValueError("no safetensors header")
        header = json.loads(file.read(length))
    return json.loads(header["__metadata__"]["azero"])


def _onnx_metadata(path: Path) -> dict:
    """rule, size and n_in_row from an export's ``metadata_props`` (size and n_in_row as ints where they are digits).

    The file is walked field by field (protobuf's wire format), skipping
    the graph without reading it; every length is checked against the file.
    """
    props: dict[str, str] = {}
    with open(path, "rb") as file:
        end = file.seek(0, 2)
        if end > MAX_ONNX_BYTES:
            raise ValueError(f"{end} bytes, too large")
        file.seek(0)
        for _ in range(MAX_ONNX_FIELDS):
            if file.tell() >= end:
                break
            field, wire = divmod(_varint(file), 8)
            if wire == 0:
                _varint(file)
            elif wire in (1, 5):
                file.seek(8 if wire == 1 else 4, 1)
            elif wire == 2:
                length = _varint(file)
                if length > end - file.tell():
                    raise ValueError("a field runs past the end of the file")
                if field == ONNX_METADATA_FIELD:
                    if length > MAX_HEADER_BYTES:
                        raise ValueError("a metadata entry of over 1 MiB")
                    key, value = _string_pair(file.read(length))
                    props[key] = value
                else:
                    file.seek(length, 1)
            else:
                raise ValueError(f"protobuf wire type {wire}: not an ONNX model")
        if file.tell() > end:
            raise ValueError("a field runs past the end of the file")
    if props.get("azero_format") != ONNX_FORMAT:
        raise ValueError(f"no azero metadata (format {ONNX_FORMAT}); export it with 'azero export'")
    number = lambda text: int(text) if text.isascii() and text.isdigit() and len(text) < 10 else text
    return {"rule": props.get("rule"), "size": number(props.get("size", "")),
            "n_in_row": number(props.get("n_in_row", ""))}


def _varint(file) -> int:
    value = 0
    for shift in range(0, 64, 7):
        byte = file.read(1)
        if not byte:
            raise ValueError("the file ends inside a number")
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
    raise ValueError("a number of more than 64 bits")


def _string_pair(entry: bytes) -> tuple[str, str]:
    """(key, value) of an ONNX StringStringEntryProto (fields 1 and 2, both strings)."""
    import io

    stream, found = io.BytesIO(entry), {1: "", 2: ""}
    while stream.tell() < len(entry):
        field, wire = divmod(_varint(stream), 8)
        if wire != 2:
            raise ValueError("a metadata entry that is not two strings")
        length = _varint(stream)
        if length > len(entry) - stream.tell():
            raise ValueError("a metadata entry runs past its end")
        text = stream.read(length).decode("utf-8")
        if field in found:
            found[field] = text
    return found[1], found[2]


# -- building the players -----------------------------------------------------------------------


def light_player_loader(spec: str) -> Callable[[], Players]:
    """The loader of a player without a network (random, heuristic, pure:N); ValueError for another spec."""
    spec_text = spec.strip()
    if not _LIGHT_PLAYER_SPEC.match(spec_text):
        from azero.players.spec import parse_spec  # only on the way to an error message

        parse_spec(spec_text)  # its ValueError names what is wrong
        raise ValueError(f"--player takes random, heuristic or pure:N (networks come with --checkpoint), "
                         f"got {spec!r}")

    def load_player() -> Players:
        from azero.players.factory import make_player

        return {}, make_player(spec_text)

    return load_player


def network_files(checkpoints: list[str]) -> dict[tuple[str, int], Path]:
    """The file of each (rule, size) the checkpoints play, from their headers; ValueError for a bad set."""
    files: dict[tuple[str, int], Path] = {}
    for given in checkpoints:
        path, rule, size, n_in_row = checkpoint_game(given)
        if n_in_row != GOMOCUP_N_IN_ROW:
            raise ValueError(f"{path} was trained for {n_in_row} in a row; the Gomocup protocol plays five")
        if (rule, size) in files:
            raise ValueError(f"two checkpoints for {rule} on {size}x{size} ({files[rule, size]} and {path}); "
                             "give one per size and rule")
        files[rule, size] = path
    return files


def network_loader(files: Mapping[tuple[str, int], Path], simulations: int | None, device: str,
                   threads: int) -> Callable[[], Players]:
    """The loader of a network player for each file, built by :func:`azero.players.network.net_player`.

    Torch is imported only for a safetensors checkpoint: a set of ONNX
    exports runs through onnxruntime on the CPU, whatever ``device`` says,
    and the process never loads torch.
    """
    files = dict(files)

    def load_networks() -> Players:
        from azero.players.network import net_player
        from azero.players.spec import TIME_MODE_MAX_SIMULATIONS

        chosen = "cpu"
        if any(not _is_onnx(path) for path in files.values()):
            import torch

            from azero.model.network import pick_device

            # Batch-one evaluations of a small net: several threads spend more time meeting than convolving (and
            # each thread's pool costs memory).
            torch.set_num_threads(threads)
            chosen = str(pick_device(device))
        # Built as the arena and the window build theirs: the same search for this board.  An export runs on
        # ``threads`` of onnxruntime's (its default, a thread per core, crawls on a busy machine); torch's are set above.
        players = {key: net_player(path, simulations or TIME_MODE_MAX_SIMULATIONS, DEFAULT_TURN_SECONDS,
                                   device=chosen, game=(key[0], key[1], GOMOCUP_N_IN_ROW), name=str(path),
                                   **({"threads": threads} if _is_onnx(path) else {}))
                   for key, path in files.items()}
        release_free_memory()  # the checkpoint's bytes and the unfolded net are garbage now
        return players, None

    return load_networks


def _is_onnx(path: Path) -> bool:
    return path.suffix.lower() == ".onnx"
