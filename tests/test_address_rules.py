"""Issue 17: address rules carry no more than their entry, flows started outside HOME_NET are dropped, and what
stays open is said (docs/address-rules.md, docs/residual-risks.md).

* The plan keeps each address with the services its entry lists and whether the entry's names carry them; each
  cloud renders the view ``addressRules`` asks for (names-only, the default; protocol, AWS only; tcp).
* The flow set of ``address_flows`` (listed names to listed addresses; foreign SNI and Host, SSH and binary bytes
  to the Front Door and Intune ranges; flows started outside HOME_NET) replays in Suricata on both shipped stacks,
  in both rule orders and both FQDN modes, and through ``epfw check --cloud azure``: every listed flow passes,
  every other is denied but what the render names as widened.
* An address-only entry carries its protocol in Suricata; peers outside HOME_NET keep their services inbound; ICMP
  error messages about a device's flows still reach it.
"""

from __future__ import annotations

import ipaddress
import json
import re
import struct

import pytest
import yaml
from address_flows import ADDRESS_ONLY, FRONT_DOOR, INTUNE, OUTSIDE, SSH, FlowCase, flow_set
from conftest import ROOT
from test_azure_sku import refused

from endpoint_firewall.checks import suricata as engine
from endpoint_firewall.checks.flow import Flow
from endpoint_firewall.checks.suricata import client_hello, replay, server_hello
from endpoint_firewall.checks.suricata_capture import _checksum
from endpoint_firewall.cli.main import main
from endpoint_firewall.config.aws_config import AwsConfig, FqdnMode, RuleOrder
from endpoint_firewall.config.azure_config import AzureConfig
from endpoint_firewall.config.stack_config import load_stack_file
from endpoint_firewall.endpoints.loader import Catalogue, load_catalogue
from endpoint_firewall.endpoints.models import CatalogueFile, Service
from endpoint_firewall.planning.address_rules import AddressRules, ByName, rendered_rules
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.rules import RuleKind
from endpoint_firewall.planning.selection import Selection, SharedTenantMode
from endpoint_firewall.program.render import render_stack
from endpoint_firewall.renderers.aws.render import render_aws
from endpoint_firewall.renderers.azure.render import render_azure

ORDERS = list(RuleOrder)
MODES = list(FqdnMode)


def shipped(name: str):
    config = load_stack_file(ROOT / "stacks" / f"Pulumi.{name}.yaml")
    plan = build_plan(load_catalogue(), config.selection.to_selection(), config.source_ranges, config.peer_ranges)
    return config, plan


def catalogue_data(entries: list[dict]) -> dict:
    """A catalogue file's data: one source, one service area ``a``, these entries in it."""
    return {
        "schema_version": 1,
        "sources": [{"id": "s", "title": "S", "url": "https://example.org/s", "date": "2026-01-01"}],
        "service_areas": [{"id": "a", "title": "A", "priority": 3000}],
        "entries": [
            {"service_area": "a", "description": "d", "provenance": {"source": "s", "section": "x"}, **e}
            for e in entries
        ],
    }


def catalogue_of(entries: list[dict]) -> Catalogue:
    doc = CatalogueFile.model_validate(catalogue_data(entries))
    return Catalogue(
        entries=tuple(doc.entries),
        service_areas={a.id: a for a in doc.service_areas},
        sources={s.id: s for s in doc.sources},
    )


def widened_at(findings, ip: str | None) -> bool:
    return bool(ip) and any(
        w.destination and "/" in w.destination and ipaddress.ip_address(ip or "") in ipaddress.ip_network(w.destination)
        for w in findings
    )


# --- the plan and the views ---------------------------------------------------------------------------------------


def test_the_plan_keeps_each_address_with_the_services_its_entry_lists():
    _, plan = shipped("dev")
    core = next(r for r in plan.rules if r.name == "intune-core-ip-tcp80-tcp443")
    [part] = core.parts
    assert [str(s) for s in part.services] == ["http:80", "https:443"] and part.by_name
    assert "40.82.248.224/28" in part.destinations and "13.107.219.0/24" in part.destinations
    consolidated = next(r for r in plan.rules if r.name == "intune-consolidated-ip-tcp80-tcp443")
    [part] = consolidated.parts
    assert [str(s) for s in part.services] == ["http:80", "https:443"] and not part.by_name
    assert part.destinations == ("20.189.172.160/27",)


