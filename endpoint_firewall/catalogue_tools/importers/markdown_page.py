"""Read a Microsoft Learn Markdown page into sections of blocks, each block with its 1-based line.

The reader knows only Markdown: front matter (``---`` YAML at the top), headings (``#`` .. ``####``) with
the anchor Microsoft Learn derives from them, pipe tables (header, ``| --- |`` separator, rows), bullet
lists (``- item``), fenced code blocks, ``<a id="..."></a>`` anchors and paragraphs (everything else,
including ``> [!NOTE]`` notes). What the blocks mean is for the caller (:mod:`.intune_page`).

It reads both dialects of the page: the Markdown Microsoft Learn renders (tab panels as
``<a id="tabpanel_1_europe"></a>`` anchors) and the DocFX source of MicrosoftDocs/memdocs: tab groups
``# [Europe](#tab/europe)`` .. ``---`` (read as the same ``tabpanel_<group>_<tab>`` anchors, groups numbered
from 1 in page order, as Learn does), ``<br>`` between a cell's values (read as a space), and table lines
with or without their leading and trailing pipes. HTML comments (``<!--`` at the start of a line to ``-->``) are
not part of the page and are skipped.

Tables: rows run from the separator to the first blank line. A row with more cells than its header is an error
naming the row's line; a row with fewer is padded with empty cells (GitHub Flavored Markdown) and says how many
it wrote (:attr:`Row.given`), so the caller decides which columns may be left out. A table with no row, and a
line under a table's rows without a ``|`` (a row that lost its separators), are errors naming their line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml


class PageError(ValueError):
    """A structural problem at a line of the page."""

    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(message)


@dataclass(frozen=True)
class Row:
    line: int
    cells: tuple[str, ...]
    given: int = -1  # cells the row wrote (fewer than its header's: the rest are empty); -1: all of them


@dataclass(frozen=True)
class Table:
    line: int
    header: tuple[str, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Item:
    line: int
    text: str


@dataclass(frozen=True)
class BulletList:
    line: int
    items: tuple[Item, ...]
    label: str | None = None  # the paragraph just before the list, e.g. "**Microsoft Store API:**"
    anchor: str | None = None  # the <a id> just before the list (tab panels)


@dataclass(frozen=True)
class CodeBlock:
    line: int
    lines: tuple[Item, ...]
    label: str | None = None  # the paragraph just before the block, e.g. "FQDNs"


@dataclass(frozen=True)
class Paragraph:
    line: int
    text: str
    starts: tuple[int, ...] = (0,)  # offset in ``text`` where each of its lines begins

    def line_at(self, offset: int) -> int:
        """The page line of the character at ``offset`` of ``text``."""
        return self.line + sum(1 for start in self.starts[1:] if start <= offset)


Block = Table | BulletList | CodeBlock | Paragraph


@dataclass
class Section:
    level: int
    title: str
    anchor: str
    line: int
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    front_matter: dict
    sections: tuple[Section, ...]


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ANCHOR = re.compile(r'^<a id="([^"]+)"></a>\s*$')
_BULLET = re.compile(r"^-\s+(.*)$")
_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_TAB = re.compile(r"^#\s+\[([^\]]+)\]\(#tab/([^)\s]+)\)\s*$")  # DocFX tab: # [Europe](#tab/europe)
_BR = re.compile(r"<br\s*/?>", re.I)


def _is_separator(line: str) -> bool:
    return "|" in line and bool(_SEPARATOR.match(line.strip()))


def anchor_of(title: str) -> str:
    """The anchor Microsoft Learn gives a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\s-]", "", title.lower())
    return re.sub(r"\s", "-", text.strip())


def cells_of(line: str) -> tuple[str, ...]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") else body
    return tuple(re.sub(r"\s{2,}", " ", _BR.sub(" ", c)).strip() for c in body.split("|"))


