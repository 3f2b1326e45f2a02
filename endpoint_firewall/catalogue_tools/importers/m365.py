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
invalid is an input error, reported as ``FILE:LINE: [index].key: message`` (the line of the value).
A key the importer does not know is not an error: the web service adds fields over time. It is ignored and
reported once per key, as a located warning naming the first record that has it and how many others do,
and listed in the output's header.

Choices the output depends on:

* **One record, one entry** ``m365-<id>``. A record already means "these destinations on these ports",
  which is the shape of a catalogue entry (destinations x services), so no record is ever split and no id
  suffix is needed. ``required`` is copied; ``category`` and ``expressRoute`` go into the provenance note
  and the description, ``notes`` into the entry's notes.
* **Ports to services**: TCP 80 is ``http``, TCP 443 is ``https``, a TCP port or range that lies wholly
  within the TLS ports (:data:`TLS_PORTS`, or ``tls_ports`` / ``--tls-ports``) is ``tls``, every other TCP
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

import bisect
import datetime as dt
import ipaddress
import json
import json.decoder
import json.scanner
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ...endpoints.errors import CatalogueError, EpfwError, Problem
from ...endpoints.loader import read_text
from ...endpoints.models import (
    ID_PATTERN,
    CatalogueFile,
    Destination,
    DestinationKind,
    Entry,
    PortRange,
    Protocol,
    Service,
    ServiceArea,
    Source,
)
from ...endpoints.stats import counted

SOURCE_ID = "m365-web-service"
SOURCE_TITLE = "Microsoft 365 IP address and URL web service"
WEB_SERVICE_URL = "https://endpoints.office.com/endpoints/worldwide"
ENTRY_PREFIX = "m365-"
AREA_PRIORITIES: dict[str, int] = {"common": 2000, "exchange": 2100, "sharepoint": 2200, "skype": 2300, "mem": 2400}
PRIORITY_STEP = 100
CATEGORIES = ("Optimize", "Allow", "Default")

# TCP ports that carry TLS from the first byte (implicit TLS), so the server name is in the ClientHello's SNI
# and both clouds can match it. The one list; ``--tls-ports`` replaces it for one import. 80 and 443 are
# always http and https. STARTTLS ports (25, 587, 143, 110, 389) are left out on purpose.
TLS_PORTS: tuple[tuple[str, str], ...] = (
    ("465", "SMTP submission over implicit TLS (RFC 8314 section 3.3; IANA 'submissions')"),
    ("636", "LDAP over TLS (IANA 'ldaps')"),
    ("853", "DNS over TLS (RFC 7858; IANA 'domain-s')"),
    ("993", "IMAP over implicit TLS (RFC 8314 section 3.2; IANA 'imaps')"),
    ("995", "POP3 over implicit TLS (RFC 8314 section 3.2; IANA 'pop3s')"),
    ("5061", "SIP over TLS (RFC 3261 section 19.1.2; IANA 'sips')"),
    ("5223", "Apple Push Notification service, devices to APNs (Apple, support.apple.com/102266)"),
    (
        "5228-5230",
        "Firebase Cloud Messaging, devices to FCM; Google's hostname filtering is by TLS SNI "
        "(firebase.google.com/docs/cloud-messaging/network-configuration)",
    ),
    ("8443", "HTTPS on the alternate port (IANA 'pcsync-https'; e.g. on-premises MDM servers)"),
)
MEM_CAUTION = (
    "Microsoft's Intune endpoints page warns that endpoint lists from the Office 365 Endpoint service "
    '"no longer return accurate data" and "may lead to incorrect configurations"'
)
INTUNE_PAGE_URL = "https://learn.microsoft.com/intune/fundamentals/endpoints"

# key -> expected JSON type
_KEYS: dict[str, str] = {
    "id": "int",
    "serviceArea": "str",
    "serviceAreaDisplayName": "str",
    "urls": "strings",
    "ips": "strings",
    "tcpPorts": "str",
    "udpPorts": "str",
    "expressRoute": "bool",
    "category": "str",
    "required": "bool",
    "notes": "str",
}
REQUIRED_KEYS = ("id", "serviceArea", "serviceAreaDisplayName", "expressRoute", "category", "required")
_EXPECTED = {"int": "a whole number", "str": "a string", "bool": "true or false", "strings": "a list of strings"}


