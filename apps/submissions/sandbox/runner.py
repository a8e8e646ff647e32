"""Run one command in a bubblewrap sandbox with limits, and report what happened.

What the sandbox sees: a read-only /usr (and the /bin, /lib symlinks), the Python interpreter and its
environment (read-only), the code at /sandbox/code and the inputs at /sandbox/input (read-only), an empty
writable /sandbox/output, a private size-limited /tmp, its own /proc and a minimal /dev. No network (only its
own loopback), no other process, no environment variable of the worker. The platform's database, settings,
media and hidden task files are simply not mounted.

Limits, three layers deep: rlimits set by `prlimit` before bubblewrap starts (CPU seconds per process, address
space, file size, processes where the worker is not root, open files, no core dumps), a pids cgroup per run
where the worker may create one, and a watchdog thread that polls the process tree every tenth of a second
(total processes, resident memory, CPU time, bytes written, wall-clock time) and kills the whole run when
any limit is passed.
"""

from __future__ import annotations

import enum
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from apps.submissions.sandbox.cgroups import PidsCgroup
from apps.submissions.sandbox.processes import descendants, tree_bytes, usage

CODE_DIR = "/sandbox/code"
INPUT_DIR = "/sandbox/input"
OUTPUT_DIR = "/sandbox/output"
STDERR_TAIL_BYTES = 4000
_POLL_SECONDS = 0.1
_SYSTEM_LINKS = {"/bin": "usr/bin", "/sbin": "usr/sbin", "/lib": "usr/lib", "/lib64": "usr/lib64"}
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/alternatives", "/etc/ssl/certs")


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds: int = 600
    wall_seconds: int = 900
    memory_bytes: int = 2 * 1024**3
    processes: int = 64
    output_bytes: int = 256 * 1024**2
    tmp_bytes: int = 256 * 1024**2
    open_files: int = 256


class Outcome(enum.StrEnum):
    OK = "ok"
    EXIT_ERROR = "exit-error"
    WALL_TIME = "wall-time"
    CPU_TIME = "cpu-time"
    MEMORY = "memory"
    PROCESSES = "processes"
    OUTPUT_SIZE = "output-size"
    NO_OUTPUT = "no-output"
    BAD_OUTPUT = "bad-output"
    START_FAILED = "start-failed"


@dataclass(frozen=True)
class SandboxRequest:
    argv: Sequence[str]
    code_dir: Path
    input_dir: Path
    output_name: str
    """Where the command writes its artifact, relative to /sandbox/output."""
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SandboxResult:
    outcome: Outcome
    exit_code: int | None
    wall_seconds: float
    cpu_seconds: float
    max_rss_bytes: int
    max_processes: int
    output_bytes: int
    output_path: Path | None
    stderr_tail: str
    detail: str = ""
    """For a participant: what went wrong, in a sentence (empty when the run succeeded)."""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces on this host (a platform fault, not the participant's)."""


def bwrap_path() -> str:
    found = shutil.which(os.environ.get("SANDBOX_BWRAP", "bwrap"))
    if found is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed on this worker")
    return found


def python_mounts() -> list[Path]:
    """The interpreter's installation and the virtual environment (if any): mounted read-only, at their paths."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    return sorted(p for p in paths if p.is_dir())


def sandbox_python() -> str:
    return str(Path(sys.prefix).resolve() / "bin" / "python")


def _bwrap_argv(request: SandboxRequest, scratch: Path) -> list[str]:
    argv = [bwrap_path(), "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"]
    argv += ["--cap-drop", "ALL", "--uid", "65534", "--gid", "65534", "--hostname", "sandbox"]
    argv += ["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    # The private /tmp first: a Python (or code folder) that lives under the host's /tmp is mounted over it.
    argv += ["--size", str(request.limits.tmp_bytes), "--tmpfs", "/tmp"]  # noqa: S108 (its own /tmp)
    for link, target in _SYSTEM_LINKS.items():
        if Path(link).is_symlink():
            argv += ["--symlink", target, link]
        elif Path(link).is_dir():
            argv += ["--ro-bind", link, link]
    for system_file in _SYSTEM_FILES:
        argv += ["--ro-bind-try", system_file, system_file]
    for path in python_mounts():
        argv += ["--ro-bind", str(path), str(path)]
    argv += ["--ro-bind", str(request.code_dir), CODE_DIR, "--ro-bind", str(request.input_dir), INPUT_DIR]
    argv += ["--bind", str(scratch / "output"), OUTPUT_DIR]
    argv += ["--remount-ro", "/"]
    argv += ["--chdir", CODE_DIR, "--clearenv"]
    env = {
        "PATH": f"{Path(sys.prefix).resolve() / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",  # noqa: S108 (inside the sandbox: its private tmpfs)
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        **request.env,
    }
    for name, value in env.items():
        argv += ["--setenv", name, value]
    return [*argv, "--", *request.argv]


def _prlimit_argv(limits: SandboxLimits) -> list[str]:
    argv = ["prlimit", f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 5}", f"--as={limits.memory_bytes}"]
    argv += [f"--fsize={limits.output_bytes}", f"--nofile={limits.open_files}", "--core=0"]
    if os.geteuid() != 0:
        # RLIMIT_NPROC counts every process of the user, the worker's own included.
        own = sum(1 for entry in os.scandir("/proc") if entry.name.isdigit() and _owned(entry.name))
        argv.append(f"--nproc={own + limits.processes + 4}")
    return argv


def _owned(pid: str) -> bool:
    try:
        return os.stat(f"/proc/{pid}").st_uid == os.geteuid()
    except OSError:
        return False


class _Watchdog(threading.Thread):
    """Polls the run's process tree; kills it and names the reason when a limit is passed."""

    def __init__(self, process: subprocess.Popen[bytes], limits: SandboxLimits, scratch: Path) -> None:
        super().__init__(name=f"sandbox-watch-{process.pid}", daemon=True)
        self.process, self.limits, self.scratch = process, limits, scratch
        self.reason: Outcome | None = None
        self.max_rss = self.max_processes = 0
        self.cpu_seconds = 0.0
        self.started = time.monotonic()
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)

    def run(self) -> None:
        # Never poll() the process here: that would reap it, and the main thread's wait4 would find no child.
        while not self._stop_event.wait(_POLL_SECONDS):
            reason = self._check()
            if reason is not None:
                self.reason = reason
                kill_tree(self.process.pid)
                return

    def _check(self) -> Outcome | None:
        pids = descendants(self.process.pid)
        now = usage(pids)
        self.max_rss = max(self.max_rss, now.rss_bytes)
        self.max_processes = max(self.max_processes, now.processes)
        self.cpu_seconds = max(self.cpu_seconds, now.cpu_seconds)
        limits = self.limits
        if now.processes > limits.processes + 3:  # + the stub, prlimit/bwrap and bwrap's namespace init
            return Outcome.PROCESSES
        if now.rss_bytes > limits.memory_bytes:
            return Outcome.MEMORY
        if now.cpu_seconds > limits.cpu_seconds:
            return Outcome.CPU_TIME
        if time.monotonic() - self.started > limits.wall_seconds:
            return Outcome.WALL_TIME
        if tree_bytes(self.scratch / "output") + tree_bytes(self.scratch / "logs") > limits.output_bytes:
            return Outcome.OUTPUT_SIZE
        return None


