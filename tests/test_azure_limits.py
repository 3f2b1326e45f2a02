"""Azure Firewall limits as Microsoft counts them: network-rule pairs, policies by age, firewall names, IP Group
locations and the group-size margin, each with the config key that sets it."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from test_azure_render import addresses, config, hosts, microsoft_pairs, plan, rule
from test_azure_sku import refused

from endpoint_firewall.config.stack_config import AzureConfig, load_stack_file
from endpoint_firewall.planning.address_rules import AddressRules
from endpoint_firewall.planning.rules import RuleKind
from endpoint_firewall.renderers.azure import RenderError, render_azure
from endpoint_firewall.renderers.azure_model import json_size


def test_network_pairs_follow_microsofts_formula_per_rule_summed():
    """learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-firewall-
    limits: "20,000 unique source/destinations in network rules. Unique source/destinations in network = sum of
    (unique source addresses * unique destination addresses for each rule). An IP group counts as one address,
    regardless of how many IP addresses it contains." The page gives the formula, not a worked number; this is it
    worked on a small policy: two sources; rule 1 has 3 addresses (2 x 3 = 6), rule 2 the same 3 addresses on
    another port (6 again: summed per rule, not deduplicated across rules), rule 3 120 addresses in one IP Group
    (2 x 1 = 2). Total 14; counting unique pairs over the whole policy would say 2 x (3 + 1) = 8."""
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
    r = render_azure(p, config(ip_group_threshold=50))
    assert len(r.ip_groups) == 1 and len(r.ip_groups[0].addresses) == 120
    assert r.network_pairs == 2 * 3 + 2 * 3 + 2 * 1 == 14
    assert microsoft_pairs(r) == 14
    assert r.summary()["limits"]["networkPairs"] == {"used": 14, "max": 20_000, "share": 0.0007}


def test_the_pair_limit_uses_the_same_count():
    three = ["20.0.0.1/32", "20.0.0.2/32", "20.0.0.3/32"]
    p = plan(
        ("a", 1000, [rule("a", RuleKind.ADDRESS, [f"tcp:{port}"], three) for port in (443, 8443)]),
        sources=["10.1.0.0/16", "10.2.0.0/16"],
    )
    assert render_azure(p, config(limits={"network_pairs_max": 12})).ip_groups == ()
    tight = render_azure(p, config(limits={"network_pairs_max": 11}))  # 12 > 11: a set moves into an IP Group
    assert tight.ip_groups and tight.network_pairs == microsoft_pairs(tight) <= 11


def test_limits_profile_pre_2022_07_and_explicit_limits_win():
    base = {"resourceGroupName": "rg", "policyName": "pol"}
    old = AzureConfig.model_validate({**base, "limitsProfile": "pre-2022-07"})
    assert (old.limits.group_max_bytes, old.limits.groups_per_policy_max) == (1_000_000, 50)
    assert old.limits.network_pairs_max == 20_000  # what the profile does not name keeps its default
    mixed = AzureConfig.model_validate({**base, "limitsProfile": "pre-2022-07", "limits": {"groupsPerPolicyMax": 40}})
    assert (mixed.limits.group_max_bytes, mixed.limits.groups_per_policy_max) == (1_000_000, 40)
    current = AzureConfig.model_validate(base)
    assert (current.limits.group_max_bytes, current.limits.groups_per_policy_max) == (2_000_000, 60)
    areas = [
        (f"area{i}", 1000 + 100 * i, [rule(f"area{i}", RuleKind.HOSTNAME, ["https:443"], ["a.example.com"])])
        for i in range(51)
    ]
    assert len(render_azure(plan(*areas), config()).groups) == 51
    with pytest.raises(RenderError, match=r"51 rule collection groups needed, more than groupsPerPolicyMax \(50\)"):
        render_azure(plan(*areas), config(limits_profile="pre-2022-07"))
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
        "max": 60,
        "share": round(len(margin.groups) / 60, 4),
    }
    json.dumps(margin.summary())  # the summary stays JSON
    assert AzureConfig(resource_group_name="rg", policy_name="p").limits.group_size_margin == 0.05