def test_names_serve_only_the_http_https_and_tls_services_and_views_never_collide():
    """An entry's names carry its http/https/tls flows, never its plain TCP; an address-only entry of the same area
    and service shares one rule with it (the case the property test found: two views named alike)."""
    catalogue = catalogue_of(
        [
            {
                "id": "named",
                "destinations": ["app.example.org", "203.0.113.0/26"],
                "services": [{"protocol": "https", "port": 443}, {"protocol": "tcp", "port": "5228-5230"}],
            },
            {"id": "bare", "destinations": ["203.0.113.64/26"], "services": [{"protocol": "tcp", "port": "5228-5230"}]},
        ]
    )
    plan = build_plan(catalogue, Selection(), ["10.10.0.0/16"])
    views = {
        (mode, keep): rendered_rules(plan, mode, keep)
        for mode in AddressRules
        for keep in (True, False)
        if not (mode is AddressRules.PROTOCOL and not keep)
    }
    rules, left = views[(AddressRules.NAMES_ONLY, True)]
    address = [r for r in rules if r.kind.value == "ip"]
    assert [(r.name, r.destinations) for r in address] == [("a-ip-tcp5228-5230", ("203.0.113.0/25",))]
    assert dict(address[0].origins) == {"203.0.113.0/25": ("bare", "named")}
    assert [(b.entry, [str(s) for s in b.services], b.destinations) for b in left] == [
        ("named", ["https:443"], ("203.0.113.0/26",))
    ]
    rules, left = views[(AddressRules.PROTOCOL, True)]
    assert sorted(r.name for r in rules if r.kind.value == "ip") == ["a-ip-https443", "a-ip-tcp5228-5230"] and not left
    rules, left = views[(AddressRules.TCP, True)]
    assert rules == list(plan.rules) and not left  # the plan as it is: what tcp renders
    names = [r.name for r in rules]
    assert len(names) == len(set(names))


# --- addresses of entries whose names the plan does not deploy ------------------------------------------------------

HUB = {
    "id": "hub",
    "destinations": ["*.webpubsub.azure.com", "20.30.40.0/24"],  # a shared-tenant wildcard is its only name
    "services": [{"protocol": "https", "port": 443}],
}
HUB_INSTANCE = "contoso-hub.webpubsub.azure.com"
HUB_SELECTIONS = {  # name: (selection, whether the plan deploys a name of the entry)
    "exact": (Selection(), False),
    "exact with a tenant instance": (Selection(tenant_instances=(HUB_INSTANCE,)), True),
    "allow": (Selection(shared_tenant_wildcards=SharedTenantMode.ALLOW), True),
}


def hub_plan(selection: Selection, entry: dict = HUB):
    return build_plan(catalogue_of([entry]), selection, ["10.10.0.0/16"])


@pytest.mark.parametrize("name", list(HUB_SELECTIONS))
def test_addresses_go_by_name_only_when_the_plan_deploys_a_name_of_the_entry(name):
    selection, deploys_names = HUB_SELECTIONS[name]
    plan = hub_plan(selection)
    names = [d for r in plan.rules if r.kind is RuleKind.HOSTNAME for d in r.destinations]
    assert bool(names) is deploys_names
    [address] = [r for r in plan.rules if r.kind is RuleKind.ADDRESS]
    assert [(p.destinations, p.by_name) for p in address.parts] == [(("20.30.40.0/24",), deploys_names)]
    rules, left = rendered_rules(plan, AddressRules.NAMES_ONLY, keep_protocols=True)
    kept = [d for r in rules if r.kind is RuleKind.ADDRESS for d in r.destinations]
    assert (kept, [b.destinations for b in left]) == (
        ([], [("20.30.40.0/24",)]) if deploys_names else (["20.30.40.0/24"], [])
    )


def test_a_wildcard_on_plain_tcp_deploys_no_name_so_its_addresses_keep_their_services_as_listed():
    entry = {
        "id": "plain",
        "destinations": ["*.example.org", "203.0.113.0/26"],
        "services": [{"protocol": "tcp", "port": 5000}, {"protocol": "udp", "port": 5000}],
    }
    plan = hub_plan(Selection(), entry)
    assert [s.destination for s in plan.skipped] == ["*.example.org"]
    [address] = [r for r in plan.rules if r.kind is RuleKind.ADDRESS]
    assert [([str(s) for s in p.services], p.by_name) for p in address.parts] == [(["tcp:5000", "udp:5000"], False)]


