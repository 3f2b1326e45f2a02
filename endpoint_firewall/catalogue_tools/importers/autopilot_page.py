"""Import the Networking tab of Microsoft's "Windows Autopilot requirements" page (its Markdown) into a catalogue.

The page is read by :mod:`.markdown_page` (Learn's rendering and memdocs' source alike; line ends CRLF or LF).
Its Networking tab is the section "Networking requirements" (``### `` under the tab) and every section after it
down to the next section of its level or higher (the Licensing tab). What is imported:

* **Service sections** (the ``#####`` headings under "Service requirements"): every backticked value of their
  paragraphs and list items that is a host name, wildcard or URL is a destination of the section's entry
  ``autopilot-<name>`` (:data:`SHORT_NAMES`; a section the import does not know gets its anchor, reported). A URL
  gives its host (a firewall matches names, not paths), reported with its line; the path is kept in the notes.
* **Protocols and ports** as the page states them, per value: a URL's scheme (``https://`` is https 443,
  ``http://`` http 80); else the first statement of the value's paragraph or list item, then of its section
  ("UDP port **123**" is udp 123, "accessible via HTTP" http 80, "HTTPS URLs" https 443); else https 443,
  reported. Values of one section with different services become one entry per set of services.
* **Sections that only link** to other documents (Windows Activation, Microsoft 365, the CRLs, ...): one
  ``reference`` entry each with the links (Learn's ``/en-us/`` locale dropped: Learn picks the reader's). The
  links of a section with hosts are its entry's references.
* A section saying that "the ... process still continues" without its service is imported with
  ``required: false`` (the sentence in the notes); every other entry is required.
* Every entry is in the service area ``autopilot`` (title and priority those of the Intune page's area, so both
  files can be loaded together) with provenance ``{source: autopilot-page, section: <anchor>, line: <heading>}``.

Reported, never fixed silently (``PAGE:LINE: message``): every URL reduced to its host, every port taken by
default, a value listed twice in a section (kept once) or in two sections (kept in both), mixed case
(lowercased), a backticked value that is no host, a host name written in a sentence (not imported), a host in the
tab's prose outside the service sections (not imported), a section with neither host nor link, a section new
to the import, and fix-ups (:mod:`.page_fixups`: ``replace`` and ``drop``) applied or matching nothing. A value
that looks like a host but is none fails the import at its line unless a fix-up corrects it; so does a page
without its Networking tab or with no host in it. The same page and fix-ups always give the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from ...endpoints import names
from ...endpoints.errors import CatalogueError, Problem
from ...endpoints.loader import read_text
from ...endpoints.models import (
    CatalogueFile,
    DestinationKind,
    Entry,
    EntryKind,
    Protocol,
    Reference,
    Service,
    ServiceArea,
    Source,
)
from .intune_page.sections import AREAS
from .learn_page import LEARN_SUFFIX, LINK, PageContext, PageImport, Report, page_source, plain, read, sentence
from .markdown_page import BulletList, Paragraph, Section, Table
from .page_fixups import NO_FIXUPS, Fixups

SOURCE_ID = "autopilot-page"
SOURCE_URL = "https://learn.microsoft.com/autopilot/requirements?tabs=networking"
PREFIX = "autopilot-"
AREA = "autopilot"
NETWORKING = "networking-requirements"  # the heading the Networking tab opens with
SERVICE_LEVEL = 5  # "##### Windows Autopilot Deployment Service" under "#### Service requirements"

# Section anchor (both the 2024 and the 2025 headings) -> the entry's name after "autopilot-".
SHORT_NAMES: dict[str, str] = {
    "windows-autopilot-deployment-service": "deployment-service",
    "windows-activation": "activation",
    "microsoft-entra-id": "entra-id",
    "microsoft-intune": "intune",
    "autopilot-automatic-device-diagnostics-collection": "diagnostics-upload",
    "windows-autopilot-automatic-device-diagnostics-collection": "diagnostics-upload",
    "windows-update": "windows-update",
    "delivery-optimization": "delivery-optimization",
    "network-time-protocol-ntp-sync": "ntp",
    "domain-name-services-dns": "dns",
    "diagnostics-data": "diagnostics-data",
    "network-connection-status-indicator-ncsi": "ncsi",
    "windows-notification-services-wns": "wns",
    "microsoft-store": "microsoft-store",
    "microsoft-365": "microsoft-365",
    "certificate-revocation-lists-crls": "crls",
    "microsoft-entra-hybrid-join": "hybrid-join",
    "autopilot-self-deploying-mode-and-autopilot-pre-provisioning": "tpm-attestation",
    "windows-autopilot-self-deploying-mode-and-windows-autopilot-pre-provisioning": "tpm-attestation",
    "proxy-settings": "proxy-settings",
}

HTTPS = Service(protocol=Protocol.HTTPS, port=443)
HTTP = Service(protocol=Protocol.HTTP, port=80)
LEARN_LOCALE = "https://learn.microsoft.com/en-us/"

_TICKED = re.compile(r"`([^`]+)`")
_HOSTLIKE = re.compile(r"^(?:(https?)://)?(\\?\*?\.?[a-z0-9_][^/\s?#:]*\.[^/\s?#:]+)(?::(\d+))?([/?#]\S*)?$", re.I)
_PORT = re.compile(r"\b(UDP|TCP) port (\d+)\b|\bvia (HTTPS?)\b|\b(HTTPS?) URLs?\b", re.I)
_CONTINUES = re.compile(r"process still continues", re.I)
_PROSE_HOST = re.compile(r"(?<![\w.@/*\\-])([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+)(?![\w-])", re.I)
_ADMONITIONS = ("Note", "Tip", "Important", "Caution", "Warning")  # a note's title on its own line (Learn)
_LABEL = re.compile(r"^([^`:]{1,40}):\s*`")
_NAMES = (DestinationKind.FQDN, DestinationKind.WILDCARD)  # the import takes names


@dataclass(frozen=True)
class Value:
    """One destination of a section, as the page writes it and as imported."""

    host: str  # the catalogue value
    services: tuple[Service, ...]
    line: int
    url: str | None = None  # the URL the page writes, when it has more than a scheme and a host
    label: str | None = None  # "Intel" of "Intel: `https://...`"


@dataclass
class ServiceSection:
    """What one service section gives: its values, links, the sentences that gave ports, and the reports."""

    section: Section
    values: list[Value] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)  # sentences that gave ports, for the notes
    continues: str | None = None  # "... process still continues ..." sentence: not required
    reports: list[Report] = field(default_factory=list)


def import_page(text: str, name: str, fixups: Fixups = NO_FIXUPS, source_url: str = SOURCE_URL) -> PageImport:
    """The catalogue of the page ``text`` (named ``name`` in messages); raises :class:`CatalogueError`."""
    text = text.replace("\r\n", "\n")  # a copy saved with CRLF line ends: the same page, the same lines
    page = read(text, name)
    title, date = page_source(page, text, name)
    entries, reports = read_entries(page.sections, PageContext(name, fixups, source_url))
    area_title, priority = AREAS[AREA]
    doc = CatalogueFile(
        schema_version=1,
        sources=(
            Source(
                id=SOURCE_ID,
                title=title.removesuffix(LEARN_SUFFIX),
                url=source_url,
                date=date,
                language="en-US",
            ),
        ),
        service_areas=(ServiceArea(id=AREA, title=area_title, priority=priority),),
        entries=tuple(entries),
    )
    reports = sorted(reports, key=lambda r: r.line)
    return PageImport(
        doc, tuple(reports), name, fixups.file, "Windows Autopilot networking requirements", "autopilot-page"
    )


def import_file(path: Path, fixups: Fixups = NO_FIXUPS, source_url: str = SOURCE_URL) -> PageImport:
    return import_page(read_text(Path(path)), str(path), fixups, source_url)


def read_entries(sections: tuple[Section, ...], context: PageContext) -> tuple[list[Entry], list[Report]]:
    """The entries of the Networking tab's service sections, and every report."""
    fixups = context.fixups
    adds = [i for i, fix in enumerate(fixups.items) if fix.add is not None]
    if adds:
        raise CatalogueError(
            [
                Problem(
                    fixups.file,
                    fixups.lines[i],
                    f"fixups[{i}].add",
                    "the Autopilot import takes replace and drop fix-ups",
                )
                for i in adds
            ]
        )
    top, tab = _networking_tab(sections, context)
    entries: list[Entry] = []
    reports: list[Report] = []
    seen: dict[str, tuple[str, int]] = {}  # host -> (section anchor, line) where first imported
    for section in [top, *tab]:
        if section.level < SERVICE_LEVEL:
            reports += read_tab_prose(section)
            continue
        found = read_service_section(section, context, seen)
        for value in found.values:
            seen.setdefault(value.host, (section.anchor, value.line))
        reports += found.reports
        more, notes = _entries(found, context)
        entries += more
        reports += notes
    if not any(e.kind is EntryKind.ENDPOINTS for e in entries):
        raise context.fail(top.line, "the Networking tab names no host in a service section: has the page changed?")
    return entries, reports + context.unused_fixups(reports)


