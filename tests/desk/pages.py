"""Reading the desk's HTML as a reader sees it: the text of parts of a page, a table's
cells. (The standard library's parser: enough for pages the service itself writes.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Table(HTMLParser):
    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.inside = False
        self.rows: list[list[str]] = []
        self.header: list[str] = []
        self.cell: list[str] | None = None
        self.in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and found.get("id") == self.table_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "thead":
            self.in_head = True
        elif tag == "tr" and not self.in_head:
            self.rows.append([])
        elif tag == "th" and self.in_head:
            self.header.append(found.get("data-column") or "")
        elif tag == "td":
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "thead":
            self.in_head = False
        elif tag == "td" and self.cell is not None:
            self.rows[-1].append(_squeeze("".join(self.cell)))
            self.cell = None
        elif tag == "table":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(html: str, table_id: str) -> tuple[list[str], list[list[str]]]:
    """(the columns' names, the rows' cells) of the table with this id."""
    parser = _Table(table_id)
    parser.feed(html)
    return parser.header, parser.rows


def links(html: str, rel: str | None = None) -> list[str]:
    """The addresses the page's links go to (those of relation `rel`, if given), in order."""
    from html import unescape

    found = []
    for tag in re.findall(r"<a [^>]*>", html):
        href = re.search(r'href="([^"]*)"', tag)
        if href and (rel is None or f'rel="{rel}"' in tag):
            found.append(unescape(href.group(1)))
    return found


def text(html: str) -> str:
    """The words of a page, tags and repeated spaces gone, entities read."""
    from html import unescape

    return _squeeze(unescape(re.sub(r"<[^>]+>", " ", html)))


def main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def _squeeze(words: str) -> str:
    return re.sub(r"\s+", " ", words).strip()
