"""Import Microsoft's "Network endpoints for Microsoft Intune" page (its Markdown) into a catalogue file.

The page is read by :mod:`.markdown_page`; this module gives its blocks a meaning. What is imported:

* **Endpoint-set tables** (``| ID | Desc | Category | ER | Addresses | Ports |``, optionally ``| Notes |``):
  one entry ``intune-<ID>`` per ID. Desc is the description, ``required`` is "Required" in Category,
  Category and ER go into the provenance note, every backticked value of Addresses is a destination
  (comma lists with or without spaces; a parenthesis after a value is a note; a backticked label ending
  in ``:`` such as ``Azure Front Door Endpoints:`` is a note). Ports: ``**TCP:** 80, 443`` is http 80 and
  https 443, any other TCP port tcp, ``**UDP:** 123`` udp 123. An ID listed in two tables is one entry
  (the later row's values are merged, differences reported); its area is that of the deeper section.
  A row whose Desc names GCC is tagged with the region ``us-gov`` (see :data:`GOV_REGION`).
  A row with no addresses (``See Notes``) is a ``reference`` entry with the row's links.
* **Region tables** (``| Region | CDN | Port |``) and **tab panels** (``<a id="tabpanel_…_<region>">`` lists in
  Learn's rendering, ``# [Region](#tab/<region>)`` tabs in memdocs' source, read alike by :mod:`.markdown_page`):
  one entry ``intune-<area>-<region>`` per region, tagged with the stack region name.
* **Per-scale-unit hosts** (``amsu<family><nn>…``, ID 182): split by family into one entry per region the
  family's ``imeswd<family>-…`` hosts are placed in on the same page; a family placed nowhere gets an entry
  tagged with its own name (``amsud``) and a report.
* **Bullet lists of hosts** under a section: one entry ``intune-<area>-list-<n>`` with the section's
  stated ports (the first "port(s) N and M", "port N/M" or "HTTPS/N" of its prose; none stated: https 443,
  reported). Lists of links only become ``reference`` entries. Peer-to-peer ports in prose ("uses 7680 for
  TCP/IP", "Teredo on port 3544") become ``peer-to-peer`` entries.
* **Sections that only link** to other documents (Apple, Android Enterprise, Endpoint analytics, ...):
  one ``reference`` entry each.
* **Hosts written in a sentence** (no backticks or quotes, not a link) that the catalogue does not hold are
  reported with their line; a reviewed fix-up imports one (``add: AREA``: entry ``intune-<area>-prose``) or
  records why it is left out (``drop: true``, e.g. a wildcard on a public suffix).
* **The consolidated list** (the ``FQDNs`` and ``IP Subnets`` code blocks): every value must be in the
  catalogue; values in no table or list go into entries of their own (``intune-consolidated-…``, ports
  http 80 + https 443 as the core service, reported) and every disagreement between the tables and the list
  is reported by value, both ways.

Defects are reported (``PAGE:LINE: message; decision``), never silently fixed: mixed case is lowercased,
a value repeated in one entry is kept once, a stray backtick with nothing after it is ignored, a quoted URL
``'https://host'`` gives its host, a region-table value also listed in an endpoint set elsewhere is named.
A value that is no host name, wildcard or address fails the import unless a reviewed fix-up
(:mod:`.page_fixups`) replaces or drops it. A table of an unknown shape, a region the stacks do not know or
a section with endpoints but no service area fails the import naming the line; a section this module does
not know and that holds no endpoints is reported as unrecognised. The same page and fix-ups always give the
same bytes; entries follow the page's order.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from .. import names
from ..errors import CatalogueError, Problem
from ..loader import read_text
from ..models import (
    CatalogueFile,
    Destination,
    DestinationKind,
    Entry,
    EntryKind,
    Protocol,
    Reference,
    Service,
    ServiceArea,
    Source,
)
from .learn_page import LINK as _LINK
from .learn_page import PageImport, Report, links, page_source, read
from .learn_page import plain as _plain
from .markdown_page import BulletList, CodeBlock, Page, Paragraph, Section, Table
from .page_fixups import NO_FIXUPS, Fixups

SOURCE_ID = "intune-page"
SOURCE_URL = "https://learn.microsoft.com/intune/fundamentals/endpoints"
PREFIX = "intune-"
GOV_REGION = "us-gov"  # entries a stack deploys only when it names this region (see planning.selection)

# id -> (title, priority). Apple (1400) and Android (1500) belong to the vendor files.
AREAS: dict[str, tuple[str, int]] = {
    "intune-core": ("Intune core service (Intune client, enrollment, Win32 app CDN, Azure Front Door)", 1000),
    "authentication": ("Authentication dependencies (Microsoft Entra ID, Office configuration)", 1050),
    "win32-cdn": ("PowerShell scripts and Win32 apps: Intune management extension content by region", 1100),
    "macos-cdn": ("macOS app and script deployments: sidecar content by region", 1150),
    "delivery-optimization": ("Windows Delivery Optimization", 1200),
    "android-aosp": ("Android (AOSP) management", 1250),
    "wns": ("Windows Push Notification Services", 1300),
    "attestation": ("Device health attestation (Microsoft Azure Attestation) by region", 1350),
    "remote-help": ("Remote Help", 1600),
    "autopilot": ("Windows Autopilot", 1650),
    "defender": ("Microsoft Defender for Endpoint security settings management", 1700),
    "epm": ("Endpoint Privilege Management", 1750),
    "microsoft-store": ("Microsoft Store apps", 1800),
    "intune-consolidated": ("Values only in the page's consolidated list", 1850),
    "intune-references": ("Documents the page points to (nothing to render)", 1900),
}

# section anchor -> service area of what it lists
SECTIONS: dict[str, str] = {
    "intune-core-service": "intune-core",
    "authentication-dependencies": "authentication",
    "android-aosp-dependencies": "android-aosp",
    "delivery-optimization-dependencies": "delivery-optimization",
    "windows-push-notification-services-wns-dependencies": "wns",
    "remote-help": "remote-help",
    "windows-autopilot-dependencies": "autopilot",
    "microsoft-defender-for-endpoint": "defender",
    "microsoft-intune-endpoint-privilege-management": "epm",
    "microsoft-store": "microsoft-store",
    "migrating-device-health-attestation-compliance-policies-to-microsoft-azure-attestation": "attestation",
    "network-requirements-for-macos-app-and-script-deployments": "macos-cdn",
    "network-requirements-for-powershell-scripts-and-win32-apps": "win32-cdn",
}
# sections that only point at other documents: one reference entry each
REFERENCE_SECTIONS = (
    "android-enterprise-dependencies",
    "apple-dependencies",
    "endpoint-analytics",
    "diagnostics-collection",
    "microsoft-security-copilot",
    "windows-autopatch",
)
CONSOLIDATED = "consolidated-endpoint-list"
# prose, procedures and navigation: nothing to import
PROSE_SECTIONS = (
    "network-endpoints-for-microsoft-intune",
    "access-for-managed-devices",
    "endpoints",
    "intune-dependencies",
    "azure-front-door-connectivity-diagnostics-tool",
    "prerequisites",
    "usage",
    "script-execution",
    "options-and-commands",
    "troubleshooting",
    "related-content",
)

ENDPOINT_SET = ("ID", "Desc", "Category", "ER", "Addresses", "Ports")
REGION_TABLE = ("Region", "CDN", "Port")
REGIONS = {"north america": "north-america", "europe": "europe", "asia pacific": "asia-pacific"}
CONSOLIDATED_BLOCKS = {"fqdns": "FQDNs", "ip subnets": "IP Subnets"}
WEB_PORTS = (Service(protocol=Protocol.HTTP, port=80), Service(protocol=Protocol.HTTPS, port=443))
HTTPS_ONLY = (Service(protocol=Protocol.HTTPS, port=443),)

_TICKED = re.compile(r"`([^`]*)`")
_QUOTED_URL = re.compile(r"^'(https?://[^'\s/]+)/?'$")
_PORTS = re.compile(r"\*\*(TCP|UDP):\*\*\s*([0-9][0-9,\s-]*)")
_PORT_STATEMENT = re.compile(r"(?:\bports?\s+|\bHTTPS/)(\d+)((?:\s*(?:/|,|and)\s*\d+)*)", re.I)
_P2P_TCP = re.compile(r"uses (\d+) for TCP/IP")
_P2P_TEREDO = re.compile(r"Teredo on port (\d+)")
_PROSE_VALUE = re.compile(r"'\\?([*a-z0-9][^'\s]*\.[a-z]{2,})'|`([*a-z0-9][^`\s]*\.[a-z]{2,})`", re.I)
_PROSE_HOST = re.compile(r"(?<![\w.@/*\\-])((?:\\?\*\.)?[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+)(?![\w-])", re.I)
_SCALE_UNIT = re.compile(r"^(amsu([a-z]+?)(\d+))[a-z]+\.")
_FAMILY_HOST = re.compile(r"^imeswd([a-z]+)-")
_TAB_PANEL = re.compile(r"^tabpanel_\d+_([a-z-]+)$")


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


class _Importer:
    def __init__(self, page: Page, name: str, fixups: Fixups, source_url: str):
        self.page, self.name, self.fixups, self.source_url = page, name, fixups, source_url
        self.reports: list[Report] = []
        self.drafts: dict[str, Draft] = {}
        self.used_fixups: set[int] = set()
        self.lists_per_area: dict[str, int] = {}
        self.placements: dict[str, tuple[str, int]] = {}  # scale-unit family -> (region, line)
        self.region_values: list[tuple[Draft, str, int]] = []  # values of region-table rows

    # --- values ------------------------------------------------------------------------------------------

    def fail(self, line: int, message: str) -> CatalogueError:
        return CatalogueError([Problem(self.name, line, "page", message)])

    def value(self, raw: str, line: int, section: str) -> str | None:
        """The catalogue value for ``raw`` as written at ``line`` (None: dropped by a fix-up)."""
        index = self.fixups.find(raw, section)
        text = raw
        if index is not None:
            fix = self.fixups.items[index]
            self.used_fixups.add(index)
            where = f"{self.fixups.file}:{self.fixups.lines[index]}"
            if fix.drop:
                self.reports.append(
                    Report(line, f"{raw} left out of section #{section} by the fix-up at {where} ({fix.reason})")
                )
                return None
            assert fix.replace is not None
            self.reports.append(Report(line, f"{raw} read as {fix.replace} by the fix-up at {where} ({fix.reason})"))
            text = fix.replace
        text = text.replace("\\*", "*")
        try:
            dest = Destination.model_validate(text)
        except ValidationError as err:
            reason = err.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
            raise self.fail(
                line,
                f"{raw!r} is not a host name, wildcard or address ({reason}); correct it "
                f"with a fix-up in {self.fixups.file}",
            ) from None
        if dest.kind not in (DestinationKind.FQDN, DestinationKind.WILDCARD, DestinationKind.NETWORK):
            raise self.fail(
                line, f"{raw!r} is a destination of kind {dest.kind.value}, which the page import does not take"
            )
        if dest.is_name and text != text.lower():
            self.reports.append(
                Report(
                    line, f"{text} is written in mixed case; host names are case-insensitive, imported as {dest.value}"
                )
            )
        return dest.value

    # --- blocks ------------------------------------------------------------------------------------------

    def run(self) -> list[Entry]:
        self.place_families()
        for section in self.page.sections:
            self.section(section)
        self.also_elsewhere()
        for section in self.page.sections:  # once every table and list is in
            self.prose_values(section, SECTIONS.get(section.anchor))
        for section in self.page.sections:
            self.prose_hosts(section)
        self.consolidated()
        self.split_scale_units()
        for i, fix in enumerate(self.fixups.items):
            if i not in self.used_fixups:
                self.reports.append(
                    Report(
                        1,
                        f"the fix-up at {self.fixups.file}:{self.fixups.lines[i]} "
                        f"({fix.value!r}) matches nothing on the page; remove it",
                    )
                )
        return [self.entry(d) for d in self.drafts.values()]

    def place_families(self) -> None:
        """Scale-unit families (``imeswd<family>-…`` hosts) the page's region tables place in a region."""
        for section in self.page.sections:
            for block in section.blocks:
                if isinstance(block, Table) and block.header == REGION_TABLE:
                    for row in block.rows:
                        region = REGIONS.get(row.cells[0].lower())
                        for raw in _TICKED.findall(row.cells[1]):
                            match = _FAMILY_HOST.match(raw.lower())
                            if match and region:
                                self.placements.setdefault(match.group(1), (region, row.line))

    def section(self, section: Section) -> None:
        anchor = section.anchor
        if anchor in SECTIONS:
            area = SECTIONS[anchor]
            for block in section.blocks:
                if isinstance(block, Table):
                    self.table(block, section, area)
                elif isinstance(block, BulletList):
                    self.bullets(block, section, area)
            self.peer_to_peer(section, area)
        elif anchor in REFERENCE_SECTIONS:
            self.reference_section(section)
        elif anchor == CONSOLIDATED:
            return  # read by consolidated(), once every table is in
        else:
            holds = [
                b
                for b in section.blocks
                if isinstance(b, Table) and b.header[: len(ENDPOINT_SET)] in (ENDPOINT_SET, REGION_TABLE)
            ]
            if holds:
                raise self.fail(
                    holds[0].line,
                    f"the table at line {holds[0].line} lists endpoints, but its section "
                    f"{section.title!r} (#{anchor}, line {section.line}) has no service "
                    "area; add the section to intune_page.SECTIONS",
                )
            if anchor not in PROSE_SECTIONS:
                self.reports.append(
                    Report(
                        section.line,
                        f"unrecognised section {section.title!r} (#{anchor}): nothing imported from it; review it",
                    )
                )

    def table(self, table: Table, section: Section, area: str) -> None:
        header = table.header
        for row in table.rows:  # only a trailing Notes cell may be left out (the memdocs source does)
            if row.given >= 0 and header[row.given :] != ("Notes",):
                raise self.fail(
                    row.line,
                    f"row of the table at line {table.line} has {row.given} cells, its header "
                    f"{len(header)} ({' | '.join(header)})",
                )
        if header in (ENDPOINT_SET, ENDPOINT_SET + ("Notes",)):
            for row in table.rows:
                self.endpoint_set(row, dict(zip(header, row.cells, strict=True)), section, area)
        elif header == REGION_TABLE:
            for row in table.rows:
                region = self.region(row.cells[0], row.line)
                draft = self.draft(
                    _id(area, region),
                    area,
                    f"{section.title}: {row.cells[0]}",
                    section,
                    row.line,
                    note=f"region table, row {row.cells[0]}",
                )
                draft.regions = [region]
                self.addresses(draft, row.cells[1], row.line, section.anchor, region_row=True)
                draft.services = list(self.ports(row.cells[2], row.line))
        else:
            raise self.fail(
                table.line,
                f"the table at line {table.line} in section {section.title!r} has the "
                f"columns {' | '.join(header)}; the import knows "
                f"{' | '.join(ENDPOINT_SET)} [| Notes] and {' | '.join(REGION_TABLE)}",
            )

    def region(self, text: str, line: int) -> str:
        region = REGIONS.get(text.strip().lower())
        if region is None:
            raise self.fail(
                line,
                f"region {text!r} is not one the stacks know ({', '.join(REGIONS)}); add it to intune_page.REGIONS",
            )
        return region

    def endpoint_set(self, row, cells: dict[str, str], section: Section, area: str) -> None:
        ident = cells["ID"].strip()
        description = html.unescape(cells["Desc"]).strip()
        category, er = cells["Category"].strip(), cells["ER"].strip()
        required = "required" in category.lower().split()
        if not ident.isdigit():
            if "`" in cells["Addresses"]:
                raise self.fail(row.line, f"endpoint set {ident!r} lists addresses but has no numeric ID")
            self.reference_row(row, cells, section, area, description, required)
            return
        number = int(ident)
        entry_id = f"{PREFIX}{number}"
        existing = self.drafts.get(entry_id)
        draft = Draft(
            entry_id,
            area,
            description,
            section.anchor,
            section.level,
            row.line,
            required=required,
            endpoint_set=number,
            note=f"{category}; ExpressRoute {er}",
        )
        if "gcc" in description.lower().split():
            draft.regions = [GOV_REGION]
        self.addresses(draft, cells["Addresses"], row.line, section.anchor)
        draft.services = list(self.ports(cells["Ports"], row.line))
        if cells.get("Notes", "").strip():
            draft.notes.append(cells["Notes"].strip())
        if existing is None:
            self.drafts[entry_id] = draft
            return
        self.merge(existing, draft)

    def merge(self, old: Draft, new: Draft) -> None:
        more, fewer = [v for v in new.values if v not in old.lines], [v for v in old.values if v not in new.lines]
        same = not more and not fewer and old.services == new.services
        if new.level > old.level:
            old.area, old.section, old.level = new.area, new.section, new.level
        detail = (
            "the same addresses and ports"
            if same
            else f"differences: only at line {new.line}: {', '.join(more) or 'none'}; only at line {old.line}: "
            f"{', '.join(fewer) or 'none'}; ports {', '.join(map(str, new.services))} there"
        )
        self.reports.append(
            Report(
                new.line,
                f"ID {new.endpoint_set} is listed again (first at line {old.line}) with "
                f"{detail}; one entry {old.id} with both rows' values, in the area "
                f"{old.area} (the deeper section)",
            )
        )
        for value in more:
            old.add(value, new.lines[value], self.reports)
        old.services += [s for s in new.services if s not in old.services]

    def reference_row(self, row, cells, section, area, description, required) -> None:
        links = [link for cell in cells.values() for link in self.links(cell, row.line)]
        if not links:
            raise self.fail(row.line, f"row {cells['ID']!r} lists no addresses and no link")
        k = sum(d.kind is EntryKind.REFERENCE and d.area == area for d in self.drafts.values()) + 1
        draft = self.draft(
            _id(area, f"reference-{k}"),
            area,
            description,
            section,
            row.line,
            note=f"row {cells['ID']}: {cells['Addresses']}",
        )
        draft.kind, draft.required, draft.references = EntryKind.REFERENCE, required, links
        if cells.get("Notes", "").strip():
            draft.notes.append(_plain(cells["Notes"]))

    def addresses(self, draft: Draft, cell: str, line: int, section: str, region_row: bool = False) -> None:
        if cell.count("`") % 2:
            tail = cell[cell.rfind("`") + 1 :]
            if tail.strip(" |"):
                raise self.fail(line, f"an unmatched backtick before {tail.strip()!r}")
            self.reports.append(
                Report(
                    line,
                    f"a stray backtick at the end of the addresses of {draft.label()}; nothing follows it, ignored",
                )
            )
            cell = cell[: cell.rfind("`")]
        label: str | None = None
        last: str | None = None
        position = 0
        for match in _TICKED.finditer(cell):
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
                value = self.value(raw, line, section)
                if value is None:
                    continue
                if region_row:
                    self.region_values.append((draft, value, line))
                draft.add(value, line, self.reports)
                last = value
                if label:
                    draft.notes.append(f"{value} is listed under '{label}'")
        after = cell[position:].strip()
        if after.startswith("(") and last:
            draft.notes.append(f"{last}: {after.strip('()')}")
        if not draft.values and not region_row:
            raise self.fail(line, f"{draft.label()} lists no address (cell {cell!r})")
        self.label_notes(draft)

    def label_notes(self, draft: Draft) -> None:
        """Collapse "x is listed under 'L'" notes into one per label."""
        by_label: dict[str, list[str]] = {}
        rest = []
        for note in draft.notes:
            m = re.fullmatch(r"(\S+) is listed under '(.+)'", note)
            if m:
                by_label.setdefault(m.group(2), []).append(m.group(1))
            elif not note.startswith("Listed under "):
                rest.append(note)
        draft.notes = rest + [f"Listed under '{label}': {', '.join(values)}" for label, values in by_label.items()]

    def also_elsewhere(self) -> None:
        """A region row names a value an endpoint set lists too: a page oddity, named for review, never dropped."""
        for draft, value, line in self.region_values:
            for other in self.drafts.values():
                if other.endpoint_set is not None and value in other.lines:
                    self.reports.append(
                        Report(
                            line,
                            f"{value} in the region row of {draft.id} is also in "
                            f"{other.label()} (line {other.lines[value]}), area {other.area}; "
                            "kept in both, so a stack that selects only one of the two "
                            "areas allows it",
                        )
                    )

    def ports(self, cell: str, line: int) -> tuple[Service, ...]:
        found = _PORTS.findall(cell)
        if not found or _PORTS.sub("", cell).replace(",", "").strip():
            raise self.fail(line, f"ports {cell!r} are not written as '**TCP:** 80, 443' or '**UDP:** 123'")
        services: list[Service] = []
        for transport, numbers in found:
            for port in (p.strip() for p in numbers.split(",") if p.strip()):
                services.append(Service(protocol=_protocol(transport, port), port=port))
        return tuple(services)

    def bullets(self, block: BulletList, section: Section, area: str) -> None:
        hosts, links, quoted, other = [], [], [], []
        for item in block.items:
            ticked = _TICKED.match(item.text)
            url = _QUOTED_URL.match(item.text)
            if url:
                quoted.append(item)
                hosts.append((item.line, item.text.strip("'"), url.group(1).split("://", 1)[1]))
            elif ticked and " " not in ticked.group(1).strip():
                hosts.append((item.line, ticked.group(1).strip(), ticked.group(1).strip()))
            elif _LINK.match(item.text):
                links.extend(self.links(item.text, item.line))
            else:
                other.append(item)
        for item in other:
            self.reports.append(
                Report(item.line, f"list item {item.text!r} in #{section.anchor} names no host; not imported")
            )
        if links and not hosts:
            k = sum(d.kind is EntryKind.REFERENCE and d.area == area for d in self.drafts.values()) + 1
            draft = self.draft(
                _id(area, f"reference-{k}"),
                area,
                _label(block.label) or section.title,
                section,
                block.line,
                note="a list of links",
            )
            draft.kind, draft.references = EntryKind.REFERENCE, links
            return
        if not hosts:
            return
        if quoted:
            self.reports.append(
                Report(
                    quoted[0].line,
                    f"{len(quoted)} items of the list at lines {quoted[0].line}-"
                    f"{quoted[-1].line} are quoted URLs ('https://…'); "
                    "their host names are imported",
                )
            )
        panel = _TAB_PANEL.match(block.anchor or "")
        if panel:
            region = self.region(panel.group(1).replace("-", " "), block.line)
            draft = self.draft(
                _id(area, region),
                area,
                f"{section.title}: {panel.group(1)}",
                section,
                block.line,
                note=f"tab {block.anchor}",
            )
            draft.regions = [region]
        else:
            k = self.lists_per_area[area] = self.lists_per_area.get(area, 0) + 1
            draft = self.draft(
                _id(area, f"list-{k}"),
                area,
                _label(block.label) or section.title,
                section,
                block.line,
                note=f"list {k} of the section",
            )
        for line, _, host in hosts:
            value = self.value(host, line, section.anchor)
            if value is not None:
                draft.add(value, line, self.reports)
        draft.services = list(self.section_ports(section, block.line))

    def section_ports(self, section: Section, line: int) -> tuple[Service, ...]:
        for block in section.blocks:
            if isinstance(block, Paragraph):
                match = _PORT_STATEMENT.search(block.text)
                if match:
                    return tuple(
                        Service(protocol=_protocol("TCP", p), port=p) for p in re.findall(r"\d+", match.group(0))
                    )
        self.reports.append(Report(line, f"section #{section.anchor} states no port for its list; https 443 taken"))
        return HTTPS_ONLY

    def peer_to_peer(self, section: Section, area: str) -> None:
        for block in section.blocks:
            if not isinstance(block, Paragraph):
                continue
            for pattern, protocol, what in ((_P2P_TCP, Protocol.TCP, "peers"), (_P2P_TEREDO, Protocol.UDP, "teredo")):
                match = pattern.search(block.text)
                if not match:
                    continue
                draft = self.draft(
                    _id(area, what),
                    area,
                    _sentence(block.text, match.start()),
                    section,
                    block.line,
                    note="the section's prose",
                )
                draft.kind, draft.required = EntryKind.PEER_TO_PEER, False
                draft.services = [Service(protocol=protocol, port=int(match.group(1)))]
                if protocol is Protocol.UDP:
                    draft.notes.append(
                        "Teredo runs over UDP (RFC 4380); the page names no transport. UDP is "
                        "imported; Microsoft's Delivery Optimization FAQ says TCP."
                    )

    def prose_values(self, section: Section, area: str | None) -> None:
        known = {v for d in self.drafts.values() for v in d.values}
        for block in section.blocks:
            if not isinstance(block, Paragraph):
                continue
            for match in _PROSE_VALUE.finditer(block.text):
                raw = match.group(1) or match.group(2)
                if not names.has_known_tld(raw) or _in_link(block.text, match.start()):
                    continue  # a service tag such as AzureFrontDoor.MicrosoftSecurity, or a link's text
                line = block.line_at(match.start())
                value = self.value(raw, line, section.anchor)
                if value is None or value in known:
                    continue
                if area is None:
                    self.reports.append(
                        Report(
                            line,
                            f"{value} is named in the prose of #{section.anchor}, "
                            "which lists no endpoints; not imported",
                        )
                    )
                    continue
                draft = self.drafts.get(_id(area, "prose")) or self.draft(
                    _id(area, "prose"),
                    area,
                    f"{section.title}: named in its prose",
                    section,
                    line,
                    note="named in the section's prose, in no table or list",
                )
                draft.add(value, line, self.reports)
                draft.services = list(self.section_ports(section, line))
                draft.notes.append(_sentence(block.text, match.start()))
                known.add(value)
                self.reports.append(
                    Report(line, f"{value} is named only in the prose of #{section.anchor}; imported as {draft.id}")
                )

    def prose_hosts(self, section: Section) -> None:
        """Host names written in a sentence (no backticks or quotes, not a link): reported unless the catalogue
        holds them; a reviewed fix-up imports one (``add: AREA``) or records why not (``drop: true``)."""
        known = {v for d in self.drafts.values() for v in d.values}
        texts = [b for b in section.blocks if isinstance(b, Paragraph)]
        texts += [Paragraph(i.line, i.text) for b in section.blocks if isinstance(b, BulletList) for i in b.items]
        for block in texts:
            text, line_at = block.text, block.line_at
            blank = _LINK.sub(lambda m: " " * len(m.group(0)), text)
            blank = re.sub(r"`[^`]*`|'[^'\s]*'", lambda m: " " * len(m.group(0)), blank)
            for match in _PROSE_HOST.finditer(blank):
                raw = match.group(1).replace("\\*", "*")
                if not names.has_known_tld(raw):
                    continue  # a file name such as Test-IntuneAFDConnectivity.ps1
                line = line_at(match.start())
                try:
                    value = Destination.model_validate(raw).value
                except ValidationError as err:
                    value, refused = None, err.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
                if value in known:
                    continue
                where = f"{raw} is named in the prose of #{section.anchor}, in no table or list"
                index = self.fixups.find(raw, section.anchor, prose=True)
                if index is None:
                    why = f" (the catalogue cannot hold it: {refused})" if value is None else ""
                    self.reports.append(
                        Report(
                            line,
                            f"{where}{why}; not imported: decide with a fix-up (add: AREA "
                            f"or drop: true) in {self.fixups.file}",
                        )
                    )
                    continue
                fix, at = self.fixups.items[index], f"{self.fixups.file}:{self.fixups.lines[index]}"
                self.used_fixups.add(index)
                if fix.add is None or value is None:
                    self.reports.append(Report(line, f"{where}; not imported, by the fix-up at {at} ({fix.reason})"))
                    continue
                if fix.add not in AREAS:
                    raise self.fail(
                        line,
                        f"the fix-up at {at} adds {raw} to {fix.add!r}, which is no service area of "
                        f"the page import ({', '.join(AREAS)})",
                    )
                entry_id = _id(fix.add, "prose")
                draft = self.drafts.get(entry_id) or self.draft(
                    entry_id,
                    fix.add,
                    f"{section.title}: hosts named in the page's prose",
                    section,
                    line,
                    note="named in the page's prose, in no table or list; added by a reviewed fix-up",
                )
                draft.add(value, line, self.reports)
                draft.services += [
                    s
                    for s in (Service(protocol=_protocol("TCP", str(p)), port=p) for p in fix.ports)
                    if s not in draft.services
                ]
                draft.notes.append(
                    f"{value}: {_sentence(text, match.start()).replace(chr(92) + '*', '*')} Fix-up: {fix.reason}"
                )
                known.add(value)
                self.reports.append(
                    Report(
                        line,
                        f"{where}; imported as {entry_id} on "
                        f"{', '.join(map(str, draft.services))} by the fix-up at {at} "
                        f"({fix.reason})",
                    )
                )

    def reference_section(self, section: Section) -> None:
        links = []
        for block in section.blocks:
            if isinstance(block, Paragraph):
                links += self.links(block.text, block.line)
            elif isinstance(block, BulletList):
                for item in block.items:
                    links += self.links(item.text, item.line)
            elif isinstance(block, Table):
                raise self.fail(block.line, f"section {section.title!r} was a list of links; it now has a table")
        if not links:
            self.reports.append(
                Report(section.line, f"section {section.title!r} links to no document; nothing imported")
            )
            return
        draft = self.draft(
            f"{PREFIX}ref-{section.anchor}"[:63].rstrip("-"),
            "intune-references",
            f"{section.title}: see the linked documents",
            section,
            section.line,
        )
        draft.kind, draft.references = EntryKind.REFERENCE, links

    def links(self, text: str, line: int) -> list[Reference]:
        return links(text, line, self.source_url, self.reports)

    def draft(
        self, entry_id: str, area: str, description: str, section: Section, line: int, note: str | None = None
    ) -> Draft:
        if entry_id in self.drafts:
            raise self.fail(
                line,
                f"two parts of the page give the entry id {entry_id!r} (the other at line "
                f"{self.drafts[entry_id].line})",
            )
        draft = Draft(entry_id, area, description, section.anchor, section.level, line, note=note)
        self.drafts[entry_id] = draft
        return draft

    # --- the consolidated list ---------------------------------------------------------------------------

    def consolidated(self) -> None:
        sections = [s for s in self.page.sections if s.anchor == CONSOLIDATED]
        if not sections:
            raise self.fail(1, "the page has no 'Consolidated Endpoint List' section")
        section = sections[0]
        listed: dict[str, int] = {}
        blocks = [b for b in section.blocks if isinstance(b, CodeBlock)]
        if {(b.label or "").strip().lower() for b in blocks} != set(CONSOLIDATED_BLOCKS):
            raise self.fail(
                section.line,
                "the consolidated list is no longer two code blocks labelled "
                f"{' and '.join(CONSOLIDATED_BLOCKS.values())}",
            )
        for block in blocks:
            for item in block.lines:
                if item.text.strip():
                    value = self.value(item.text.strip(), item.line, CONSOLIDATED)
                    if value is not None:
                        if value in listed:
                            self.reports.append(
                                Report(
                                    item.line,
                                    f"{value} is in the consolidated list twice (also line {listed[value]}); kept once",
                                )
                            )
                        listed.setdefault(value, item.line)
        tables: dict[str, tuple[int, Draft]] = {}
        for draft in self.drafts.values():
            for value in draft.values:
                tables.setdefault(value, (draft.lines[value], draft))
        for value, (line, draft) in tables.items():
            if value not in listed:
                self.reports.append(Report(line, f"{value} ({draft.label()}) is not in the consolidated list"))
        only = [(value, line) for value, line in listed.items() if value not in tables]
        groups: dict[str, list[tuple[str, int]]] = {"names": [], "addresses": [], "us-gov": []}
        for value, line in only:
            kind = Destination.model_validate(value).kind
            group = "us-gov" if value.endswith(".us") else "addresses" if kind is DestinationKind.NETWORK else "names"
            groups[group].append((value, line))
            self.reports.append(
                Report(
                    line,
                    f"{value} is in the consolidated list only (in no table or list); "
                    f"imported as {PREFIX}consolidated-{group} on http 80 + https 443",
                )
            )
        for group, values in groups.items():
            if not values:
                continue
            draft = self.draft(
                f"{PREFIX}consolidated-{group}",
                "intune-consolidated",
                "Values of the consolidated endpoint list that no table or list of the page names"
                + (" (US government clouds)" if group == "us-gov" else ""),
                section,
                values[0][1],
                note="consolidated list only; ports not stated, those of the core service taken",
            )
            for value, line in values:
                draft.add(value, line, self.reports)
            draft.services = list(WEB_PORTS)
            if group == "us-gov":
                draft.regions = [GOV_REGION]

    # --- scale units -------------------------------------------------------------------------------------

    def split_scale_units(self) -> None:
        out: dict[str, Draft] = {}
        for entry_id, draft in self.drafts.items():
            matched = [_SCALE_UNIT.match(v) for v in draft.values]
            units = [m for m in matched if m is not None]
            if draft.endpoint_set is None or not draft.values or len(units) != len(matched):
                out[entry_id] = draft
                continue
            families: dict[str, list[int]] = {}
            for i, match in enumerate(units):
                families.setdefault(match.group(2), []).append(i)
            for family, indexes in families.items():
                placed = self.placements.get(family)
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
                    part.add(draft.values[i], draft.lines[draft.values[i]], self.reports)
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
                    self.reports.append(
                        Report(
                            draft.line,
                            f"ID {draft.endpoint_set}: scale-unit family '{family}' "
                            f"({', '.join(part.scale_units)}) is placed in no region on "
                            f"the page; entry {part.id} tagged '{tag}'",
                        )
                    )
                out[part.id] = part
        self.drafts = out

    # --- entries -----------------------------------------------------------------------------------------

    def entry(self, d: Draft) -> Entry:
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
            raise self.fail(d.line, f"{d.id}: {err.errors(include_url=False)[0]['msg']}") from None


