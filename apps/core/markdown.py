"""Markdown rendering for text that organizers and participants write: rendered, then sanitised."""

from __future__ import annotations

import markdown as md
import nh3

_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}


_TABLE_BOX = '<div class="table-scroll" tabindex="0" role="region" aria-label="Table"><table>'


def render_markdown(text: str) -> str:
    """Return safe HTML for `text`: raw HTML, scripts, event handlers and `javascript:` links are removed. Each
    table is put in a box of its own that scrolls sideways (from the keyboard too), so that no table makes the
    page wider than a phone's screen."""
    html = md.markdown(
        text,
        extensions=["tables", "fenced_code", "sane_lists"],
        extension_configs={"tables": {"use_align_attribute": True}},
        output_format="html",
    )
    safe = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    # The sanitiser keeps no attribute of a table: every table it let through opens as `<table>`.
    return safe.replace("<table>", _TABLE_BOX).replace("</table>", "</table></div>")
