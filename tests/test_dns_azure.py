"""The Azure DNS layer (DNS security policy): every body against Microsoft's REST spec (2025-05-01, in
tests/fixtures/azure/spec), the ARM template's DNS part, Azure's matching and what it widens, and the limits."""

from __future__ import annotations

import copy
import json
import re

import pytest
from conftest import ROOT
from test_azure_render import SPEC, config, errors, plan, rule

from endpoint_firewall.checks.dns import evaluate_azure
from endpoint_firewall.config.azure_config import AzureConfig
from endpoint_firewall.config.dns_config import AzureDnsConfig, DnsMode
from endpoint_firewall.planning.rules import RuleKind
from endpoint_firewall.program.render import render_stack
from endpoint_firewall.renderers.azure.model import RenderError
from endpoint_firewall.renderers.azure.render import render_azure

VALIDATORS = {
    "DnsResolverPolicy": SPEC.validator("dnsresolver.json", "DnsResolverPolicy"),
    "DnsResolverDomainList": SPEC.validator("dnsresolver.json", "DnsResolverDomainList"),
    "DnsSecurityRule": SPEC.validator("dnsresolver.json", "DnsSecurityRule"),
    "DnsResolverPolicyVirtualNetworkLink": SPEC.validator("dnsresolver.json", "DnsResolverPolicyVirtualNetworkLink"),
}
KIND = {
    "domain-lists": "DnsResolverDomainList",
    "rules": "DnsSecurityRule",
    "virtual-network-links": "DnsResolverPolicyVirtualNetworkLink",
}
HUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/hub"


def kind_of(path: str) -> str:
    parts = path.split("/")
    return KIND[parts[2]] if len(parts) == 4 else "DnsResolverPolicy"


def spec_errors(path: str, body: dict) -> list[str]:
    body = {k: v for k, v in body.items() if k != "name"}  # Resource.name is readOnly: the path names it
    return errors(VALIDATORS[kind_of(path)], body)


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request):
    rendered = render_stack(request.param, ROOT)
    assert rendered.azure is not None and rendered.azure.dns is not None
    return request.param, rendered


def test_every_body_validates_against_the_rest_spec(stack):
    _, rendered = stack
    bodies = rendered.azure.dns.bodies()
    assert {kind_of(p) for p in bodies} == set(VALIDATORS)
    for path, body in bodies.items():
        assert spec_errors(path, body) == [], path


@pytest.mark.parametrize(
    "kind, mutate",
    [
        ("DnsSecurityRule", lambda b: b["properties"]["action"].update(actionType="Deny")),
        ("DnsSecurityRule", lambda b: b["properties"].pop("priority")),
        ("DnsSecurityRule", lambda b: b["properties"]["action"].update(blockResponseCode="SERVFAIL")),  # preview only
        ("DnsSecurityRule", lambda b: b.pop("location")),
        ("DnsResolverDomainList", lambda b: b["properties"].update(domains="contoso.com")),
        ("DnsResolverPolicyVirtualNetworkLink", lambda b: b["properties"].update(virtualNetwork={})),
        ("DnsResolverPolicy", lambda b: b["properties"].update(dnsSecurityRules=[])),
    ],
)
def test_the_spec_check_has_teeth(stack, kind, mutate):
    _, rendered = stack
    path, body = next((p, b) for p, b in rendered.azure.dns.bodies().items() if kind_of(p) == kind)
    body = copy.deepcopy(body)
    mutate(body)
    assert spec_errors(path, body)


def test_layout_allow_rules_then_the_catch_all_on_the_root(stack):
    name, rendered = stack
    dns = rendered.azure.dns
    *allows, catch_all = dns.rules
    assert [r.priority for r in allows] == [100 + i for i in range(len(allows))] and catch_all.priority == 65000
    assert all(r.action == "Allow" for r in allows)
    assert catch_all.action == {"dev": "Alert", "prod": "Block"}[name]
    assert dns.lists[-1].domains == (".",)
    rule_body = dns.bodies()[f"azure/dns/rules/{catch_all.name}.json"]
    [ref] = rule_body["properties"]["dnsResolverDomainLists"]
    assert ref["id"].endswith(f"/providers/Microsoft.Network/dnsResolverDomainLists/{dns.lists[-1].name}")
    assert ref["id"].startswith("/subscriptions/{subscriptionId}/resourceGroups/")
    links = {link.vnet_id.rsplit("/", 1)[-1] for link in dns.links}
    assert links == {f"vnet-hub-{name}", f"vnet-devices-{name}"}
    assert dns.location == {"dev": "westeurope", "prod": "eastus"}[name]


