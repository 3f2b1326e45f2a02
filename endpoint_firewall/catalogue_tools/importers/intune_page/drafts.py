"""Drafts of the Intune page's entries: what each block reader returns (:class:`Read`), how a value of the page is
read (:func:`read_value`), how an endpoint set listed twice becomes one entry (:func:`merged`), and how a draft
becomes a catalogue entry (:func:`to_entry`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from pydantic import ValidationError

from ....endpoints.models import DestinationKind, Entry, EntryKind, Protocol, Reference, Service
from ..learn_page import LINK, PageContext, Report, plain
from ..markdown_page import Section
from .sections import PREFIX, SOURCE_ID

TICKED = re.compile(r"`([^`]*)`")  # a backticked value of the page
_VALUE_KINDS = (DestinationKind.FQDN, DestinationKind.WILDCARD, DestinationKind.NETWORK)  # what a value may be


@dataclass
class Draft:
    id: str
    area: str
    description: str
    section: str
    level: int
    line: int
    required: bool = True
    kind: EntryKind = EntryKind.ENDPOINTS
    values: list[str] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # value -> line it was read from
    services: list[Service] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    scale_units: list[str] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    endpoint_set: int | None = None
    note: str | None = None
    notes: list[str] = field(default_factory=list)
    block: str = ""  # "host list", "region row": the blocks the readers number and cross-check

    def add(self, value: str, line: int, reports: list[Report]) -> None:
        if value in self.lines:
            reports.append(
                Report(line, f"{value} is listed twice in {self.label()} (also line {self.lines[value]}); kept once")
            )
            return
        self.values.append(value)
        self.lines[value] = line

    def label(self) -> str:
        return f"ID {self.endpoint_set}" if self.endpoint_set is not None else self.id

    def copy(self) -> Draft:
        """A draft to add to, leaving this one as it is."""
        return replace(
            self,
            values=list(self.values),
            lines=dict(self.lines),
            services=list(self.services),
            regions=list(self.regions),
            scale_units=list(self.scale_units),
            references=list(self.references),
            notes=list(self.notes),
        )


def new_draft(
    entry_id: str, area: str, description: str, section: Section, line: int, note: str | None = None, block: str = ""
) -> Draft:
    """A draft of an entry read at ``line`` of ``section``."""
    return Draft(entry_id, area, description, section.anchor, section.level, line, note=note, block=block)


@dataclass
class Read:
    """What a reader found in a block of the page: the drafts of new entries (page order), drafts of earlier
    blocks it added to (same id, replacing them), and its reports."""

    drafts: list[Draft] = field(default_factory=list)
    updated: list[Draft] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)


def read_value(raw: str, line: int, section: str, context: PageContext, reports: list[Report]) -> str | None:
    """The catalogue value for ``raw`` as written at ``line`` (None: dropped by a fix-up)."""
    text, fixed = context.fixed(raw, section, line, f"section #{section}")
    if fixed is not None:
        reports.append(fixed)
    if text is None:
        return None
    text = text.replace("\\*", "*")
    dest = context.destination(text, line, repr(raw), _VALUE_KINDS, "address")
    if dest.is_name and text != text.lower():
        reports.append(
            Report(line, f"{text} is written in mixed case; host names are case-insensitive, imported as {dest.value}")
        )
    return dest.value


def merged(old: Draft, new: Draft) -> tuple[Draft, list[Report]]:
    """One draft of an endpoint set the page lists twice (``old`` first): both rows' values and ports, in the area of
    the deeper section; the report names the differences."""
    more, fewer = [v for v in new.values if v not in old.lines], [v for v in old.values if v not in new.lines]
    same = not more and not fewer and old.services == new.services
    out = old.copy()
    if new.level > old.level:
        out.area, out.section, out.level = new.area, new.section, new.level
    detail = (
        "the same addresses and ports"
        if same
        else f"differences: only at line {new.line}: {', '.join(more) or 'none'}; only at line {old.line}: "
        f"{', '.join(fewer) or 'none'}; ports {', '.join(map(str, new.services))} there"
    )
    reports = [
        Report(
            new.line,
            f"ID {new.endpoint_set} is listed again (first at line {old.line}) with "
            f"{detail}; one entry {out.id} with both rows' values, in the area "
            f"{out.area} (the deeper section)",
        )
    ]
    for value in more:
        out.add(value, new.lines[value], reports)
    out.services += [s for s in new.services if s not in out.services]
    return out, reports


def to_entry(d: Draft, context: PageContext) -> Entry:
    provenance: dict[str, str | int] = {"source": SOURCE_ID, "section": d.section}
    if d.endpoint_set is not None:
        provenance["endpoint_set"] = d.endpoint_set
    if d.note:
        provenance["note"] = d.note
    data = {
        "id": d.id,
        "service_area": d.area,
        "description": d.description,
        "required": d.required,
        "kind": d.kind,
        "destinations": d.values,
        "services": d.services,
        "regions": d.regions,
        "scale_units": d.scale_units,
        "provenance": provenance,
        "references": d.references,
    }
    if d.notes:
        data["notes"] = " ".join(n if n.endswith(".") else n + "." for n in d.notes)
    try:
        return Entry.model_validate(data)
    except ValidationError as err:
        raise context.fail(d.line, f"{d.id}: {err.errors(include_url=False)[0]['msg']}") from None


def draft_id(area: str, suffix: str) -> str:
    """``intune-<area>-<suffix>`` (an area named ``intune-...`` once), at most 63 characters."""
    return f"{area if area.startswith(PREFIX) else PREFIX + area}-{suffix}"[:63].rstrip("-")


def protocol(transport: str, port: str) -> Protocol:
    """TCP 80 is http, TCP 443 https, other TCP tcp; UDP udp."""
    if transport.upper() == "UDP":
        return Protocol.UDP
    return {"80": Protocol.HTTP, "443": Protocol.HTTPS}.get(port.strip(), Protocol.TCP)


def list_label(label: str | None) -> str | None:
    """The paragraph before a list (``**Microsoft Store API:**``) as its description, if short enough."""
    if not label:
        return None
    text = plain(label).rstrip(":").strip()
    return text if len(text) <= 120 else None


def in_link(text: str, at: int) -> bool:
    return any(m.start() <= at < m.end() for m in LINK.finditer(text))