def kill_tree(root: int) -> None:
    """SIGKILL the run's whole tree. Killing bubblewrap alone would do (its namespace init dies with it, which
    takes every process of the namespace along), but the tree is walked too, in case the kernel is slow."""
    for pid in descendants(root):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue


def run_in_sandbox(request: SandboxRequest, scratch: Path) -> SandboxResult:
    """Run `request.argv` in a fresh sandbox; `scratch` is a new, empty folder of the caller's (the output and
    the logs are written there). Never raises for anything the command does; raises `SandboxUnavailable` when
    the sandbox cannot start at all."""
    for name in ("output", "logs"):
        (scratch / name).mkdir(parents=True, exist_ok=False)
    argv = ["sh", "-c", 'read _ready; exec "$@"', "sandbox-stub", *_prlimit_argv(request.limits)]
    argv += _bwrap_argv(request, scratch)
    cgroup = PidsCgroup.create(uuid.uuid4().hex[:12], request.limits.processes + 3)
    with (scratch / "logs" / "stdout").open("wb") as out, (scratch / "logs" / "stderr").open("wb") as err:
        # The participant's argv runs inside bubblewrap, never through a shell of ours.
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out, stderr=err, start_new_session=True)  # noqa: S603
    watchdog = _Watchdog(process, request.limits, scratch)
    try:
        if cgroup is not None:
            cgroup.add(process.pid)
        assert process.stdin is not None  # noqa: S101 (Popen with stdin=PIPE always sets it)
        process.stdin.write(b"go\n")
        process.stdin.close()
        watchdog.start()
        exit_code = _wait(process, watchdog)
    finally:
        if process.poll() is None:
            kill_tree(process.pid)
            process.wait()
        watchdog.stop()
        if cgroup is not None:
            hit = cgroup.hit_limit()
            cgroup.remove()
    reason = watchdog.reason or (Outcome.PROCESSES if cgroup is not None and hit else None)
    return _result(request, scratch, exit_code, watchdog, reason)


def _wait(process: subprocess.Popen[bytes], watchdog: _Watchdog) -> int:
    """Wait for the run and fold its kernel-measured usage (which includes every reaped process below it) into
    the watchdog's figures, which miss what happened between two polls."""
    _, status, rusage = os.wait4(process.pid, 0)
    process.returncode = exit_code = os.waitstatus_to_exitcode(status)
    watchdog.cpu_seconds = max(watchdog.cpu_seconds, rusage.ru_utime + rusage.ru_stime)
    watchdog.max_rss = max(watchdog.max_rss, rusage.ru_maxrss * 1024)
    return exit_code