def test_an_entry_with_names_and_a_left_out_wildcard_keeps_its_addresses_by_name():
    entry = {**HUB, "destinations": [*HUB["destinations"], "hub.example.org"]}
    [address] = [r for r in hub_plan(Selection(), entry).rules if r.kind is RuleKind.ADDRESS]
    assert [p.by_name for p in address.parts] == [True]


def test_an_address_is_left_to_names_only_on_the_ports_of_the_services_left_to_names():
    https, tcp = (
        Service.model_validate({"protocol": "https", "port": 443}),
        Service.model_validate({"protocol": "tcp", "port": "5228-5230"}),
    )
    left = ByName("named", (https, tcp), ("203.0.113.0/26", "2001:db8::/32"))
    assert left.left_at("203.0.113.5", 443) == ("203.0.113.0/26",)
    assert left.left_at("203.0.113.5", 5229) == ("203.0.113.0/26",)
    assert left.left_at("203.0.113.5", 80) == () and left.left_at("203.0.113.64", 443) == ()
    assert left.left_at("2001:db8::1", 443) == ("2001:db8::/32",)


HUB_STACK = """config:
  endpoint-firewall:sourceRanges: [10.10.0.0/16]
  endpoint-firewall:catalogue: [hub.yaml]
  endpoint-firewall:selection: {selection}
  endpoint-firewall:azure: {{resourceGroupName: rg, policyName: pol, dnsProxy: true}}
  endpoint-firewall:aws: {{namePrefix: t}}
"""


def hub_project(tmp_path, selection: str, entries: list[dict]):
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.t.yaml").write_text(HUB_STACK.format(selection=selection))
    (tmp_path / "hub.yaml").write_text(yaml.safe_dump(catalogue_data(entries)))
    return tmp_path


@pytest.mark.usefixtures("suricata")
@pytest.mark.parametrize(
    "selection, left_to_names",
    [("{}", False), (f"{{tenantInstances: [{HUB_INSTANCE}]}}", True), ("{sharedTenantWildcards: allow}", True)],
)
@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_epfw_check_passes_the_address_of_an_entry_whose_only_name_is_left_out(
    cloud, selection, left_to_names, tmp_path, capsys
):
    root = hub_project(tmp_path, selection, [HUB])
    capsys.readouterr()
    code = main(["check", "--project", str(root), "--stack", "t", "--cloud", cloud, "20.30.40.5:443"])
    out = "".join(capsys.readouterr())
    assert (code, "leaves 20.30.40.0/24 (hub) to its entries' names" in out) == (
        (3, True) if left_to_names else (0, False)
    ), out
    summary = render_stack("t", root).summary()
    left = summary[cloud]["addressRules"]["leftToNames"]
    assert bool(left) is left_to_names
    widened = {w["destination"] for w in summary[cloud]["widened"] if w["entry"] == "hub"}
    assert ("20.30.40.0/24" in widened) is not left_to_names  # an address rule passes any name: said so


@pytest.mark.usefixtures("suricata")
@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_epfw_check_notes_left_to_names_only_on_the_services_left_to_names(cloud, tmp_path, capsys):
    entry = {
        "id": "named",
        "destinations": ["app.example.org", "203.0.113.0/26"],
        "services": [{"protocol": "https", "port": 443}, {"protocol": "tcp", "port": 5228}],
    }
    root = hub_project(tmp_path, "{}", [entry])
    note = "leaves 203.0.113.0/26 (named) to its entries' names"
    capsys.readouterr()
    code = main(["check", "--project", str(root), "--stack", "t", "--cloud", cloud, "203.0.113.5:443"])
    out = capsys.readouterr().out
    assert code == 3 and note in out, out
    code = main(["check", "--project", str(root), "--stack", "t", "--cloud", cloud, "203.0.113.5:5228"])
    out = capsys.readouterr().out
    assert code == 0 and note not in out, out


# --- settings ------------------------------------------------------------------------------------------------------


def test_the_settings_default_to_the_least_and_azure_refuses_protocol_naming_the_key():
    assert AwsConfig().address_rules is AddressRules.NAMES_ONLY and AwsConfig().drop_inbound is True
    assert AzureConfig(resource_group_name="rg", policy_name="p").address_rules is AddressRules.NAMES_ONLY
    aws = AwsConfig.model_validate({"addressRules": "protocol", "dropInbound": False})
    assert (aws.address_rules, aws.drop_inbound) == (AddressRules.PROTOCOL, False)
    assert AzureConfig.model_validate({"resourceGroupName": "rg", "policyName": "p", "addressRules": "tcp"})
    message = refused({"addressRules": "protocol"})
    assert message.startswith("endpoint-firewall:azure.addressRules: protocol is not possible on Azure")
    assert "cannot require a TLS ClientHello or an HTTP request" in message
    assert refused({"addressRules": "names"}).startswith("endpoint-firewall:azure.addressRules: ")


