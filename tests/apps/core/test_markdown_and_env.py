"""Sanitised Markdown, and the typed environment readers of the settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.core.markdown import render_markdown
from dataperf_site.env import database_from_url, env_bool, env_int, env_list, env_path, env_str
from dataperf_site.settings import _site_url


def test_markdown_drops_script_elements() -> None:
    html = render_markdown("Hello <script>alert('x')</script> world")

    assert "<script" not in html
    assert "Hello" in html


def test_markdown_drops_event_handlers_and_unknown_tags() -> None:
    html = render_markdown('<img src="x" onerror="alert(1)"> <a href="https://ok.example" onclick="steal()">ok</a>')

    assert "onerror" not in html
    assert "onclick" not in html
    assert "<img" not in html
    assert 'href="https://ok.example"' in html


@pytest.mark.parametrize(
    "text", ["[click](javascript:alert(1))", '<a href="javascript:alert(1)">click</a>', "[click](JaVaScRiPt:alert(1))"]
)
def test_markdown_drops_javascript_links(text: str) -> None:
    html = render_markdown(text)

    assert "javascript" not in html.lower()
    assert "click" in html


def test_markdown_marks_links_as_untrusted() -> None:
    html = render_markdown("[docs](https://dataperf.org)")

    assert html == '<p><a href="https://dataperf.org" rel="noopener noreferrer nofollow">docs</a></p>'


def test_markdown_keeps_tables_and_code() -> None:
    html = render_markdown("| a | b |\n|---|--:|\n| 1 | 2 |\n\n```\nx < 1\n```\n\nand `inline`")

    assert "<table>" in html
    assert "<th>a</th>" in html
    assert "<pre><code>x &lt; 1\n</code></pre>" in html
    assert "<code>inline</code>" in html


def test_markdown_puts_each_table_in_a_box_that_scrolls_from_the_keyboard() -> None:
    """A wide table scrolls inside its box, not the page: on a phone the page stays as wide as the screen."""
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\ntext\n\n| c |\n|---|\n| 3 |")

    boxes = re.findall(
        r'<div class="table-scroll" tabindex="0" role="region" aria-label="Table"><table>.*?</table></div>', html, re.S
    )
    assert len(boxes) == 2, html
    assert html.count("<table") == 2


def test_markdown_keeps_table_column_alignment() -> None:
    # The sanitiser allows `align` on cells; Python-Markdown writes `style="text-align: ..."` unless told not to.
    html = render_markdown("| a | b |\n|---|--:|\n| 1 | 2 |")

    assert '<td align="right">2</td>' in html, html


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), (" ON ", True), ("0", False), ("off", False)]
)
def test_env_bool_reads_the_usual_spellings(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("X_FLAG", raw)

    assert env_bool("X_FLAG", not expected) is expected


def test_env_bool_refuses_anything_else(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "maybe")

    with pytest.raises(ImproperlyConfigured, match="X_FLAG='maybe' is not a boolean"):
        env_bool("X_FLAG", False)


def test_env_readers_fall_back_to_their_default_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_UNSET", raising=False)

    assert env_bool("X_UNSET", True) is True
    assert env_int("X_UNSET", 7) == 7
    assert env_str("X_UNSET", "d") == "d"
    assert env_list("X_UNSET", ["a"]) == ["a"]
    assert env_path("X_UNSET", Path("/d")) == Path("/d")


def test_env_int_reads_an_integer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_INT", "42")

    assert env_int("X_INT", 0, minimum=1) == 42


def test_env_int_refuses_a_non_integer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_INT", "4.5")

    with pytest.raises(ImproperlyConfigured, match=re.escape("X_INT='4.5' is not an integer")):
        env_int("X_INT", 0)


def test_env_int_refuses_a_value_below_its_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_INT", "2")

    with pytest.raises(ImproperlyConfigured, match="X_INT=2 is below its minimum 3"):
        env_int("X_INT", 60, minimum=3)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_LIST", " a.example, ,b.example ,")

    assert env_list("X_LIST", []) == ["a.example", "b.example"]


def test_a_postgres_url_becomes_a_database_entry() -> None:
    entry = database_from_url("postgres://user:p%40ss@db.example:6543/dataperf?sslmode=require")

    assert entry["ENGINE"] == "django.db.backends.postgresql"
    assert (entry["NAME"], entry["USER"], entry["PASSWORD"]) == ("dataperf", "user", "p@ss")
    assert (entry["HOST"], entry["PORT"]) == ("db.example", "6543")
    assert entry["OPTIONS"] == {"sslmode": "require"}


def test_a_postgres_url_without_credentials_or_port_leaves_them_empty() -> None:
    entry = database_from_url("postgresql://127.0.0.1/dataperf")

    assert (entry["USER"], entry["PASSWORD"], entry["PORT"]) == ("", "", "")


def test_a_sqlite_url_becomes_a_database_entry_that_locks_on_begin() -> None:
    entry = database_from_url("sqlite:////var/lib/dataperf/db.sqlite3")

    assert entry["ENGINE"] == "django.db.backends.sqlite3"
    assert entry["NAME"] == "/var/lib/dataperf/db.sqlite3"
    assert database_from_url("sqlite:///var/db.sqlite3")["NAME"] == "var/db.sqlite3"
    assert entry["OPTIONS"] == {"transaction_mode": "IMMEDIATE", "timeout": 30}


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://root@localhost/dataperf", "scheme 'mysql' is not supported"),
        ("sqlite://", "names no SQLite file"),
        ("postgres://localhost", "names no database"),
        ("postgres://localhost/", "names no database"),
    ],
)
def test_a_bad_database_url_is_refused(url: str, problem: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=problem):
        database_from_url(url)


def test_the_site_url_defaults_to_where_make_run_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SITE_URL", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    assert _site_url() == "http://127.0.0.1:8000"

    monkeypatch.setenv("PORT", "8123")
    assert _site_url() == "http://127.0.0.1:8123"

    monkeypatch.setenv("SITE_URL", "https://dataperf.example.org/")
    assert _site_url() == "https://dataperf.example.org"


def test_a_site_url_that_is_not_http_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE_URL", "ftp://dataperf.example.org")

    with pytest.raises(ImproperlyConfigured, match=r"SITE_URL='ftp://dataperf\.example\.org' is not an http"):
        _site_url()
