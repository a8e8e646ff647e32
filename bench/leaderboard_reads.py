"""Leaderboard reads under load: gunicorn serving a task of 10,000 submissions from 2,000 teams, against nginx
serving the same JSON bytes as a static file, both measured by wrk in the same run with the same settings.

1. A fresh PostgreSQL database (`bench.stack`) gets the rows directly (bulk inserts: users, teams,
   registrations, scored submissions, their evaluations and scores); the materialised leaderboard is then
   built by the service (`leaderboards_rebuild_for_task`), as a landed score would build it.
2. gunicorn serves the platform; wrk (64 connections, 10 s, after a 2 s warm-up) reads, as an anonymous
   visitor, the board's JSON (`leaderboard.json`: what the live page polls; the API's `/api/v1/.../leaderboard/`
   serves the same document), the same with a current ETag (304), and the score history
   (`leaderboard-history.json`, which the page fetches apart, once per change of the board).
3. nginx (its own configuration in a temporary folder, on a free port) serves the bytes each endpoint
   returned, as a static file; wrk measures it the same way. The ratio is gunicorn's requests/s over nginx's.

Goals: ratio >= 0.3 and p99 < 50 ms for the board's JSON, through the page's URL and the API's. The 304 and
the history are reported without goals: nginx answers a 304 from a stat() (tens of thousands a second here),
which measures the interpreter's fixed cost per request rather than serving; the history is read once per
change of the board, not per poll. Needs `wrk` and `nginx` (scripts/ensure_bench_tools.sh);
without them the figures are reported as not measured.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import Team, TeamMembership
from apps.challenges.evaluators import task_metric_specs, task_primary_metric
from apps.challenges.models import Challenge, Participation, Task
from apps.divisions.models import Division
from apps.leaderboards.models import LeaderboardEntry
from apps.leaderboards.services import leaderboards_rebuild_for_task
from apps.submissions.models import Evaluation, Score, Submission
from bench import stack
from bench.common import Child, Result, free_port, wait_for_port
from evaluators import get_evaluator

NAME = "leaderboard_reads"
CHALLENGE = "bench-reads"
TASK = "speech-en"
CONNECTIONS = 64
RATIO_GOAL = 0.3
P99_GOAL_MS = 50.0
THREADS = 4


@dataclass(frozen=True)
class Size:
    submissions: int
    teams: int
    seconds: int


FULL = Size(submissions=10_000, teams=2_000, seconds=10)
QUICK = Size(submissions=500, teams=100, seconds=3)


@dataclass(frozen=True)
class WrkFigures:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    """Responses with a status of 400 or more (what wrk counts as "non-2xx or 3xx")."""
    socket_errors: int


# --- the rows --------------------------------------------------------------------------------------------


def _challenge() -> tuple[Challenge, Division, Task]:
    now = timezone.now()
    challenge = Challenge.objects.create(
        slug=CHALLENGE,
        title="Benchmark: leaderboard reads",
        visibility=Challenge.Visibility.PUBLIC,
        starts_at=now - dt.timedelta(days=60),
        ends_at=now + dt.timedelta(days=60),
    )
    division = Division.objects.create(challenge=challenge, slug="open", kind=Division.Kind.OPEN, name="Open")
    task = Task.objects.create(
        challenge=challenge,
        slug=TASK,
        title="Speech, English",
        evaluator_slug="selection-speech",
        ml_task=Task.MLTask.KEYWORD_SPOTTING,
        config={"language": "en", "train_size": 25},
    )
    return challenge, division, task


def _teams(challenge: Challenge, count: int) -> tuple[list[Team], list[User]]:
    users = User.objects.bulk_create(
        User(username=f"bench-{i:05d}", email=f"bench-{i:05d}@example.org", password=make_password(None))
        for i in range(count)
    )
    teams = Team.objects.bulk_create(Team(name=f"Team {i:05d}", personal_owner=user) for i, user in enumerate(users))
    TeamMembership.objects.bulk_create(
        TeamMembership(team=team, user=user, role=TeamMembership.Role.OWNER)
        for team, user in zip(teams, users, strict=True)
    )
    now = timezone.now()
    Participation.objects.bulk_create(
        Participation(challenge=challenge, team=team, registered_by=user, accepted_rules_at=now)
        for team, user in zip(teams, users, strict=True)
    )
    return teams, users


def _metric_values(rng: random.Random, seeds: list[str], primary: str) -> dict[str, float]:
    values = {name: rng.uniform(0.2, 0.9) for name in seeds}
    values[primary] = sum(values.values()) / len(values)
    return values


def seed_rows(size: Size, rng: random.Random) -> tuple[Task, Division]:
    """A public challenge whose task has `size.submissions` scored submissions from `size.teams` teams (three of
    them baselines), each with its evaluation and every metric of the speech evaluator (11 scores)."""
    challenge, division, task = _challenge()
    teams, owners = _teams(challenge, size.teams)
    evaluator = get_evaluator(task.evaluator_slug)
    primary = task_primary_metric(task).name
    others = [spec.name for spec in task_metric_specs(task)]
    now = timezone.now()
    submissions = Submission.objects.bulk_create(
        Submission(
            task=task,
            team=teams[i % len(teams)],
            division=division,
            submitted_by=owners[i % len(teams)],
            artifact=f"submissions/bench/{i}.json",
            artifact_name="selection.json",
            artifact_size=2048,
            artifact_sha256=f"{i:064x}",
            method_description=f"method {i % 37}: balanced sampling, seed {i}",
            status=Submission.Status.SCORED,
            attempts=1,
            is_baseline=i < 3,
            queued_at=now,
            started_at=now,
            finished_at=now,
        )
        for i in range(size.submissions)
    )
    evaluations = Evaluation.objects.bulk_create(
        Evaluation(
            submission=submission,
            evaluator_slug=evaluator.slug,
            evaluator_version=evaluator.version,
            data_version=task.data_version,
            primary_metric=primary,
            duration_seconds=1.0,
        )
        for submission in submissions
    )
    Score.objects.bulk_create(
        (
            Score(evaluation=evaluation, split=Score.Split.PUBLIC, metric=metric, value=value)
            for evaluation in evaluations
            for metric, value in _metric_values(rng, others, primary).items()
        ),
        batch_size=5000,
    )
    # Submissions arrive over 30 days (bulk inserts stamp them all "now"; the history chart needs spread).
    for i, (submission, evaluation) in enumerate(zip(submissions, evaluations, strict=True)):
        submission.current_evaluation = evaluation
        submission.created_at = now - dt.timedelta(minutes=30 * 24 * 60 * (size.submissions - i) / size.submissions)
    Submission.objects.bulk_update(submissions, ["current_evaluation", "created_at"], batch_size=1000)
    return task, division


def build(size: Size, result: Result) -> tuple[Task, Division]:
    stack.recreate_database()
    stack.migrate()
    started = time.perf_counter()
    with transaction.atomic():
        task, division = seed_rows(size, random.Random(0))  # noqa: S311 - synthetic scores
    result.figures["seed_seconds"] = round(time.perf_counter() - started, 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    started = time.perf_counter()
    leaderboards_rebuild_for_task(task=task)
    rebuild = time.perf_counter() - started
    rows = LeaderboardEntry.objects.filter(leaderboard__task=task).count()
    result.figures["rebuild_seconds"] = round(rebuild, 3)
    result.figures["leaderboard_rows"] = rows
    print(
        f"  {size.submissions} submissions from {size.teams} teams seeded in {result.figures['seed_seconds']} s; "
        f"leaderboard rebuilt by the service in {rebuild * 1000:.0f} ms ({rows} rows)"
    )
    return task, division


# --- the servers and wrk ---------------------------------------------------------------------------------

_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _WRK_UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkFigures:
    """The figures of `wrk --latency` output."""
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    requests = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if not (rate and requests and "50" in latency and "99" in latency):
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    return WrkFigures(
        requests_per_second=float(rate.group(1)),
        p50_ms=_milliseconds(latency["50"]),
        p99_ms=_milliseconds(latency["99"]),
        requests=int(requests.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(value) for value in errors.groups()) if errors else 0,
    )


def wrk(url: str, *, seconds: int, threads: int, header: str = "") -> WrkFigures:
    # A 2 s warm-up first: every gunicorn worker fills its cache, nginx its page cache; then the measured run.
    argv = [tool("wrk") or "wrk", f"-t{threads}", f"-c{CONNECTIONS}", "--timeout", "10s", "--latency"]
    argv += ["-H", header] if header else []
    subprocess.run([*argv, "-d2s", url], check=True, capture_output=True)
    output = subprocess.run([*argv, f"-d{seconds}s", url], check=True, capture_output=True, text=True).stdout
    return parse_wrk(output)


NGINX_CONF = """
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    default_type application/json;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {tmp}/www;
        location / {{ }}
    }}
}}
"""


def start_nginx(tmp: Path, files: dict[str, bytes], *, workers: int) -> tuple[Child, int]:
    """nginx with its own configuration under `tmp` (not the system's service), serving `files` (name ->
    bytes) from `tmp/www` on a free port of 127.0.0.1."""
    www = tmp / "www"
    www.mkdir(parents=True)
    for name, body in files.items():
        (www / name).write_bytes(body)
    # Run as root, nginx's workers switch to `nobody`, who must be able to read the files.
    for path in (tmp, www, *www.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workers=workers, tmp=tmp, port=port))
    server = Child(
        "nginx", [tool("nginx") or "nginx", "-p", str(tmp), "-c", str(conf)], env=dict(os.environ), log_dir=tmp
    )
    wait_for_port(port, timeout=20, process=server.popen)
    return server, port


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - our own local server
        body: bytes = response.read()
        return body


@dataclass(frozen=True)
class Read:
    """One measured read: a name, our URL, the static copy's file and the If-None-Match each side is sent."""

    name: str
    path: str
    static_file: str
    conditional: bool = False