def test_the_template_holds_the_dns_bodies_in_a_safe_order(stack):
    _, rendered = stack
    dns = rendered.azure.dns
    template = json.loads(rendered.files()["azure/template.json"])
    resources = [r for r in template["resources"] if "dnsResolver" in r["type"]]
    bodies = dns.bodies()
    by_type: dict[str, list[dict]] = {}
    for r in resources:
        by_type.setdefault(r["type"].rsplit("/", 1)[-1], []).append(r)
    [policy] = by_type["dnsResolverPolicies"]
    assert {k: policy[k] for k in ("name", "location", "properties")} == bodies[f"azure/dns/{dns.policy}.json"]
    assert [r["properties"] for r in by_type["dnsResolverDomainLists"]] == [
        bodies[f"azure/dns/domain-lists/{dl.name}.json"]["properties"] for dl in dns.lists
    ]
    ref = re.compile(r"^\[resourceId\('Microsoft\.Network/dnsResolverDomainLists', '([^']+)'\)\]$")
    for r, dns_rule in zip(by_type["dnsSecurityRules"], dns.rules, strict=True):
        assert r["name"] == f"[concat('{dns.policy}', '/', '{dns_rule.name}')]"
        props = json.loads(json.dumps(r["properties"]))
        [listed] = props.pop("dnsResolverDomainLists")
        assert ref.match(listed["id"]).group(1) == dns_rule.domain_list
        expected = bodies[f"azure/dns/rules/{dns_rule.name}.json"]["properties"]
        assert props == {k: v for k, v in expected.items() if k != "dnsResolverDomainLists"}
    rule_ids = [d for d in by_type["dnsSecurityRules"][-1]["dependsOn"] if "dnsSecurityRules" in d]
    assert len(rule_ids) == len(dns.rules) - 1  # the catch-all after every allow rule
    for link in by_type["virtualNetworkLinks"]:  # a VNet is linked only once every rule is there
        assert sum("dnsSecurityRules" in d for d in link["dependsOn"]) == len(dns.rules)
    assert "{subscriptionId}" not in json.dumps(resources)


def dns_config(**kw) -> AzureConfig:
    dns = AzureDnsConfig(virtual_network_ids=(HUB,), **kw.pop("dns", {}))
    return config(dns=dns, **kw)


def names_plan(names, kind=RuleKind.HOSTNAME, services=("https:443",)):
    return plan(("a", 1000, [rule("a", kind, list(services), names)]))


def test_azure_matches_a_domain_and_everything_below_it_and_says_what_that_widens():
    r = render_azure(names_plan(["a.example.com", "*.b.example.com", "c.b.example.com", "d.example.com"]), dns_config())
    dns = r.dns
    # one entry per domain; c.b.example.com is below b.example.com's entry
    assert dns.lists[0].domains == ("a.example.com", "b.example.com", "d.example.com")
    widened = {(f.destination, "every name under" in f.reason, "itself" in f.reason) for f in dns.widened}
    assert widened == {
        ("a.example.com", True, False),
        ("d.example.com", True, False),
        ("*.b.example.com", False, True),
    }
    resolves = {n: evaluate_azure(dns, n).resolves for n in ("x.a.example.com", "b.example.com", "evila.example.com")}
    assert resolves == {"x.a.example.com": True, "b.example.com": True, "evila.example.com": False}
    assert "widened" in evaluate_azure(dns, "b.example.com").detail
    blocked = evaluate_azure(dns, "a.example.com.evil.example")
    assert not blocked.resolves and blocked.rule == "t-dns/everything-else"


def test_a_name_and_its_wildcard_together_widen_nothing():
    r = render_azure(names_plan(["example.com", "*.example.com"]), dns_config())
    assert r.dns.lists[0].domains == ("example.com",) and r.dns.widened == ()


def test_names_on_plain_tcp_udp_resolve_only_where_the_firewall_passes_them():
    udp = names_plan(["ntp.example.com"], RuleKind.HOST_NETWORK, ("udp:123",))
    with_proxy = render_azure(udp, dns_config(dns_proxy=True))
    assert with_proxy.dns.lists[0].domains == ("ntp.example.com",)
    basic = render_azure(udp, dns_config(dns_proxy=False, sku_tier="Basic"))
    assert [dl.domains for dl in basic.dns.lists] == [(".",)]
    [finding] = basic.dns.not_resolved
    assert finding.destination == "ntp.example.com" and "notExpressible" in finding.reason


def test_limits_are_checked_at_render_time_naming_the_limit():
    names = [f"h{i:04d}.example.com" for i in range(30)]
    with pytest.raises(RenderError, match=r"rulesPerPolicy \(3\)"):
        render_azure(names_plan(names), dns_config(dns={"limits": {"domainsPerList": 10, "rulesPerPolicy": 3}}))
    with pytest.raises(RenderError, match=r"domainsMax \(20\)"):
        render_azure(names_plan(names), dns_config(dns={"limits": {"domainsMax": 20}}))


def test_alert_mode_logs_instead_of_blocking():
    r = render_azure(names_plan(["a.example.com"]), dns_config(dns={"mode": DnsMode.ALERT}))
    verdict = evaluate_azure(r.dns, "evil.example")
    assert verdict.resolves and verdict.rule == "t-dns/everything-else" and "Alert" in verdict.detail
    assert any("mode alert" in w for w in r.dns.warnings)
