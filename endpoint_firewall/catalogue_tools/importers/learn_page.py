"""What the importers of Microsoft Learn pages share: reports, the result, the front matter, links, fix-ups.

Every page importer (:mod:`.intune_page`, :mod:`.autopilot_page`) reads a page with :mod:`.markdown_page`, reports
each defect and decision as a :class:`Report` (``PAGE:LINE: message``) and returns a :class:`PageImport`. The page's
front matter gives the source's title and date (:func:`page_source`); links are resolved against the page's URL
(:func:`links`), the way Learn resolves them. A :class:`PageContext` is what every reader of a page's blocks takes:
the page's name for errors, the reviewed fix-ups (:meth:`PageContext.fixed` applies one, each applied fix-up's report
names it, so :meth:`PageContext.unused_fixups` finds those that match nothing) and the URL links resolve against;
:meth:`PageContext.destination` reads a page's value as a catalogue destination, or fails naming it.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from pydantic import ValidationError

from ...endpoints.errors import CatalogueError, Problem
from ...endpoints.located import first_message
from ...endpoints.models import CatalogueFile, Destination, DestinationKind, EntryKind, Reference
from .markdown_page import Page, PageError, read_page
from .page_fixups import NO_FIXUPS, Fixups

LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
LEARN_SUFFIX = " | Microsoft Learn"  # what Learn's rendering appends to a page's title
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class Report:
    line: int
    message: str
    fixup: int | None = None  # the fix-up (its index in the file) this report says was applied


@dataclass(frozen=True)
class PageContext:
    """The page being read: its name in messages, the reviewed fix-ups, the URL its links resolve against."""

    name: str
    fixups: Fixups
    source_url: str

    def fail(self, line: int, message: str) -> CatalogueError:
        return CatalogueError([Problem(self.name, line, "page", message)])

    def fixed(
        self, written: str, section: str, line: int, place: str, key: str | None = None
    ) -> tuple[str | None, Report | None]:
        """``written`` (looked up as ``key``, by default itself) after the fix-up for it in ``section``: the
        replacement, or None when the fix-up drops it, and the report saying so (``place`` names the section in
        it); unchanged and no report without a fix-up."""
        index = self.fixups.find(written if key is None else key, section)
        if index is None:
            return written, None
        fix, where = self.fixups.items[index], f"{self.fixups.file}:{self.fixups.lines[index]}"
        if fix.drop:
            return None, Report(line, f"{written} left out of {place} by the fix-up at {where} ({fix.reason})", index)
        assert fix.replace is not None
        return fix.replace, Report(
            line, f"{written} read as {fix.replace} by the fix-up at {where} ({fix.reason})", index
        )

    def destination(
        self, value: str, line: int, written: str, kinds: Collection[DestinationKind], other: str
    ) -> Destination:
        """``value``, read at ``line``, as a catalogue destination (normalised: a name lowercase, without its
        trailing dot) of one of ``kinds``. Raises, naming ``written`` (the page's text and where it stands), when it
        is not a host name, wildcard or ``other`` (a fix-up corrects it) or is of another kind."""
        try:
            dest = Destination.model_validate(value)
        except ValidationError as err:
            raise self.fail(
                line,
                f"{written} is not a host name, wildcard or {other} ({first_message(err)}); correct it with a fix-up "
                f"in {self.fixups.file}",
            ) from None
        if dest.kind not in kinds:
            raise self.fail(
                line, f"{written} is a destination of kind {dest.kind.value}, which the page import does not take"
            )
        return dest

    def unused_fixups(self, reports: list[Report]) -> list[Report]:
        """A report (at line 1) for each fix-up that no report says was applied: it matches nothing on the page."""
        used = {r.fixup for r in reports}
        return [
            Report(
                1,
                f"the fix-up at {self.fixups.file}:{self.fixups.lines[i]} ({fix.value!r}) matches nothing on the page; "
                "remove it",
            )
            for i, fix in enumerate(self.fixups.items)
            if i not in used
        ]

    def links(self, text: str, line: int, reports: list[Report]) -> list[Reference]:
        """The links of ``text`` at ``line`` as references (:func:`links`)."""
        return links(text, line, self.source_url, reports)


@dataclass(frozen=True)
class PageImport:
    catalogue: CatalogueFile
    reports: tuple[Report, ...]
    page: str
    fixups: str
    what: str  # what the catalogue holds, for its header: "Microsoft Intune network endpoints"
    command: str  # the `epfw import` kind that writes it: "intune-page"

    def header(self) -> str:
        """The generated file's leading comment: what it comes from, never where the page was saved."""
        source = self.catalogue.sources[0]
        fixups = f"the fix-ups of {Path(self.fixups).name}" if self.fixups != NO_FIXUPS.file else "no fix-ups"
        return (
            f'{self.what}, from "{source.title}"\n({source.url}, ms.date {source.date}).\n'
            f"Generated by `epfw import {self.command}` from the page's Markdown with {fixups};\n"
            "change the importer or the fix-ups, never this file."
        )

    def counts(self) -> dict[str, int]:
        entries = self.catalogue.entries
        dests = {(d.kind, d.value) for e in entries for d in e.destinations}
        return {
            "entries": len(entries),
            "endpoints": sum(e.kind is EntryKind.ENDPOINTS for e in entries),
            "peer-to-peer": sum(e.kind is EntryKind.PEER_TO_PEER for e in entries),
            "reference": sum(e.kind is EntryKind.REFERENCE for e in entries),
            "areas": len(self.catalogue.service_areas),
            "fqdns": sum(k is DestinationKind.FQDN for k, _ in dests),
            "wildcards": sum(k is DestinationKind.WILDCARD for k, _ in dests),
            "addresses": sum(k is DestinationKind.NETWORK for k, _ in dests),
            "reports": len(self.reports),
        }


def read(text: str, name: str) -> Page:
    """The page ``text`` read by :func:`.markdown_page.read_page`; a structural problem raises
    :class:`CatalogueError` naming ``name`` and the line."""
    try:
        return read_page(text)
    except PageError as err:
        raise CatalogueError([Problem(name, err.line, "page", str(err))]) from None


def page_source(page: Page, text: str, name: str) -> tuple[str, dt.date]:
    """The page's title and ``ms.date`` from its front matter; raises :class:`CatalogueError` without them."""
    title = page.front_matter.get("title")
    date = page.front_matter.get("ms.date")
    if not title or date is None:
        raise CatalogueError([Problem(name, 1, "front matter", "the page's front matter has no title or ms.date")])
    line = next((i for i, t in enumerate(text.split("\n"), 1) if t.startswith("ms.date")), 1)
    return str(title), ms_date(date, name, line)


def ms_date(value: object, name: str, line: int) -> dt.date:
    """The page's ``ms.date``: ISO (Learn's rendered Markdown) or MM/DD/YYYY, the form Microsoft's metadata
    reference gives for the memdocs source (``03/24/2026`` is 24 March 2026; a first number above 12 is refused,
    never read as a day)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    us = _US_DATE.match(text)
    try:
        if us:
            month, day, year = (int(g) for g in us.groups())
            return dt.date(year, month, day)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise CatalogueError(
            [
                Problem(
                    name,
                    line,
                    "front matter",
                    f"ms.date {text!r} is not a date: Microsoft writes MM/DD/YYYY (memdocs) or ISO 8601 (Learn)",
                )
            ]
        ) from None


def links(text: str, line: int, source_url: str, reports: list[Report]) -> list[Reference]:
    """The links of ``text`` (a paragraph or list item at ``line``) as references, resolved against the page's
    URL as Learn resolves them (``foo.md`` -> ``foo``); in-page anchors are skipped, a link that is not https is
    reported and left out."""
    out = []
    for title, url in LINK.findall(text):
        if url.startswith("#"):
            continue
        full = urljoin(source_url, url)
        full = re.sub(r"\.md(?=$|#)", "", full)
        if not full.startswith("https://"):
            reports.append(Report(line, f"link {url!r} is not https; left out"))
            continue
        ref = Reference(title=plain(title), url=full)
        if ref not in out:
            out.append(ref)
    return out


def sentence(text: str, at: int) -> str:
    """The sentence of ``text`` (Markdown) around the offset ``at``, as plain text."""
    start = text.rfind(". ", 0, at)
    end = text.find(". ", at)
    return plain(text[start + 2 if start >= 0 else 0 : end + 1 if end >= 0 else len(text)])


def plain(text: str) -> str:
    """``text`` without Markdown links (their titles kept), bold and backticks; HTML entities decoded."""
    text = LINK.sub(lambda m: m.group(1), text)
    return html.unescape(re.sub(r"\*\*|`", "", text)).strip()
