"""The AWS DNS layer (Route 53 Resolver DNS Firewall): every request against botocore's ``route53resolver`` model,
the layout (lists, rules, associations, config), sharding and limits, and what it leaves out, loudly."""

from __future__ import annotations

import json
import re

import botocore.session
import pytest
from botocore.validate import ParamValidator
from conftest import ROOT
from test_aws_render import constraint_problems
from test_azure_render import plan, rule

from endpoint_firewall.checks.dns import evaluate_aws
from endpoint_firewall.config.dns_config import AwsDnsConfig, DnsMode
from endpoint_firewall.planning.rules import RuleKind
from endpoint_firewall.program.render import render_stack
from endpoint_firewall.renderers.aws.dns import REDIRECTION, render_aws_dns
from endpoint_firewall.renderers.aws.model import AwsRenderError

MODEL = botocore.session.get_session().get_service_model("route53resolver")
VPC = "vpc-0a1b2c3d4e5f60718"
FAKE_IDS = {"domain-list": "rslvr-fdl-0123456789abcdef", "rule-group": "rslvr-frg-0123456789abcdef"}
PLACEHOLDER = re.compile(r"^\{(domain-list|rule-group):([^}]+)\}$")


def with_ids(value):
    """A request with each ``{domain-list:<name>}`` / ``{rule-group:<name>}`` as an id of AWS's shape."""
    if isinstance(value, dict):
        return {k: with_ids(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_ids(v) for v in value]
    match = PLACEHOLDER.match(value) if isinstance(value, str) else None
    return FAKE_IDS[match.group(1)] if match else value


def problems(operation: str, request: dict) -> list[str]:
    shape = MODEL.operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    found = [report.generate_report()] if report.has_errors() else []
    found += constraint_problems(shape, request, operation)
    name = request.get("Name")  # AWS patterns match the whole value; botocore's is unanchored
    if name is not None and not re.fullmatch(shape.members["Name"].metadata["pattern"], name):
        found.append(f"{operation}.Name {name!r} is not wholly of the pattern")
    return found


def calls(render) -> list[tuple[str, dict]]:
    out = []
    for body in render.requests().values():
        for operation, request in body.items():
            out += [(operation, with_ids(r)) for r in (request if isinstance(request, list) else [request])]
    return out


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request):
    rendered = render_stack(request.param, ROOT)
    assert rendered.aws is not None and rendered.aws.dns is not None
    return request.param, rendered


def test_every_request_passes_botocores_route53resolver_model(stack):
    _, rendered = stack
    made = calls(rendered.aws.dns)
    assert {op for op, _ in made} == {
        "CreateFirewallDomainList",
        "UpdateFirewallDomains",
        "CreateFirewallRuleGroup",
        "CreateFirewallRule",
        "AssociateFirewallRuleGroup",
        "UpdateFirewallConfig",
    }
    for operation, request in made:
        assert problems(operation, request) == [], (operation, request)


@pytest.mark.parametrize(
    "operation, request_, expected",
    [
        ("CreateFirewallRule", {"Action": "PERMIT"}, "Action"),
        ("CreateFirewallRule", {"BlockResponse": "REFUSED"}, "BlockResponse"),
        ("CreateFirewallRule", {"FirewallDomainRedirectionAction": "TRUST"}, "FirewallDomainRedirectionAction"),
        ("CreateFirewallRule", {"Name": "has/slash"}, "Name"),
        ("AssociateFirewallRuleGroup", {"MutationProtection": "ON"}, "MutationProtection"),
        ("UpdateFirewallConfig", {"FirewallFailOpen": "YES"}, "FirewallFailOpen"),
        ("UpdateFirewallDomains", {"Domains": ["x" * 256]}, "Domains"),
    ],
)
def test_the_model_check_has_teeth(stack, operation, request_, expected):
    _, rendered = stack
    request = next(r for op, r in calls(rendered.aws.dns) if op == operation)
    found = problems(operation, {**request, **request_})
    assert found and any(expected in p for p in found), found


