"""The parts of `dataperf` that need no server: offline scoring (identical to `python -m evaluators score`),
the stored config's permissions, the progress bar, tables and path safety."""

from __future__ import annotations

import http.server
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from dataperf_cli import config
from dataperf_cli.client import ApiClient
from dataperf_cli.download import safe_target
from dataperf_cli.errors import CliError
from dataperf_cli.main import main
from dataperf_cli.output import table
from dataperf_cli.progress import ProgressBar
from evaluators import get_evaluator
from evaluators.demo import demo_module
from evaluators.taskdir import load_task_dir

DATAPERF = Path(sys.executable).parent / "dataperf"


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)


@pytest.mark.parametrize("kind", ["valid", "invalid"])
def test_score_is_the_offline_evaluator_itself(
    kind: str, speech_task_dir: Path, speech_selections: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    submission = tmp_path / "selection.json"
    content = speech_selections["first-k"] if kind == "valid" else {"targets": {"fifty": ["nope.wav"]}}
    submission.write_text(json.dumps(content))
    arguments = ["score", "--task", str(speech_task_dir), "--submission", str(submission)]
    ours = _run([str(DATAPERF), *arguments])
    theirs = _run([sys.executable, "-m", "evaluators", *arguments])
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    if kind == "valid":
        assert ours.returncode == 0 and 0 < json.loads(ours.stdout)["primary"] <= 1
    else:
        assert ours.returncode == 2 and ours.stderr.startswith("invalid submission: ")


def test_the_help_lists_every_command_and_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    commands = ["login", "challenges", "tasks", "download", "submit", "status", "submissions", "leaderboard"]
    for command in [*commands, "select", "withdraw"]:
        assert f"    {command}" in out
    assert "score" in out and "exit codes:" in out and "5  quota used up" in out


def test_the_config_is_created_private_even_under_a_permissive_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    previous = os.umask(0)
    try:
        path = config.store(config.Config(url="http://x", token="dpt_secret"))
    finally:
        os.umask(previous)
    assert path == tmp_path / "xdg" / "dataperf" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert config.read_stored() == config.Config(url="http://x", token="dpt_secret")


def test_the_environment_overrides_the_stored_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    config.store(config.Config(url="http://stored", token="stored"))
    monkeypatch.setenv("DATAPERF_TOKEN", "from-env")
    assert config.current() == config.Config(url="http://stored", token="from-env")


def test_without_xdg_the_config_lives_in_the_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.config_path() == tmp_path / ".config" / "dataperf" / "config.json"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_redraws_in_place_on_a_terminal() -> None:
    terminal = _Terminal()
    bar = ProgressBar("data.bin", 2048, stream=terminal)
    bar.update(1024)
    bar.update(2048)
    bar.close()
    frames = terminal.getvalue().split("\r\033[K")
    assert frames[1].startswith("data.bin [###############---------------]  50% 1.0 KB/2.0 KB")
    assert frames[-1] == "data.bin [##############################] 100% 2.0 KB/2.0 KB\n"


def test_the_progress_bar_writes_one_line_into_a_log() -> None:
    log = io.StringIO()
    bar = ProgressBar("#7", 1.0, in_bytes=False, stream=log)
    bar.update(0.25, "running: seed 3/10")
    bar.close()
    assert log.getvalue() == "#7 [#######-----------------------]  25% running: seed 3/10\n"


def test_a_table_aligns_its_columns() -> None:
    assert table(["A", "LONGER"], [[1, "x"], ["wide cell", None]]).splitlines() == [
        "A          LONGER",
        "---------  ------",
        "1          x",
        "wide cell",
    ]


@pytest.mark.parametrize("relative", ["../evil", "/etc/passwd", "a/../../b", ""])
def test_a_download_never_writes_outside_the_task_directory(tmp_path: Path, relative: str) -> None:
    with pytest.raises(CliError, match="refusing"):
        safe_target(tmp_path, relative)


def test_a_nested_path_stays_inside(tmp_path: Path) -> None:
    assert safe_target(tmp_path, "train_embeddings/fifty.parquet") == tmp_path / "train_embeddings" / "fifty.parquet"


class _Redirecting(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", "https://elsewhere.example/api/v1/me/")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def test_a_redirect_is_reported_and_never_followed_with_the_token() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = ApiClient(config.Config(url=f"http://127.0.0.1:{server.server_port}", token="dpt_x"))
        with pytest.raises(CliError, match=re.escape("redirects to https://elsewhere.example/api/v1/me/: log in with")):
            client.get("me/")
    finally:
        server.shutdown()
        server.server_close()


def test_the_token_is_only_sent_to_the_configured_server() -> None:
    client = ApiClient(config.Config(url="http://platform.example", token="dpt_x"))
    with pytest.raises(CliError, match=re.escape("refusing to send your token to http://platform.example.evil/")):
        client.open("GET", "http://platform.example.evil/api/v1/me/")


def test_login_without_a_terminal_asks_for_the_options(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DATAPERF_")}
    done = subprocess.run(
        [str(DATAPERF), "login"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        env=env | {"XDG_CONFIG_HOME": str(tmp_path)},
        timeout=60,
    )
    assert done.returncode == 2
    assert "give --url and --token" in done.stderr


def test_score_reads_a_folder_wrapping_the_ranking_files_as_the_platform_reads_its_archive(tmp_path: Path) -> None:
    """Offline the submission is a directory: the archives' one rule (`evaluators.inputs.content_root`) applies
    to it as to an upload, so `rankings/` unzipped into a folder scores as the ranking files themselves. On the
    small demo task: the reference case's score is the reference-case tests' (tests/evaluators)."""
    evaluator = get_evaluator("debugging-vision")
    module = demo_module(evaluator)
    assert module is not None
    task_dir = tmp_path / "task"
    module.generate_task(task_dir, config=module.DEMO_TASKS[0].config, seed=0, small=True)
    rankings = next(iter(module.write_baselines(task_dir, tmp_path / "baselines", seed=0).values()))
    wrapped = shutil.copytree(rankings, tmp_path / "unzipped" / "rankings")
    task = evaluator.load_task(task_dir, evaluator.validate_config(load_task_dir(task_dir).config))
    expected = evaluator.evaluate(task, evaluator.validate(task, rankings)).primary

    done = _run([str(DATAPERF), "score", "--task", str(task_dir), "--submission", str(wrapped.parent)])

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["primary"] == pytest.approx(expected, abs=1e-9)
