"""Import Microsoft's "Network endpoints for Microsoft Intune" page (its Markdown) into a catalogue file.

The page is read by :mod:`..markdown_page`; this package gives its blocks a meaning, one reader per kind of block,
each returning the drafts of its entries and its reports (:class:`.drafts.Read`); :func:`read_drafts` composes
them. What is imported:

* **Endpoint-set tables** (``| ID | Desc | Category | ER | Addresses | Ports |``, optionally ``| Notes |``;
  :mod:`.tables`): one entry ``intune-<ID>`` per ID. Desc is the description, ``required`` is "Required" in
  Category, Category and ER go into the provenance note, every backticked value of Addresses is a destination
  (comma lists with or without spaces; a parenthesis after a value is a note; a backticked label ending
  in ``:`` such as ``Azure Front Door Endpoints:`` is a note). Ports: ``**TCP:** 80, 443`` is http 80 and
  https 443, any other TCP port tcp, ``**UDP:** 123`` udp 123. An ID listed in two tables is one entry
  (the later row's values are merged, differences reported); its area is that of the deeper section.
  A row whose Desc names GCC is tagged with the region ``us-gov`` (see :data:`.sections.GOV_REGION`).
  A row with no addresses (``See Notes``) is a ``reference`` entry with the row's links.
* **Region tables** (``| Region | CDN | Port |``, :mod:`.tables`) and **tab panels** (:mod:`.lists`;
  ``<a id="tabpanel_…_<region>">`` lists in Learn's rendering, ``# [Region](#tab/<region>)`` tabs in memdocs'
  source, read alike by :mod:`..markdown_page`): one entry ``intune-<area>-<region>`` per region, tagged with the
  stack region name.
* **Per-scale-unit hosts** (``amsu<family><nn>…``, ID 182; :mod:`.scale_units`): split by family into one entry
  per region the family's ``imeswd<family>-…`` hosts are placed in on the same page; a family placed nowhere gets
  an entry tagged with its own name (``amsud``) and a report.
* **Bullet lists of hosts** under a section (:mod:`.lists`): one entry ``intune-<area>-list-<n>`` with the
  section's stated ports (the first "port(s) N and M", "port N/M" or "HTTPS/N" of its prose; none stated: https
  443, reported). Lists of links only become ``reference`` entries. Peer-to-peer ports in prose ("uses 7680 for
  TCP/IP", "Teredo on port 3544"; :mod:`.prose`) become ``peer-to-peer`` entries.
* **Sections that only link** to other documents (Apple, Android Enterprise, Endpoint analytics, ...;
  :mod:`.lists`): one ``reference`` entry each.
* **Hosts written in a sentence** (no backticks or quotes, not a link; :mod:`.prose`) that the catalogue does not
  hold are reported with their line; a reviewed fix-up imports one (``add: AREA``: entry ``intune-<area>-prose``)
  or records why it is left out (``drop: true``, e.g. a wildcard on a public suffix).
* **The consolidated list** (the ``FQDNs`` and ``IP Subnets`` code blocks; :mod:`.consolidated`): every value must
  be in the catalogue; values in no table or list go into entries of their own (``intune-consolidated-…``, ports
  http 80 + https 443 as the core service, reported) and every disagreement between the tables and the list
  is reported by value, both ways.

Defects are reported (``PAGE:LINE: message; decision``), never silently fixed: mixed case is lowercased,
a value repeated in one entry is kept once, a stray backtick with nothing after it is ignored, a quoted URL
``'https://host'`` gives its host, a region-table value also listed in an endpoint set elsewhere is named.
A value that is no host name, wildcard or address fails the import unless a reviewed fix-up
(:mod:`..page_fixups`) replaces or drops it. A table of an unknown shape, a region the stacks do not know or
a section with endpoints but no service area fails the import naming the line; a section the import does not
know (:mod:`.sections`) and that holds no endpoints is reported as unrecognised. The same page and fix-ups always
give the same bytes; entries follow the page's order.
"""

from __future__ import annotations

from pathlib import Path

from ....endpoints.loader import read_text
from ....endpoints.models import CatalogueFile, ServiceArea, Source
from ..learn_page import PageContext, PageImport, Report, page_source, read
from ..markdown_page import BulletList, Page, Section, Table
from ..page_fixups import NO_FIXUPS, Fixups
from .consolidated import read_consolidated
from .drafts import Draft, Read, merged, to_entry
from .lists import read_bullet_list, read_reference_section
from .prose import read_peer_to_peer, read_prose_hosts, read_prose_values
from .scale_units import place_families, split_scale_units
from .sections import (
    AREAS,
    CONSOLIDATED,
    ENDPOINT_SET,
    PROSE_SECTIONS,
    REFERENCE_SECTIONS,
    REGION_TABLE,
    SECTIONS,
    SOURCE_ID,
    SOURCE_URL,
)
from .tables import also_in_endpoint_sets, read_table


