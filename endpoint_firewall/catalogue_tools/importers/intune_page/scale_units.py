"""Per-scale-unit hosts (``amsu<family><nn>…``, ID 182): one draft per family, in the region the page's region
tables place the family's ``imeswd<family>-…`` hosts; a family placed nowhere is tagged with its own name
(``amsud``) and reported."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..learn_page import Report
from ..markdown_page import Page, Table
from .drafts import TICKED, Draft
from .sections import REGION_TABLE, REGIONS

_SCALE_UNIT = re.compile(r"^(amsu([a-z]+?)(\d+))[a-z]+\.")
_FAMILY_HOST = re.compile(r"^imeswd([a-z]+)-")


def place_families(page: Page) -> dict[str, tuple[str, int]]:
    """Scale-unit family -> (region, line): the families whose ``imeswd<family>-…`` hosts a region table places."""
    placements: dict[str, tuple[str, int]] = {}
    for section in page.sections:
        for block in section.blocks:
            if isinstance(block, Table) and block.header == REGION_TABLE:
                for row in block.rows:
                    region = REGIONS.get(row.cells[0].lower())
                    for raw in TICKED.findall(row.cells[1]):
                        match = _FAMILY_HOST.match(raw.lower())
                        if match and region:
                            placements.setdefault(match.group(1), (region, row.line))
    return placements


def split_scale_units(
    drafts: Mapping[str, Draft], placements: Mapping[str, tuple[str, int]]
) -> tuple[dict[str, Draft], list[Report]]:
    """``drafts`` with each endpoint set of scale-unit hosts only split into one draft per family, in place."""
    out: dict[str, Draft] = {}
    reports: list[Report] = []
    for entry_id, draft in drafts.items():
        matched = [_SCALE_UNIT.match(v) for v in draft.values]
        units = [m for m in matched if m is not None]
        if draft.endpoint_set is None or not draft.values or len(units) != len(matched):
            out[entry_id] = draft
            continue
        families: dict[str, list[int]] = {}
        for i, match in enumerate(units):
            families.setdefault(match.group(2), []).append(i)
        for family, indexes in families.items():
            placed = placements.get(family)
            tag = placed[0] if placed else f"amsu{family}"
            part = Draft(
                f"{entry_id}-{tag}",
                draft.area,
                f"{draft.description} ({tag} scale units)",
                draft.section,
                draft.level,
                draft.line,
                draft.required,
                draft.kind,
                services=list(draft.services),
                regions=[tag],
                endpoint_set=draft.endpoint_set,
                note=draft.note,
            )
            for i in indexes:
                part.add(draft.values[i], draft.lines[draft.values[i]], reports)
                part.scale_units.append(units[i].group(1).upper())
            if placed:
                part.notes.append(
                    f"Scale-unit family '{family}' is in {placed[0]}: the page's imeswd{family}- "
                    f"hosts are in that region's row."
                )
            else:
                part.notes.append(
                    f"The page places no imeswd{family}- host in a region, so scale-unit family "
                    f"'{family}' is tagged '{tag}': a stack that filters by region names it."
                )
                reports.append(
                    Report(
                        draft.line,
                        f"ID {draft.endpoint_set}: scale-unit family '{family}' "
                        f"({', '.join(part.scale_units)}) is placed in no region on "
                        f"the page; entry {part.id} tagged '{tag}'",
                    )
                )
            out[part.id] = part
    return out, reports