# --- JSON with positions -------------------------------------------------------------------------------------


class _Object(dict):
    """A JSON object that remembers where it and each of its values start in the text."""

    offset: int = 0
    value_offsets: dict[str, int]
    duplicates: list[tuple[str, int]]
    pairs: list[str]


class _Array(list):
    """A JSON array that remembers where it and each of its items start in the text."""

    offset: int = 0
    item_offsets: list[int]


def _pairs_hook(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.pairs = [key for key, _ in pairs]
    for key, value in pairs:
        obj[key] = value  # the last one wins, as with json.loads; repeats are reported
    return obj


def _parse_object(s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo=None):
    offsets: list[int] = []

    def scan(string: str, idx: int) -> Any:
        offsets.append(idx)
        return scan_once(string, idx)

    obj, end = json.decoder.JSONObject(s_and_end, strict, scan, object_hook, object_pairs_hook, memo)  # type: ignore[attr-defined]  # json's own parser, not in typeshed
    obj.offset = s_and_end[1] - 1
    obj.value_offsets, obj.duplicates = {}, []
    for key, offset in zip(obj.pairs, offsets, strict=False):
        if key in obj.value_offsets:
            obj.duplicates.append((key, offset))
        obj.value_offsets[key] = offset
    return obj, end


def _parse_array(s_and_end, scan_once):
    offsets: list[int] = []

    def scan(string: str, idx: int) -> Any:
        offsets.append(idx)
        return scan_once(string, idx)

    values, end = json.decoder.JSONArray(s_and_end, scan)  # type: ignore[attr-defined]  # json's own parser
    array = _Array(values)
    array.offset, array.item_offsets = s_and_end[1] - 1, offsets
    return array, end


def _decode(text: str) -> Any:
    decoder = json.JSONDecoder(object_pairs_hook=_pairs_hook)
    # the pure-Python scanner uses these hooks (attributes of json's decoder that typeshed does not declare)
    decoder.parse_object = _parse_object  # type: ignore[attr-defined]
    decoder.parse_array = _parse_array  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder.decode(text)


class _Lines:
    def __init__(self, text: str):
        self._newlines = [m.start() for m in re.finditer("\n", text)]

    def __call__(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1


# --- records ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One validated record of the web service, with the line of each of its values."""

    index: int
    line: int
    id: int
    service_area: str
    display_name: str
    express_route: bool
    category: str
    required: bool
    urls: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    tcp_ports: tuple[PortRange, ...] = ()
    udp_ports: tuple[PortRange, ...] = ()
    notes: str | None = None
    unknown_keys: tuple[str, ...] = ()  # keys the importer does not know, ignored
    lines: dict[Any, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def area_id(self) -> str:
        return area_id(self.service_area)

    def line_of(self, key: str, item: int | None = None) -> int:
        return self.lines.get((key, item), self.lines.get((key, None), self.line))


_PORT = re.compile(r"^([0-9]+)(?:\s*-\s*([0-9]+))?$")


def parse_ports(text: str) -> tuple[PortRange, ...]:
    """``"80,443"``, ``"443, 5223"``, ``"3478-3481"`` -> port ranges; blank -> none. ValueError says why not."""
    if not text.strip():
        return ()
    out: list[PortRange] = []
    for part in text.split(","):
        piece = part.strip()
        if not piece:
            raise ValueError(f"{text!r}: empty port between commas")
        match = _PORT.match(piece)
        if not match:
            raise ValueError(f"{text!r}: {piece!r} is not a port or a port range like '3478-3481'")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        try:
            out.append(PortRange(first=first, last=last))
        except ValidationError as err:
            raise ValueError(f"{text!r}: {_message(err)}") from None
    return tuple(out)


def default_tls_ports() -> tuple[PortRange, ...]:
    """The TCP ports of :data:`TLS_PORTS`."""
    return parse_ports(",".join(ports for ports, _ in TLS_PORTS))


def area_id(service_area: str) -> str:
    """``"MEM"`` -> ``"mem"``; other characters than a-z, 0-9 and '-' become '-'."""
    return re.sub(r"[^a-z0-9-]+", "-", service_area.strip().lower()).strip("-")


def _message(err: ValidationError) -> str:
    return err.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 60 else "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def parse_records(text: str, filename: str) -> list[Record]:
    """Decode and check the JSON text; raise :class:`CatalogueError` with every problem found."""
    text = text.removeprefix("\ufeff")
    try:
        data = _decode(text)
    except json.JSONDecodeError as err:
        raise CatalogueError([Problem(filename, err.lineno, "json", f"{err.msg} (column {err.colno})")]) from None
    except RecursionError:
        raise CatalogueError([Problem(filename, 1, "json", "nested too deeply")]) from None
    line = _Lines(text)
    if not isinstance(data, list):
        raise CatalogueError(
            [
                Problem(
                    filename,
                    1,
                    "file",
                    f'expected a JSON list of records ([{{"id": 1, ...}}, ...]), found {_json_type(data)}',
                )
            ]
        )
    problems: list[Problem] = []
    records: list[Record] = []
    first_line_of_id: dict[int, int] = {}
    for index, item in enumerate(data):
        item_line = line(data.item_offsets[index]) if isinstance(data, _Array) else 1
        if not isinstance(item, _Object):
            problems.append(
                Problem(
                    filename, item_line, f"[{index}]", f"expected a record (a JSON object), found {_json_type(item)}"
                )
            )
            continue
        record = _record(index, item, item_line, line, filename, problems)
        if record is None:
            continue
        if record.id in first_line_of_id:
            problems.append(
                Problem(
                    filename,
                    record.line_of("id"),
                    f"[{index}].id",
                    f"duplicate record id {record.id} (first on line {first_line_of_id[record.id]})",
                )
            )
            continue
        first_line_of_id[record.id] = record.line_of("id")
        records.append(record)
    if problems:
        raise CatalogueError(problems)
    return records


def _record(
    index: int, obj: _Object, obj_line: int, line: _Lines, filename: str, problems: list[Problem]
) -> Record | None:
    lines: dict[Any, int] = {}
    for key, offset in obj.value_offsets.items():
        lines[(key, None)] = line(offset)
        value = obj[key]
        if isinstance(value, _Array):
            for j, item_offset in enumerate(value.item_offsets):
                lines[(key, j)] = line(item_offset)
    before = len(problems)

    def problem(key: str, message: str, item: int | None = None) -> None:
        where = f"[{index}].{key}" + (f"[{item}]" if item is not None else "")
        problems.append(Problem(filename, lines.get((key, item), lines.get((key, None), obj_line)), where, message))

    for key, offset in obj.duplicates:
        problems.append(Problem(filename, line(offset), f"[{index}].{key}", f"duplicate key {key!r}"))
    for key in REQUIRED_KEYS:
        if key not in obj:
            problems.append(Problem(filename, obj_line, f"[{index}].{key}", f"missing required key {key!r}"))
    for key, kind in _KEYS.items():
        if key not in obj:
            continue
        value = obj[key]
        if _type_ok(kind, value):
            continue
        if kind == "strings" and isinstance(value, list):
            for j, item in enumerate(value):
                if not isinstance(item, str):
                    problem(key, f"expected a string, found {_json_type(item)}", j)
        else:
            expected = "a whole number, 0 or more" if kind == "int" else _EXPECTED[kind]
            problem(key, f"expected {expected}, found {_json_type(value)}")
    ports: dict[str, tuple[PortRange, ...]] = {}
    for key in ("tcpPorts", "udpPorts"):
        if isinstance(obj.get(key), str):
            try:
                ports[key] = parse_ports(obj[key])
            except ValueError as err:
                problem(key, str(err))
    if isinstance(obj.get("category"), str) and obj["category"] not in CATEGORIES:
        problem("category", f"unknown category {obj['category']!r}; expected one of {', '.join(CATEGORIES)}")
    if isinstance(obj.get("serviceArea"), str) and not re.match(ID_PATTERN, area_id(obj["serviceArea"])):
        problem(
            "serviceArea",
            f"{obj['serviceArea']!r} does not give a service area id (letters, digits and '-', at most 63 characters)",
        )
    if len(problems) > before:
        return None
    return Record(
        index=index,
        line=obj_line,
        id=obj["id"],
        service_area=obj["serviceArea"],
        display_name=obj["serviceAreaDisplayName"],
        express_route=obj["expressRoute"],
        category=obj["category"],
        required=obj["required"],
        urls=tuple(obj.get("urls", ())),
        ips=tuple(obj.get("ips", ())),
        tcp_ports=ports.get("tcpPorts", ()),
        udp_ports=ports.get("udpPorts", ()),
        notes=obj.get("notes") or None,
        unknown_keys=tuple(k for k in obj if k not in _KEYS),
        lines=lines,
    )


def read_records(path: Path | str) -> list[Record]:
    path = Path(path)
    return parse_records(read_text(path), str(path))


# --- conversion ---------------------------------------------------------------------------------------------


def services_for(
    tcp: Iterable[PortRange], udp: Iterable[PortRange], tls_ports: Iterable[PortRange] | None = None
) -> tuple[Service, ...]:
    """TCP 80 -> http, TCP 443 -> https, TCP within ``tls_ports`` (default :data:`TLS_PORTS`) -> tls, other
    TCP -> tcp, UDP -> udp; deduplicated and sorted."""
    tls = _merged(default_tls_ports() if tls_ports is None else tls_ports)
    out: set[Service] = set()
    for ports in tcp:
        single = ports.first if ports.first == ports.last else None
        protocol = {80: Protocol.HTTP, 443: Protocol.HTTPS}.get(single)  # type: ignore[arg-type]  # None: a range
        if protocol is None:
            within = any(first <= ports.first and ports.last <= last for first, last in tls)
            protocol = Protocol.TLS if within else Protocol.TCP
        out.add(Service(protocol=protocol, port=ports))
    for ports in udp:
        out.add(Service(protocol=Protocol.UDP, port=ports))
    return tuple(sorted(out, key=Service.sort_key))


def _merged(ranges: Iterable[PortRange]) -> list[tuple[int, int]]:
    """Port ranges -> sorted, non-overlapping, non-adjacent (first, last) pairs."""
    out: list[tuple[int, int]] = []
    for first, last in sorted((r.first, r.last) for r in ranges):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


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
            first.line_of("serviceArea"),
            f"[{first.index}].serviceArea",
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
                    first.line_of(key),
                    f"[{first.index}].{key}",
                    f"unknown key {key!r} ignored (record {first.id}{more}); the importer reads {', '.join(_KEYS)}",
                ),
            )
        )
    return tuple(out)


