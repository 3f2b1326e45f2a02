"""Flows against the rendered Azure rules: every seed flow of the demo stack allowed, look-alikes denied."""

from __future__ import annotations

import ipaddress

import pytest
from address_flows import entry_host
from conftest import dev_azure_config as dev_config

from endpoint_firewall.checks.azure import evaluate, fqdn_matches
from endpoint_firewall.checks.flow import Flow
from endpoint_firewall.config.azure_config import AzureConfig
from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.endpoints.models import DestinationKind, EntryKind, Service
from endpoint_firewall.planning.address_rules import AddressRules
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.rules import AreaPlan, Plan, Rule, RuleKind
from endpoint_firewall.planning.selection import Selection
from endpoint_firewall.renderers.azure.render import render_azure

SOURCES = ["10.10.0.0/16"]
PEERS = ["10.10.0.0/16"]


def dev_plan():
    return build_plan(load_catalogue(), Selection(), SOURCES, PEERS)


@pytest.fixture(scope="module")
def dev():
    return render_azure(dev_plan(), dev_config())


@pytest.fixture(scope="module")
def dev_tcp():
    """The demo stack with azure.addressRules tcp: every listed address as a network rule (ID 163's in an IP Group)."""
    return render_azure(dev_plan(), dev_config().model_copy(update={"address_rules": AddressRules.TCP}))


@pytest.fixture(scope="module")
def classic():
    data = dev_config().model_dump(by_alias=True)
    cfg = AzureConfig.model_validate({**data, "target": "classic", "firewallName": "fw-egress"})
    return render_azure(dev_plan(), cfg)


def concrete_addresses(cidr: str) -> list[str]:
    net = ipaddress.ip_network(cidr)
    if net.num_addresses <= 2:
        return [str(a) for a in (net.network_address, net.broadcast_address)]
    return [str(net.network_address + 1), str(net.broadcast_address - 1)]


def seed_flows(render) -> list[tuple[str, str, Flow]]:
    """(entry, destination, flow) for every destination x service x port of every selected entry; a flow to an
    address on http, https or tls carries one of its entry's names (``address_flows.entry_host``), as the
    catalogue means it (ID 163's ranges serve Intune's names)."""
    plan = dev_plan()
    excluded = {(n.entry, n.destination) for n in render.not_expressible + render.skipped}
    flows = []
    for entry in load_catalogue().entries:
        if entry.id not in plan.selected_entries or entry.kind is EntryKind.REFERENCE:
            continue
        targets: list[tuple[str, str | None, str | None]]  # (destination, host name, address)
        if entry.kind is EntryKind.PEER_TO_PEER:
            targets = [(peer, None, ip) for peer in PEERS for ip in concrete_addresses(peer)]
        else:
            targets = []
            for dest in entry.destinations:
                if (entry.id, dest.value) in excluded or dest.kind is DestinationKind.ANY:
                    continue
                if dest.kind is DestinationKind.NETWORK:
                    targets += [(dest.value, None, ip) for ip in concrete_addresses(dest.value)]
                elif dest.kind is DestinationKind.WILDCARD:
                    base = dest.value[2:]
                    targets += [(dest.value, f"probe.{base}", None), (dest.value, f"a.b.{base}", None)]
                else:
                    targets += [(dest.value, host, None) for host in dest.hosts()]
        for value, host, ip in targets:
            for service in entry.services:
                name = host if ip is None or entry.kind is EntryKind.PEER_TO_PEER else entry_host(entry, service)
                for port in range(service.port.first, service.port.last + 1):
                    flows.append((entry.id, value, Flow(host=name, port=port, proto=service.protocol.value, ip=ip)))
    return flows


def test_every_seed_flow_of_the_demo_stack_is_allowed(dev):
    flows = seed_flows(dev)
    assert len(flows) > 500
    denied = [(e, str(f), str(evaluate(dev, f))) for e, _, f in flows if not evaluate(dev, f).allowed]
    assert denied == []


def test_every_seed_flow_is_allowed_by_the_classic_rendering_too(classic):
    flows = seed_flows(classic)
    denied = [(e, str(f)) for e, _, f in flows if not evaluate(classic, f).allowed]
    assert denied == []
    verdict = evaluate(classic, Flow("portal.manage.microsoft.com", 443, "https"))
    assert verdict.rule == "fw-egress/epfw-dev-intune-core-app/intune-core-fqdn-http80-https443"


