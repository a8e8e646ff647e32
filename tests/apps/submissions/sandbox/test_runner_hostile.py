"""Hostile code in the real sandbox: every attack is contained and reported with a clear reason."""

from __future__ import annotations

import dataclasses
import os
import textwrap
import time
from pathlib import Path

import pytest
from django.conf import settings

from apps.submissions.sandbox.runner import (
    Outcome,
    SandboxLimits,
    SandboxRequest,
    SandboxResult,
    run_in_sandbox,
    sandbox_python,
)

pytestmark = pytest.mark.usefixtures("sandbox_ready")

SMALL = SandboxLimits(
    cpu_seconds=3, wall_seconds=6, memory_bytes=512 * 2**20, processes=16, output_bytes=32 * 2**20, tmp_bytes=16 * 2**20
)


def run_code(
    tmp_path: Path, code: str, *, limits: SandboxLimits = SMALL, argv: list[str] | None = None
) -> SandboxResult:
    code_dir, input_dir = tmp_path / "code", tmp_path / "input"
    code_dir.mkdir()
    input_dir.mkdir()
    (code_dir / "main.py").write_text(textwrap.dedent(code))
    (input_dir / "public.txt").write_text("public input\n")
    request = SandboxRequest(
        argv=argv or [sandbox_python(), "main.py"],
        code_dir=code_dir,
        input_dir=input_dir,
        output_name="out.txt",
        limits=limits,
    )
    return run_in_sandbox(request, tmp_path / "run")


def test_an_honest_program_reads_its_inputs_and_writes_its_output(tmp_path: Path) -> None:
    result = run_code(
        tmp_path,
        """
        import os
        text = open(os.path.join("/sandbox/input", "public.txt")).read()
        open("/sandbox/output/out.txt", "w").write(text.upper())
        """,
    )
    assert result.outcome is Outcome.OK, result.stderr_tail
    assert result.output_path is not None
    assert result.output_path.read_text() == "PUBLIC INPUT\n"


def test_it_has_no_network(tmp_path: Path) -> None:
    # PostgreSQL and Redis listen on this host's loopback; the sandbox has a loopback of its own.
    result = run_code(
        tmp_path,
        """
        import socket
        for port in (5432, 6379):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2)
                print("connected", port)
            except OSError as exc:
                print("refused", port, exc)
        socket.getaddrinfo("pypi.org", 443)
        """,
    )
    assert result.outcome is Outcome.EXIT_ERROR
    assert "connected" not in (tmp_path / "run" / "logs" / "stdout").read_text()
    assert "name resolution" in result.stderr_tail or "gaierror" in result.stderr_tail


def test_the_platforms_files_are_not_there(tmp_path: Path) -> None:
    secrets = [settings.TASK_DATA_ROOT, settings.MEDIA_ROOT, settings.VAR_DIR, settings.BASE_DIR / "dataperf_site"]
    database = settings.DATABASES["default"]["NAME"]
    paths = [str(p) for p in secrets] + [str(database)]
    result = run_code(
        tmp_path,
        f"""
        import os
        found = [p for p in {paths!r} if os.path.exists(p)]
        env = [k for k in os.environ if "SECRET" in k or "DATABASE" in k or "BROKER" in k]
        open("/sandbox/output/out.txt", "w").write(repr((found, env)))
        """,
    )
    assert result.outcome is Outcome.OK, result.stderr_tail
    assert result.output_path is not None
    assert result.output_path.read_text() == "([], [])"


def test_it_cannot_write_outside_its_output_and_tmp(tmp_path: Path) -> None:
    result = run_code(
        tmp_path,
        """
        import os
        outcomes = []
        for path in ("/sandbox/code/x", "/sandbox/input/x", "/usr/x", "/x", "/etc/x"):
            try:
                open(path, "w").write("x")
                outcomes.append("wrote " + path)
            except OSError as exc:
                outcomes.append(type(exc).__name__)
        open("/tmp/scratch", "w").write("fine")
        open("/sandbox/output/out.txt", "w").write(" ".join(outcomes))
        """,
    )
    assert result.output_path is not None
    assert "wrote" not in result.output_path.read_text()
    assert sorted(p.name for p in (tmp_path / "code").iterdir()) == ["main.py"]