def _networking_tab(sections: tuple[Section, ...], context: PageContext) -> tuple[Section, list[Section]]:
    """The section the Networking tab opens with, and the sections under it."""
    start = next((i for i, s in enumerate(sections) if s.anchor == NETWORKING), None)
    if start is None:
        raise context.fail(1, "the page has no 'Networking requirements' section (the Networking tab)")
    top = sections[start]
    tab: list[Section] = []
    for section in sections[start + 1 :]:
        if section.level <= top.level:
            break
        tab.append(section)
    return top, tab


def read_tab_prose(section: Section) -> list[Report]:
    """The tab's own prose ("Networking requirements", "Service requirements"): hosts there are named."""
    return [
        Report(line, f"{raw} is named in the prose of #{section.anchor}, outside the service sections; not imported")
        for line, text in _texts(section)
        for raw in _TICKED.findall(text)
        if _HOSTLIKE.match(raw.strip())
    ]


def read_service_section(
    section: Section, context: PageContext, elsewhere: Mapping[str, tuple[str, int]]
) -> ServiceSection:
    """The hosts, links and port statements of one service section; ``elsewhere``: hosts of the sections before
    it (host -> section anchor, line), named when this one lists them too."""
    found = ServiceSection(section)
    for block in section.blocks:
        if isinstance(block, Table):
            raise context.fail(block.line, f"section {section.title!r} now has a table; the import reads lists")
    statement = next((s for s in (_statement(t) for _, t in _texts(section)) if s), None)
    for line, text in _texts(section):
        found.references += [r for r in _links(text, line, context, found.reports) if r not in found.references]
        continues = _CONTINUES.search(text)
        if continues and found.continues is None:
            found.continues = sentence(text, continues.start())
        own = _statement(text)
        for match in _TICKED.finditer(text):
            _value(found, match.group(1), text, line, own or statement, context, elsewhere)
        found.reports += _prose_hosts(section, text, line)
    return found


