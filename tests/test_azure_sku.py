"""Azure Firewall tiers: what Basic, Standard and Premium can take, and the combinations refused with the key named.

Microsoft's words, quoted in ``config/azure_sku.py``: Basic has "DNS proxy: Not available" and "Network FQDN
filtering: Not supported (application FQDN filtering only)"; Basic and Premium firewalls are managed by a policy of
their tier; dual stack does not support classic firewalls.
"""

from __future__ import annotations

import pytest
from test_azure_render import assert_valid, config, plan, rule, rules_of

from endpoint_firewall.config.azure_config import AzureConfig
from endpoint_firewall.config.stack_config import ConfigError, parse
from endpoint_firewall.planning.rules import RuleKind
from endpoint_firewall.renderers.azure.model import RenderError
from endpoint_firewall.renderers.azure.render import render_azure


def refused(azure: dict) -> str:
    """The one problem the stack config reports for ``azure``, as ``key: message``."""
    with pytest.raises(ConfigError) as err:
        parse(
            {"sourceRanges": ["10.0.0.0/16"], "azure": {"resourceGroupName": "rg", "policyName": "pol", **azure}},
            "stack.yaml",
        )
    [problem] = err.value.problems
    return f"{problem.field}: {problem.message}"


def test_the_tier_defaults_to_standard_and_follows_create_policy():
    assert AzureConfig(resource_group_name="rg", policy_name="pol").tier == "Standard"
    assert AzureConfig(resource_group_name="rg", policy_name="pol", sku_tier="Premium").tier == "Premium"
    created = AzureConfig(
        resource_group_name="rg", policy_name="pol", create_policy={"location": "westeurope", "skuTier": "Basic"}
    )
    assert created.tier == "Basic"
    both = AzureConfig(
        resource_group_name="rg", policy_name="pol", sku_tier="Premium", create_policy={"location": "westeurope"}
    )  # createPolicy.skuTier unset: it takes skuTier
    assert both.tier == "Premium"


def test_sku_tier_and_create_policy_sku_tier_must_agree():
    message = refused({"skuTier": "Basic", "createPolicy": {"location": "westeurope", "skuTier": "Standard"}})
    assert message.startswith("endpoint-firewall:azure: ")
    assert "skuTier (Basic) and createPolicy.skuTier (Standard) disagree" in message


@pytest.mark.parametrize(
    "azure",
    [
        {"skuTier": "Basic", "dnsProxy": True},
        {"createPolicy": {"location": "westeurope", "skuTier": "Basic"}, "dnsProxy": True},
    ],
)
def test_dns_proxy_on_basic_is_refused_naming_the_key(azure):
    message = refused(azure)
    assert "dnsProxy: true is refused with skuTier Basic" in message
    assert "DNS proxy: Not available" in message


@pytest.mark.parametrize("tier", ["Basic", "Premium"])
def test_classic_rules_only_on_standard(tier):
    message = refused({"target": "classic", "firewallName": "fw", "policyName": None, "skuTier": tier})
    assert f"target classic is refused with skuTier {tier}" in message
    AzureConfig(resource_group_name="rg", target="classic", firewall_name="fw", sku_tier="Standard")


def test_a_classic_firewall_declares_the_same_tier():
    message = refused(
        {
            "target": "classic",
            "firewallName": "fw",
            "policyName": None,
            "firewallArgs": {"sku": {"name": "AZFW_VNet", "tier": "Premium"}},
        }
    )
    assert "firewallArgs.sku.tier (Premium) and skuTier (Standard) disagree" in message


def names_plan():
    return plan(
        (
            "a",
            1000,
            [
                rule("a", RuleKind.HOST_NETWORK, ["tcp:5228-5230"], ["mtalk.google.com"], entry="fcm"),
                rule("a", RuleKind.HOSTNAME, ["https:443"], ["login.microsoftonline.com"], entry="login"),
                rule("a", RuleKind.ADDRESS, ["tcp:443"], ["20.0.0.0/24"], entry="addr"),
            ],
        )
    )


def test_basic_lists_names_on_plain_tcp_as_not_expressible_with_what_to_do_instead():
    r = render_azure(names_plan(), config(dns_proxy=False, sku_tier="Basic"))
    [finding] = r.not_expressible
    assert (finding.entry, finding.destination) == ("fcm", "mtalk.google.com")
    assert "tcp:5228-5230" in finding.reason and "Basic has no DNS proxy" in finding.reason
    assert "application rules" in finding.reason and "addresses or CIDRs" in finding.reason
    network = rules_of(r.groups[0], "network")
    assert list(network) == ["a-ip-tcp443"]  # the address rule stays; no rule on the name
    assert "a-fqdn-https443" in rules_of(r.groups[0], "application")
    assert r.summary()["skuTier"] == "Basic"
    assert any("skuTier Basic: 1 name(s) on plain TCP/UDP are not expressible" in w for w in r.warnings)
    assert_valid(r)


def test_standard_without_dns_proxy_still_refuses_names_on_plain_tcp():
    with pytest.raises(RenderError, match="set dnsProxy: true"):
        render_azure(names_plan(), config(dns_proxy=False))
    assert render_azure(names_plan(), config(sku_tier="Premium")).not_expressible == ()
