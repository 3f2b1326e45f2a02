"""IPv6 on Azure Firewall: IPv4-only by default; ``azure.ipv6: preview`` renders IPv6 destinations into network
rules within Microsoft's dual-stack restrictions (learn.microsoft.com/azure/firewall/deploy-dual-stack-firewall,
ms.date 2026-07-16): "Classic Azure Firewall isn't supported.", "Application and DNAT rules aren't supported yet.",
"Threat intelligence, IDPS, Explicit Proxy, and IP Groups based scenarios aren't supported.", while "Azure Firewall
fully supports IPv6 traffic in network rules."

The catalogue is a small one written here, with the Azure Front Door ranges Microsoft's current Intune page lists
for endpoint set 163 (TCP 80, 443): 13.107.219.0/24, 13.107.227.0/24, 13.107.228.0/23, 150.171.97.0/24,
2620:1ec:40::/48, 2620:1ec:49::/48, 2620:1ec:4a::/47.
"""

from __future__ import annotations

import ipaddress

import pytest
from test_azure_render import assert_valid, config, microsoft_pairs, rules_of
from test_azure_sku import refused

from endpoint_firewall.checks.azure import evaluate
from endpoint_firewall.checks.flow import Flow
from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.selection import Selection
from endpoint_firewall.renderers.azure.render import render_azure

AFD_V4 = ["13.107.219.0/24", "13.107.227.0/24", "13.107.228.0/23", "150.171.97.0/24"]
AFD_V6 = ["2620:1ec:40::/48", "2620:1ec:49::/48", "2620:1ec:4a::/47"]
CATALOGUE = """schema_version: 1
sources:
  - {id: intune, title: Network endpoints for Microsoft Intune,
     url: "https://learn.microsoft.com/intune/fundamentals/endpoints", date: 2026-08-21}
service_areas: [{id: intune-core, title: Intune core, priority: 1000}]
entries:
  - id: intune-core-afd
    service_area: intune-core
    description: Azure Front Door endpoints of Intune (endpoint set 163)
    destinations: [%s]
    services: [{protocol: tcp, port: 80}, {protocol: tcp, port: 443}]
    provenance: {source: intune, section: intune-core-service}
""" % ", ".join(f'"{d}"' for d in AFD_V4 + AFD_V6)  # noqa: UP031 (the YAML's braces would need escaping)
SOURCES = ["10.10.0.0/16", "fd00:10::/48"]


@pytest.fixture
def afd_plan(tmp_path):
    path = tmp_path / "afd.yaml"
    path.write_text(CATALOGUE)
    return build_plan(load_catalogue([path]), Selection(), SOURCES)


def test_ipv4_only_by_default_with_todays_reason(afd_plan):
    r = render_azure(afd_plan, config())
    assert sorted(f.destination for f in r.not_expressible) == sorted(AFD_V6)
    reason = r.not_expressible[0].reason
    assert "dual stack mode, in preview" in reason and "deploy-dual-stack-firewall" in reason
    assert "azure.ipv6: preview" in reason
    [net] = rules_of(r.groups[0], "network").values()
    assert net["destinationAddresses"] == AFD_V4 and net["sourceAddresses"] == ["10.10.0.0/16"]
    assert any("IPv6 source ranges left out (azure.ipv6 is not set" in w for w in r.warnings)


def test_ipv6_preview_renders_the_ipv6_ranges_into_their_own_network_rule(afd_plan):
    r = render_azure(afd_plan, config(ipv6="preview"))
    assert r.not_expressible == ()
    net = rules_of(r.groups[0], "network")
    assert set(net) == {"intune-core-ip-tcp80-tcp443", "intune-core-ip-tcp80-tcp443-v6"}
    v6 = net["intune-core-ip-tcp80-tcp443-v6"]
    assert v6 == {
        "ruleType": "NetworkRule",
        "name": "intune-core-ip-tcp80-tcp443-v6",
        "ipProtocols": ["TCP"],
        "sourceAddresses": ["fd00:10::/48"],
        "destinationAddresses": AFD_V6,
        "destinationPorts": ["80", "443"],
    }
    assert net["intune-core-ip-tcp80-tcp443"]["sourceAddresses"] == ["10.10.0.0/16"]
    assert r.network_pairs == microsoft_pairs(r) == 1 * 4 + 1 * 3
    assert any("dual stack mode" in w for w in r.warnings)
    assert_valid(r)
    allowed = evaluate(r, Flow(host=None, port=443, proto="tcp", ip="2620:1ec:4b::1", source="fd00:10::5"))
    assert allowed.allowed and allowed.rule.endswith("intune-core-ip-tcp80-tcp443-v6")
    outside = evaluate(r, Flow(host=None, port=443, proto="tcp", ip="2620:1ec:4c::1", source="fd00:10::5"))
    assert not outside.allowed  # just past 2620:1ec:4a::/47
    assert not evaluate(
        render_azure(afd_plan, config()),
        Flow(host=None, port=443, proto="tcp", ip="2620:1ec:4b::1", source="fd00:10::5"),
    ).allowed


def test_ipv6_sets_never_go_into_ip_groups(afd_plan):
    r = render_azure(afd_plan, config(ipv6="preview", ip_group_threshold=1))
    assert r.ip_groups and all(ipaddress.ip_network(a).version == 4 for g in r.ip_groups for a in g.addresses)
    v6 = rules_of(r.groups[0], "network")["intune-core-ip-tcp80-tcp443-v6"]
    assert v6["destinationAddresses"] == AFD_V6 and "destinationIpGroups" not in v6
    assert "sourceIpGroups" not in v6


def test_ipv6_preview_without_ipv6_sources_says_why_nothing_is_rendered(tmp_path):
    path = tmp_path / "afd.yaml"
    path.write_text(CATALOGUE)
    p = build_plan(load_catalogue([path]), Selection(), ["10.10.0.0/16"])
    r = render_azure(p, config(ipv6="preview"))
    assert sorted(f.destination for f in r.not_expressible) == sorted(AFD_V6)
    assert "sourceRanges names no IPv6 range" in r.not_expressible[0].reason


def test_ipv6_preview_is_refused_for_the_classic_target():
    message = refused({"target": "classic", "firewallName": "fw", "policyName": None, "ipv6": "preview"})
    assert "ipv6: preview is refused for target classic" in message
    assert "Classic Azure Firewall isn't supported" in message


def test_the_classic_target_names_its_own_ipv6_reason(afd_plan):
    r = render_azure(afd_plan, config(target="classic", firewall_name="fw", policy_name=None))
    assert sorted(f.destination for f in r.not_expressible) == sorted(AFD_V6)
    assert all("Classic Azure Firewall isn't supported" in f.reason for f in r.not_expressible)


def test_unknown_ipv6_values_are_refused_naming_the_key():
    assert refused({"ipv6": "on"}).startswith("endpoint-firewall:azure.ipv6: ")
