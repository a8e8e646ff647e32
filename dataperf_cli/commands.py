"""The commands of `dataperf`. Each takes the parsed arguments and returns an exit code; failures raise
`CliError` (see `dataperf_cli.errors` for the exit codes)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dataperf_cli import config
from dataperf_cli.client import ApiClient
from dataperf_cli.download import RemoteFile, download_file, write_task_yaml
from dataperf_cli.errors import EXIT_FAILED, EXIT_INVALID, EXIT_OK, ApiError, CliError
from dataperf_cli.output import percent, score, table
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


# -- The data ratchet: rounds and validation -------------------------------------------------------------------


def _ratchets_path(challenge: str) -> str:
    return f"challenges/{quote(challenge)}/ratchets/"


def _when(done: str | None, planned: str | None, word: str) -> str:
    """The day something happened, else the day it is planned for ("(ends 2025-06-30)")."""
    if done:
        return done[:10]
    return f"({word} {planned[:10]})" if planned else ""


def _round_row(ratchet: dict[str, Any], round_: dict[str, Any]) -> list[object]:
    figures = round_["figures"]
    return [
        ratchet["slug"],
        round_["number"],
        round_["status"],
        _when(round_["opened_at"], round_["starts_at"], "starts"),
        _when(round_["closed_at"], round_["ends_at"], "ends"),
        figures["collected"],
        figures["accepted"],
        figures["promoted"],
        percent(figures["model_error_rate"]),
        percent(figures["validated_model_error_rate"]),
    ]


def rounds(args: argparse.Namespace) -> int:
    """Every ratchet of the challenge with its rounds: status, dates, items and Dynabench's error rates."""
    client = _client()
    path = _ratchets_path(args.challenge)
    ratchets = [client.get(f"{path}{quote(listed['slug'])}/") for listed in client.get(path)]
    if args.json:
        print(json.dumps(ratchets, indent=2))
        return EXIT_OK
    if not ratchets:
        print(f"{args.challenge} has no ratchets.")
        return EXIT_OK
    rows = [_round_row(ratchet, round_) for ratchet in ratchets for round_ in ratchet["rounds"]]
    headers = ["RATCHET", "ROUND", "STATUS", "OPENED", "CLOSED", "COLLECTED", "ACCEPTED", "PROMOTED", "MER", "vMER"]
    print(table(headers, rows))
    print("MER: the share of collected items that fooled the suite; vMER: the same among accepted items.")
    return EXIT_OK


VALIDATE_PROMPT = "[c]orrect / [i]ncorrect / [f]lag / [s]kip / [q]uit: "


def _answer(client: ApiClient, path: str, item_id: int, body: dict[str, str]) -> dict[str, Any]:
    answered: dict[str, Any] = client.post(f"{path}items/{item_id}/answer/", body)
    return answered


def _recorded(data: dict[str, Any], body: dict[str, str]) -> str:
    """What was recorded (never what it did to the item: the API does not say)."""
    detail = {"incorrect": f", the right label is {body.get('label', '')}", "flag": f" ({body.get('reason', '')})"}
    left = data["progress"]["left"]
    return f"Item #{data['id']}: recorded {data['verdict']}{detail.get(data['verdict'], '')}. {left} left for you."


def _save_payload(client: ApiClient, item: dict[str, Any], folder: Path) -> Path:
    suffix = "png" if item["payload_type"] == "image/png" else "csv"
    target = folder / f"item-{item['id']}.{suffix}"
    with client.open("GET", item["payload_url"]) as response:
        target.write_bytes(response.read())
    return target


