"""The guardrails refuse a DNS allow-all (``dns-no-allow-all``, mandatory) and report a layer that only alerts
(``dns-alert-only``, advisory), over the records the program registers under mocks and hand-made ones."""

from __future__ import annotations

import pytest
from conftest import ROOT

from endpoint_firewall.components.resource_types import (
    AWS_DNS_DOMAIN_LIST,
    AWS_DNS_RULE,
    AZURE_DNS_DOMAIN_LIST,
    AZURE_DNS_RULE,
)
from endpoint_firewall.guardrails import validate_resources
from endpoint_firewall.preview.mock_runner import run_program


def records(rule_type: str, list_type: str, action, domains: list[str], via_property: bool = False) -> list[dict]:
    """A domain list and a rule on it: the rule depends on the list (as a rule using the list's id does)."""
    rule_inputs = (
        {"action": action, "priority": 100, "firewallDomainListId": "l-id"}
        if rule_type == AWS_DNS_RULE
        else {"action": {"actionType": action}, "priority": 100, "dnsResolverDomainLists": [{"id": "l-id"}]}
    )
    key = "firewallDomainListId" if rule_type == AWS_DNS_RULE else "dnsResolverDomainLists"
    rule: dict = {
        "type": rule_type,
        "name": "r",
        "urn": "urn:r",
        "inputs": rule_inputs,
        "custom": True,
        "dependencies": [],
    }
    if via_property:
        rule["propertyDependencies"] = {key: ["urn:l"]}
    else:
        rule["dependencies"] = ["urn:l"]
    listed = {"type": list_type, "name": "l", "urn": "urn:l", "inputs": {"domains": domains}, "custom": True}
    return [{**listed, "dependencies": []}, rule]


AWS = (AWS_DNS_RULE, AWS_DNS_DOMAIN_LIST)
AZURE = (AZURE_DNS_RULE, AZURE_DNS_DOMAIN_LIST)


@pytest.mark.parametrize(
    "kind, action, domains, expected",
    [
        (AWS, "ALLOW", ["a.example.com", "*"], "every name"),
        (AWS, "ALLOW", ["*.com"], "public suffix 'com'"),
        (AWS, "ALLOW", ["*.azurewebsites.net"], "public suffix 'azurewebsites.net'"),
        (AZURE, "Allow", ["."], "every name"),
        (AZURE, "Allow", ["co.uk"], "public suffix 'co.uk'"),  # an Azure entry is its domain and all below it
    ],
)
@pytest.mark.parametrize("via_property", [False, True])
def test_an_allow_all_is_a_mandatory_violation(kind, action, domains, expected, via_property):
    found = validate_resources(records(*kind, action, domains, via_property))
    assert [(v.policy, v.mandatory) for v in found] == [("dns-no-allow-all", True)]
    assert expected in found[0].message


@pytest.mark.parametrize(
    "kind, action, domains",
    [
        (AWS, "ALLOW", ["a.example.com", "*.example.com", "com"]),  # an exact AWS entry is that name only
        (AWS, "BLOCK", ["*"]),
        (AZURE, "Allow", ["example.com", "a.example.org"]),
        (AZURE, "Block", ["."]),
    ],
)
def test_narrow_allows_and_catch_all_blocks_pass(kind, action, domains):
    assert validate_resources(records(*kind, action, domains)) == []


@pytest.mark.parametrize("kind, action, every", [(AWS, "ALERT", "*"), (AZURE, "Alert", ".")])
def test_a_catch_all_that_only_alerts_is_advisory(kind, action, every):
    [found] = validate_resources(records(*kind, action, [every]))
    assert found.policy == "dns-alert-only" and not found.mandatory


def test_the_rendered_layers_pass_the_mandatory_dns_policies():
    """End to end: what the program registers for both demo stacks (an allow-all never gets that far: the catalogue
    and extraNames refuse '*' and public-suffix wildcards)."""
    for stack in ("dev", "prod"):
        found = validate_resources(run_program(ROOT, stack))
        assert not [v for v in found if v.mandatory and v.policy.startswith("dns")], stack


def test_violations_come_in_one_order_whatever_order_the_program_registered_its_resources():
    """Under mocks the program's async calls register resources in no fixed order; the findings printed by `epfw
    preview` must not move with it."""
    aws = [{**r, "name": f"aws-{r['name']}", "urn": f"aws-{r['urn']}"} for r in records(*AWS, "ALERT", ["*"])]
    azure = records(*AZURE, "Alert", ["."])
    for r in aws:
        r["dependencies"] = [f"aws-{u}" for u in r["dependencies"]]
    one, other = validate_resources(aws + azure), validate_resources(azure + aws)
    assert len(one) == 2 and {v.resource_type for v in one} == {AWS_DNS_RULE, AZURE_DNS_RULE}
    assert one == other