def _probe(url: str, header: str = "") -> tuple[int, str]:
    """(status, ETag) of one GET of `url`, with `header` ("Name: value") if given."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    name, _, value = header.partition(": ")
    try:
        connection.request("GET", parts.path, headers={name: value} if header else {})
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("ETag") or ""
    finally:
        connection.close()


def _headers(read: Read, ours: str, static: str) -> tuple[str, str]:
    """The If-None-Match each side is sent (their own current ETag), checked to answer 304."""
    if not read.conditional:
        return "", ""
    headers = (f"If-None-Match: {_probe(ours)[1]}", f"If-None-Match: {_probe(static)[1]}")
    for url, header in zip((ours, static), headers, strict=True):
        status = _probe(url, header)[0]
        if status != 304:
            raise RuntimeError(f"{url} answers {status}, not 304, to {header}")
    return headers


def _measure(read: Read, ours: str, static: str, *, size: Size, threads: int, result: Result) -> None:
    """wrk on our URL, then on nginx's static copy, under the same settings; the ratio of requests/s."""
    headers = _headers(read, ours, static)
    mine = wrk(ours, seconds=size.seconds, threads=threads, header=headers[0])
    baseline = wrk(static, seconds=size.seconds, threads=threads, header=headers[1])
    ratio = mine.requests_per_second / baseline.requests_per_second
    result.figures[read.name] = {"gunicorn": asdict(mine), "nginx_static": asdict(baseline), "ratio": round(ratio, 4)}
    print(
        f"  {read.name}: gunicorn {mine.requests_per_second:.0f} req/s, p50 {mine.p50_ms:.1f} ms, "
        f"p99 {mine.p99_ms:.1f} ms | nginx static {baseline.requests_per_second:.0f} req/s, "
        f"p50 {baseline.p50_ms:.2f} ms, p99 {baseline.p99_ms:.2f} ms | ratio {ratio:.3f}"
    )
    for figures, server in ((mine, "gunicorn"), (baseline, "nginx")):
        # wrk's "Non-2xx or 3xx responses" counts statuses of 400 and above: errors, whichever the read.
        if figures.non_2xx or figures.socket_errors:
            result.note(
                f"{read.name}, {server}: {figures.non_2xx} error statuses, {figures.socket_errors} socket errors"
            )


