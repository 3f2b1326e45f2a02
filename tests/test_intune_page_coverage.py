"""Every FQDN, wildcard and CIDR of Microsoft's 2026 Intune page is in the shipped catalogue, and the demo stack
allows each one on both clouds, or it is in a named, tested exclusion.

The page is the copy the repository keeps (endpoint_firewall/endpoints/catalogue/sources/intune-endpoints.md, which a catalogue
refresh replaces together with the catalogue), in either dialect (Learn's rendering or memdocs' source). It is
read here with a few regexes of this file's own, independently of the importer: backticked values of table rows
(lines with a ``|``, comma lists split), backticked and quoted ('https://...') values of list items, and the
lines of the consolidated list's code blocks. Nothing of ``catalogue_tools.importers`` is used.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from pathlib import Path

import pytest
import yaml
from address_flows import entry_host
from page_dialects import to_memdocs
from shared_sources import INTUNE_PAGE, require_shared

from endpoint_firewall.checks import azure as azure_check
from endpoint_firewall.checks.flow import Flow
from endpoint_firewall.checks.suricata import replay
from endpoint_firewall.config.stack_config import load_stack_file
from endpoint_firewall.endpoints.loader import load_catalogue, shipped_catalogue_files
from endpoint_firewall.endpoints.models import DestinationKind, EntryKind, Protocol
from endpoint_firewall.endpoints.shared_tenants import is_shared_tenant_wildcard
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.renderers.aws.render import render_aws
from endpoint_firewall.renderers.azure.render import render_azure

ROOT = Path(__file__).resolve().parents[1]
FIXUPS = ROOT / "endpoint_firewall" / "endpoints" / "catalogue" / "fixups" / "intune-page.yaml"
PAGE = ROOT / "endpoint_firewall" / "endpoints" / "catalogue" / "sources" / "intune-endpoints.md"
TICKED = re.compile(r"`([^`]+)`")
QUOTED = re.compile(r"'https?://([^'/\s]+)/?'")
VALUE = re.compile(r"^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$|^[0-9a-f:.]+/\d+$", re.I)

# --- named exclusions, each tested below --------------------------------------------------------------------
# The page's typo and its reviewed correction (the fix-up file holds it; the correction is in the catalogue).
CORRECTIONS = {"swdc02-mscdn.manage.microsoft<.com": "swdc02-mscdn.manage.microsoft.com"}
GOV = "us-gov"  # GCC entries: in the catalogue, left out of a commercial stack (the demo stack names no us-gov)
# Shared-tenant wildcards: anyone can create an instance under them (endpoints/shared_tenants.py, with the vendor
# pages), so the demo stack (selection.sharedTenantWildcards: exact, the default) deploys the exact instances the page
# lists under them instead (amsua0101-remoteassistservice-pubsub.webpubsub.azure.com, js.monitor.azure.com, replayed
# as every exact value is) and names each wildcard as left out. Their probe instance is denied, tested below.
SHARED_TENANT = {"*.webpubsub.azure.com": "intune-187", "*.monitor.azure.com": "intune-181"}


def page_values() -> dict[str, int]:
    return values_of(PAGE.read_text(encoding="utf-8"))


@cache
def values_of(text: str) -> dict[str, int]:
    """value -> first line, for every table value, list value and consolidated-list line."""
    lines = text.split("\n")
    found: dict[str, int] = {}
    in_block = consolidated = False
    for number, line in enumerate(lines, 1):
        if line.startswith("## "):
            consolidated = line.strip().lower() == "## consolidated endpoint list"
        if line.startswith("```"):
            in_block = not in_block
            continue
        raw: list[str] = []
        if in_block and consolidated and line.strip():
            raw = [line.strip()]
        elif "|" in line:
            raw = [p for t in TICKED.findall(line) for p in t.split(",")]
        elif line.startswith("- "):
            raw = TICKED.findall(line) + QUOTED.findall(line)
        for value in (r.strip() for r in raw):
            value = CORRECTIONS.get(value, value)
            if VALUE.match(value):
                found.setdefault(value.lower(), number)
    return found


@cache
def catalogue():
    return load_catalogue([p for p in shipped_catalogue_files() if p.name == "intune.yaml"])


def holders(value: str):
    return [e for e in catalogue().entries for d in e.destinations if d.value == _canonical(value)]


def _canonical(value: str) -> str:
    return str(ipaddress.ip_network(value)) if "/" in value else value


def test_the_page_is_read_whole_in_both_dialects():
    learn = require_shared(INTUNE_PAGE).read_text(encoding="utf-8")
    values = values_of(learn)
    assert set(values_of(to_memdocs(learn))) == set(values)
    names = [v for v in values if "/" not in v]
    networks = [v for v in values if "/" in v]
    # the page's own figures: ID 163 lists 87 IPv4 CIDRs (one twice) + 7 Azure Front Door ranges
    assert len(networks) >= 90 and any(":" in v for v in networks)
    assert {
        "*.manage.microsoft.com",
        "imeswda-afd-primary.manage.microsoft.com",
        "intunemaape19.jpe.attest.azure.net",
        "amsuin01lmsas.blob.core.windows.net",
        "aka.ms",
        "cdn.storeedgefd.dsx.mp.microsoft.com",
    } <= set(names)


def test_every_page_value_is_in_the_catalogue():
    missing = sorted((line, v) for v, line in page_values().items() if not holders(v))
    assert missing == []


def test_the_correction_is_the_reviewed_fixup_and_the_typo_is_on_the_page():
    text = require_shared(INTUNE_PAGE).read_text(encoding="utf-8")
    fixups = yaml.safe_load(FIXUPS.read_text(encoding="utf-8"))["fixups"]
    for typo, fixed in CORRECTIONS.items():
        assert f"`{typo}`" in text
        assert {"value": typo, "replace": fixed} in [{k: f[k] for k in ("value", "replace") if k in f} for f in fixups]
        assert holders(fixed) and not any(d.value == typo for e in catalogue().entries for d in e.destinations)


def test_gcc_values_are_kept_and_tagged_and_only_they_are():
    gov = {v for v in page_values() if any(GOV in e.regions for e in holders(v))}
    assert {
        "gcc.remotehelp.microsoft.com",
        "*.gov.teams.microsoft.us",
        "remoteassistanceweb.usgov.communication.azure.us",
    } <= gov
    assert all("gcc" in v or v.endswith(".us") for v in gov)
    for v in gov:  # a GCC value is in no commercial entry
        assert all(GOV in e.regions for e in holders(v)), v


# --- flows of the demo stack ---------------------------------------------------------------------------------


@cache
def demo():
    config = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml")
    plan = build_plan(load_catalogue(), config.selection.to_selection(), config.source_ranges, config.peer_ranges)
    return config, plan


def demo_flows() -> list[tuple[str, Flow]]:
    """(page value, flow) for each commercial page value on each service of the demo entries holding it. A range
    carries its entry's protocol, and one of its entry's names where the entry lists names (ID 163's ranges: a
    ClientHello or request for an Intune name), as the page means it (``address_flows.entry_host``)."""
    config, plan = demo()
    flows = []
    for value in page_values():
        for entry in holders(value):
            if entry.id not in plan.selected_entries:
                continue
            for service in entry.services:
                port, proto = service.port.first, service.protocol.value
                if "/" in value:
                    net = ipaddress.ip_network(value)
                    ip = str(net.network_address + net.num_addresses // 2)
                    flows.append((value, Flow(entry_host(entry, service), port, proto, ip=ip)))
                else:
                    host = f"probe.{value[2:]}" if value.startswith("*.") else value
                    flows.append((value, Flow(host, port, proto)))
    return flows


def test_every_commercial_value_is_selected_by_the_demo_stack_and_gcc_is_not():
    _, plan = demo()
    for value in page_values():
        chosen = [e.id for e in holders(value) if e.id in plan.selected_entries]
        if all(GOV in e.regions for e in holders(value)):
            assert chosen == [], value
        else:
            assert chosen, value


def test_the_shared_tenant_exclusion_is_every_shared_tenant_wildcard_of_the_page_and_each_is_named_left_out():
    assert {v for v in page_values() if is_shared_tenant_wildcard(v)} == set(SHARED_TENANT)
    _, plan = demo()
    left_out = {(s.destination, s.entry) for s in plan.skipped if s.destination in SHARED_TENANT}
    assert left_out == {(v, e) for v, e in SHARED_TENANT.items()}
    reasons = [s.reason for s in plan.skipped if s.destination in SHARED_TENANT]
    assert all(
        r.startswith("shared-tenant wildcard, left out (selection.sharedTenantWildcards: exact)") for r in reasons
    )
    # the page's exact instances under them are values of their own, replayed (and allowed) with every other value
    assert {"amsua0101-remoteassistservice-pubsub.webpubsub.azure.com", "js.monitor.azure.com"} <= set(page_values())


def test_azure_allows_every_listed_value_but_ipv6_which_it_names_as_not_expressible():
    config, plan = demo()
    render = render_azure(plan, config.azure)
    not_expressible = {n.destination for n in render.not_expressible}
    denied, ipv6, shared = [], set(), []
    for value, flow in demo_flows():
        if flow.ip and ":" in flow.ip:
            ipv6.add(value)
            continue
        allowed = azure_check.evaluate(render, flow).allowed
        if value in SHARED_TENANT:
            shared.append((value, allowed))
        elif not allowed:
            denied.append((value, str(flow)))
    assert denied == []
    assert ipv6 and ipv6 == not_expressible  # exactly the IPv6 ranges, each named in the render
    assert sorted(shared) == sorted((v, False) for v in SHARED_TENANT)  # a probe instance: denied


@pytest.mark.usefixtures("suricata")
def test_aws_passes_every_listed_value_in_suricata_but_names_on_udp_which_it_names():
    config, plan = demo()
    render = render_aws(plan, config.aws)
    not_expressible = {n.destination for n in render.not_expressible}
    variables = {d for g in render.groups for _, defs in g.variables for d in defs}
    flows, skipped, shared = [], set(), []
    variables |= {d for b in render.by_name for d in b.destinations}  # left to the entry's names (addressRules)
    for value, flow in demo_flows():
        if flow.ip and ":" in flow.ip:
            assert value in variables, value  # IPv6: in the rules' IP sets or named; IPv4 devices cannot replay it
            skipped.add(value)
        elif flow.host and flow.proto == Protocol.UDP.value:
            assert flow.host in not_expressible, flow  # a name on plain UDP: named, never silently dropped
            skipped.add(value)
        elif value in SHARED_TENANT:
            shared.append((value, flow))
        else:
            flows.append((value, flow))
    source = str(next(ipaddress.ip_network(config.source_ranges[0]).hosts()))
    result = replay(render, [f for _, f in flows + shared], source)
    verdicts = dict(zip([str(f) for _, f in flows + shared], result.verdicts, strict=True))
    denied = [(v, str(f)) for v, f in flows if not verdicts[str(f)].allowed]
    assert denied == []
    assert sorted(v for v, f in shared if not verdicts[str(f)].allowed) == sorted(SHARED_TENANT)  # probes denied
    assert skipped == {"time.windows.com", "2620:1ec:40::/48", "2620:1ec:49::/48", "2620:1ec:4a::/47"}
    print(
        f"\n[suricata {result.version}] page values x services, demo stack: {len(flows)} flows, "
        f"{sum(verdicts[str(f)].allowed for _, f in flows)} passed; not replayed: {sorted(skipped)}; shared-tenant "
        f"wildcards' probe instances denied: {len(shared)}"
    )


def test_reference_rows_and_link_only_sections_are_reference_entries():
    refs = [e for e in catalogue().entries if e.kind is EntryKind.REFERENCE]
    urls = {r.url for e in refs for r in e.references}
    assert "https://support.apple.com/HT210060" in urls
    assert "https://support.google.com/work/android/answer/10513641?hl=en" in urls
    assert any(u.startswith("https://learn.microsoft.com/en-us/azure/virtual-desktop/") for u in urls)
    assert all(not e.destinations for e in refs)


def test_peer_to_peer_ports_of_the_prose_are_entries():
    text = require_shared(INTUNE_PAGE).read_text(encoding="utf-8")
    assert "7680 for TCP/IP" in text and "Teredo on port 3544" in text
    p2p = {
        (s.protocol, s.port.first) for e in catalogue().entries if e.kind is EntryKind.PEER_TO_PEER for s in e.services
    }
    assert p2p == {(Protocol.TCP, 7680), (Protocol.UDP, 3544)}
    assert not any(d.kind is DestinationKind.ANY for e in catalogue().entries for d in e.destinations)


# --- the prod stack: every host of the tables and lists its selection includes ------------------------------

# The page's sections, by heading, in the service area names of the catalogue (this file's own mapping).
AREA_OF_SECTION = {
    "intune core service": "intune-core",
    "authentication dependencies": "authentication",
    "android aosp dependencies": "android-aosp",
    "delivery optimization dependencies": "delivery-optimization",
    "windows push notification services (wns) dependencies": "wns",
    "remote help": "remote-help",
    "windows autopilot dependencies": "autopilot",
    "microsoft defender for endpoint": "defender",
    "microsoft intune endpoint privilege management": "epm",
    "microsoft store": "microsoft-store",
    "migrating device health attestation compliance policies to microsoft azure attestation": "attestation",
    "network requirements for macos app and script deployments": "macos-cdn",
    "network requirements for powershell scripts and win32 apps": "win32-cdn",
}
TAB = re.compile(r'^<a id="tabpanel_\d+_([a-z-]+)"></a>$|^# \[[^\]]+\]\(#tab/([a-z-]+)\)$')


def scoped_values(text: str) -> list[tuple[str, str, str | None, bool, int]]:
    """(value, area, region or None, required, line) of every table row and list item of a section with an area."""
    out, area, region = [], None, None
    header: tuple[str, ...] = ()
    for number, line in enumerate(text.split("\n"), 1):
        heading = re.match(r"^#{2,4} (.+?)\s*$", line)
        tab = TAB.match(line.strip())
        if tab:
            region = tab.group(1) or tab.group(2)
            continue
        if heading:
            area, region = AREA_OF_SECTION.get(heading.group(1).lower()), None
            continue
        if area is None:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if "|" in line else []
        if cells and not TICKED.search(line):
            if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):  # not the separator
                header = tuple(cells)
            continue
        if cells and header[:1] == ("Region",):
            row_region, required, raw = cells[0].lower().replace(" ", "-"), True, TICKED.findall(cells[1])
        elif cells and header[:1] == ("ID",):
            row_region, required, raw = None, "Required" in cells[2], TICKED.findall(cells[4])
        elif line.startswith("- "):
            row_region, required, raw = region, True, TICKED.findall(line) + QUOTED.findall(line)
        else:
            continue
        for value in (CORRECTIONS.get(v.strip(), v.strip()) for r in raw for v in r.split(",")):
            if VALUE.match(value):
                out.append((value.lower(), area, row_region, required, number))
    return out


def test_the_scoped_reader_sees_region_rows_tabs_and_optional_rows_in_both_dialects():
    learn = require_shared(INTUNE_PAGE).read_text(encoding="utf-8")
    scoped = {(v, a, r, q) for v, a, r, q, _ in scoped_values(learn)}
    assert ("go-eu.trouter.communications.svc.cloud.microsoft", "win32-cdn", "europe", True) in scoped
    assert ("intunemaape13.jpe.attest.azure.net", "attestation", "asia-pacific", True) in scoped
    assert ("config.office.com", "authentication", None, False) in scoped  # ID 150: Default, not Required
    assert {(v, a, r, q) for v, a, r, q, _ in scoped_values(to_memdocs(learn))} == scoped


def test_prod_allows_every_host_of_the_tables_and_lists_its_selection_includes():
    config = load_stack_file(ROOT / "stacks" / "Pulumi.prod.yaml")
    selection = config.selection
    plan = build_plan(load_catalogue(), selection.to_selection(), config.source_ranges, config.peer_ranges)
    render = render_azure(plan, config.azure)
    in_scope = [
        (v, line)
        for v, area, region, required, line in scoped_values(PAGE.read_text(encoding="utf-8"))
        if area in selection.service_areas
        and (region is None or region in selection.regions)
        and required
        and "/" not in v
        and not v.endswith(".us")
    ]
    assert len(in_scope) > 50
    denied = []
    for value, line in in_scope:
        host = f"probe.{value[2:]}" if value.startswith("*.") else value
        if not azure_check.evaluate(render, Flow(host, 443, "https")).allowed:
            denied.append((line, value))
    assert denied == []
