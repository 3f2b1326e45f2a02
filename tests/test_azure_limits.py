"""Azure Firewall limits as Microsoft counts them: network-rule pairs, policies by age, firewall names, IP Group
locations and the group-size margin, each with the config key that sets it."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from test_azure_render import addresses, config, hosts, microsoft_pairs, plan, rule
from test_azure_sku import refused

from endpoint_firewall.config.azure_config import AzureConfig
from endpoint_firewall.config.stack_config import load_stack_file
from endpoint_firewall.planning.address_rules import AddressRules
from endpoint_firewall.planning.rules import RuleKind
from endpoint_firewall.renderers.azure.model import RenderError, json_size
from endpoint_firewall.renderers.azure.render import render_azure


def test_network_pairs_follow_microsofts_formula_per_rule_summed():
    """Summed per rule, an IP Group counting as one. Limits page of ms.date 10/14/2026: "(number of IP protocols) x
    (number of source IP addresses) x (number of destination IP addresses) x (number of destination ports / 14,
    rounded up)"; the 2023 page: "sum of (unique source addresses * unique destination addresses for each rule). An
    IP group counts as one address". With one protocol and one port per rule both say the same; worked by hand: two
    sources; rule 1 has 3 addresses (2 x 3 = 6), rule 2 the same 3 addresses on another port (6 again: summed per
    rule, not deduplicated across rules), rule 3 120 addresses in one IP Group (2 x 1 = 2). Total 14; counting unique
    pairs over the whole policy would say 2 x (3 + 1) = 8."""
    three = ["20.0.0.1/32", "20.0.0.2/32", "20.0.0.3/32"]
    p = plan(
        (
            "a",
            1000,
            [
                rule("a", RuleKind.ADDRESS, ["tcp:443"], three),
                rule("a", RuleKind.ADDRESS, ["tcp:8443"], three),
                rule("a", RuleKind.ADDRESS, ["tcp:444"], addresses(120, "30.0.0.0")),
            ],
        ),
        sources=["10.1.0.0/16", "10.2.0.0/16"],
    )
    for profile in ("current", "2023"):
        r = render_azure(p, config(ip_group_threshold=50, limits_profile=profile))
        assert len(r.ip_groups) == 1 and len(r.ip_groups[0].addresses) == 120
        assert r.network_pairs == 2 * 3 + 2 * 3 + 2 * 1 == 14
        assert microsoft_pairs(r) == microsoft_pairs(r, "2023") == 14
        assert {k: r.summary()["limits"]["networkPairs"][k] for k in ("used", "max", "share")} == {
            "used": 14,
            "max": 20_000,
            "share": 0.0007,
        }


TWO_PROTOCOLS_15_PORTS = [f"{t}:{port}" for t in ("tcp", "udp") for port in range(5000, 5015)]
TWO_SOURCES = ["10.1.0.0/16", "10.2.0.0/16"]
THREE = ["20.0.0.1/32", "20.0.0.2/32", "20.0.0.3/32"]


def _combined(services, destinations=THREE, name="a-tcp-udp") -> object:
    return plan(("a", 1000, [rule("a", RuleKind.ADDRESS, services, destinations, name=name)]), sources=TWO_SOURCES)


def test_a_rule_on_tcp_and_udp_with_15_ports_counts_each_protocol_and_each_14_ports():
    """Where the two pages' formulas differ. One network rule, TCP and UDP on the same 15 ports, from 2 sources to 3
    addresses. Limits page of ms.date 10/14/2026: 2 protocols x 2 sources x 3 destinations x ceil(15 / 14) = 2 x 2 x 3
    x 2 = 24. The page of 2023 (profile 2023): 2 sources x 3 destinations = 6."""
    p = _combined(TWO_PROTOCOLS_15_PORTS)
    now = render_azure(p, config())
    [net] = [r for g in now.groups for r in g.rules if r["ruleType"] == "NetworkRule"]
    assert net["ipProtocols"] == ["TCP", "UDP"] and len(net["destinationPorts"]) == 15  # one rule, as assumed
    assert now.network_pairs == microsoft_pairs(now) == 24
    assert now.summary()["limits"]["networkPairs"] == {
        "used": 24,
        "max": 20_000,
        "share": 0.0012,
        "formula": "2026-10",
        "counted": "per network rule: IP protocols x source addresses x destination addresses x ceil(destination "
        "ports / 14), summed; an IP Group or an FQDN counts as one address (the IP Group as the Architecture "
        "Center's hub-spoke Virtual WAN article says; the limits page does not)",
    }
    old = render_azure(p, config(limits_profile="2023"))
    assert old.groups[0].body == now.groups[0].body  # the same rules, counted otherwise
    assert old.network_pairs == microsoft_pairs(old, "2023") == 6
    assert old.summary()["limits"]["networkPairs"]["formula"] == "2023"
    # 14 ports fill one unit: 2 x 2 x 3 x 1 = 12; one protocol with 15 ports: 1 x 2 x 3 x 2 = 12
    fourteen = [f"{t}:{port}" for t in ("tcp", "udp") for port in range(5000, 5014)]
    assert render_azure(_combined(fourteen), config()).network_pairs == 12
    assert render_azure(_combined([f"tcp:{port}" for port in range(5000, 5015)]), config()).network_pairs == 12


def test_a_port_range_counts_every_port_it_holds():
    """The page does not say how a range counts; counting each port is never below Microsoft's count: tcp and udp
    5000-5014 (15 ports) count as the 15 single ports do, 24; 5000-5013 (14 ports) as 12. The per-unit size is
    configurable (networkPairsPortsPerUnit)."""
    assert render_azure(_combined(["tcp:5000-5014", "udp:5000-5014"]), config()).network_pairs == 24
    assert render_azure(_combined(["tcp:5000-5013", "udp:5000-5013"]), config()).network_pairs == 12
    unit_5 = config(limits={"network_pairs_ports_per_unit": 5})
    assert render_azure(_combined(TWO_PROTOCOLS_15_PORTS), unit_5).network_pairs == 2 * 2 * 3 * 3


def test_the_new_count_decides_when_address_sets_move_into_ip_groups():
    """24 combinations today, 6 by the 2023 count: with networkPairsMax 20 only today's count needs an IP Group
    (the 3 addresses in one group: 2 x 2 x 1 x 2 = 8)."""
    p = _combined(TWO_PROTOCOLS_15_PORTS)
    tight = render_azure(p, config(limits={"network_pairs_max": 20}))
    assert [g.serves for g in tight.ip_groups] == ["a-tcp-udp"] and tight.network_pairs == microsoft_pairs(tight) == 8
    assert render_azure(p, config(limits_profile="2023", limits={"network_pairs_max": 20})).ip_groups == ()
    with pytest.raises(
        RenderError, match=r"need 4 unique source-destination combinations \(networkPairsFormula 2026-10\)"
    ):
        render_azure(p, config(limits={"network_pairs_max": 3}))


def test_the_pair_limit_uses_the_same_count():
    three = ["20.0.0.1/32", "20.0.0.2/32", "20.0.0.3/32"]
    p = plan(
        ("a", 1000, [rule("a", RuleKind.ADDRESS, [f"tcp:{port}"], three) for port in (443, 8443)]),
        sources=["10.1.0.0/16", "10.2.0.0/16"],
    )
    assert render_azure(p, config(limits={"network_pairs_max": 12})).ip_groups == ()
    tight = render_azure(p, config(limits={"network_pairs_max": 11}))  # 12 > 11: a set moves into an IP Group
    assert tight.ip_groups and tight.network_pairs == microsoft_pairs(tight) <= 11


def test_limits_profiles_follow_the_page_version_and_the_policy_age_and_explicit_limits_win():
    """current = 2026-10 (ms.date 10/14/2026: 2 MB and 90 groups for a policy created after July 2022); pre-2022-07
    (the same page: 1 MB and 50 groups before July 2022); 2023 (ms.date 10/10/2023: 60 groups, sources x
    destinations)."""
    base = {"resourceGroupName": "rg", "policyName": "pol"}

    def limits(**kw):
        got = AzureConfig.model_validate({**base, **kw}).limits
        return got.group_max_bytes, got.groups_per_policy_max, got.network_pairs_formula, got.network_pairs_max

    assert (
        limits()
        == limits(limitsProfile="current")
        == limits(limitsProfile="2026-10")
        == (2_000_000, 90, "2026-10", 20_000)
    )
    assert limits(limitsProfile="pre-2022-07") == (1_000_000, 50, "2026-10", 20_000)
    assert limits(limitsProfile="2023") == (2_000_000, 60, "2023", 20_000)
    assert limits(limitsProfile="pre-2022-07", limits={"groupsPerPolicyMax": 40}) == (1_000_000, 40, "2026-10", 20_000)
    assert limits(limitsProfile="2023", limits={"networkPairsFormula": "2026-10"})[1:3] == (60, "2026-10")
    areas = [
        (f"area{i}", 1000 + 100 * i, [rule(f"area{i}", RuleKind.HOSTNAME, ["https:443"], ["a.example.com"])])
        for i in range(91)
    ]
    assert len(render_azure(plan(*areas[:90]), config()).groups) == 90
    with pytest.raises(RenderError, match=r"91 rule collection groups needed, more than groupsPerPolicyMax \(90\)"):
        render_azure(plan(*areas), config())
    assert len(render_azure(plan(*areas[:60]), config(limits_profile="2023")).groups) == 60
    with pytest.raises(RenderError, match=r"61 rule collection groups needed, more than groupsPerPolicyMax \(60\)"):
        render_azure(plan(*areas[:61]), config(limits_profile="2023"))
    with pytest.raises(RenderError, match=r"51 rule collection groups needed, more than groupsPerPolicyMax \(50\)"):
        render_azure(plan(*areas[:51]), config(limits_profile="pre-2022-07"))
    assert (
        render_azure(plan(*areas[:2]), config(limits_profile="pre-2022-07")).summary()["limits"]["profile"]
        == "pre-2022-07"
    )


def test_an_unknown_limits_profile_is_refused_naming_the_key():
    assert refused({"limitsProfile": "2021"}).startswith("endpoint-firewall:azure.limitsProfile: ")


def test_firewall_names_are_at_most_50_characters():
    AzureConfig(resource_group_name="rg", target="classic", firewall_name="f" * 50)
    message = refused({"target": "classic", "policyName": None, "firewallName": "f" * 51})
    assert "firewallName" in message and "51 characters" in message and "at most 50" in message


def test_ip_groups_get_the_configured_location_and_an_existing_policy_must_name_it():
    p = plan(("a", 1000, [rule("a", RuleKind.ADDRESS, ["tcp:443"], addresses(60))]))
    r = render_azure(p, config(location="northeurope"))
    [ipg] = r.ip_groups
    assert ipg.body["location"] == "northeurope"
    created = render_azure(p, config(location=None, create_policy={"location": "westeurope"}))
    assert created.ip_groups[0].body["location"] == "westeurope"
    with pytest.raises(RenderError, match="set azure.location"):
        render_azure(p, config(location=None))
    small = plan(("a", 1000, [rule("a", RuleKind.ADDRESS, ["tcp:443"], addresses(3))]))
    assert render_azure(small, config(location=None)).ip_groups == ()  # no IP Group: no location needed


def test_the_shipped_stacks_give_their_ip_groups_a_location():
    """As shipped (azure.addressRules names-only) the stacks render no IP Group: ID 163's addresses are left to its
    names. With addressRules tcp they are IP Groups, at the stack's location."""
    from endpoint_firewall.program.render import render_config

    for stack, location in (("dev", "westeurope"), ("prod", "eastus")):
        config = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
        assert config.azure is not None
        tcp = config.model_copy(update={"azure": config.azure.model_copy(update={"address_rules": AddressRules.TCP})})
        r = render_config(stack, tcp, ROOT).azure
        assert r is not None and r.ip_groups and {g.body["location"] for g in r.ip_groups} == {location}
        assert load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml").azure.ip_group_location == location