def import_page(text: str, name: str, fixups: Fixups = NO_FIXUPS, source_url: str = SOURCE_URL) -> PageImport:
    """The catalogue of the page ``text`` (named ``name`` in messages); raises :class:`CatalogueError`."""
    page = read(text, name)
    title, date = page_source(page, text, name)
    context = PageContext(name, fixups, source_url)
    drafts, reports = read_drafts(page, context)
    entries = [to_entry(d, context) for d in drafts.values()]
    used = {e.service_area for e in entries}
    areas = sorted(
        (ServiceArea(id=a, title=t, priority=p) for a, (t, p) in AREAS.items() if a in used), key=lambda a: a.priority
    )
    doc = CatalogueFile(
        schema_version=1,
        sources=(Source(id=SOURCE_ID, title=title, url=source_url, date=date, language="en-US"),),
        service_areas=tuple(areas),
        entries=tuple(entries),
    )
    reports = sorted(reports, key=lambda r: r.line)
    return PageImport(doc, tuple(reports), name, fixups.file, "Microsoft Intune network endpoints", "intune-page")


def import_file(path: Path, fixups: Fixups = NO_FIXUPS, source_url: str = SOURCE_URL) -> PageImport:
    return import_page(read_text(Path(path)), str(path), fixups, source_url)


def read_drafts(page: Page, context: PageContext) -> tuple[dict[str, Draft], list[Report]]:
    """The drafts of every entry, in page order, and every report. The sections' tables and lists first; then
    what needs them all: the prose's values and hosts they do not hold, the consolidated list, the scale units
    split by the region each family is placed in."""
    found = _Found(context)
    for section in page.sections:
        _read_section(section, context, found)
    found.reports += also_in_endpoint_sets(found.drafts)
    for section in page.sections:
        found.take(read_prose_values(section, SECTIONS.get(section.anchor), context, found.drafts))
    for section in page.sections:
        found.take(read_prose_hosts(section, context, found.drafts))
    found.take(read_consolidated(page, context, found.drafts))
    drafts, reports = split_scale_units(found.drafts, place_families(page))
    reports = found.reports + reports
    return drafts, reports + context.unused_fixups(reports)


def _read_section(section: Section, context: PageContext, found: _Found) -> None:
    area = SECTIONS.get(section.anchor)
    if area is not None:
        for block in section.blocks:
            if isinstance(block, Table):
                found.take(read_table(block, section, area, context, found.drafts))
            elif isinstance(block, BulletList):
                found.take(read_bullet_list(block, section, area, context, found.drafts))
        found.take(read_peer_to_peer(section, area))
    elif section.anchor in REFERENCE_SECTIONS:
        found.take(read_reference_section(section, context))
    elif section.anchor != CONSOLIDATED:  # read once every table is in
        holds = [
            b
            for b in section.blocks
            if isinstance(b, Table) and b.header[: len(ENDPOINT_SET)] in (ENDPOINT_SET, REGION_TABLE)
        ]
        if holds:
            raise context.fail(
                holds[0].line,
                f"the table at line {holds[0].line} lists endpoints, but its section "
                f"{section.title!r} (#{section.anchor}, line {section.line}) has no service "
                "area; add the section to SECTIONS of intune_page/sections.py",
            )
        if section.anchor not in PROSE_SECTIONS:
            found.reports.append(
                Report(
                    section.line,
                    f"unrecognised section {section.title!r} (#{section.anchor}): nothing imported from it; review it",
                )
            )


class _Found:
    """The drafts read so far (by id, in page order) and the reports."""

    def __init__(self, context: PageContext):
        self.context = context
        self.drafts: dict[str, Draft] = {}
        self.reports: list[Report] = []

    def take(self, read: Read) -> None:
        """What a reader found: its updates replace their drafts; a new draft of an id taken is an endpoint set
        listed again (merged) or refused."""
        self.reports += read.reports
        for draft in read.updated:
            self.drafts[draft.id] = draft
        for draft in read.drafts:
            old = self.drafts.get(draft.id)
            if old is None:
                self.drafts[draft.id] = draft
            elif draft.endpoint_set is not None and old.endpoint_set == draft.endpoint_set:
                self.drafts[draft.id], reports = merged(old, draft)
                self.reports += reports
            else:
                raise self.context.fail(
                    draft.line, f"two parts of the page give the entry id {draft.id!r} (the other at line {old.line})"
                )
