"""Processes as the tests see them, read from /proc (Linux): children and session members."""

from pathlib import Path


def _stat_fields():
    """(pid, fields after the command name) of every process, skipping those that vanish meanwhile."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield int(entry.name), (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid``."""
    return [p for p, fields in _stat_fields() if int(fields[1]) == pid]


def session_processes(session: int) -> list[int]:
    """Live processes (zombies are dead) whose session id is ``session``."""
    return [p for p, fields in _stat_fields() if int(fields[3]) == session and fields[0] not in ("Z", "X")]