def test_verdicts_name_group_collection_and_rule(dev, dev_tcp):
    assert (
        evaluate(dev, Flow("portal.manage.microsoft.com", 443, "https")).rule
        == "epfw-dev-intune-core/application/intune-core-fqdn-http80-https443"
    )
    assert (
        evaluate(dev, Flow("mtalk.google.com", 5229, "tls")).rule
        == "epfw-dev-android/application/android-fqdn-tls443-tls5228-5230"
    )
    assert (
        evaluate(dev_tcp, Flow(None, 443, "tcp", ip="40.82.248.239")).rule
        == "epfw-dev-intune-core/network/intune-core-ip-tcp80-tcp443"
    )  # via the IP Group's contents
    assert not evaluate(dev, Flow(None, 443, "tcp", ip="40.82.248.239")).allowed  # names-only: left to the names
    assert (
        evaluate(dev, Flow(None, 7680, "tcp", ip="10.10.3.4")).rule
        == "epfw-dev-delivery-optimization/network/delivery-optimization-p2p-tcp7680"
    )


def test_network_rules_are_processed_before_application_rules(dev, dev_tcp):
    # Listed both by name (application rule) and by address (network rule): the network rule decides.
    flow = Flow("portal.manage.microsoft.com", 443, "https", ip="40.82.248.230")
    verdict = evaluate(dev_tcp, flow)
    assert verdict.allowed and verdict.rule == "epfw-dev-intune-core/network/intune-core-ip-tcp80-tcp443"
    # so with addressRules tcp any name and protocol reach the address first; names-only leaves it to the name
    assert evaluate(dev_tcp, Flow("attacker-c2.azurefd.net", 443, "https", ip="13.107.219.10")).allowed
    verdict = evaluate(dev, flow)
    assert verdict.allowed and verdict.rule == "epfw-dev-intune-core/application/intune-core-fqdn-http80-https443"
    assert not evaluate(dev, Flow("attacker-c2.azurefd.net", 443, "https", ip="13.107.219.10")).allowed


@pytest.mark.parametrize(
    "flow",
    [
        Flow("manage.microsoft.com.evil.example", 443, "https"),
        Flow("evilmanage.microsoft.com", 443, "https"),
        Flow("unlisted.example.com", 443, "https"),
        Flow("portal.manage.microsoft.com", 8443, "https"),
        Flow(None, 443, "tcp", ip="40.82.248.240"),  # just past 40.82.248.224/28
        Flow(None, 443, "https", ip="40.82.248.240"),
        Flow("mzstatic.com", 443, "https"),  # apex of *.mzstatic.com, not listed
        Flow("a.mzstatic.com", 80, "http"),  # *.mzstatic.com is https only
        Flow("q7x2storage.blob.core.windows.net", 443, "https"),  # ID 182 lists single accounts, never a wildcard
        Flow("amsua0103lmsas.blob.core.windows.net", 443, "https"),  # an unlisted scale-unit account
        Flow("evildm.microsoft.com", 443, "https"),  # glued to *.dm.microsoft.com's base
        Flow("imeswda-afd-primary.manage.microsoft.com.evil.example", 443, "https"),
        Flow("intunemaape99.eus.attest.azure.net", 443, "https"),  # an unlisted attestation instance
        Flow("gcc.remotehelp.microsoft.com", 443, "https"),  # us-gov: the demo stack does not name it
        Flow(None, 443, "tcp", ip="13.107.226.10"),  # just below Azure Front Door's 13.107.227.0/24
        Flow("x.wns.windows.com", 80, "http"),  # WNS is https only
        Flow("wns.windows.com", 443, "https"),
        Flow("1-courier.push.apple.com", 5228, "tls"),  # APNs on an FCM port
        Flow("51-courier.push.apple.com", 5223, "tls"),  # past the numbered range 0..50
        Flow(None, 443, "udp", ip="40.82.248.230"),  # listed for TCP only
        Flow(None, 7680, "tcp", ip="10.11.0.1"),  # outside the peer range
        Flow("portal.manage.microsoft.com", 443, "https", source="192.168.1.1"),  # not a managed device
        Flow("mtalk.google.com", 5228, "tcp"),  # plain TCP carries no name: no application rule
        Flow(None, 443, "https"),  # neither host nor address
        # ID 163's ranges (Azure Front Door, Intune) carry Intune's names, nothing else (addressRules names-only)
        Flow("attacker-c2.azurefd.net", 443, "https", ip="13.107.219.10"),
        Flow("attacker.example", 80, "http", ip="150.171.97.20"),
        Flow(None, 443, "tcp", ip="13.107.219.10"),  # SSH or any bytes
        Flow(None, 443, "https", ip="40.82.248.230"),  # a ClientHello without SNI
        Flow(None, 22, "tcp", ip="10.10.0.5", source="198.51.100.9"),  # started outside, towards a device
    ],
    ids=str,
)
def test_look_alikes_and_unlisted_flows_are_denied(dev, flow):
    verdict = evaluate(dev, flow)
    assert not verdict.allowed and verdict.rule is None, str(verdict)