def test_a_fork_bomb_is_stopped_at_the_process_limit(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_code(tmp_path, "import os\nwhile True:\n    os.fork()\n")
    assert result.outcome is Outcome.PROCESSES
    assert "16 processes" in result.detail
    assert time.monotonic() - started < 30
    assert not _leftover_processes(tmp_path)


def test_a_shell_fork_bomb_is_stopped_too(tmp_path: Path) -> None:
    result = run_code(tmp_path, "", argv=["sh", "-c", "f(){ f|f& }; f; sleep 5"])
    assert result.outcome is Outcome.PROCESSES
    assert not _leftover_processes(tmp_path)


def test_a_memory_bomb_is_stopped_at_the_memory_limit(tmp_path: Path) -> None:
    result = run_code(tmp_path, "x = []\nwhile True:\n    x.append(bytearray(32 * 1024 * 1024))\n")
    assert result.outcome is Outcome.MEMORY
    assert "512 MB memory limit" in result.detail


def test_an_endless_loop_is_stopped_at_the_cpu_limit(tmp_path: Path) -> None:
    # A wall-clock limit far above the CPU one: on a loaded machine the loop gets a fraction of a core.
    limits = dataclasses.replace(SMALL, wall_seconds=60)
    result = run_code(tmp_path, "while True:\n    pass\n", limits=limits)
    assert result.outcome is Outcome.CPU_TIME
    assert "3 s CPU-time limit" in result.detail


def test_a_sleeper_is_stopped_at_the_wall_clock_limit(tmp_path: Path) -> None:
    result = run_code(tmp_path, "import time\ntime.sleep(600)\n")
    assert result.outcome is Outcome.WALL_TIME
    assert 5 < result.wall_seconds < 20


def test_a_gigabyte_of_output_is_stopped_at_the_output_limit(tmp_path: Path) -> None:
    result = run_code(
        tmp_path,
        """
        block = b"0" * (1024 * 1024)
        with open("/sandbox/output/out.txt", "wb") as out:
            for _ in range(1024):
                out.write(block)
        """,
    )
    assert result.outcome is Outcome.OUTPUT_SIZE
    assert sum(f.stat().st_size for f in (tmp_path / "run" / "output").rglob("*") if f.is_file()) <= 32 * 2**20


def test_many_output_files_are_stopped_at_the_output_limit_too(tmp_path: Path) -> None:
    result = run_code(
        tmp_path,
        """
        block = b"0" * (1024 * 1024)
        for i in range(100):
            with open(f"/sandbox/output/part{i}", "wb") as out:
                for _ in range(8):
                    out.write(block)
        """,
    )
    assert result.outcome is Outcome.OUTPUT_SIZE


def test_filling_tmp_is_stopped(tmp_path: Path) -> None:
    result = run_code(tmp_path, "open('/tmp/fill', 'wb').write(b'0' * (64 * 1024 * 1024))\n")
    assert result.outcome is Outcome.OUTPUT_SIZE


def test_an_output_that_is_a_link_is_refused(tmp_path: Path) -> None:
    # Read outside the sandbox, a link would point into the worker's own files.
    result = run_code(tmp_path, "import os\nos.symlink('/etc/passwd', '/sandbox/output/out.txt')\n")
    assert result.outcome is Outcome.BAD_OUTPUT
    assert result.output_path is None
    assert "symbolic link" in result.detail


def test_a_missing_output_is_reported(tmp_path: Path) -> None:
    result = run_code(tmp_path, "print('forgot to write')\n")
    assert result.outcome is Outcome.NO_OUTPUT
    assert "'out.txt' is missing" in result.detail


def test_an_entry_point_that_does_not_exist_is_reported(tmp_path: Path) -> None:
    result = run_code(tmp_path, "", argv=["no-such-program", "--flag"])
    assert result.outcome is Outcome.START_FAILED
    assert "could not be started" in result.detail
    assert "no-such-program" in result.stderr_tail


def test_stderr_keeps_only_its_tail(tmp_path: Path) -> None:
    result = run_code(
        tmp_path, "import sys\nfor i in range(20000):\n    print('line', i, file=sys.stderr)\nsys.exit(3)\n"
    )
    assert result.outcome is Outcome.EXIT_ERROR
    assert result.exit_code == 3
    assert "line 19999" in result.stderr_tail
    assert len(result.stderr_tail) <= 4000


def _leftover_processes(tmp_path: Path) -> list[int]:
    """Processes still running a command from this test's folders (none may survive a run)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
        except OSError:
            continue
        if str(tmp_path).encode() in cmdline:
            found.append(int(entry.name))
    return found