def tool(name: str) -> str | None:
    """The path of a command (nginx lives in /usr/sbin, outside most users' PATH)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    return found


def _serve_and_measure(task: Task, size: Size, result: Result, tmp: Path) -> None:
    cores = os.cpu_count() or 1
    board = f"/challenges/{CHALLENGE}/tasks/{task.slug}/"
    reads = (
        Read("page_json", f"{board}leaderboard.json", "page.json"),
        Read("api_json", f"/api/v1{board}leaderboard/", "api.json"),
        Read("page_json_not_modified", f"{board}leaderboard.json", "page.json", conditional=True),
        Read("history_json", f"{board}leaderboard-history.json", "history.json"),
    )
    # One process per core, four threads each: the README's production setting. Measured here on 2 cores with
    # wrk on the same cores: 2 x 4 served 569 req/s where 4 x 2 served 215 and 3 x 4 531 (more processes than
    # cores only add context switches; the threads keep a process busy while another request waits on I/O).
    server, port = stack.start_gunicorn(tmp, workers=cores, threads=THREADS)
    try:
        bodies = {read.static_file: _fetch(f"http://127.0.0.1:{port}{read.path}") for read in reads}
        if bodies["page.json"] != bodies["api.json"]:
            result.note("the page's leaderboard.json and the API's leaderboard differ: they should be one document")
        result.figures["page_json_bytes"] = len(bodies["page.json"])
        result.figures["api_json_bytes"] = len(bodies["api.json"])
        result.figures["history_json_bytes"] = len(bodies["history.json"])
        print(
            f"  board JSON {len(bodies['page.json']) / 1e6:.2f} MB ({result.figures['leaderboard_rows']} rows; the "
            f"page's and the API's), history JSON {len(bodies['history.json']) / 1e6:.2f} MB"
        )
        nginx, static_port = start_nginx(tmp / "nginx", bodies, workers=cores)
        try:
            for read in reads:
                ours, static = (
                    f"http://127.0.0.1:{port}{read.path}",
                    f"http://127.0.0.1:{static_port}/{read.static_file}",
                )
                _measure(read, ours, static, size=size, threads=cores, result=result)
        finally:
            nginx.stop()
    finally:
        server.stop()
    faults = [line for line in server.log().splitlines() if "Traceback" in line or "Error" in line]
    if faults:
        result.note(f"gunicorn logged {len(faults)} error lines, the first: {faults[0][:300]}")


def _goals(result: Result) -> None:
    for name, label in (("page_json", "board JSON (page)"), ("api_json", "board JSON (API)")):
        figures: dict[str, Any] = result.figures[name]
        ratio, p99 = figures["ratio"], figures["gunicorn"]["p99_ms"]
        result.goal(f"{label}: requests/s ratio to nginx static", f">= {RATIO_GOAL}", ratio, ratio >= RATIO_GOAL)
        result.goal(f"{label}: p99 latency (ms)", f"< {P99_GOAL_MS:g}", p99, p99 < P99_GOAL_MS)


def run(*, quick: bool) -> Result:
    size = QUICK if quick else FULL
    result = Result(NAME, quick)
    cores = os.cpu_count() or 1
    result.settings = {
        "submissions": size.submissions,
        "teams": size.teams,
        "wrk_connections": CONNECTIONS,
        "wrk_seconds": size.seconds,
        "wrk_threads": cores,
        "gunicorn": f"--workers {cores} --threads {THREADS}",
        "nginx_workers": cores,
        "cache": "CACHE_URL unset: each gunicorn process caches boards in local memory",
        "load_average_at_start": os.getloadavg(),
    }
    print(f"leaderboard reads ({size.submissions} submissions, {size.teams} teams):")
    missing = [name for name in ("wrk", "nginx") if tool(name) is None]
    if missing:
        result.note(f"{' and '.join(missing)} missing: run scripts/ensure_bench_tools.sh (needs root and apt-get)")
        result.goal("board JSON (page): requests/s ratio to nginx static", f">= {RATIO_GOAL}", None, None)
        result.goal("board JSON (page): p99 latency (ms)", f"< {P99_GOAL_MS:g}", None, None)
        return result
    stack.setup_django()
    task, _ = build(size, result)
    with tempfile.TemporaryDirectory(prefix="bench-reads-") as tmp:
        # Readable by nginx's workers, which run as `nobody` when it is started as root.
        Path(tmp).chmod(0o755)
        _serve_and_measure(task, size, result, Path(tmp))
    result.settings["load_average_at_end"] = os.getloadavg()
    _goals(result)
    return result
