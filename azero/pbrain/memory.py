"""INFO ``max_memory``: measuring what the process holds, and sizing the search tree to what is left.

``max_memory`` (c-gomoku-cli sends it after START) bounds the whole
process.  The engine measures its resident memory once the network is
loaded and warmed up (:func:`resident_bytes`, after
:func:`release_free_memory`), and the search tree gets what is left
(:func:`tree_nodes_for_memory`).  A limit below what the process already
needs is said in one MESSAGE (:meth:`TreeMemory.fit`), with the remedy: a
network run by torch needs about 200 MiB more than its ONNX export
(``azero export``) run by onnxruntime, which never imports torch.

Measured on 15x15 (the shipped ``gomoku15``, warmed up, no tree): about
355 MiB with torch, about 180 MiB with the ONNX export (docs/engine.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# A node is 7 int32 and 3 float32 fields, and advance_root copies a kept subtree through scratch arrays of the same
# shape plus an int32 order: 84 bytes a node once both are touched.
TREE_BYTES_PER_NODE = 2 * 4 * (7 + 3) + 4
# Room left beside the tree for what a move allocates and frees (batches, Python objects, torch's buffers): the
# resident size of a 15x15 process rose by under 3 MiB between its warm-up and a 5 s search's peak, tree aside.
TRANSIENT_BYTES = 8 * 2**20
# The tree's arrays are allocated for the worst case (every point near a stone a child of every leaf) but only
# the nodes used become resident; 15x15 searches use 60-145 nodes a simulation against the worst case's 392.  The
# arrays may be this many times the resident budget; the search stops at the budget (MoveBudget.max_nodes).
VIRTUAL_OVER_RESIDENT = 4
# The least tree a move gets, whatever max_memory says: a 5 s move on 15x15 grows about 1,500 simulations of
# 60-145 nodes (10-18 MiB).  Less would play far weaker while saving a few per cent of a process torch dominates.
MIN_TREE_BYTES = 16 * 2**20
# Without /proc (not Linux) the process cannot measure itself: the tree gets this share of max_memory.
UNMEASURED_TREE_SHARE = 0.2
# What importing torch alone adds to a process (measured: 207 MiB); an ONNX export runs without it.
TORCH_BYTES = 200 * 2**20


def tree_nodes_for_memory(max_memory_bytes: int, resident_bytes: int | None) -> int:
    """The most tree nodes that keep the process within ``max_memory_bytes``.

    ``resident_bytes``: what the process holds without a tree (measured
    after the network's warm-up; None where it cannot be measured, and then
    the tree gets :data:`UNMEASURED_TREE_SHARE` of the limit).  0 when
    nothing is left.
    """
    if resident_bytes is None:
        free = UNMEASURED_TREE_SHARE * max_memory_bytes
    else:
        free = max_memory_bytes - resident_bytes - TRANSIENT_BYTES
    return max(0, int(free // TREE_BYTES_PER_NODE))


def simulations_for_nodes(nodes: int, size: int, move_radius: int = 0) -> int:
    """The simulations whose worst-case tree is :data:`VIRTUAL_OVER_RESIDENT` times ``nodes`` (the arrays' size)."""
    from azero.search.searcher import nodes_needed

    nodes_per_simulation = nodes_needed(1, size, move_radius) - nodes_needed(0, size, move_radius)
    return max(0, VIRTUAL_OVER_RESIDENT * nodes // nodes_per_simulation - 2)


def resident_bytes() -> int | None:
    """This process's resident memory (VmRSS) in bytes, None where /proc cannot tell."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def release_free_memory(collect_garbage: bool = True) -> None:
    """Hand the heap's free pages back to the system (glibc keeps what imports and loading freed).

    ``collect_garbage`` first frees Python's unreachable cycles (what loading and warming up leave behind).
    """
    import gc

    if collect_garbage:
        gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: its allocator returns memory by its own rules


def torch_loaded() -> bool:
    """Has this process imported torch (a network run by torch, not by onnxruntime)?"""
    return "torch" in sys.modules


def onnx_hint(player_name: str | None) -> str:
    """How to play without torch: the ONNX export of the player's checkpoint, named where the name is a file."""
    if player_name and player_name.lower().endswith(".safetensors"):
        exported = Path(player_name).with_suffix(".onnx")
        how = (f"play {exported} instead" if exported.is_file()
               else f"export it with 'azero export {player_name}' and play {exported} instead")
    else:
        how = "export the network with 'azero export CHECKPOINT' and play CHECKPOINT.onnx instead"
    return f"torch alone takes about {TORCH_BYTES / 2**20:.0f} MiB of that: {how} (--checkpoint X.onnx runs without torch)"


class TreeMemory:
    """INFO max_memory and what the process holds without a tree; sizes each network player's tree to fit.

    ``measure``: the process's resident bytes now (:func:`resident_bytes`;
    tests replace it).
    """

    def __init__(self, measure=resident_bytes):
        self.measure = measure
        self.max_memory_bytes = 0  # INFO max_memory; 0: no limit
        # Resident bytes without a search tree, measured after each warm-up (None: not yet, or not measurable).
        self.resident_without_tree: int | None = None
        self._noted: int | None = None  # the max_memory last said to be too small

    def measure_without_tree(self, collect_garbage: bool = True) -> None:
        """Measure the process after a warm-up, its free heap handed back first (the tree is gone: see the engine)."""
        release_free_memory(collect_garbage)
        self.resident_without_tree = self.measure()

    def fit(self, wanted_simulations: int, size: int, move_radius: int,
            player_name: str | None = None) -> tuple[int | None, int, str | None]:
        """(the most tree nodes, None for no limit; the simulations the tree's arrays hold; a note or None).

        The tree's arrays are allocated for :data:`VIRTUAL_OVER_RESIDENT`
        times the nodes memory allows (the simulations are capped to that),
        and the search stops at the nodes themselves (``MoveBudget.max_nodes``).
        A limit that leaves less than :data:`MIN_TREE_BYTES` of tree is said
        in the note (once per limit), and the search keeps that much tree
        anyway: without it the engine would play blind and still not fit.
        """
        if self.max_memory_bytes <= 0:
            return None, wanted_simulations, None
        note = None
        max_nodes = tree_nodes_for_memory(self.max_memory_bytes, self.resident_without_tree)
        smallest = MIN_TREE_BYTES // TREE_BYTES_PER_NODE
        if max_nodes < smallest:
            needed = self.resident_without_tree
            if needed is not None and self._noted != self.max_memory_bytes:
                self._noted = self.max_memory_bytes
                note = self.too_small_note(needed, player_name)
            max_nodes = smallest
        return max_nodes, min(wanted_simulations, simulations_for_nodes(max_nodes, size, move_radius)), note

    def too_small_note(self, needed: int, player_name: str | None) -> str:
        """Why ``max_memory`` cannot be kept: what the process needs, and (torch loaded) how to need less."""
        holds = "Python, numba, torch, the network" if torch_loaded() else "Python, numba, onnxruntime, the network"
        note = (f"max_memory {self.max_memory_bytes / 2**20:.0f} MiB is below what azero needs: "
                f"{needed / 2**20:.0f} MiB without a search tree (measured: {holds}), "
                f"{TRANSIENT_BYTES / 2**20:.0f} MiB to search and {MIN_TREE_BYTES / 2**20:.0f} MiB of tree; "
                "it searches with that tree anyway")
        if torch_loaded():
            note += f"; {onnx_hint(player_name)}"
        return note