def _entry(
    record: Record, filename: str, problems: list[Problem], tls_ports: tuple[PortRange, ...]
) -> tuple[Entry | None, list[Omission]]:
    left_out: list[Omission] = []
    i = record.index

    def omit(key: str | None, j: int | None, value: str | None, reason: str) -> None:
        where = f"[{i}]" + (f".{key}[{j}]" if key is not None else "")
        line = record.line_of(key, j) if key is not None else record.line
        what = f"{value!r} left out" if value is not None else "record left out"
        left_out.append(
            Omission(record.id, value, reason, Problem(filename, line, where, f"record {record.id}: {what}: {reason}"))
        )

    def error(key: str, j: int, message: str) -> None:
        problems.append(Problem(filename, record.line_of(key, j), f"[{i}].{key}[{j}]", message))

    found: set[Destination] = set()
    for key in ("urls", "ips"):
        for j, value in enumerate(getattr(record, key)):
            try:
                dest = Destination.model_validate(value)
            except ValidationError as err:
                reason = _message(err).removeprefix(f"{value!r}: ").removeprefix(f"{value.strip()!r}: ")
                if key == "urls" and "*" in value:
                    omit(key, j, value, f"the catalogue cannot express this wildcard ({reason})")
                else:
                    error(key, j, _message(err))
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
        problems.append(Problem(filename, record.line, f"[{i}]", f"record {record.id}: {_message(err)}"))
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