def _id(area: str, suffix: str) -> str:
    return f"{area if area.startswith(PREFIX) else PREFIX + area}-{suffix}"[:63].rstrip("-")


def _protocol(transport: str, port: str) -> Protocol:
    if transport.upper() == "UDP":
        return Protocol.UDP
    return {"80": Protocol.HTTP, "443": Protocol.HTTPS}.get(port.strip(), Protocol.TCP)


def _label(label: str | None) -> str | None:
    if not label:
        return None
    text = _plain(label).rstrip(":").strip()
    return text if len(text) <= 120 else None


def _sentence(text: str, at: int) -> str:
    start = max(text.rfind(". ", 0, at) + 2, 0) if text.rfind(". ", 0, at) >= 0 else 0
    end = text.find(". ", at)
    return _plain(text[start : end + 1 if end >= 0 else len(text)])


def _in_link(text: str, at: int) -> bool:
    return any(m.start() <= at < m.end() for m in _LINK.finditer(text))


def import_page(text: str, name: str, fixups: Fixups = NO_FIXUPS, source_url: str = SOURCE_URL) -> PageImport:
    """The catalogue of the page ``text`` (named ``name`` in messages); raises :class:`CatalogueError`."""
    page = read(text, name)
    title, date = page_source(page, text, name)
    importer = _Importer(page, name, fixups, source_url)
    entries = importer.run()
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
    reports = tuple(sorted(importer.reports, key=lambda r: r.line))
    return PageImport(doc, reports, name, fixups.file, "Microsoft Intune network endpoints", "intune-page")


def import_file(path: Path, fixups: Fixups = NO_FIXUPS, source_url: str = SOURCE_URL) -> PageImport:
    return import_page(read_text(Path(path)), str(path), fixups, source_url)