def _tail(path: Path, size: int = STDERR_TAIL_BYTES) -> str:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - size))
        return handle.read().decode("utf-8", errors="replace")


_MEMORY_WORDS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "Unable to allocate")
_SPACE_WORDS = ("File too large", "No space left on device")
_FORK_WORDS = ("Resource temporarily unavailable", "Cannot fork", "can't fork")


def _classify(exit_code: int, stderr: str, reason: Outcome | None) -> Outcome:
    if reason is not None:
        return reason
    if exit_code == 0:
        return Outcome.OK
    if stderr.startswith("bwrap:") or "\nbwrap:" in stderr:
        return Outcome.START_FAILED
    signalled = exit_code - 128 if exit_code > 128 else -exit_code if exit_code < 0 else 0
    if signalled == signal.SIGXCPU:
        return Outcome.CPU_TIME
    if signalled == signal.SIGXFSZ or any(word in stderr for word in _SPACE_WORDS):
        return Outcome.OUTPUT_SIZE
    if any(word in stderr for word in _MEMORY_WORDS):
        return Outcome.MEMORY
    if any(word in stderr for word in _FORK_WORDS):
        return Outcome.PROCESSES
    return Outcome.EXIT_ERROR


def _output_problem(path: Path) -> str:
    """Why the output cannot be used ("" when it can): the platform reads it outside the sandbox, so it must be
    regular files and folders only (a link could point at a file of the worker's)."""
    if not os.path.lexists(path):
        return "missing"
    if path.is_symlink():
        return "a symbolic link"
    if path.is_file():
        return ""
    if not path.is_dir():
        return "a special file"
    for folder, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            member = Path(folder) / name
            if member.is_symlink() or not (member.is_file() or member.is_dir()):
                return f"holding {member.relative_to(path)}, which is a link or a special file"
    return ""


_DETAILS = {
    Outcome.WALL_TIME: "it ran longer than the {wall_seconds} s wall-clock limit",
    Outcome.CPU_TIME: "it used more than the {cpu_seconds} s CPU-time limit",
    Outcome.MEMORY: "it used more than the {memory_mb} MB memory limit",
    Outcome.PROCESSES: "it started more than the {processes} processes allowed",
    Outcome.OUTPUT_SIZE: "it wrote more than the {output_mb} MB output limit (or the {tmp_mb} MB of /tmp)",
    Outcome.START_FAILED: "its entry point could not be started",
}


def _result(
    request: SandboxRequest, scratch: Path, exit_code: int, watchdog: _Watchdog, reason: Outcome | None
) -> SandboxResult:
    stderr = _tail(scratch / "logs" / "stderr")
    outcome = _classify(exit_code, stderr, reason)
    output = scratch / "output" / request.output_name
    limits = request.limits
    detail = _DETAILS.get(outcome, "").format(
        wall_seconds=limits.wall_seconds,
        cpu_seconds=limits.cpu_seconds,
        processes=limits.processes,
        memory_mb=limits.memory_bytes // 2**20,
        output_mb=limits.output_bytes // 2**20,
        tmp_mb=limits.tmp_bytes // 2**20,
    )
    if outcome is Outcome.EXIT_ERROR:
        detail = f"it exited with status {exit_code}"
    elif outcome is Outcome.OK and (problem := _output_problem(output)):
        outcome = Outcome.NO_OUTPUT if problem == "missing" else Outcome.BAD_OUTPUT
        detail = f"it finished, but its output {request.output_name!r} is {problem}"
    return SandboxResult(
        outcome=outcome,
        exit_code=exit_code,
        wall_seconds=round(time.monotonic() - watchdog.started, 3),
        cpu_seconds=round(watchdog.cpu_seconds, 3),
        max_rss_bytes=watchdog.max_rss,
        max_processes=watchdog.max_processes,
        output_bytes=tree_bytes(scratch / "output"),
        output_path=output if outcome is Outcome.OK else None,
        stderr_tail=stderr,
        detail=detail,
    )


def sandbox_self_test(scratch: Path) -> str:
    """Run `python -c pass` in the sandbox: "" when it works, else why not (for the system check and the
    worker's start-up log)."""
    try:
        (scratch / "code").mkdir(parents=True)
        (scratch / "input").mkdir()
        request = SandboxRequest(
            argv=[sandbox_python(), "-c", "open('/sandbox/output/ok', 'w').write('ok')"],
            code_dir=scratch / "code",
            input_dir=scratch / "input",
            output_name="ok",
            limits=SandboxLimits(wall_seconds=60),
        )
        result = run_in_sandbox(request, scratch / "run")
    except (SandboxUnavailable, OSError) as exc:
        return str(exc)
    return "" if result.ok else f"{result.outcome}: {result.stderr_tail.strip()[-300:]}"