def test_layout_allow_lists_then_the_catch_all(stack):
    name, rendered = stack
    dns = rendered.aws.dns
    requests = dns.requests()
    group = requests[f"aws/dns/rule-groups/epfw-{name}-dns.json"]
    rules = group["CreateFirewallRule"]
    assert [r["Priority"] for r in rules] == sorted(r["Priority"] for r in rules)
    *allows, catch_all = rules
    assert allows and all(
        r["Action"] == "ALLOW" and r["FirewallDomainRedirectionAction"] == REDIRECTION for r in allows
    )
    everything = requests[f"aws/dns/domain-lists/epfw-{name}-dns-everything.json"]
    assert everything["UpdateFirewallDomains"]["Domains"] == ["*"]
    assert catch_all["FirewallDomainListId"] == f"{{domain-list:epfw-{name}-dns-everything}}"
    if name == "dev":  # the rollout: alert, nothing blocked
        assert catch_all["Action"] == "ALERT" and "BlockResponse" not in catch_all
    else:
        assert catch_all["Action"] == "BLOCK" and catch_all["BlockResponse"] == "NODATA"
        assert "FirewallDomainRedirectionAction" not in catch_all


def test_each_vpc_gets_an_association_and_its_fail_mode(stack):
    name, rendered = stack
    vpcs = {"dev": [VPC], "prod": ["vpc-01234567", "vpc-0f1e2d3c4b5a69788"]}[name]
    requests = rendered.aws.dns.requests()
    for vpc in vpcs:
        body = requests[f"aws/dns/vpcs/{vpc}.json"]
        association = body["AssociateFirewallRuleGroup"]
        assert association["VpcId"] == vpc and association["Priority"] == 101
        assert association["MutationProtection"] == ("DISABLED" if name == "dev" else "ENABLED")
        assert body["UpdateFirewallConfig"] == {"ResourceId": vpc, "FirewallFailOpen": "DISABLED"}
    assert sorted(p for p in requests if p.startswith("aws/dns/vpcs/")) == [f"aws/dns/vpcs/{v}.json" for v in vpcs]


def test_the_allowed_names_are_the_plans_names_as_the_catalogue_means_them(stack):
    name, rendered = stack
    dns = rendered.aws.dns
    domains = {d for dl in dns.lists[:-1] for d in dl.domains}
    plan_names = {d for r in rendered.plan.rules if r.kind is RuleKind.HOSTNAME for d in r.destinations}
    # every name the firewall passes is in a list, or covered by a listed wildcard (folded, never widened)
    for host in plan_names:
        assert host in domains or any(d.startswith("*.") and host.endswith(d[1:]) for d in domains), host
    assert all(d == d.lower() and (not d.startswith("*") or d.startswith("*.")) for d in domains)
    extra = {"dev": {"corp.example.com", "*.corp.example.com"}, "prod": set()}[name]
    assert extra <= domains and {n.name for n in dns.names if "extraNames" in n.entries} == extra
    assert dns.widened == ()  # "x.com" is that name, "*.x.com" the names below it: nothing is widened on AWS


def test_names_the_firewall_cannot_pass_do_not_resolve_and_say_so():
    rendered = render_stack("dev", ROOT)
    dns = rendered.aws.dns
    not_resolved = {f.destination for f in dns.not_resolved}
    # NTP by name (udp:123): AWS Network Firewall cannot match a name without HTTP Host or TLS SNI
    assert {"time.windows.com", "time.apple.com"} <= not_resolved
    assert {f.destination for f in rendered.aws.not_expressible} >= not_resolved
    for host in ("time.windows.com", "time.apple.com"):
        assert not any(host in dl.domains for dl in dns.lists)
    summary = json.loads(rendered.files()["summary.json"])["aws"]["dns"]
    assert {f["destination"] for f in summary["notResolved"]} == not_resolved


def small(**kw) -> AwsDnsConfig:
    return AwsDnsConfig(vpc_ids=(VPC,), **kw)