def test_the_settings_are_read_from_a_stack_file_and_the_stack_keys_reference_names_them(tmp_path):
    stack = tmp_path / "Pulumi.t.yaml"
    stack.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "endpoint-firewall:sourceRanges": ["10.10.0.0/16"],
                    "endpoint-firewall:aws": {"addressRules": "tcp", "dropInbound": False},
                    "endpoint-firewall:azure": {"resourceGroupName": "rg", "policyName": "p", "addressRules": "tcp"},
                }
            }
        )
    )
    config = load_stack_file(stack)
    assert config.aws and config.aws.address_rules is AddressRules.TCP and not config.aws.drop_inbound
    assert config.azure and config.azure.address_rules is AddressRules.TCP
    reference = (ROOT / "docs" / "reference" / "stack-keys.md").read_text(encoding="utf-8")
    sections = {part.split("\n", 1)[0]: part for part in re.split(r"^## ", reference, flags=re.M)}
    keys = {
        name: {row.split("|")[1].strip() for row in sections[name].splitlines() if row.startswith("| ")}
        for name in ("aws", "azure")
    }
    assert "`addressRules`" in keys["aws"] and "`dropInbound`" in keys["aws"]
    assert "`addressRules`" in keys["azure"]


# --- renders --------------------------------------------------------------------------------------------------------


def test_aws_protocol_mode_holds_id_163_s_addresses_to_a_request_or_a_clienthello_and_says_what_stays_wide():
    config, plan = shipped("dev")
    render = render_aws(plan, config.aws.model_copy(update={"address_rules": AddressRules.PROTOCOL}))
    rules = render.groups[0].rules_text
    assert re.search(
        r"pass http \$HOME_NET any -> \$INTUNE_CORE_IP_\w+ 80 \(flow:to_server,established; http.start;", rules
    )
    assert re.search(
        r"pass tls \$HOME_NET any -> \$INTUNE_CORE_IP_\w+ 443 \(flow:to_server,established; "
        r"ssl_state:client_hello; msg:",
        rules,
    )
    assert "pass tcp $HOME_NET any -> $INTUNE_CORE" not in rules
    summary = render.summary()
    assert summary["addressRules"] == {"mode": "protocol", "leftToNames": []}
    wide = {w.destination for w in render.widened if w.entry == "intune-163" and w.reason.startswith("address rule")}
    assert "13.107.219.0/24" in wide and "40.82.248.224/28" in wide
    [risk] = [r for r in summary["residualRisks"]["risks"] if r["risk"] == "address-any-name"]
    assert "intune-163" in risk["text"] and "addressRules: protocol" in risk["text"]
    tcp = render_aws(plan, config.aws.model_copy(update={"address_rules": AddressRules.TCP}))
    assert all("any TCP payload" in w.reason for w in tcp.widened if w.entry == "intune-163" and "address" in w.reason)


def test_azure_leaves_ipv4_addresses_to_names_but_keeps_ipv6_which_application_rules_cannot_take():
    """Azure's application rules resolve the name themselves (learn.microsoft.com/azure/firewall/dns-details) but
    take no IPv6 (dual stack preview): with azure.ipv6 the IPv6 ranges stay network rules, and are widened."""
    config, plan = shipped("dev")
    assert config.azure is not None
    dual = config.azure.model_copy(update={"ipv6": "preview"})
    plan6 = build_plan(load_catalogue(), config.selection.to_selection(), ("10.10.0.0/16", "fd00:10::/56"))
    render = render_azure(plan6, dual)
    [left] = render.by_name
    assert not any(":" in d for d in left.destinations)
    v6 = [r for g in render.groups for r in g.rules if r["name"].endswith("-v6")]
    assert any("2620:1ec:40::/48" in r.get("destinationAddresses", []) for r in v6)
    assert {w.destination for w in render.widened if w.entry == "intune-163"} == {
        "2620:1ec:40::/48",
        "2620:1ec:49::/48",
        "2620:1ec:4a::/47",
    }
    shipped_render = render_azure(plan, config.azure)
    assert shipped_render.summary()["residualRisks"]["explained"] == "docs/residual-risks.md"