def test_groups_keep_the_size_margin_and_the_summary_says_how_it_is_measured():
    rules = [rule("big", RuleKind.HOSTNAME, [f"https:{443 + i}"], hosts(40, f"s{i}.example.com")) for i in range(6)]
    no_margin = render_azure(
        plan(("big", 2000, rules)), config(limits={"group_max_bytes": 10_000, "group_size_margin": 0})
    )
    margin = render_azure(
        plan(("big", 2000, rules)), config(limits={"group_max_bytes": 10_000, "group_size_margin": 0.4})
    )
    assert max(json_size(g.body) for g in no_margin.groups) > 6_000
    assert all(json_size(g.body) <= 6_000 for g in margin.groups) and len(margin.groups) > len(no_margin.groups)
    used = margin.summary()["limits"]["groupBytes"]
    assert used["max"] == 6_000 and used["groupMaxBytes"] == 10_000 and used["groupSizeMargin"] == 0.4
    assert used["used"] == max(json_size(g.body) for g in margin.groups)
    assert "no exact measure" in used["measure"]
    assert margin.summary()["limits"]["groups"] == {
        "used": len(margin.groups),
        "max": 90,
        "share": round(len(margin.groups) / 90, 4),
    }
    json.dumps(margin.summary())  # the summary stays JSON
    assert AzureConfig(resource_group_name="rg", policy_name="p").limits.group_size_margin == 0.05
