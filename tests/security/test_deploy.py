"""Deployment: Django's deployment checks pass without a warning under production settings (and do warn without
them), and every response the site makes carries its security headers: a Content-Security-Policy without
inline or eval'd scripts, no framing, nosniff, a referrer policy; HSTS and the HTTPS redirect when enabled.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.http.response import HttpResponseBase
from django.test import Client
from pytest_django.fixtures import Settings

from tests.security.access import all_routes, probes_of, url_of
from tests.security.conftest import SecurityWorld

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "dataperf.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://dataperf.example.org",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "BEHIND_TLS_PROXY": "1",
    "CELERY_BROKER_URL": "redis://redis.example.org:6379/0",
    "SITE_URL": "https://dataperf.example.org",
}


def _check_deploy(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`manage.py check --deploy` in a process of its own, with only `env` (DEBUG unset) and a scratch var dir."""
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DATAPERF_VAR_DIR": str(tmp_path / "var")}
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(command, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120)


def test_the_deployment_checks_pass_without_a_warning_under_production_settings(tmp_path: Path) -> None:
    result = _check_deploy(tmp_path, PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_checks_warn_without_the_tls_settings(tmp_path: Path) -> None:
    """What makes the test above mean something: the same run without the TLS settings fails, naming them."""
    plain = {key: value for key, value in PRODUCTION.items() if not key.startswith(("SECURE_", "BEHIND_"))}
    result = _check_deploy(tmp_path, plain)
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr  # HSTS, SSL redirect


def _missing_headers(response: HttpResponseBase) -> list[str]:
    headers = response.headers
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in (part.strip() for part in headers.get("Content-Security-Policy", "").split(";"))
        if directive
    }
    script = policy.get("script-src", policy.get("default-src", []))
    problems = []
    if not script or {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(script):
        problems.append(f"script-src {script}")
    if policy.get("frame-ancestors") != ["'none'"] or headers.get("X-Frame-Options") != "DENY":
        problems.append(f"framing {policy.get('frame-ancestors')} / {headers.get('X-Frame-Options')}")
    if policy.get("object-src") != ["'none'"] or policy.get("base-uri") != ["'self'"]:
        problems.append(f"object-src / base-uri {policy.get('object-src')} {policy.get('base-uri')}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options")
    if headers.get("Referrer-Policy") != "same-origin":
        problems.append(f"Referrer-Policy {headers.get('Referrer-Policy')}")
    return problems


@pytest.mark.django_db
def test_every_response_of_every_route_carries_the_security_headers(security_world: SecurityWorld) -> None:
    """Every route of the resolver, as visitor, participant and staff (pages, errors, redirects, JSON, files)."""
    problems, seen = [], set()
    for role in ("anonymous", "participant_a", "staff"):
        client = security_world.client(role)
        for route in all_routes():
            for probe in (probe for probe in probes_of(route) or [] if probe.method == "get"):
                url = url_of(route, probe, security_world)
                response = client.get(url)
                seen.add(response.status_code)
                problems += [f"{role} {url} ({response.status_code}): {p}" for p in _missing_headers(response)]
    assert not problems, "\n".join(problems)
    assert {200, 302, 400, 403, 404, 405} <= seen


def test_static_files_are_not_sniffed() -> None:
    response = Client().get(f"{settings.STATIC_URL}js/leaderboard.js")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_with_tls_enabled_plain_http_is_redirected_and_https_pinned(settings: Settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    plain = Client().get("/healthz")
    secure = Client().get("/healthz", headers={"X-Forwarded-Proto": "https"})

    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