# --- the flow set: Suricata ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("suricata")
@pytest.mark.parametrize("stack_name", ["dev", "prod"])
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: o.value)
@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_the_flow_set_in_suricata(stack_name, order, mode, capsys):
    config, plan = shipped(stack_name)
    aws = config.aws.model_copy(update={"rule_order": order, "fqdn_mode": mode, "capacity": {}})
    render = render_aws(plan, aws)
    cases = flow_set(config.source_ranges)
    result = replay(render, [c.flow for c in cases], str(ipaddress.ip_network(config.source_ranges[0])[1]))
    wrong = []
    for case, verdict in zip(cases, result.verdicts, strict=True):
        expected = case.expected("aws")
        if verdict.allowed != (expected != "deny"):
            wrong.append(f"{case.name}: expected {expected}, got {'allow' if verdict.allowed else verdict.dropped_by}")
        elif expected == "widened" and not widened_at(render.widened, case.flow.ip):
            wrong.append(f"{case.name}: allowed, but the render does not name {case.flow.ip} as widened")
        elif not verdict.allowed and verdict.dropped_by.group in (None, "engine"):
            wrong.append(f"{case.name}: dropped by {verdict.dropped_by}, not by a rendered rule")
        elif verdict.allowed and not verdict.passed_by:
            wrong.append(f"{case.name}: allowed by no rule")
        elif not verdict.allowed and verdict.delivered_after_drop:
            wrong.append(f"{case.name}: {verdict.delivered_after_drop} data packets after the drop")
    assert not wrong, "\n".join(wrong)
    with capsys.disabled():
        allowed = sum(v.allowed for v in result.verdicts)
        print(f"\n[flow set] aws {stack_name} {order.value} {mode.value}: {allowed} allowed of {len(cases)}")


@pytest.mark.usefixtures("suricata")
@pytest.mark.parametrize("address_rules", [AddressRules.PROTOCOL, AddressRules.TCP], ids=str)
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: o.value)
def test_the_other_address_modes_keep_every_listed_flow_and_name_what_they_widen(address_rules, order):
    """protocol and tcp pass what names-only passes, and more, each extra allow at an address the render names as
    widened; flows started outside HOME_NET stay denied."""
    config, plan = shipped("prod")
    render = render_aws(plan, config.aws.model_copy(update={"rule_order": order, "address_rules": address_rules}))
    cases = flow_set(config.source_ranges)
    verdicts = replay(render, [c.flow for c in cases], "10.20.0.1").verdicts
    by_name = {c.name: v for c, v in zip(cases, verdicts, strict=True)}
    for case, verdict in zip(cases, verdicts, strict=True):
        if case.aws != "deny":
            assert verdict.allowed, case.name
        elif case.flow.source:
            assert not verdict.allowed, case.name
        elif verdict.allowed:
            assert widened_at(render.widened, case.flow.ip), case.name
    assert by_name["ClientHello attacker-c2.azurefd.net to Front Door"].allowed  # any name to the range
    ssh = by_name["SSH bytes to Front Door 443"]
    assert ssh.allowed is (address_rules is AddressRules.TCP)  # protocol: a ClientHello, never SSH


