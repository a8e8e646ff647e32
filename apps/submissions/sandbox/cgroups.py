"""A pids cgroup per sandbox run, where the worker may create one: a hard cap on the number of processes that
holds even for a worker running as root (for whom RLIMIT_NPROC does not count). Where cgroups are not writable
the watchdog's process count is the cap."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
_V1_ROOT = Path("/sys/fs/cgroup/pids")
_V2_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class PidsCgroup:
    path: Path

    @classmethod
    def create(cls, name: str, max_pids: int) -> PidsCgroup | None:
        """A new cgroup limited to `max_pids` tasks, or None where this process may not make one."""
        for root in (_V1_ROOT, _V2_ROOT):
            if not (root / "cgroup.procs").exists() or not os.access(root, os.W_OK):
                continue
            if root == _V2_ROOT and "pids" not in _read(root / "cgroup.subtree_control"):
                continue
            path = root / f"dataperf-sandbox-{name}"
            try:
                path.mkdir()
                (path / "pids.max").write_text(str(max_pids))
            except OSError as exc:
                log.debug("no pids cgroup under %s: %s", root, exc)
                shutil.rmtree(path, ignore_errors=True)
                continue
            return cls(path)
        return None

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def hit_limit(self) -> bool:
        """Whether a fork was refused because of the cap (the kernel counts those in pids.events)."""
        events = _read(self.path / "pids.events")
        return any(line.startswith("max ") and line.split()[1] != "0" for line in events.splitlines())

    def remove(self) -> None:
        """Kill whatever is left in the group (a fork bomb's last children) and delete it."""
        for _ in range(50):
            pids = [int(pid) for pid in _read(self.path / "cgroup.procs").split()]
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
            try:
                self.path.rmdir()
                return
            except OSError as exc:
                last = exc
            time.sleep(0.1)
        log.warning("could not remove %s: %s", self.path, last)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