def _features(path: Path) -> str:
    """A features item's values (the last line of its CSV), as the validation page lists them."""
    lines = [line for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    return ", ".join(value.strip() for value in lines[-1].split(",")) if lines else ""


def _show(client: ApiClient, data: dict[str, Any], folder: Path) -> None:
    item = data["item"]
    saved = _save_payload(client, item, folder)
    progress = data["progress"]
    print(f"\nItem #{item['id']} (round {item['round']}; {progress['answered']} answered, {progress['left']} left)")
    print(f"  {'image' if item['payload_type'] == 'image/png' else 'features'}: {saved}")
    if item["payload_type"] == "text/csv":
        print(f"  values: {_features(saved)}")
    print(f"  claimed label: {item['claimed_label']}")


class _NoMoreInput(Exception):
    """Standard input ended: the session stops as if the person had quit."""


def _ask(question: str) -> str:
    try:
        return input(question).strip()
    except EOFError:
        raise _NoMoreInput from None


def _ask_label(labels: list[str], claimed: str) -> str:
    """The right label for an "incorrect" answer, asked until it is one of the labels; empty: go back."""
    choices = [label for label in labels if label != claimed]
    while True:
        label = _ask(f"  the right label ({', '.join(choices)}; empty to go back): ")
        if not label or label in choices:
            return label
        print(f"  {label!r} is not one of the labels.")


def _ask_answer(data: dict[str, Any]) -> dict[str, str] | None:
    """The answer to post, or None to skip the item; raises `_NoMoreInput` to quit."""
    while True:
        choice = _ask(VALIDATE_PROMPT).lower()[:1]
        if choice == "q":
            raise _NoMoreInput
        if choice == "s":
            return None
        if choice == "c":
            return {"verdict": "correct"}
        if choice == "i":
            label = _ask_label(data["labels"], data["item"]["claimed_label"])
            if label:
                return {"verdict": "incorrect", "label": label}
        elif choice == "f":
            reason = _ask("  why is it not a valid item (empty to go back)? ")
            if reason:
                return {"verdict": "flag", "reason": reason}
        else:
            print("  answer c, i, f, s or q.")


def _answer_shown(client: ApiClient, path: str, item_id: int, reply: dict[str, str]) -> bool:
    """Post an answer and say what was recorded; an item decided meanwhile, or answers too fast, are reported
    and the session goes on."""
    try:
        print(_recorded(_answer(client, path, item_id, reply), reply))
    except ApiError as error:
        if error.status not in (400, 429):
            raise
        print(f"dataperf: {error.message}", file=sys.stderr)
        return False
    return True


def _validate_interactively(client: ApiClient, path: str) -> int:
    """One item at a time until nothing is left or the person quits. The server serves the same next item until
    it is answered or decided, so skipping an item ends the session when it comes back."""
    skipped: set[int] = set()
    answered = 0
    with tempfile.TemporaryDirectory(prefix="dataperf-validate-") as tmp:
        try:
            while True:
                data = client.get(path + "next-item/")
                item = data["item"]
                if item is None:
                    print("Nothing left to validate for you now.")
                    break
                if item["id"] in skipped:
                    print(f"Item #{item['id']}, which you skipped, is still the next one for you: stopping.")
                    break
                _show(client, data, Path(tmp))
                reply = _ask_answer(data)
                if reply is None:
                    skipped.add(item["id"])
                else:
                    answered += _answer_shown(client, path, item["id"], reply)
        except _NoMoreInput:
            print()
    print(f"{answered} answered in this session.")
    return EXIT_OK


def validate(args: argparse.Namespace) -> int:
    """Validate a ratchet's items: interactively, one at a time, or one answer (--item and --verdict)."""
    client = _client()
    path = f"{_ratchets_path(args.challenge)}{quote(args.ratchet)}/"
    if args.item is None and args.verdict is None:
        return _validate_interactively(client, path)
    if args.item is None or args.verdict is None:
        raise CliError("give both --item ID and --verdict (or neither, to validate interactively)", EXIT_INVALID)
    body = {"verdict": args.verdict, "label": args.label or "", "reason": args.reason or ""}
    print(_recorded(_answer(client, path, args.item, body), body))
    return EXIT_OK
