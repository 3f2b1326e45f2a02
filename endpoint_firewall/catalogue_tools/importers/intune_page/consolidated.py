"""The Intune page's consolidated list (the ``FQDNs`` and ``IP Subnets`` code blocks), read once every table and
list is in: every value of the list must be in the catalogue. Values in no table or list go into drafts of their
own (``intune-consolidated-…``, on http 80 + https 443 as the core service, reported); every disagreement between
the tables and the list is reported by value, both ways."""

from __future__ import annotations

from collections.abc import Mapping

from ....endpoints.models import Destination, DestinationKind
from ..learn_page import PageContext, Report
from ..markdown_page import CodeBlock, Page
from .drafts import Draft, Read, new_draft, read_value
from .sections import CONSOLIDATED, CONSOLIDATED_BLOCKS, GOV_REGION, PREFIX, WEB_PORTS


def read_consolidated(page: Page, context: PageContext, drafts: Mapping[str, Draft]) -> Read:
    sections = [s for s in page.sections if s.anchor == CONSOLIDATED]
    if not sections:
        raise context.fail(1, "the page has no 'Consolidated Endpoint List' section")
    section = sections[0]
    read = Read()
    listed: dict[str, int] = {}
    blocks = [b for b in section.blocks if isinstance(b, CodeBlock)]
    if {(b.label or "").strip().lower() for b in blocks} != set(CONSOLIDATED_BLOCKS):
        raise context.fail(
            section.line,
            f"the consolidated list is no longer two code blocks labelled {' and '.join(CONSOLIDATED_BLOCKS.values())}",
        )
    for block in blocks:
        for item in block.lines:
            if item.text.strip():
                value = read_value(item.text.strip(), item.line, CONSOLIDATED, context, read.reports)
                if value is not None:
                    if value in listed:
                        read.reports.append(
                            Report(
                                item.line,
                                f"{value} is in the consolidated list twice (also line {listed[value]}); kept once",
                            )
                        )
                    listed.setdefault(value, item.line)
    tables: dict[str, tuple[int, Draft]] = {}
    for draft in drafts.values():
        for value in draft.values:
            tables.setdefault(value, (draft.lines[value], draft))
    for value, (line, draft) in tables.items():
        if value not in listed:
            read.reports.append(Report(line, f"{value} ({draft.label()}) is not in the consolidated list"))
    only = [(value, line) for value, line in listed.items() if value not in tables]
    groups: dict[str, list[tuple[str, int]]] = {"names": [], "addresses": [], "us-gov": []}
    for value, line in only:
        kind = Destination.model_validate(value).kind
        group = "us-gov" if value.endswith(".us") else "addresses" if kind is DestinationKind.NETWORK else "names"
        groups[group].append((value, line))
        read.reports.append(
            Report(
                line,
                f"{value} is in the consolidated list only (in no table or list); "
                f"imported as {PREFIX}consolidated-{group} on http 80 + https 443",
            )
        )
    for group, values in groups.items():
        if not values:
            continue
        draft = new_draft(
            f"{PREFIX}consolidated-{group}",
            "intune-consolidated",
            "Values of the consolidated endpoint list that no table or list of the page names"
            + (" (US government clouds)" if group == "us-gov" else ""),
            section,
            values[0][1],
            note="consolidated list only; ports not stated, those of the core service taken",
        )
        for value, line in values:
            draft.add(value, line, read.reports)
        draft.services = list(WEB_PORTS)
        if group == "us-gov":
            draft.regions = [GOV_REGION]
        read.drafts.append(draft)
    return read
