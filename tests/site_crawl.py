"""A small crawler for the built site: every page's links, anchors and reader-facing text.

Used by tests/test_report_whole_site.py and runnable on a real build:
    .venv/bin/python -m tests.site_crawl data/reports
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

READER_ATTRIBUTES = ("aria-label", "title", "alt")
HIDDEN_TAGS = ("style", "script", "footer", "title")


@dataclass
class Page:
    ids: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)     # what a reader sees or hears


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page, self.hidden = Page(), 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in HIDDEN_TAGS:
            self.hidden += 1
        if attrs.get("id"):
            self.page.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name) and tag not in ("use",):
                self.page.links.append(attrs[name])
        if not self.hidden:
            self.page.text += [attrs[a] for a in READER_ATTRIBUTES if attrs.get(a)]

    def handle_endtag(self, tag):
        if tag in HIDDEN_TAGS:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.page.text.append(data)


def parse(path: Path) -> Page:
    parser = _Parser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.page


def crawl(root: Path) -> dict[Path, Page]:
    return {p.resolve(): parse(p) for p in sorted(root.glob("*.html"))}


def broken_links(root: Path, pages: dict[Path, Page]) -> list[str]:
    """Every link that leaves no file or no anchor to land on (external links count too)."""
    problems = []
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                problems.append(f"{path.name}: leaves the site: {link}")
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.exists():
                problems.append(f"{path.name}: no file {link}")
            elif parts.fragment:
                ids = pages[target].ids if target in pages else set()
                if parts.fragment not in ids:
                    problems.append(f"{path.name}: no anchor {link}")
    return problems


def text_of(page: Page) -> str:
    """The reader-facing text, one line per text node or attribute (a pattern never spans
    two nodes, so '</span>, <a>' is not read as ' , ')."""
    return "\n".join(re.sub(r"\s+", " ", t).strip() for t in page.text)


if __name__ == "__main__":
    root = Path(sys.argv[1])
    found = crawl(root)
    bad = broken_links(root, found)
    print(f"{len(found)} pages, {sum(len(p.links) for p in found.values())} links, {len(bad)} broken")
    print("\n".join(bad[:50]))
