"""Import the Microsoft 365 IP address and URL web service JSON into a catalogue file.

The input is what ``https://endpoints.office.com/endpoints/worldwide?clientrequestid=<GUID>`` returns: a JSON
list of records such as::

    {"id": 12, "serviceArea": "Skype", "serviceAreaDisplayName": "Skype for Business Online and Microsoft Teams",
     "urls": ["*.lync.com"], "ips": ["13.107.64.0/18"], "tcpPorts": "80,443", "udpPorts": "3478-3481",
     "expressRoute": true, "category": "Optimize", "required": true, "notes": "..."}

``id``, ``serviceArea``, ``serviceAreaDisplayName``, ``expressRoute``, ``category`` (Optimize, Allow or
Default) and ``required`` must be present; ``urls``, ``ips``, ``tcpPorts``, ``udpPorts`` and ``notes`` are
left out by the service when blank (a blank port string counts as absent). A missing key, a repeated key, a
value of the wrong type, a port string that is not a comma-separated list of ports and ranges (stray spaces
are fine: ``"443, 5223"``, ``"3478 - 3481"``), a repeated record id or a URL or address that is simply
invalid is an input error, reported as ``FILE: [index].key: message``: the feed is machine-generated, so
the record's place in the list and the key find the value (:mod:`.records`). A key the importer does not know
is not an error: the web service adds fields over time. It is ignored and reported once per key, as a
located warning naming the first record that has it and how many others do, and listed in the output's
header.

Choices the output depends on:

* **One record, one entry** ``m365-<id>``. A record already means "these destinations on these ports",
  which is the shape of a catalogue entry (destinations x services), so no record is ever split and no id
  suffix is needed. ``required`` is copied; ``category`` and ``expressRoute`` go into the provenance note
  and the description, ``notes`` into the entry's notes.
* **Ports to services**: TCP 80 is ``http``, TCP 443 is ``https``, a TCP port or range that lies wholly
  within the TLS ports (:data:`.ports.TLS_PORTS`, or ``tls_ports`` / ``--tls-ports``) is ``tls``, every other TCP
  port and range (even one containing 80 or 443) is ``tcp``, every UDP port or range is ``udp``. The web
  service names transports, not protocols; HTTP on 80, HTTPS on 443 and TLS from the first byte on the TLS
  ports is what is spoken there, and lets a firewall match the host names by Host header / SNI on both
  clouds. STARTTLS ports (25, 587, 143, 110, 389) begin in plain text and stay ``tcp``, as does anything
  else: names on ``tcp`` are reported by the planner ("not deployed as written"), never matched by SNI.
* **Destinations** go through the catalogue's own checks. A URL the catalogue cannot express exactly is
  reported by record id and URL on stderr and left out, never widened: a wildcard that is not the whole
  left-most label (``autodiscover.*.onmicrosoft.com``, ``*contoso.com``), a wildcard directly on a public
  suffix (``*.blob.core.windows.net``) and ``*`` / ``0.0.0.0/0`` / ``::/0`` (would allow everything).
  A record left with no destination (or that lists none, or no ports) is reported and left out.
* **Service areas**: the id is ``serviceArea`` lowercased (characters other than ``a-z0-9-`` become ``-``),
  the title the ``serviceAreaDisplayName`` of the area's lowest record id. Priorities come from a fixed
  table (:data:`AREA_PRIORITIES`: common 2000, exchange 2100, sharepoint 2200, skype 2300, mem 2400), clear
  of the shipped Intune areas (1000-1600) and independent of ``--service-area``; areas not in the table
  get 2500, 2600, ... in sorted order of all such areas in the input file.
* **Source**: one source ``m365-web-service`` with the worldwide web service URL (another instance's URL
  can be given) and the date given by the caller (``--source-date``, by default today in UTC: the JSON
  carries no date of its own).
* **MEM**: Microsoft's Intune endpoints page says the web service's Intune data is no longer accurate
  (:data:`MEM_CAUTION`); importing ``MEM`` records works but gives one located warning pointing to
  ``epfw import intune-page``.
* **Determinism**: records sorted by id, destinations deduplicated and sorted (names alphabetically, then
  addresses numerically, IPv4 before IPv6), services deduplicated and sorted, areas by priority. The same
  data, in any order, with the same options and source date gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ....endpoints.errors import CatalogueError, EpfwError, Problem
from ....endpoints.located import first_message
from ....endpoints.models import CatalogueFile, Destination, DestinationKind, Entry, PortRange, ServiceArea, Source
from ....endpoints.stats import counted
from .ports import default_tls_ports, services_for
from .records import KEYS, Record, read_records

SOURCE_ID = "m365-web-service"
SOURCE_TITLE = "Microsoft 365 IP address and URL web service"
WEB_SERVICE_URL = "https://endpoints.office.com/endpoints/worldwide"
ENTRY_PREFIX = "m365-"
AREA_PRIORITIES: dict[str, int] = {"common": 2000, "exchange": 2100, "sharepoint": 2200, "skype": 2300, "mem": 2400}
PRIORITY_STEP = 100

MEM_CAUTION = (
    "Microsoft's Intune endpoints page warns that endpoint lists from the Office 365 Endpoint service "
    '"no longer return accurate data" and "may lead to incorrect configurations"'
)
INTUNE_PAGE_URL = "https://learn.microsoft.com/intune/fundamentals/endpoints"


def _destination_key(dest: Destination) -> tuple:
    if dest.kind is DestinationKind.NETWORK:
        net = ipaddress.ip_network(dest.value)
        return (1, net.version, int(net.network_address), net.prefixlen, "")
    return (0, 0, 0, 0, dest.value)


def area_priorities(area_ids: Iterable[str]) -> dict[str, int]:
    """Fixed priorities for the known areas; the others after them, in sorted order."""
    others = sorted(set(area_ids) - set(AREA_PRIORITIES))
    after = max(AREA_PRIORITIES.values()) + PRIORITY_STEP
    return {**AREA_PRIORITIES, **{a: after + k * PRIORITY_STEP for k, a in enumerate(others)}}


@dataclass(frozen=True)
class Omission:
    """Something of the input that is not in the output: one URL or address, or a whole record."""

    record: int
    value: str | None  # None: the whole record
    reason: str
    warning: Problem

    def __str__(self) -> str:
        what = repr(self.value) if self.value is not None else "the whole record"
        return f"record {self.record}: {what}: {self.reason}"


@dataclass(frozen=True)
class UnknownKey:
    """A key the importer does not know, ignored in ``records`` records (first: ``warning``'s location)."""

    key: str
    records: int
    warning: Problem


@dataclass(frozen=True)
class ImportResult:
    catalogue: CatalogueFile
    omissions: tuple[Omission, ...]
    selected_areas: tuple[str, ...] | None  # None: all
    record_count: int
    unknown_keys: tuple[UnknownKey, ...] = ()
    notices: tuple[Problem, ...] = ()  # warnings about the data as a whole (MEM)
    tls_ports: tuple[PortRange, ...] = ()

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return (*(u.warning for u in self.unknown_keys), *self.notices, *(o.warning for o in self.omissions))

    def header(self) -> str:
        areas = "all" if self.selected_areas is None else ", ".join(self.selected_areas)
        source = self.catalogue.sources[0]
        tls = ", ".join(str(p) for p in self.tls_ports) or "none"
        lines = [
            f"Microsoft 365 endpoints, imported by `epfw import m365` from the {SOURCE_TITLE}",
            f"(source date {source.date.isoformat()}, {counted(self.record_count, 'record')} in the input, "
            f"service areas: {areas}).",
            f"TCP ports imported as tls (TLS from the first byte, matched by SNI): {tls}.",
            "Re-import rather than edit by hand; review an update with `epfw catalogue diff OLD NEW`.",
        ]
        if self.unknown_keys:
            lines.append(
                "Keys the importer does not know, ignored: "
                + ", ".join(f"{u.key!r} ({counted(u.records, 'record')})" for u in self.unknown_keys)
            )
        if self.notices:
            lines.append(f"MEM records: {MEM_CAUTION} ({INTUNE_PAGE_URL}); prefer `epfw import intune-page`.")
        if self.omissions:
            lines.append("Left out because the catalogue cannot express them exactly (never widened):")
            lines.extend(f"  {o}" for o in self.omissions)
        return "\n".join(lines)


class UnknownServiceArea(EpfwError, ValueError):
    """Service areas asked for that no record has (``epfw import m365 --service-area`` names the option)."""

    def __init__(self, unknown: list[str], available: list[str]):
        self.unknown, self.available = unknown, available
        super().__init__(
            f"no record has service area {', '.join(map(repr, unknown))}; "
            f"the input has {', '.join(available) or 'no records'}"
        )


def convert(
    records: list[Record],
    filename: str,
    *,
    source_date: dt.date,
    source_url: str = WEB_SERVICE_URL,
    service_areas: Iterable[str] | None = None,
    tls_ports: Iterable[PortRange] | None = None,
) -> ImportResult:
    """Records -> catalogue data. Input errors of any record raise :class:`CatalogueError`; what cannot be
    expressed in the selected records is left out and listed in ``omissions``; unknown keys of the selected
    records are listed in ``unknown_keys``, selected MEM records give a notice. ``tls_ports`` replaces
    :data:`TLS_PORTS`."""
    tls = tuple(sorted(set(default_tls_ports() if tls_ports is None else tls_ports), key=PortRange.sort_key))
    by_id = sorted(records, key=lambda r: r.id)
    selected_areas: tuple[str, ...] | None = None
    if service_areas is not None:
        wanted = {a.strip().lower() for a in service_areas if a.strip()}
        present = {r.service_area.lower() for r in by_id} | {r.area_id for r in by_id}
        unknown = sorted(wanted - present)
        if unknown:
            raise UnknownServiceArea(unknown, sorted({r.service_area for r in by_id}, key=str.lower))
        selected_areas = tuple(
            sorted({r.area_id for r in by_id if r.service_area.lower() in wanted or r.area_id in wanted})
        )
    problems: list[Problem] = []
    omissions: list[Omission] = []
    entries: list[Entry] = []
    chosen: list[Record] = []
    for record in by_id:
        entry, left_out = _entry(record, filename, problems, tls)
        if selected_areas is None or record.area_id in selected_areas:
            chosen.append(record)
            omissions.extend(left_out)
            if entry is not None:
                entries.append(entry)
    if problems:
        raise CatalogueError(problems)

    priorities = area_priorities(r.area_id for r in by_id)
    titles: dict[str, str] = {}
    for record in by_id:
        if selected_areas is None or record.area_id in selected_areas:
            titles.setdefault(record.area_id, record.display_name.strip() or record.service_area)
    areas = sorted(
        (ServiceArea(id=a, title=t, priority=priorities[a]) for a, t in titles.items()),
        key=lambda a: (a.priority, a.id),
    )
    source = Source(id=SOURCE_ID, title=SOURCE_TITLE, url=source_url, date=source_date)
    doc = CatalogueFile(schema_version=1, sources=(source,), service_areas=tuple(areas), entries=tuple(entries))
    return ImportResult(
        catalogue=doc,
        omissions=tuple(omissions),
        selected_areas=selected_areas,
        record_count=len(records),
        unknown_keys=_unknown_keys(chosen, filename),
        notices=_mem_notice(chosen, filename),
        tls_ports=tls,
    )


def _mem_notice(records: list[Record], filename: str) -> tuple[Problem, ...]:
    """One warning, at the first MEM record, when any is imported: the web service's Intune data is stale."""
    mem = [r for r in records if r.area_id == "mem"]
    if not mem:
        return ()
    first = mem[0]
    which = f"MEM record {first.id}" if len(mem) == 1 else f"{len(mem)} MEM records (first: record {first.id})"
    return (
        Problem(
            filename,
            None,
            first.path("serviceArea"),
            f"{which}: {MEM_CAUTION}; import that page instead: epfw import intune-page FILE.md "
            f"--out FILE.yaml ({INTUNE_PAGE_URL})",
        ),
    )


def _unknown_keys(records: list[Record], filename: str) -> tuple[UnknownKey, ...]:
    """One :class:`UnknownKey` per key, located at the first record (in id order) that has it."""
    having: dict[str, list[Record]] = {}
    for record in records:
        for key in record.unknown_keys:
            having.setdefault(key, []).append(record)
    out = []
    for key in sorted(having):
        first, others = having[key][0], len(having[key]) - 1
        more = f" and {counted(others, 'other record')}" if others else ""
        out.append(
            UnknownKey(
                key,
                len(having[key]),
                Problem(
                    filename,
                    None,
                    first.path(key),
                    f"unknown key {key!r} ignored (record {first.id}{more}); the importer reads {', '.join(KEYS)}",
                ),
            )
        )
    return tuple(out)


def _entry(
    record: Record, filename: str, problems: list[Problem], tls_ports: tuple[PortRange, ...]
) -> tuple[Entry | None, list[Omission]]:
    left_out: list[Omission] = []

    def omit(key: str | None, j: int | None, value: str | None, reason: str) -> None:
        what = f"{value!r} left out" if value is not None else "record left out"
        warning = Problem(filename, None, record.path(key, j), f"record {record.id}: {what}: {reason}")
        left_out.append(Omission(record.id, value, reason, warning))

    def error(key: str, j: int, message: str) -> None:
        problems.append(Problem(filename, None, record.path(key, j), message))

    found: set[Destination] = set()
    for key in ("urls", "ips"):
        for j, value in enumerate(getattr(record, key)):
            try:
                dest = Destination.model_validate(value)
            except ValidationError as err:
                reason = first_message(err).removeprefix(f"{value!r}: ").removeprefix(f"{value.strip()!r}: ")
                if key == "urls" and "*" in value:
                    omit(key, j, value, f"the catalogue cannot express this wildcard ({reason})")
                else:
                    error(key, j, first_message(err))
                continue
            if dest.kind is DestinationKind.ANY:
                omit(key, j, value, "it would allow every destination")
            elif key == "ips" and dest.kind is not DestinationKind.NETWORK:
                error(key, j, f"{value!r} is not an IP address or CIDR")
            else:
                found.add(dest)
    destinations = tuple(sorted(found, key=_destination_key))
    services = services_for(record.tcp_ports, record.udp_ports, tls_ports)
    if not (record.urls or record.ips):
        omit(None, None, None, "it lists no urls or ips")
        return None, left_out
    if not destinations:
        omit(None, None, None, "none of its urls or ips can be expressed")
        return None, left_out
    if not services:
        omit(None, None, None, "it has no tcpPorts or udpPorts")
        return None, left_out
    data = {
        "id": f"{ENTRY_PREFIX}{record.id}",
        "service_area": record.area_id,
        "description": f"{record.display_name.strip() or record.service_area}, endpoint set {record.id} "
        f"({record.category})",
        "required": record.required,
        "destinations": destinations,
        "services": services,
        "provenance": {
            "source": SOURCE_ID,
            "section": f"id-{record.id}",
            "note": f"category {record.category}; expressRoute {str(record.express_route).lower()}",
        },
        "notes": record.notes.strip() if record.notes and record.notes.strip() else None,
    }
    try:
        return Entry.model_validate(data), left_out
    except ValidationError as err:
        problems.append(Problem(filename, None, record.path(), f"record {record.id}: {first_message(err)}"))
        return None, left_out


def import_file(
    path: Path | str,
    *,
    source_date: dt.date,
    source_url: str = WEB_SERVICE_URL,
    service_areas: Iterable[str] | None = None,
    tls_ports: Iterable[PortRange] | None = None,
) -> ImportResult:
    """Read, check and convert one web service JSON file."""
    records = read_records(path)
    return convert(
        records,
        str(path),
        source_date=source_date,
        source_url=source_url,
        service_areas=service_areas,
        tls_ports=tls_ports,
    )
