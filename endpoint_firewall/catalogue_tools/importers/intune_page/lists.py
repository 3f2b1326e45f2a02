"""The Intune page's bullet lists and the sections that only link elsewhere.

A list of hosts under a section is one draft ``intune-<area>-list-<n>`` on the ports the section's prose states
(:func:`section_ports`); a list under a tab panel (``tabpanel_…_<region>``) one draft per region; a list of links
only a ``reference`` draft. A section of :data:`.sections.REFERENCE_SECTIONS` is one ``reference`` draft of its
links.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ....endpoints.models import EntryKind, Reference, Service
from ..learn_page import LINK, PageContext, Report
from ..markdown_page import BulletList, Item, Paragraph, Section, Table
from .drafts import TICKED, Draft, Read, draft_id, list_label, new_draft, protocol, read_value
from .sections import HTTPS_ONLY, PREFIX
from .tables import region

_QUOTED_URL = re.compile(r"^'(https?://[^'\s/]+)/?'$")
_PORT_STATEMENT = re.compile(r"(?:\bports?\s+|\bHTTPS/)(\d+)((?:\s*(?:/|,|and)\s*\d+)*)", re.I)
_TAB_PANEL = re.compile(r"^tabpanel_\d+_([a-z-]+)$")


def read_bullet_list(
    block: BulletList, section: Section, area: str, context: PageContext, drafts: Mapping[str, Draft]
) -> Read:
    """The draft of one list of ``section`` (service area ``area``); ``drafts``: those of the blocks before it."""
    read = Read()
    hosts: list[tuple[int, str]] = []  # (line, host as written)
    links: list[Reference] = []
    quoted: list[Item] = []
    for item in block.items:
        ticked = TICKED.match(item.text)
        url = _QUOTED_URL.match(item.text)
        if url:
            quoted.append(item)
            hosts.append((item.line, url.group(1).split("://", 1)[1]))
        elif ticked and " " not in ticked.group(1).strip():
            hosts.append((item.line, ticked.group(1).strip()))
        elif LINK.match(item.text):
            links.extend(context.links(item.text, item.line, read.reports))
        else:
            read.reports.append(
                Report(item.line, f"list item {item.text!r} in #{section.anchor} names no host; not imported")
            )
    if links and not hosts:
        k = sum(d.kind is EntryKind.REFERENCE and d.area == area for d in drafts.values()) + 1
        draft = new_draft(
            draft_id(area, f"reference-{k}"),
            area,
            list_label(block.label) or section.title,
            section,
            block.line,
            note="a list of links",
        )
        draft.kind, draft.references = EntryKind.REFERENCE, links
        read.drafts.append(draft)
        return read
    if not hosts:
        return read
    if quoted:
        read.reports.append(
            Report(
                quoted[0].line,
                f"{len(quoted)} items of the list at lines {quoted[0].line}-"
                f"{quoted[-1].line} are quoted URLs ('https://…'); "
                "their host names are imported",
            )
        )
    panel = _TAB_PANEL.match(block.anchor or "")
    if panel:
        name = region(panel.group(1).replace("-", " "), block.line, context)
        draft = new_draft(
            draft_id(area, name),
            area,
            f"{section.title}: {panel.group(1)}",
            section,
            block.line,
            note=f"tab {block.anchor}",
        )
        draft.regions = [name]
    else:
        k = sum(d.block == "host list" and d.area == area for d in drafts.values()) + 1
        draft = new_draft(
            draft_id(area, f"list-{k}"),
            area,
            list_label(block.label) or section.title,
            section,
            block.line,
            note=f"list {k} of the section",
            block="host list",
        )
    for line, host in hosts:
        value = read_value(host, line, section.anchor, context, read.reports)
        if value is not None:
            draft.add(value, line, read.reports)
    draft.services = list(section_ports(section, block.line, read.reports))
    read.drafts.append(draft)
    return read


def section_ports(section: Section, line: int, reports: list[Report]) -> tuple[Service, ...]:
    """The ports the first port statement of the section's prose names ("port(s) N and M", "port N/M", "HTTPS/N");
    none stated: https 443, reported."""
    for block in section.blocks:
        if isinstance(block, Paragraph):
            match = _PORT_STATEMENT.search(block.text)
            if match:
                return tuple(Service(protocol=protocol("TCP", p), port=p) for p in re.findall(r"\d+", match.group(0)))
    reports.append(Report(line, f"section #{section.anchor} states no port for its list; https 443 taken"))
    return HTTPS_ONLY


def read_reference_section(section: Section, context: PageContext) -> Read:
    """A section that only points at other documents: one reference draft of its links."""
    read = Read()
    links: list[Reference] = []
    for block in section.blocks:
        if isinstance(block, Paragraph):
            links += context.links(block.text, block.line, read.reports)
        elif isinstance(block, BulletList):
            for item in block.items:
                links += context.links(item.text, item.line, read.reports)
        elif isinstance(block, Table):
            raise context.fail(block.line, f"section {section.title!r} was a list of links; it now has a table")
    if not links:
        read.reports.append(Report(section.line, f"section {section.title!r} links to no document; nothing imported"))
        return read
    draft = new_draft(
        f"{PREFIX}ref-{section.anchor}"[:63].rstrip("-"),
        "intune-references",
        f"{section.title}: see the linked documents",
        section,
        section.line,
    )
    draft.kind, draft.references = EntryKind.REFERENCE, links
    read.drafts.append(draft)
    return read