@pytest.mark.usefixtures("suricata")
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: o.value)
def test_an_address_only_entry_carries_its_protocol(order):
    """An entry that lists only addresses, in protocol mode (and names-only, which renders it the same): http takes
    an HTTP request, https a ClientHello (whole or split), tls on another port a ClientHello; nothing else."""
    catalogue = catalogue_of(
        [
            {"id": "web", "destinations": ["203.0.113.0/28"], "services": [{"protocol": "http", "port": 80}]},
            {"id": "tls", "destinations": ["203.0.113.16/28"], "services": [{"protocol": "https", "port": 443}]},
            {"id": "push", "destinations": ["203.0.113.32/28"], "services": [{"protocol": "tls", "port": 5223}]},
        ]
    )
    plan = build_plan(catalogue, Selection(), ["10.10.0.0/16"])
    web, tls, push = "203.0.113.5", "203.0.113.20", "203.0.113.40"
    c = True
    flows = {
        "request to the http entry": (Flow(None, 80, "http", ip=web), True),
        "request split to the http entry": (Flow("any.example", 80, "http", ip=web, split=True, split_at=3), True),
        "ClientHello to the http entry": (Flow("any.example", 80, "https", ip=web), False),
        "SSH to the http entry": (Flow(None, 80, "tcp", ip=web, messages=((c, SSH),)), False),
        "ClientHello to the https entry": (Flow(None, 443, "https", ip=tls), True),
        "ClientHello split to the https entry": (Flow("any.example", 443, "https", ip=tls, split=True), True),
        "ClientHello split after 5 bytes": (Flow("any.example", 443, "https", ip=tls, split=True, split_at=5), True),
        "request to the https entry": (Flow("any.example", 443, "http", ip=tls), False),
        "binary to the https entry": (Flow(None, 443, "tcp", ip=tls), False),
        "UDP to the https entry": (Flow(None, 443, "udp", ip=tls), False),
        "ClientHello to the tls entry": (Flow("any.example", 5223, "tls", ip=push), True),
        "SSH to the tls entry": (Flow(None, 5223, "tcp", ip=push, messages=((c, SSH),)), False),
    }
    for address_rules in (AddressRules.PROTOCOL, AddressRules.NAMES_ONLY):
        render = render_aws(plan, AwsConfig(rule_order=order, address_rules=address_rules))
        verdicts = replay(render, [f for f, _ in flows.values()], "10.10.0.5").verdicts
        got = {name: v.allowed for name, v in zip(flows, verdicts, strict=True)}
        assert got == {name: expected for name, (_, expected) in flows.items()}, address_rules
        assert {(w.entry, w.destination) for w in render.widened} == {
            ("web", "203.0.113.0/28"),
            ("tls", "203.0.113.16/28"),
            ("push", "203.0.113.32/28"),
        }  # any name reaches them: said


@pytest.mark.usefixtures("suricata")
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: o.value)
def test_flows_started_outside_are_dropped_but_peers_and_icmp_errors_about_a_device_s_flows(order, tmp_path):
    """Peers outside HOME_NET (Delivery Optimization) open 7680/TCP and 3544/UDP towards devices; nothing else from
    outside does. A device's own flows get their replies and the ICMP errors about them (Path MTU discovery)."""
    catalogue = load_catalogue()
    selection = Selection(service_areas=frozenset({"delivery-optimization", "intune-consolidated"}))
    plan = build_plan(catalogue, selection, ["10.10.0.0/16"], ["10.30.0.0/16"])
    render = render_aws(plan, AwsConfig(rule_order=order))
    assert re.search(
        r"pass tcp \$DELIVERY_OPTIMIZ_P2P_TCP7680 any -> \$HOME_NET 7680 \(msg:", render.groups[0].rules_text
    )
    me, peer = "10.10.0.5", "10.30.0.9"
    c, s = True, False
    bulk = ((c, bytes(1_000)), (s, bytes(1_000))) * 5
    flows = {
        "peer opens 7680 to a device": (Flow(None, 7680, "tcp", ip=me, source=peer, messages=bulk), True),
        "peer opens 3544/udp to a device": (
            Flow(None, 3544, "udp", ip=me, source=peer, messages=((c, b"x"), (s, b"y"))),
            True,
        ),
        "device opens 7680 to a peer": (Flow(None, 7680, "tcp", ip=peer, messages=bulk), True),
        "device's Teredo datagram and its reply": (
            Flow(None, 3544, "udp", ip=peer, messages=((c, b"x"), (s, b"y"))),
            True,
        ),
        "peer opens SSH to a device": (Flow(None, 22, "tcp", ip=me, source=peer, messages=((c, SSH),)), False),
        "Internet opens 7680 to a device": (Flow(None, 7680, "tcp", ip=me, source=OUTSIDE), False),
        "Internet ICMP echo to a device": (Flow(None, 0, "icmp", ip=me, source=OUTSIDE), False),
        "Internet opens SMB to a device": (Flow(None, 445, "tcp", ip=me, source=OUTSIDE), False),
    }
    verdicts = replay(render, [f for f, _ in flows.values()], me).verdicts
    got = {name: v.allowed for name, v in zip(flows, verdicts, strict=True)}
    assert got == {name: expected for name, (_, expected) in flows.items()}
    for name, verdict in zip(flows, verdicts, strict=True):
        if not verdict.allowed:
            assert verdict.dropped_by.msg.startswith("default deny: flow started outside HOME_NET"), name
            assert verdict.delivered_before_drop == 0 and verdict.delivered_after_drop == 0, name
    # ICMP about a device's allowed TLS flow: errors (unreachable, time exceeded, parameter problem) pass, anything
    # else from outside (echo, timestamp, echo reply) is dropped; the flow itself keeps passing
    rules = engine.ruleset(render)
    server = ADDRESS_ONLY
    hello = client_hello(None)
    segment, kind = engine.tcp_segment(me, server, 20000, 443, 1001, 5001, engine.ACK | engine.PSH, hello, ident=4)
    packets = [
        (engine.tcp_segment(me, server, 20000, 443, 1000, 0, engine.SYN, ident=1), True),
        (engine.tcp_segment(server, me, 443, 20000, 5000, 1001, engine.SYN | engine.ACK, ident=2), False),
        (engine.tcp_segment(me, server, 20000, 443, 1001, 5001, engine.ACK, ident=3), True),
        ((segment, kind), True),
    ]
    icmp = {(3, 4): True, (11, 0): True, (12, 0): True, (8, 0): False, (13, 0): False, (0, 0): False}
    for i, (itype, code) in enumerate(icmp):
        body = struct.pack("!BBHHH", itype, code, 0, i, 1400) + segment[:28]
        body = body[:2] + struct.pack("!H", _checksum(body)) + body[4:]
        packets.append((engine._ip(f"203.0.113.{10 + i}", me, 1, body, 10 + i), False))
    packets.append(
        (engine.tcp_segment(server, me, 443, 20000, 5001, 1001 + len(hello), 0x18, server_hello(), ident=30), False)
    )
    pcap = tmp_path / "icmp.pcap"
    engine.write_pcap(
        pcap, [(1_700_000_000 + i * 0.001, engine._ether(p, t, d)) for i, ((p, t), d) in enumerate(packets)]
    )
    events, _ = engine._engine(engine.require_suricata(), rules, rules.rules, pcap, tmp_path / "run")
    dropped = {e["pcap_cnt"] for e in events if e["event_type"] == "alert" and e["alert"]["action"] == "blocked"}
    assert dropped == {5 + i for i, passes in enumerate(icmp.values()) if not passes}, dropped
    # opted out (dropInbound: false): in DEFAULT_ACTION_ORDER nothing here judges them, and the summary says so
    opened = render_aws(plan, AwsConfig(rule_order=order, drop_inbound=False))
    assert "flow started outside HOME_NET" not in opened.groups[0].rules_text
    assert "inbound-not-judged" in {r["risk"] for r in opened.summary()["residualRisks"]["risks"]}
    if order is RuleOrder.DEFAULT_ACTION_ORDER:
        ssh = replay(opened, [Flow(None, 22, "tcp", ip=me, source=OUTSIDE, messages=((c, SSH),))], me).verdicts[0]
        assert ssh.allowed