def read_page(text: str) -> Page:
    lines = text.split("\n")
    front: dict = {}
    start = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            raise PageError(1, "front matter opened with '---' is never closed")
        try:
            front = yaml.safe_load("\n".join(lines[1:end])) or {}
        except yaml.YAMLError as err:
            raise PageError(1, f"front matter is not YAML: {err}") from None
        if not isinstance(front, dict):
            raise PageError(1, "front matter is not a mapping")
        start = end + 1
    sections: list[Section] = [Section(0, "", "", 1)]
    paragraph: list[str] = []
    paragraph_line = 0
    last_label: str | None = None
    last_anchor: str | None = None
    tab_groups = 0
    in_tabs = False
    i = start

    def flush() -> None:
        nonlocal paragraph, last_label
        if paragraph:
            parts = [p.strip() for p in paragraph]
            starts = [sum(len(q) + 1 for q in parts[:k]) for k in range(len(parts))]
            text = " ".join(parts)
            sections[-1].blocks.append(Paragraph(paragraph_line, text, tuple(starts)))
            last_label = text
            paragraph = []

    while i < len(lines):
        raw = lines[i]
        number = i + 1
        stripped = raw.strip()
        if stripped.startswith("<!--"):  # an HTML comment (memdocs keeps old tables in one): not on the page
            flush()
            end = next(
                (k for k in range(i, len(lines)) if "-->" in lines[k][(lines[k].find("<!--") + 4) if k == i else 0 :]),
                None,
            )
            if end is None:
                raise PageError(number, "HTML comment opened with '<!--' is never closed")
            i = end + 1
            continue
        tab = _TAB.match(raw)
        if tab:  # a DocFX tab: the anchor Learn renders for it
            flush()
            if not in_tabs:
                tab_groups, in_tabs = tab_groups + 1, True
            last_anchor = f"tabpanel_{tab_groups}_{tab.group(2)}"
            i += 1
            continue
        if in_tabs and stripped == "---":  # the end of a DocFX tab group
            flush()
            in_tabs, last_anchor = False, None
            i += 1
            continue
        heading = _HEADING.match(raw)
        if heading:
            in_tabs = False
            flush()
            title = heading.group(2)
            sections.append(Section(len(heading.group(1)), title, anchor_of(title), number))
            last_label = last_anchor = None
            i += 1
            continue
        if stripped.startswith("```"):
            flush()
            body: list[Item] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(Item(i + 1, lines[i].rstrip()))
                i += 1
            if i == len(lines):
                raise PageError(number, "code block opened with ``` is never closed")
            sections[-1].blocks.append(CodeBlock(number, tuple(body), last_label))
            last_label = None
            i += 1
            continue
        anchor = _ANCHOR.match(stripped)
        if anchor:
            flush()
            last_anchor = anchor.group(1)
            i += 1
            continue
        if raw.startswith("|") or ("|" in raw and i + 1 < len(lines) and _is_separator(lines[i + 1])):
            flush()
            header = cells_of(raw)
            if i + 1 >= len(lines) or not _is_separator(lines[i + 1]):
                raise PageError(number, f"table at line {number} has no '| --- |' separator under its header")
            rows: list[Row] = []
            i += 2
            while i < len(lines) and lines[i].strip():
                if _HEADING.match(lines[i]) or lines[i].lstrip().startswith(("```", ">", "- ", "<a ")):
                    break  # another block begins (GitHub Flavored Markdown ends the table there)
                if "|" not in lines[i]:
                    raise PageError(
                        i + 1,
                        f"line {i + 1} under the rows of the table at line {number} has no '|' "
                        "and no blank line before it: a row that lost its cell separators?",
                    )
                cells = cells_of(lines[i])
                if len(cells) > len(header):
                    raise PageError(
                        i + 1,
                        f"row of the table at line {number} has {len(cells)} cells, its header "
                        f"{len(header)} ({' | '.join(header)})",
                    )
                given = len(cells) if len(cells) < len(header) else -1
                rows.append(Row(i + 1, cells + ("",) * (len(header) - len(cells)), given))
                i += 1
            if not rows:
                raise PageError(number, f"table at line {number} has a header and a separator but no rows")
            sections[-1].blocks.append(Table(number, header, tuple(rows)))
            last_label = None
            continue
        bullet = _BULLET.match(raw)
        if bullet:
            flush()
            items = [Item(number, bullet.group(1).strip())]
            i += 1
            while i < len(lines):
                more = _BULLET.match(lines[i])
                if more:
                    items.append(Item(i + 1, more.group(1).strip()))
                elif lines[i].strip() and not lines[i].startswith(" "):
                    break
                elif lines[i].strip():  # an indented note under an item: a paragraph of its own
                    sections[-1].blocks.append(Paragraph(i + 1, lines[i].strip()))
                i += 1
            sections[-1].blocks.append(BulletList(number, tuple(items), last_label, last_anchor))
            last_label = last_anchor = None
            continue
        if not stripped:
            flush()
        else:
            if not paragraph:
                paragraph_line = number
            paragraph.append(stripped)
        i += 1
    flush()
    return Page(front, tuple(s for s in sections if s.level or s.blocks))
