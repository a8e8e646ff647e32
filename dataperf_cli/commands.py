"""The commands of `dataperf`. Each takes the parsed arguments and returns an exit code; failures raise
`CliError` (see `dataperf_cli.errors` for the exit codes)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dataperf_cli import config
from dataperf_cli.client import ApiClient
from dataperf_cli.download import RemoteFile, download_file, write_task_yaml
from dataperf_cli.errors import EXIT_FAILED, EXIT_INVALID, EXIT_OK, CliError
from dataperf_cli.output import score, table
from dataperf_cli.progress import ProgressBar


def _client() -> ApiClient:
    return ApiClient(config.current())


def _task_path(challenge: str, task: str) -> str:
    return f"challenges/{quote(challenge)}/tasks/{quote(task)}/"


def login(args: argparse.Namespace) -> int:
    """Check the URL and token against the API, then store them for the other commands."""
    try:
        url = args.url or os.environ.get("DATAPERF_URL") or input("Platform URL (e.g. https://dataperf.example.org): ")
        token = (
            args.token or os.environ.get("DATAPERF_TOKEN") or getpass.getpass("API token (from /accounts/tokens/): ")
        )
    except EOFError:
        raise CliError("give --url and --token (there is no terminal to ask on)", EXIT_INVALID) from None
    url, token = url.strip().rstrip("/"), token.strip()
    if not url.startswith(("http://", "https://")) or not token:
        raise CliError("give the platform's http(s) URL and an API token", EXIT_INVALID)
    credentials = config.Config(url=url, token=token)
    me = ApiClient(credentials).get("me/")
    path = config.store(credentials)
    teams = ", ".join(team["name"] for team in me["teams"]) or "none"
    print(f"Logged in to {url} as {me['username']} (teams: {teams}). Token stored in {path}.")
    return EXIT_OK


def logout(args: argparse.Namespace) -> int:
    print("Stored token removed." if config.forget() else "No stored token.")
    return EXIT_OK


def challenges(args: argparse.Namespace) -> int:
    rows = _client().get("challenges/")
    print(
        table(
            ["SLUG", "PHASE", "ENDS", "TITLE"], [[c["slug"], c["phase"], c["ends_at"][:10], c["title"]] for c in rows]
        )
    )
    return EXIT_OK


def tasks(args: argparse.Namespace) -> int:
    rows = _client().get(f"challenges/{quote(args.challenge)}/tasks/")
    print(
        table(
            ["TASK", "BENCHMARK", "ML TASK", "TITLE"],
            [[t["slug"], t["benchmark"], t["ml_task"], t["title"]] for t in rows],
        )
    )
    return EXIT_OK


def _bar(label: str, total: int) -> ProgressBar:
    return ProgressBar(label, total)


def download(args: argparse.Namespace) -> int:
    """Every public file of the task into DEST (default: ./<task>), plus task.yaml for offline use."""
    client = _client()
    listing = client.get(_task_path(args.challenge, args.task) + "files/")
    root = Path(args.dest or args.task)
    write_task_yaml(root, listing["benchmark"], listing["config"])
    counts: dict[str, int] = {}
    for data in listing["files"]:
        outcome = download_file(client, RemoteFile.from_api(data), root, _bar)
        counts[outcome] = counts.get(outcome, 0) + 1
        print(f"{outcome:10}  {data['path']}")
    summary = ", ".join(f"{count} {what}" for what, count in sorted(counts.items())) or "no files"
    print(f"{root}: {summary}; every file matches its SHA-256.")
    return EXIT_OK


_FLAGS = (
    ("is_selected_final", "selected as final"),
    ("is_withdrawn", "withdrawn"),
    ("is_disqualified", "disqualified"),
)

_PARTS = (("private", "Private part"), ("whole_set", "Whole evaluation set"), ("concealed", "Concealed task"))
"""The metrics the API adds when the caller may see them, each printed under its own heading."""


def _print_metrics(metrics: dict[str, Any], indent: str = "  ") -> None:
    primary = metrics["primary"]
    print(f"{indent}{primary['label']} ({primary['name']}): {primary['value']}")
    for metric in metrics["metrics"]:
        print(f"{indent}{metric['label']} ({metric['name']}): {metric['value']}")


def _print_submission(data: dict[str, Any]) -> None:
    flags = "".join(f" ({label})" for key, label in _FLAGS if data.get(key))
    print(f"Submission #{data['id']} ({data['challenge']}/{data['task']}, {data['division']}): {data['status']}{flags}")
    if data["message"]:
        print(data["message"], file=sys.stderr if data["status"] in ("rejected", "failed") else sys.stdout)
    metrics = data.get("metrics")
    if metrics:
        # An older server does not say whether the task has a split; then the extra parts tell.
        split = data.get("has_private_split") or any(metrics.get(key) for key in ("private", "whole_set"))
        if split:
            print("  Public part (the private part is held out for the final ranking):")
        _print_metrics(metrics, "    " if split else "  ")
        for key, heading in _PARTS:
            if metrics.get(key):
                print(f"  {heading}:")
                _print_metrics(metrics[key], "    ")
    print(f"  {data['web_url']}")


def _outcome(data: dict[str, Any]) -> int:
    if data["status"] == "rejected":
        return EXIT_INVALID
    if data["status"] in ("failed", "cancelled"):
        return EXIT_FAILED
    return EXIT_OK


def _follow(client: ApiClient, data: dict[str, Any], interval: float) -> dict[str, Any]:
    """Poll the submission until its status is final, drawing the evaluation's progress."""
    bar = ProgressBar(f"#{data['id']}", 1.0, in_bytes=False)
    last_status = ""
    while not data["terminal"]:
        if data["status"] != last_status and not bar.interactive:
            print(f"#{data['id']}: {data['status']}", file=sys.stderr)
        last_status = data["status"]
        bar.update(data["progress"], f"{data['status']}: {data['progress_message']}".rstrip(": "))
        time.sleep(interval)
        data = client.get(f"submissions/{data['id']}/")
    bar.update(1.0 if data["status"] == "scored" else data["progress"], data["status"])
    bar.close()
    return data