def _value(
    found: ServiceSection,
    raw: str,
    text: str,
    line: int,
    statement: tuple[tuple[Service, ...], str] | None,
    context: PageContext,
    elsewhere: Mapping[str, tuple[str, int]],
) -> None:
    """One backticked value of ``found``'s section into its values (reported when it is a URL, listed twice,
    in another section, or gets a port by default)."""
    anchor, reports = found.section.anchor, found.reports
    fixed, report = context.fixed(raw.strip(), anchor, line, f"#{anchor}", key=raw.strip().replace("\\*", "*"))
    if report is not None:
        reports.append(report)
    if fixed is None:
        return
    written = fixed
    match = _HOSTLIKE.match(written)
    if not match:
        if " " not in written and "." in written.strip("."):
            raise context.fail(
                line,
                f"{written!r} in #{anchor} is not a host name or URL; correct it with a fix-up in {context.fixups.file}",
            )
        reports.append(Report(line, f"`{written}` in #{anchor} is no host or URL; not imported"))
        return
    scheme, host, port, rest = match.group(1), match.group(2).replace("\\*", "*"), match.group(3), match.group(4)
    dest = context.destination(host, line, f"{written!r} in #{anchor}", _NAMES, "URL")
    if host != host.lower():
        reports.append(Report(line, f"{host} is written in mixed case; imported as {dest.value}"))
    if host.endswith("."):
        reports.append(Report(line, f"{host} is written with a trailing dot; imported as {dest.value}"))
    if scheme:
        protocol = Protocol.HTTPS if scheme.lower() == "https" else Protocol.HTTP
        default = 443 if protocol is Protocol.HTTPS else 80
        services: tuple[Service, ...] = (Service(protocol=protocol, port=int(port or default)),)
    elif statement:
        services = statement[0]
        if statement[1] not in found.statements:
            found.statements.append(statement[1])
    else:
        services = (HTTPS,)
        reports.append(
            Report(line, f"{dest.value} in #{anchor}: the page states no protocol or port for it; https 443 taken")
        )
    if scheme or port or rest:
        reports.append(
            Report(line, f"{written} is a URL: its host {dest.value} is imported on {_services_text(services)}")
        )
    known = [v for v in found.values if v.host == dest.value]
    if known:
        reports.append(
            Report(line, f"{dest.value} is listed twice in #{anchor} (also line {known[0].line}); kept once")
        )
        return
    if dest.value in elsewhere and elsewhere[dest.value][0] != anchor:
        other, at = elsewhere[dest.value]
        reports.append(Report(line, f"{dest.value} is also in #{other} (line {at}); kept in both"))
    label = _LABEL.match(text)
    url = written if port or rest else None
    found.values.append(Value(dest.value, services, line, url, label.group(1).strip() if label else None))


def _prose_hosts(section: Section, text: str, line: int) -> list[Report]:
    blank = LINK.sub(lambda m: " " * len(m.group(0)), text)
    blank = _TICKED.sub(lambda m: " " * len(m.group(0)), blank)
    return [
        Report(
            line,
            f"{match.group(1)} is named in a sentence of #{section.anchor} (no backticks); not imported: review it",
        )
        for match in _PROSE_HOST.finditer(blank)
        if names.has_known_tld(match.group(1))
    ]


