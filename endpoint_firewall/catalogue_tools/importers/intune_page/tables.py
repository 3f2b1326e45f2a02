"""The Intune page's tables: endpoint sets (``| ID | Desc | Category | ER | Addresses | Ports |``, optionally
``| Notes |``) and regions (``| Region | CDN | Port |``).

An endpoint set is one draft ``intune-<ID>`` (a row with no numeric ID and no address is a ``reference`` draft of
its links); a region row one draft ``intune-<area>-<region>`` tagged with the stack's region name. A region row's
value that an endpoint set also lists is named (:func:`also_in_endpoint_sets`), never dropped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from ....endpoints.models import EntryKind, Service
from ..learn_page import PageContext, Report, plain
from ..markdown_page import Row, Section, Table
from .drafts import TICKED, Draft, Read, draft_id, new_draft, protocol, read_value
from .sections import ENDPOINT_SET, GOV_REGION, PREFIX, REGION_TABLE, REGIONS

_PORTS = re.compile(r"\*\*(TCP|UDP):\*\*\s*([0-9][0-9,\s-]*)")
_LISTED_UNDER = re.compile(r"(\S+) is listed under '(.+)'")


def read_table(table: Table, section: Section, area: str, context: PageContext, drafts: Mapping[str, Draft]) -> Read:
    """The drafts of one table of ``section`` (service area ``area``); ``drafts``: those of the blocks before it."""
    header = table.header
    for row in table.rows:  # only a trailing Notes cell may be left out (the memdocs source does)
        if row.given >= 0 and header[row.given :] != ("Notes",):
            raise context.fail(
                row.line,
                f"row of the table at line {table.line} has {row.given} cells, its header "
                f"{len(header)} ({' | '.join(header)})",
            )
    read = Read()
    if header in (ENDPOINT_SET, ENDPOINT_SET + ("Notes",)):
        for row in table.rows:
            earlier = [*drafts.values(), *read.drafts]
            read.drafts.append(
                _endpoint_set(
                    row, dict(zip(header, row.cells, strict=True)), section, area, context, earlier, read.reports
                )
            )
    elif header == REGION_TABLE:
        for row in table.rows:
            read.drafts.append(_region_row(row, section, area, context, read.reports))
    else:
        raise context.fail(
            table.line,
            f"the table at line {table.line} in section {section.title!r} has the "
            f"columns {' | '.join(header)}; the import knows "
            f"{' | '.join(ENDPOINT_SET)} [| Notes] and {' | '.join(REGION_TABLE)}",
        )
    return read


def region(text: str, line: int, context: PageContext) -> str:
    """The stacks' name of the page's region ``text`` (``Asia Pacific`` -> ``asia-pacific``)."""
    found = REGIONS.get(text.strip().lower())
    if found is None:
        raise context.fail(
            line,
            f"region {text!r} is not one the stacks know ({', '.join(REGIONS)}); add it to REGIONS of "
            "intune_page/sections.py",
        )
    return found


def also_in_endpoint_sets(drafts: Mapping[str, Draft]) -> list[Report]:
    """A region row names a value an endpoint set lists too: a page oddity, named for review, never dropped."""
    reports = []
    for draft in drafts.values():
        if draft.block != "region row":
            continue
        for value in draft.values:
            line = draft.lines[value]
            for other in drafts.values():
                if other.endpoint_set is not None and value in other.lines:
                    reports.append(
                        Report(
                            line,
                            f"{value} in the region row of {draft.id} is also in "
                            f"{other.label()} (line {other.lines[value]}), area {other.area}; "
                            "kept in both, so a stack that selects only one of the two "
                            "areas allows it",
                        )
                    )
    return reports


def _region_row(row: Row, section: Section, area: str, context: PageContext, reports: list[Report]) -> Draft:
    name = region(row.cells[0], row.line, context)
    draft = new_draft(
        draft_id(area, name),
        area,
        f"{section.title}: {row.cells[0]}",
        section,
        row.line,
        note=f"region table, row {row.cells[0]}",
        block="region row",
    )
    draft.regions = [name]
    _addresses(draft, row.cells[1], row.line, section.anchor, context, reports, region_row=True)
    draft.services = list(_ports(row.cells[2], row.line, context))
    return draft


def _endpoint_set(
    row: Row,
    cells: dict[str, str],
    section: Section,
    area: str,
    context: PageContext,
    earlier: list[Draft],
    reports: list[Report],
) -> Draft:
    """The draft of one endpoint set's row (another row of the same ID is merged with it later); a row with no
    numeric ID: a reference draft."""
    ident = cells["ID"].strip()
    description = html.unescape(cells["Desc"]).strip()
    category, er = cells["Category"].strip(), cells["ER"].strip()
    required = "required" in category.lower().split()
    if not ident.isdigit():
        if "`" in cells["Addresses"]:
            raise context.fail(row.line, f"endpoint set {ident!r} lists addresses but has no numeric ID")
        return _reference_row(row, cells, section, area, description, required, context, earlier, reports)
    number = int(ident)
    draft = new_draft(f"{PREFIX}{number}", area, description, section, row.line, note=f"{category}; ExpressRoute {er}")
    draft.required, draft.endpoint_set = required, number
    if "gcc" in description.lower().split():
        draft.regions = [GOV_REGION]
    _addresses(draft, cells["Addresses"], row.line, section.anchor, context, reports)
    draft.services = list(_ports(cells["Ports"], row.line, context))
    if cells.get("Notes", "").strip():
        draft.notes.append(cells["Notes"].strip())
    return draft


def _reference_row(
    row: Row,
    cells: dict[str, str],
    section: Section,
    area: str,
    description: str,
    required: bool,
    context: PageContext,
    earlier: list[Draft],
    reports: list[Report],
) -> Draft:
    links = [link for cell in cells.values() for link in context.links(cell, row.line, reports)]
    if not links:
        raise context.fail(row.line, f"row {cells['ID']!r} lists no addresses and no link")
    k = sum(d.kind is EntryKind.REFERENCE and d.area == area for d in earlier) + 1
    draft = new_draft(
        draft_id(area, f"reference-{k}"),
        area,
        description,
        section,
        row.line,
        note=f"row {cells['ID']}: {cells['Addresses']}",
    )
    draft.kind, draft.required, draft.references = EntryKind.REFERENCE, required, links
    if cells.get("Notes", "").strip():
        draft.notes.append(plain(cells["Notes"]))
    return draft


def _addresses(
    draft: Draft,
    cell: str,
    line: int,
    section: str,
    context: PageContext,
    reports: list[Report],
    region_row: bool = False,
) -> None:
    """Every backticked value of the Addresses (or CDN) cell into ``draft``: comma lists, a parenthesis after a
    value as its note, a label ending in ``:`` (``Azure Front Door Endpoints:``) as the note of what follows."""
    if cell.count("`") % 2:
        tail = cell[cell.rfind("`") + 1 :]
        if tail.strip(" |"):
            raise context.fail(line, f"an unmatched backtick before {tail.strip()!r}")
        reports.append(
            Report(
                line, f"a stray backtick at the end of the addresses of {draft.label()}; nothing follows it, ignored"
            )
        )
        cell = cell[: cell.rfind("`")]
    label: str | None = None
    last: str | None = None
    position = 0
    for match in TICKED.finditer(cell):
        between = cell[position : match.start()].strip()
        if between.startswith("(") and last:
            draft.notes.append(f"{last}: {between.strip('()')}")
        position = match.end()
        inside = match.group(1).strip()
        if inside.endswith(":"):
            label = inside[:-1]
            continue
        for raw in (p.strip() for p in inside.split(",")):
            if not raw:
                continue
            value = read_value(raw, line, section, context, reports)
            if value is None:
                continue
            draft.add(value, line, reports)
            last = value
            if label:
                draft.notes.append(f"{value} is listed under '{label}'")
    after = cell[position:].strip()
    if after.startswith("(") and last:
        draft.notes.append(f"{last}: {after.strip('()')}")
    if not draft.values and not region_row:
        raise context.fail(line, f"{draft.label()} lists no address (cell {cell!r})")
    _label_notes(draft)


def _label_notes(draft: Draft) -> None:
    """Collapse "x is listed under 'L'" notes into one per label."""
    by_label: dict[str, list[str]] = {}
    rest = []
    for note in draft.notes:
        m = _LISTED_UNDER.fullmatch(note)
        if m:
            by_label.setdefault(m.group(2), []).append(m.group(1))
        elif not note.startswith("Listed under "):
            rest.append(note)
    draft.notes = rest + [f"Listed under '{label}': {', '.join(values)}" for label, values in by_label.items()]


def _ports(cell: str, line: int, context: PageContext) -> tuple[Service, ...]:
    found = _PORTS.findall(cell)
    if not found or _PORTS.sub("", cell).replace(",", "").strip():
        raise context.fail(line, f"ports {cell!r} are not written as '**TCP:** 80, 443' or '**UDP:** 123'")
    services: list[Service] = []
    for transport, numbers in found:
        for port in (p.strip() for p in numbers.split(",") if p.strip()):
            services.append(Service(protocol=protocol(transport, port), port=port))
    return tuple(services)