def submit(args: argparse.Namespace) -> int:
    client = _client()
    artifact = Path(args.file)
    if not artifact.is_file():
        raise CliError(f"{artifact}: no such file", EXIT_INVALID)
    given = {"method_description": args.description, "division": args.division, "code_url": args.code_url}
    fields = {name: value for name, value in given.items() if value}
    files = {"artifact": artifact} | ({"code_archive": Path(args.code_archive)} if args.code_archive else {})
    bar = ProgressBar(f"uploading {artifact.name}", sum(path.stat().st_size for path in files.values()))
    path = _task_path(args.challenge, args.task) + "submissions/"
    status, data = client.upload(path, fields, files, lambda sent, total: bar.update(sent))
    bar.close()
    if status == 422 or not args.wait:
        _print_submission(data)
        return _outcome(data)
    data = _follow(client, data, args.interval)
    _print_submission(data)
    return _outcome(data)


def status(args: argparse.Namespace) -> int:
    client = _client()
    data = client.get(f"submissions/{args.id}/")
    if args.wait:
        data = _follow(client, data, args.interval)
    _print_submission(data)
    return _outcome(data)


def submissions(args: argparse.Namespace) -> int:
    params = {"challenge": args.challenge or "", "task": args.task or "", "limit": str(args.limit)}
    page = _client().get("submissions/", params)
    rows = [
        [
            s["id"],
            f"{s['challenge']}/{s['task']}",
            s["division"],
            s["status"],
            score(s["metrics"]["primary"]["value"]) if s["metrics"] else "",
            "final" if s["is_selected_final"] else "",
            s["created_at"][:19].replace("T", " "),
        ]
        for s in page["results"]
    ]
    print(table(["ID", "TASK", "DIVISION", "STATUS", "PRIMARY", "", "SUBMITTED"], rows))
    if page["count"] > len(rows):
        print(f"({len(rows)} of {page['count']}; use --limit for more)")
    return EXIT_OK


def select(args: argparse.Namespace) -> int:
    """Select a submission as one of its team's final ones for its task and division, or clear it (--clear)."""
    data = _client().post(f"submissions/{args.id}/select-final/", {"selected": not args.clear})
    state = "selected as final" if data["is_selected_final"] else "no longer selected as final"
    print(f"Submission #{data['id']} ({data['challenge']}/{data['task']}, {data['division']}) is {state}.")
    print(f"  {data['web_url']}")
    return EXIT_OK


WITHDRAW_WARNING = (
    "withdrawing submission #{id} is permanent: it leaves every leaderboard and loses its final selection, it "
    "cannot be undone, and the quota it used is not refunded. Run `dataperf withdraw {id} --yes` to withdraw it."
)


def withdraw(args: argparse.Namespace) -> int:
    """Withdraw a submission for good; refuses without --yes, saying what a withdrawal means."""
    if not args.yes:
        raise CliError(WITHDRAW_WARNING.format(id=args.id), EXIT_INVALID)
    data = _client().post(f"submissions/{args.id}/withdraw/", {})
    print(
        f"Submission #{data['id']} ({data['challenge']}/{data['task']}, {data['division']}) is withdrawn: it no "
        "longer ranks on any leaderboard. The quota it used is not refunded."
    )
    return EXIT_OK


def leaderboard(args: argparse.Namespace) -> int:
    query = {"division": args.division or "", "split": args.split}
    board = _client().get(_task_path(args.challenge, args.task) + "leaderboard/", query)
    if args.json:
        print(json.dumps(board, indent=2))
        return EXIT_OK
    primary = board["primary"]
    where = f"division {board['division']} · {board['split']} split"
    print(f"{board['challenge']}/{board['task']} · {where} · ranked by {primary['label']}")
    # The private board's rows carry each team's public rank: the shake-up.
    shake_up = board["split"] == "private"
    rows = [
        [
            row["rank"],
            *([row["public_rank"] if row["public_rank"] is not None else "-"] if shake_up else []),
            row["label"] + (" (baseline)" if row["is_baseline"] else ""),
            score(row["primary"], primary["scale"]),
            row["submissions"],
            row["submitted_at"][:19].replace("T", " "),
            row["submission_id"],
        ]
        for row in board["rows"]
    ]
    header = ["RANK", *(["PUBLIC RANK"] if shake_up else []), "TEAM", primary["label"].upper()]
    print(table([*header, "SUBMISSIONS", "SUBMITTED", "ID"], rows))
    return EXIT_OK