def _links(text: str, line: int, context: PageContext, reports: list[Report]) -> list[Reference]:
    return [
        Reference(title=r.title, url=r.url.replace(LEARN_LOCALE, "https://learn.microsoft.com/", 1))
        for r in context.links(text, line, reports)
    ]


def _entries(found: ServiceSection, context: PageContext) -> tuple[list[Entry], list[Report]]:
    """The entries of a service section: one per set of services its values are on; a reference entry when it
    only links elsewhere."""
    section = found.section
    reports: list[Report] = []
    short = SHORT_NAMES.get(section.anchor)
    if short is None:
        short = re.sub(r"^(windows-)?autopilot-", "", section.anchor)[: 63 - len(PREFIX)].rstrip("-")
        reports.append(
            Report(
                section.line,
                f"section {section.title!r} (#{section.anchor}) is new to the import: entry id {PREFIX}{short} "
                "from its anchor; name it in autopilot_page.SHORT_NAMES",
            )
        )
    base = PREFIX + short
    common = {
        "service_area": AREA,
        "description": plain(section.title),
        "required": found.continues is None,
        "provenance": {"source": SOURCE_ID, "section": section.anchor, "line": section.line},
        "references": found.references,
    }
    if not found.values:
        if not found.references:
            reports.append(
                Report(
                    section.line, f"section {section.title!r} names no host and links to no document; nothing imported"
                )
            )
            return [], reports
        reports.append(
            Report(
                section.line,
                f"section {section.title!r} only links elsewhere: reference entry {base} "
                f"({', '.join(r.url for r in found.references)})",
            )
        )
        notes = [_first_sentence(section)] + ([found.continues] if found.continues else [])
        return [_entry(base, section.line, context, kind=EntryKind.REFERENCE, notes=_notes(notes), **common)], reports
    groups: dict[tuple[Service, ...], list[Value]] = {}
    for value in found.values:
        groups.setdefault(value.services, []).append(value)
    out = []
    for services, values in groups.items():
        entry_id = base if len(groups) == 1 else f"{base}-{'-'.join(f'{s.protocol.value}{s.port}' for s in services)}"
        notes = [f"{v.host}: {v.label + ', ' if v.label else ''}the page's URL {v.url}" for v in values if v.url]
        notes += found.statements + ([found.continues] if found.continues else [])
        out.append(
            _entry(
                entry_id,
                section.line,
                context,
                destinations=[v.host for v in values],
                services=list(services),
                notes=_notes(notes),
                **common,
            )
        )
    return out, reports


def _entry(entry_id: str, line: int, context: PageContext, **data) -> Entry:
    if data.get("notes") is None:
        data.pop("notes", None)
    try:
        return Entry.model_validate({"id": entry_id, **data})
    except ValidationError as err:
        raise context.fail(line, f"{entry_id}: {err.errors(include_url=False)[0]['msg']}") from None


def _texts(section: Section) -> list[tuple[int, str]]:
    """(line, text) of every paragraph and list item of ``section``, in page order."""
    out: list[tuple[int, str]] = []
    for block in section.blocks:
        if isinstance(block, Paragraph):
            out.append((block.line, block.text))
        elif isinstance(block, BulletList):
            out += [(item.line, item.text) for item in block.items]
    return out


def _statement(text: str) -> tuple[tuple[Service, ...], str] | None:
    """The services the first protocol or port statement of ``text`` names, and its sentence."""
    bare = text.replace("**", "")
    match = _PORT.search(bare)
    if not match:
        return None
    transport, port, via, urls = match.groups()
    if transport:
        number = int(port)
        if transport.upper() == "UDP":
            service = Service(protocol=Protocol.UDP, port=number)
        else:
            service = {80: HTTP, 443: HTTPS}.get(number, Service(protocol=Protocol.TCP, port=number))
    else:
        service = HTTPS if (via or urls).upper() == "HTTPS" else HTTP
    return (service,), sentence(bare, match.start())


def _services_text(services: tuple[Service, ...]) -> str:
    return ", ".join(f"{s.protocol.value} {s.port}" for s in services)


def _first_sentence(section: Section) -> str:
    """The section's first sentence that is not in a note: ``> [!NOTE]`` in memdocs; on Learn, a "Note" line and
    the paragraph under it."""
    texts = [t for _, t in _texts(section)]
    kept = [
        t
        for i, t in enumerate(texts)
        if not t.startswith(">") and t not in _ADMONITIONS and not (i and texts[i - 1] in _ADMONITIONS)
    ]
    return sentence(kept[0], 0) if kept else section.title


def _notes(notes: list[str]) -> str | None:
    kept = [n if n.endswith(".") else n + "." for n in dict.fromkeys(n for n in notes if n)]
    return " ".join(kept) or None
