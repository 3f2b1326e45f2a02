"""A render folder's DNS layer (``aws/dns/``, ``azure/dns/``) as resource records in the input shape the
components register (camelCase SDK inputs), for ``epfw diff`` (:func:`.resource_diff.render_dir_records`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..components.resource_types import (
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

# Inputs whose change replaces the resource: its name in the cloud's id or path; AWS's ids of what a rule or an
# association hangs on; what Azure marks create-only (location; a link's virtualNetwork "cannot be changed after
# creation", REST spec 2025-05-01).
DNS_REPLACE_ON: dict[str, tuple[str, ...]] = {
    AWS_DNS_DOMAIN_LIST: ("name",),
    AWS_DNS_RULE_GROUP: ("name",),
    AWS_DNS_RULE: ("firewallRuleGroupId", "firewallDomainListId"),
    AWS_DNS_ASSOCIATION: ("vpcId", "firewallRuleGroupId"),
    AWS_DNS_CONFIG: ("resourceId",),
    AZURE_DNS_POLICY: ("dnsResolverPolicyName", "location"),
    AZURE_DNS_DOMAIN_LIST: ("dnsResolverDomainListName", "location"),
    AZURE_DNS_RULE: ("dnsResolverPolicyName", "dnsSecurityRuleName", "location"),
    AZURE_DNS_LINK: ("dnsResolverPolicyName", "dnsResolverPolicyVirtualNetworkLinkName", "virtualNetwork", "location"),
}

_AWS_RULE_KEYS = {
    "Name": "name",
    "Priority": "priority",
    "Action": "action",
    "BlockResponse": "blockResponse",
    "FirewallDomainRedirectionAction": "firewallDomainRedirectionAction",
    "FirewallDomainListId": "firewallDomainListId",
    "FirewallRuleGroupId": "firewallRuleGroupId",
}


def _files(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    return (
        [(p, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*.json"))]
        if folder.is_dir()
        else []
    )


def _aws(folder: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _, body in _files(folder / "domain-lists"):
        name = body["CreateFirewallDomainList"]["Name"]
        domains = body["UpdateFirewallDomains"]["Domains"]
        out.append({"type": AWS_DNS_DOMAIN_LIST, "name": name, "inputs": {"name": name, "domains": domains}})
    for _, body in _files(folder / "rule-groups"):
        group = body["CreateFirewallRuleGroup"]["Name"]
        out.append({"type": AWS_DNS_RULE_GROUP, "name": group, "inputs": {"name": group}})
        for rule in body["CreateFirewallRule"]:
            inputs = {new: rule[old] for old, new in _AWS_RULE_KEYS.items() if old in rule}
            out.append({"type": AWS_DNS_RULE, "name": f"{group}/{rule['Name']}", "inputs": inputs})
    for _, body in _files(folder / "vpcs"):
        a, c = body["AssociateFirewallRuleGroup"], body["UpdateFirewallConfig"]
        inputs = {
            "name": a["Name"],
            "vpcId": a["VpcId"],
            "priority": a["Priority"],
            "mutationProtection": a["MutationProtection"],
            "firewallRuleGroupId": a["FirewallRuleGroupId"],
        }
        out.append({"type": AWS_DNS_ASSOCIATION, "name": a["Name"], "inputs": inputs})
        config = {"resourceId": c["ResourceId"], "firewallFailOpen": c["FirewallFailOpen"]}
        out.append({"type": AWS_DNS_CONFIG, "name": f"config-{c['ResourceId']}", "inputs": config})
    return out


def _azure(folder: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    policies = _files(folder)
    policy = policies[0][1]["name"] if policies else None
    for _, body in policies:
        inputs = {"dnsResolverPolicyName": body["name"], "location": body["location"]}
        out.append({"type": AZURE_DNS_POLICY, "name": body["name"], "inputs": inputs})
    kinds = (
        ("domain-lists", AZURE_DNS_DOMAIN_LIST, "dnsResolverDomainListName"),
        ("rules", AZURE_DNS_RULE, "dnsSecurityRuleName"),
        ("virtual-network-links", AZURE_DNS_LINK, "dnsResolverPolicyVirtualNetworkLinkName"),
    )
    for sub, kind, key in kinds:
        for _, body in _files(folder / sub):
            inputs = {key: body["name"], "location": body["location"], **body["properties"]}
            if kind != AZURE_DNS_DOMAIN_LIST:
                inputs["dnsResolverPolicyName"] = policy
            out.append({"type": kind, "name": f"{sub}/{body['name']}", "inputs": inputs})
    return out


def dns_render_records(folder: Path) -> list[dict[str, Any]]:
    return _aws(folder / "aws" / "dns") + _azure(folder / "azure" / "dns")
