"""Every host of the Networking tab of Microsoft's "Windows Autopilot requirements" page is in the shipped catalogue
on the protocol and port the page states, and the demo stack allows each one on both clouds (Azure by its documented
rule order, AWS in the real Suricata engine); prod, which selects no `autopilot`, allows none of Autopilot's own.

The page is the copy the repository keeps (endpoint_firewall/endpoints/catalogue/sources/autopilot-requirements.md,
which a catalogue refresh replaces together with the catalogue), so these tests need no ../shared. It is read here
with a few regexes of this file's own, independently of the importer: the lines from the "Networking requirements"
heading to the next tab or heading of its level, every backticked value there that is a host, wildcard or URL,
and the protocol the page gives it (a URL's scheme; "UDP port **N**" or "via HTTP" on its line; else https 443,
the page's "443 (HTTPS)"). Nothing of ``catalogue_tools.importers`` is used.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from pathlib import Path

from endpoint_firewall.checks import azure as azure_check
from endpoint_firewall.checks.flow import Flow
from endpoint_firewall.checks.suricata import replay
from endpoint_firewall.cli.main import main
from endpoint_firewall.config.stack_config import StackConfig, load_stack_file
from endpoint_firewall.endpoints.loader import Catalogue, load_catalogue, shipped_catalogue_files
from endpoint_firewall.endpoints.models import EntryKind
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.rules import Plan
from endpoint_firewall.renderers.aws.render import AwsRender, render_aws
from endpoint_firewall.renderers.azure.render import render_azure

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "endpoint_firewall" / "endpoints" / "catalogue" / "sources" / "autopilot-requirements.md"
OLDER_PAGE = ROOT / "tests" / "fixtures" / "autopilot" / "requirements-2024-11-25.memdocs.md"
TICKED = re.compile(r"`([^`]+)`")
VALUE = re.compile(r"^(?:(https?)://)?((?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)+)(?:/\S*)?$", re.I)
TAB_END = re.compile(r"^(#{1,3} |# \[|## \[)")
AUTOPILOT_OWN = {  # the hosts this page adds for Autopilot itself (the Intune page lists the TPM vendors and NTP)
    "ztd.dds.microsoft.com",
    "lgmsapeweu.blob.core.windows.net",
    "*.msftconnecttest.com",
    "*.microsoftaik.azure.net",
}
# Named exclusions: hosts of the tab the catalogue leaves out, with the reason. The page of 2025-07-08 has none.
EXCLUSIONS: dict[str, str] = {}


@cache
def tab_values(text: str) -> dict[str, tuple[str, int, int]]:
    """host -> (protocol, port, line) of every host, wildcard and URL the Networking tab writes in backticks."""
    found: dict[str, tuple[str, int, int]] = {}
    inside = False
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if re.match(r"^#{2,4} Networking requirements\s*$", line):
            inside = True
            continue
        if inside and TAB_END.match(line):
            break
        if not inside:
            continue
        udp = re.search(r"UDP port \**(\d+)\**", line)
        for token in TICKED.findall(line):
            value = VALUE.match(token.strip())
            if not value:
                continue
            scheme, host = value.group(1), value.group(2).lower()
            if scheme:
                service = ("https", 443) if scheme.lower() == "https" else ("http", 80)
            elif udp:
                service = ("udp", int(udp.group(1)))
            elif re.search(r"\bvia HTTP\b", line):
                service = ("http", 80)
            else:
                service = ("https", 443)
            found.setdefault(host, (*service, number))
    return found


def page_values() -> dict[str, tuple[str, int, int]]:
    return tab_values(PAGE.read_text(encoding="utf-8"))


@cache
def autopilot_file() -> Catalogue:
    return load_catalogue([p for p in shipped_catalogue_files() if p.name == "autopilot.yaml"])


def holders(value: str):
    return [e for e in autopilot_file().entries for d in e.destinations if d.value == value]


def test_the_tab_is_read_whole():
    values = page_values()
    assert AUTOPILOT_OWN <= set(values)
    assert {"login.live.com", "time.windows.com", "ekop.intel.com", "ftpm.amd.com"} <= set(values)
    assert values["time.windows.com"][:2] == ("udp", 123)
    assert values["*.msftconnecttest.com"][:2] == ("http", 80)
    assert values["ekcert.spserv.microsoft.com"][:2] == ("https", 443)  # a URL with a path: its host
    # the 2024 version the issue read (memdocs' source dialect) is read alike, with its third Deployment Service URL
    older = tab_values(OLDER_PAGE.read_text(encoding="utf-8"))
    assert set(older) == set(values) | {"cs.dds.microsoft.com"}


def test_every_host_of_the_tab_is_in_the_catalogue_on_the_stated_service_or_a_named_exclusion():
    missing = []
    for value, (proto, port, line) in page_values().items():
        if value in EXCLUSIONS:
            assert not holders(value), value
            continue
        services = {(s.protocol.value, s.port.first) for e in holders(value) for s in e.services}
        if (proto, port) not in services:
            missing.append((line, value, proto, port))
    assert missing == []
    assert set(EXCLUSIONS) <= set(page_values())  # an exclusion names a host of the page


def test_every_entry_of_the_file_is_on_the_page_in_the_autopilot_area_with_its_section_and_line():
    lines = PAGE.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
    values = page_values()
    for entry in autopilot_file().entries:
        assert entry.service_area == "autopilot" and entry.provenance.source == "autopilot-page"
        assert entry.provenance.line, entry.id
        heading = lines[entry.provenance.line - 1]
        assert heading.startswith("##### ") and entry.description in heading, (entry.id, heading)
        for dest in entry.destinations:
            assert dest.value in values, (entry.id, dest.value)
        if entry.kind is EntryKind.REFERENCE:
            assert entry.references and not entry.destinations


def test_the_sections_that_only_link_are_references_with_their_links():
    urls = {r.url for e in autopilot_file().entries if e.kind is EntryKind.REFERENCE for r in e.references}
    assert (
        "https://support.microsoft.com/topic/windows-activation-or-validation-fails-with-error-code-0x8004fe33-a9afe65e-230b-c1ed-3414-39acd7fddf52"
        in urls
    )
    assert "https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges" in urls
    assert "https://learn.microsoft.com/microsoft-365/compliance/encryption-office-365-certificate-chains" in urls


# --- flows ---------------------------------------------------------------------------------------------------


@cache
def stack(name: str) -> tuple[StackConfig, Plan]:
    config = load_stack_file(ROOT / "stacks" / f"Pulumi.{name}.yaml")
    plan = build_plan(load_catalogue(), config.selection.to_selection(), config.source_ranges, config.peer_ranges)
    return config, plan


def flows() -> list[tuple[str, Flow]]:
    """(page value, flow) for each host of the tab on the protocol and port the page states."""
    out = []
    for value, (proto, port, _) in page_values().items():
        host = f"probe.{value[2:]}" if value.startswith("*.") else value
        out.append((value, Flow(host, port, proto)))  # type: ignore[arg-type]
    return out


def source_of(config: StackConfig) -> str:
    return str(next(ipaddress.ip_network(config.source_ranges[0]).hosts()))


def test_the_demo_stack_selects_every_entry_of_the_page():
    _, plan = stack("dev")
    assert {e.id for e in autopilot_file().entries} <= set(plan.selected_entries)


def test_azure_dev_allows_every_host_of_the_tab_and_prod_only_what_the_intune_core_area_lists():
    verdicts = {}
    for name in ("dev", "prod"):
        config, plan = stack(name)
        assert config.azure is not None
        render = render_azure(plan, config.azure)
        verdicts[name] = {value: azure_check.evaluate(render, flow) for value, flow in flows()}
    assert [v for v, verdict in verdicts["dev"].items() if not verdict.allowed] == []
    assert {v for v, verdict in verdicts["prod"].items() if verdict.allowed} == {"login.live.com"}  # intune-97
    assert "intune-core" in (verdicts["prod"]["login.live.com"].rule or "")
    for value, verdict in verdicts["dev"].items():
        print(f"\n[azure] {value}: dev {verdict.rule}; prod {verdicts['prod'][value].rule or 'deny'}", end="")


def replay_tab(name: str) -> tuple[AwsRender, dict[str, bool], str]:
    """The stack's AWS render, and each host of the tab on TCP -> passed in Suricata; the engine's version."""
    config, plan = stack(name)
    assert config.aws is not None
    render = render_aws(plan, config.aws)
    replayed = [(v, f) for v, f in flows() if f.proto != "udp"]
    result = replay(render, [f for _, f in replayed], source_of(config))
    return (
        render,
        {v: verdict.allowed for (v, _), verdict in zip(replayed, result.verdicts, strict=True)},
        result.version,
    )


def test_aws_dev_passes_every_host_of_the_tab_in_suricata_but_the_name_on_udp_which_it_names(suricata):
    render, passed, version = replay_tab("dev")
    not_expressible = {n.destination for n in render.not_expressible}
    assert {v for v, f in flows() if f.proto == "udp"} == {"time.windows.com"} <= not_expressible
    assert [v for v, ok in passed.items() if not ok] == []
    print(
        f"\n[suricata {version}] autopilot tab, dev: {len(passed)} flows, {sum(passed.values())} passed; "
        "not replayed (name on UDP, named as not expressible): time.windows.com"
    )


def test_aws_prod_drops_autopilots_own_hosts_in_suricata(suricata):
    _, passed, version = replay_tab("prod")
    allowed = {v for v, ok in passed.items() if ok}
    assert allowed == {"login.live.com"}  # the Intune page's intune-97 (intune-core), which prod selects
    assert AUTOPILOT_OWN.isdisjoint(allowed)
    print(f"\n[suricata {version}] autopilot tab, prod: {len(passed)} flows, passed: {sorted(allowed)}")


def test_the_issue_s_command_now_allows_the_deployment_service(capsys):
    assert (
        main(["check", "--project", str(ROOT), "--stack", "dev", "--cloud", "azure", "ztd.dds.microsoft.com:443"]) == 0
    )
    assert ": allow by epfw-dev-autopilot/application/autopilot-fqdn-https443" in capsys.readouterr().out
    assert (
        main(["check", "--project", str(ROOT), "--stack", "prod", "--cloud", "azure", "ztd.dds.microsoft.com:443"]) == 3
    )


def test_what_the_page_no_longer_names_is_not_allowed():
    """cs.dds.microsoft.com was a Deployment Service URL of the 2024 page; the 2025 page dropped it, and the
    catalogue follows the page (least privilege): nothing allows it, on Azure or by name anywhere in the plan."""
    dropped = set(tab_values(OLDER_PAGE.read_text(encoding="utf-8"))) - set(page_values())
    assert dropped == {"cs.dds.microsoft.com"}
    config, plan = stack("dev")
    assert config.azure is not None
    render = render_azure(plan, config.azure)
    for host in dropped:
        assert not azure_check.evaluate(render, Flow(host, 443, "https")).allowed
        assert not any(host in rule.destinations for rule in plan.rules)