def names_plan(names: list[str], kind=RuleKind.HOSTNAME, services=("https:443",)):
    return plan(("a", 1000, [rule("a", kind, list(services), names)]))


def test_block_response_and_mode_and_fail_open_follow_the_settings():
    p = names_plan(["a.example.com"])
    r = render_aws_dns(p, small(block_response="NXDOMAIN", fail_open=True), "t")
    group = r.requests()["aws/dns/rule-groups/t-dns.json"]["CreateFirewallRule"]
    assert group[-1]["BlockResponse"] == "NXDOMAIN"
    assert r.requests()[f"aws/dns/vpcs/{VPC}.json"]["UpdateFirewallConfig"]["FirewallFailOpen"] == "ENABLED"
    assert any("failOpen" in w for w in r.warnings)
    alert = render_aws_dns(p, small(mode=DnsMode.ALERT), "t")
    assert alert.rules[-1].action == "ALERT" and any("mode alert" in w for w in alert.warnings)


def test_lists_shard_stably_and_a_one_name_change_rewrites_one_list():
    names = [f"h{i:04d}.example.com" for i in range(250)]
    config = small(limits={"domainsPerList": 100})
    before = render_aws_dns(names_plan(names), config, "t")
    after = render_aws_dns(names_plan([*names, "new.example.org"]), config, "t")
    assert len(before.lists) > 3 and all(len(dl.domains) <= 100 for dl in before.lists)
    assert [r.priority for r in before.rules] == [100 + i for i in range(len(before.rules) - 1)] + [10000]
    a, b = before.files(), after.files()
    changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    assert len([c for c in changed if "/domain-lists/" in c]) == 1, changed
    assert all("/domain-lists/" in c for c in changed), changed


def test_limits_are_checked_at_render_time_naming_the_limit():
    names = [f"h{i:04d}.example.com" for i in range(30)]
    with pytest.raises(AwsRenderError, match=r"rulesPerGroup \(3\)"):
        render_aws_dns(names_plan(names), small(limits={"domainsPerList": 10, "rulesPerGroup": 3}), "t")
    with pytest.raises(AwsRenderError, match=r"domainsPerAccount \(20\)"):
        render_aws_dns(names_plan(names), small(limits={"domainsPerAccount": 20}), "t")
    with pytest.raises(AwsRenderError, match=r"domainListsPerAccount \(2\)"):
        render_aws_dns(names_plan(names), small(limits={"domainsPerList": 10, "domainListsPerAccount": 2}), "t")


def test_a_name_aws_cannot_write_is_left_out_loudly():
    r = render_aws_dns(names_plan(["_ldap._tcp.corp.example.com", "ok.example.com"]), small(), "t")
    assert [d for dl in r.lists for d in dl.domains] == ["ok.example.com", "*"]
    [finding] = r.not_resolved
    assert finding.destination == "_ldap._tcp.corp.example.com" and "letters, digits and hyphens" in finding.reason


def test_exact_names_and_wildcards_match_as_the_catalogue_means_them():
    r = render_aws_dns(names_plan(["a.example.com", "*.b.example.com", "c.b.example.com"]), small(), "t")
    assert r.lists[0].domains == ("*.b.example.com", "a.example.com")  # c.b.example.com is below the wildcard
    verdicts = {
        name: evaluate_aws(r, name).resolves
        for name in (
            "a.example.com",
            "x.a.example.com",
            "b.example.com",
            "c.b.example.com",
            "deep.c.b.example.com",
            "evila.example.com",
            "a.example.com.evil.example",
        )
    }
    assert verdicts == {
        "a.example.com": True,
        "x.a.example.com": False,
        "b.example.com": False,
        "c.b.example.com": True,
        "deep.c.b.example.com": True,
        "evila.example.com": False,
        "a.example.com.evil.example": False,
    }
    blocked = evaluate_aws(r, "evil.example")
    assert blocked.rule == "t-dns/everything-else" and "NODATA" in blocked.detail