def test_the_allowed_neighbours_of_the_denied_flows_are_allowed(dev):
    for flow in (
        Flow("portal.manage.microsoft.com", 443, "https", source="10.10.1.1"),
        Flow("manage.microsoft.com", 443, "https", ip="40.82.248.224"),  # an Intune name to an Intune range
        Flow("manage.microsoft.com", 443, "https"),
        Flow("a.mzstatic.com", 443, "https"),
        Flow("amsua0101lmsas.blob.core.windows.net", 443, "https"),
        Flow("portal.manage.microsoft.com", 443, "https", ip="13.107.227.10"),  # and to a Front Door range
        Flow("x.wns.windows.com", 443, "https"),
        Flow("50-courier.push.apple.com", 5223, "tls"),
    ):
        assert evaluate(dev, flow).allowed, str(flow)


def _plan(*areas):
    return Plan(
        areas=tuple(AreaPlan(a, a, p, tuple(rs)) for a, p, rs in areas),
        source_ranges=tuple(SOURCES),
        skipped=(),
        selected_entries=(),
        digest="x",
    )


def _rule(area, kind, service, destinations):
    s = Service(protocol=service.split(":")[0], port=service.split(":")[1])
    return Rule(
        name=f"{area}-{kind.value}-{s.protocol.value}{s.port}",
        area=area,
        kind=kind,
        services=(s,),
        destinations=tuple(destinations),
        origins=tuple((d, ("e",)) for d in destinations),
    )


def test_group_priority_orders_network_rules_and_fqdn_network_rules_match_by_name():
    cfg = AzureConfig(resource_group_name="rg", policy_name="pol", name_prefix="t", dns_proxy=True)
    r = render_azure(
        _plan(
            ("late", 2000, [_rule("late", RuleKind.ADDRESS, "tcp:5228", ["20.0.0.0/24"])]),
            (
                "early",
                1000,
                [
                    _rule("early", RuleKind.HOST_NETWORK, "tcp:5228", ["mtalk.google.com"]),
                    _rule("early", RuleKind.ADDRESS, "tcp:5228", ["20.0.0.0/16"]),
                ],
            ),
            ("apps", 500, [_rule("apps", RuleKind.HOSTNAME, "tls:5228", ["mtalk.google.com"])]),
        ),
        cfg,
    )
    assert evaluate(r, Flow(None, 5228, "tcp", ip="20.0.0.9")).rule == "t-early/network/early-ip-tcp5228"
    # network before application, whatever the group priorities
    assert evaluate(r, Flow("mtalk.google.com", 5228, "tls")).rule == "t-early/network/early-dnsfqdn-tcp5228"
    assert evaluate(r, Flow("mtalk.google.com", 5228, "tcp")).rule == "t-early/network/early-dnsfqdn-tcp5228"
    assert not evaluate(r, Flow("alt1.mtalk.google.com", 5228, "tcp")).allowed
    assert not evaluate(r, Flow("mtalk.google.com", 5229, "tcp")).allowed


@pytest.mark.parametrize(
    "target, host, match",
    [
        ("*.x.com", "a.x.com", True),
        ("*.x.com", "a.b.x.com", True),
        ("*.x.com", "x.com", False),
        ("*.x.com", "evilx.com", False),
        ("*x.com", "evilx.com", True),
        ("x.com", "X.COM", True),
        ("x.com", "a.x.com", False),
        ("*", "anything.example", True),
    ],
)
def test_target_fqdn_matching(target, host, match):
    assert fqdn_matches(target, host) is match
