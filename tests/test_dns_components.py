"""The DNS layer under Pulumi mocks, for both demo stacks: the real ``__main__.py`` registers it on both clouds,
every child parented to its component, names deterministic, inputs exactly the rendered requests and bodies, and
the order that never links a VPC or VNet to a filter without its allow rules."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import ROOT

from endpoint_firewall.components.resource_types import (
    AWS_DNS_ASSOCIATION,
    AWS_DNS_CONFIG,
    AWS_DNS_DOMAIN_LIST,
    AWS_DNS_RULE,
    AWS_DNS_RULE_GROUP,
    AZURE_DNS_DOMAIN_LIST,
    AZURE_DNS_LINK,
    AZURE_DNS_POLICY,
    AZURE_DNS_RULE,
)
from endpoint_firewall.preview.mock_runner import RecordingMocks, run_program
from endpoint_firewall.program.render import render_stack

AWS_COMPONENT = "endpoint-firewall:aws:DnsFirewall"
AZURE_COMPONENT = "endpoint-firewall:azure:DnsSecurityPolicy"


@pytest.fixture(scope="module", params=["dev", "prod"])
def run(request):
    mocks = RecordingMocks()
    resources = run_program(ROOT, request.param, mocks)
    return request.param, resources, mocks, render_stack(request.param, ROOT)


def of(resources, typ):
    return [r for r in resources if r["type"] == typ]


def test_both_clouds_register_the_dns_layer_with_every_child_parented(run):
    name, resources, mocks, rendered = run
    [aws] = of(resources, AWS_COMPONENT)
    [azure] = of(resources, AZURE_COMPONENT)
    aws_dns, azure_dns = rendered.aws.dns, rendered.azure.dns
    children = {
        aws["urn"]: [AWS_DNS_DOMAIN_LIST, AWS_DNS_RULE_GROUP, AWS_DNS_RULE, AWS_DNS_ASSOCIATION, AWS_DNS_CONFIG],
        azure["urn"]: [AZURE_DNS_POLICY, AZURE_DNS_DOMAIN_LIST, AZURE_DNS_RULE, AZURE_DNS_LINK],
    }
    for parent, types in children.items():
        for typ in types:
            assert of(resources, typ) and all(r["parent"] == parent for r in of(resources, typ)), typ
    counts = Counter(r["type"] for r in resources)
    assert counts[AWS_DNS_DOMAIN_LIST] == len(aws_dns.lists) and counts[AWS_DNS_RULE] == len(aws_dns.rules)
    assert counts[AWS_DNS_ASSOCIATION] == counts[AWS_DNS_CONFIG] == len(aws_dns.associations)
    assert counts[AZURE_DNS_DOMAIN_LIST] == len(azure_dns.lists) and counts[AZURE_DNS_RULE] == len(azure_dns.rules)
    assert counts[AZURE_DNS_LINK] == len(azure_dns.links) and counts[AZURE_DNS_POLICY] == 1
    outputs = mocks.outputs[aws["urn"]]
    assert outputs["mode"] == {"dev": "alert", "prod": "block"}[name] and outputs["names"] == len(aws_dns.names)


def test_names_are_deterministic_run_to_run(run):
    name, resources, _, _ = run
    again = run_program(ROOT, name)
    dns = lambda rs: sorted((r["type"], r["name"]) for r in rs if "dns" in r["type"].lower() or "route53" in r["type"])  # noqa: E731
    # registration order is the engine's (asynchronous); the names are what must not change
    assert dns(resources) == dns(again)
    assert len(set(dns(resources))) == len(dns(resources))


def test_aws_inputs_are_the_rendered_requests(run):
    _, resources, _, rendered = run
    dns = rendered.aws.dns
    requests = dns.requests()
    lists = {r["inputs"]["name"]: r for r in of(resources, AWS_DNS_DOMAIN_LIST)}
    for dl in dns.lists:
        body = requests[f"aws/dns/domain-lists/{dl.name}.json"]
        assert lists[dl.name]["inputs"]["domains"] == body["UpdateFirewallDomains"]["Domains"]
    [group] = of(resources, AWS_DNS_RULE_GROUP)
    assert group["inputs"]["name"] == dns.rule_group
    rules = {r["inputs"]["name"]: r for r in of(resources, AWS_DNS_RULE)}
    ids = {r["urn"]: f"{r['name']}-id" for r in of(resources, AWS_DNS_DOMAIN_LIST)}
    list_ids = {lists[n]["urn"]: n for n in lists}
    for wanted in requests[f"aws/dns/rule-groups/{dns.rule_group}.json"]["CreateFirewallRule"]:
        got = rules[wanted["Name"]]["inputs"]
        assert got["priority"] == wanted["Priority"] and got["action"] == wanted["Action"]
        assert got.get("blockResponse") == wanted.get("BlockResponse")
        assert got.get("firewallDomainRedirectionAction") == wanted.get("FirewallDomainRedirectionAction")
        [list_urn] = [u for u, i in ids.items() if i == got["firewallDomainListId"]]
        assert wanted["FirewallDomainListId"] == f"{{domain-list:{list_ids[list_urn]}}}"
    for association in of(resources, AWS_DNS_ASSOCIATION):
        wanted = requests[f"aws/dns/vpcs/{association['inputs']['vpcId']}.json"]
        for key in ("Priority", "MutationProtection", "Name"):
            assert association["inputs"][key[0].lower() + key[1:]] == wanted["AssociateFirewallRuleGroup"][key]
    for config in of(resources, AWS_DNS_CONFIG):
        wanted = requests[f"aws/dns/vpcs/{config['inputs']['resourceId']}.json"]["UpdateFirewallConfig"]
        assert config["inputs"]["firewallFailOpen"] == wanted["FirewallFailOpen"]


def test_azure_inputs_are_the_rendered_bodies(run):
    _, resources, _, rendered = run
    dns = rendered.azure.dns
    bodies = dns.bodies()
    [policy] = of(resources, AZURE_DNS_POLICY)
    assert policy["inputs"]["dnsResolverPolicyName"] == dns.policy and policy["inputs"]["location"] == dns.location
    for r in of(resources, AZURE_DNS_DOMAIN_LIST):
        body = bodies[f"azure/dns/domain-lists/{r['inputs']['dnsResolverDomainListName']}.json"]
        assert r["inputs"]["domains"] == body["properties"]["domains"]
    list_id = {
        f"{r['name']}-id": r["inputs"]["dnsResolverDomainListName"] for r in of(resources, AZURE_DNS_DOMAIN_LIST)
    }
    for r in of(resources, AZURE_DNS_RULE):
        props = bodies[f"azure/dns/rules/{r['inputs']['dnsSecurityRuleName']}.json"]["properties"]
        assert r["inputs"]["priority"] == props["priority"] and r["inputs"]["action"] == props["action"]
        [ref] = r["inputs"]["dnsResolverDomainLists"]
        assert props["dnsResolverDomainLists"] == [{"id": dns.list_id(list_id[ref["id"]])}]
        assert r["inputs"]["dnsResolverPolicyName"] == dns.policy
    for r in of(resources, AZURE_DNS_LINK):
        body = bodies[f"azure/dns/virtual-network-links/{r['inputs']['dnsResolverPolicyVirtualNetworkLinkName']}.json"]
        assert r["inputs"]["virtualNetwork"] == body["properties"]["virtualNetwork"]


@pytest.mark.parametrize(
    "rule_type, attach_type",
    [(AWS_DNS_RULE, AWS_DNS_ASSOCIATION), (AZURE_DNS_RULE, AZURE_DNS_LINK)],
)
def test_no_vpc_or_vnet_is_attached_before_every_rule_and_the_catch_all_comes_last(run, rule_type, attach_type):
    _, resources, _, _ = run
    rules = of(resources, rule_type)
    catch_all = next(r for r in rules if r["name"].endswith("everything-else"))
    assert {r["urn"] for r in rules if r is not catch_all} <= set(catch_all["dependencies"])
    for attach in of(resources, attach_type):
        assert {r["urn"] for r in rules} <= set(attach["dependencies"]), attach["name"]
