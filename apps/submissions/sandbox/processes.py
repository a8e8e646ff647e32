"""Watching the processes of one sandbox run from outside: their number, memory and CPU time, and the bytes they
wrote. Read from /proc, so it works without privileges and without cgroups."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    processes: int
    rss_bytes: int
    cpu_seconds: float


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return raw[raw.rfind(")") + 2 :].split()


def descendants(root: int) -> list[int]:
    """Every live process below `root` (inclusive). Orphans of a sandbox are re-parented to its pid namespace's
    init, itself below the bubblewrap process, so nothing a run starts escapes this walk."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def usage(pids: Iterable[int]) -> Usage:
    """Total resident memory and CPU time (including reaped children) of these processes."""
    count, rss, ticks = 0, 0, 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is None:
            continue
        count += 1
        # Fields after the name, 0-based: utime 11, stime 12, cutime 13, cstime 14, rss (pages) 21.
        ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))
        rss += int(fields[21]) * _PAGE
    return Usage(processes=count, rss_bytes=rss, cpu_seconds=ticks / _TICKS)


def tree_bytes(*roots: Path) -> int:
    """Bytes allocated on disk under these folders (without following links), as `du` counts them."""
    total = 0
    for root in roots:
        for folder, dirs, files in os.walk(root):
            for name in (*dirs, *files):
                try:
                    total += os.lstat(os.path.join(folder, name)).st_blocks * 512
                except OSError:
                    continue
    return total