# --- the flow set: epfw check --cloud azure -------------------------------------------------------------------------


def check_args(case: FlowCase) -> list[str]:
    flow = case.flow
    port = f":{flow.port}" if flow.proto != "icmp" else ""  # an echo request has no port
    target = f"{flow.host}{port}" if flow.host else f"{flow.ip}{port}"
    args = [target, "--proto", flow.proto]
    if flow.host and flow.ip:
        args += ["--ip", flow.ip]
    if flow.source:
        args += ["--source", flow.source]
    return args


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_the_flow_set_through_epfw_check_on_azure(stack_name, capsys):
    config, _ = shipped(stack_name)
    wrong = []
    for case in flow_set(config.source_ranges):
        capsys.readouterr()
        code = main(["check", "--project", str(ROOT), "--stack", stack_name, "--cloud", "azure", *check_args(case)])
        out = capsys.readouterr().out
        expected = case.expected("azure")
        if code != (3 if expected == "deny" else 0):
            wrong.append(f"{case.name}: expected {expected}, exit {code}: {out.strip()}")
        elif expected == "widened" and case.flow.host and "widened" not in out:
            wrong.append(f"{case.name}: allowed without saying widened: {out.strip()}")
        if case.flow.host and f"the catalogue lists {case.flow.host}" in out and "attacker" in case.flow.host:
            wrong.append(f"{case.name}: calls an unlisted name listed: {out.strip()}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("cloud", ["azure", "aws"])
def test_epfw_check_never_calls_a_name_listed_because_its_address_is(cloud, capsys, request):
    if cloud == "aws":
        request.getfixturevalue("suricata")  # the AWS check runs the engine
    capsys.readouterr()
    args = ["attacker-c2.azurefd.net:443", "--proto", "https", "--ip", FRONT_DOOR]
    code = main(["check", "--project", str(ROOT), "--stack", "prod", "--cloud", cloud, *args])
    out = capsys.readouterr().out
    assert code == 3, out
    assert "the catalogue lists attacker-c2.azurefd.net" not in out
    assert f"the catalogue lists the address {FRONT_DOOR} (13.107.219.0/24, intune-163)" in out
    assert "not the name attacker-c2.azurefd.net" in out
    # the same name at the address-only entry's address passes, and the verdict calls it widened
    code = main(
        [
            "check",
            "--project",
            str(ROOT),
            "--stack",
            "prod",
            "--cloud",
            cloud,
            "attacker.example:443",
            "--ip",
            ADDRESS_ONLY,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "widened: the catalogue does not list this flow" in out, out
    assert "the address rule for 20.189.172.160/27 (entries intune-consolidated-addresses)" in out
    # a flow to ID 163's range without a name is pointed at the names that pass there
    main(["check", "--project", str(ROOT), "--stack", "prod", "--cloud", cloud, f"{INTUNE}:443"])
    out = capsys.readouterr().out
    assert "addressRules names-only leaves 40.82.248.224/28 (intune-163) to its entries' names" in out


# --- what stays open: one page, and the summary agrees --------------------------------------------------------------


def test_the_residual_risks_page_names_every_risk_the_summaries_list():
    page = (ROOT / "docs" / "residual-risks.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", page, flags=re.M)
    azure = next(s for s in sections if s.startswith("Azure"))
    aws = next(s for s in sections if s.startswith("AWS"))
    for stack_name in ("dev", "prod"):
        config, plan = shipped(stack_name)
        variants = [
            config.aws,
            config.aws.model_copy(update={"address_rules": AddressRules.TCP, "drop_inbound": False}),
        ]
        for aws_config in variants:
            for risk in render_aws(plan, aws_config).summary()["residualRisks"]["risks"]:
                assert f"`{risk['risk']}`" in aws, risk["risk"]
        assert config.azure is not None
        for risk in render_azure(plan, config.azure).summary()["residualRisks"]["risks"]:
            assert f"`{risk['risk']}`" in azure, risk["risk"]
    assert "unbounded" in aws and "per connection" in aws
    assert "Route53ResolvedIPValidation" in page and "pulumi-aws" in page
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/residual-risks.md)" in readme


def test_a_summarys_risks_are_its_own_a_change_to_them_leaves_the_next_render_as_it_was():
    config, plan = shipped("dev")
    assert config.aws is not None and config.azure is not None and config.azure.dns is not None
    aws = config.aws.model_copy(update={"drop_inbound": False})
    renders = {
        "aws": lambda: render_aws(plan, aws).summary()["residualRisks"]["risks"],
        "azure": lambda: render_azure(plan, config.azure).summary()["residualRisks"]["risks"],
        "azure dns": lambda: render_azure(plan, config.azure).summary()["dns"]["residualRisks"],
    }
    changed = []
    for name, risks_of in renders.items():
        first, before = risks_of(), json.dumps(risks_of(), sort_keys=True)
        kinds = {r["risk"] for r in first}
        assert kinds & {"name-any-address", "inbound-not-judged", "inside-tls", "cname-chase"}, name
        for risk in first:
            risk.clear()
        first.clear()
        if json.dumps(risks_of(), sort_keys=True) != before:
            changed.append(name)
    assert changed == []


def test_the_tables_say_which_addresses_are_left_to_names(capsys, monkeypatch):
    from endpoint_firewall.cli.tables import left_to_names, print_render
    from endpoint_firewall.program.render import render_stack

    rendered = render_stack("prod", ROOT)
    summary = rendered.summary()
    notes = {cloud: left_to_names(summary, cloud) for cloud in ("azure", "aws")}
    assert all(notes.values())
    assert all("of intune-163 (http:80, https:443) to its names" in n["reason"] for ns in notes.values() for n in ns)
    aws_left = summary["aws"]["addressRules"]["leftToNames"][0]["addresses"]
    assert [n["destination"] for n in notes["aws"]] == aws_left and "13.107.219.0/24" in aws_left
    # printed by kind, one section per cloud, with the count of addresses and their kind's title
    monkeypatch.setenv("COLUMNS", "200")
    print_render(rendered.files())
    flat = " ".join(capsys.readouterr().out.split())
    title = summary["findingKinds"]["address-left-to-names"]
    azure, aws = flat.split("Azure, left to names", 1)[1].split("AWS, left to names", 1)
    assert f"{len(notes['azure'])} {title} address-left-to-names: " in azure
    assert f"{len(aws_left)} {title} address-left-to-names: " in aws
