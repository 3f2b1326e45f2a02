"""Stack checks: over every resource of a stack at once (DNS proxy of a group's policy, serialized writes).

A check is ``check(resources: Sequence[StackResource], config=None) -> list[StackFinding]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from ..components.resource_types import AZURE_GROUP, AZURE_IP_GROUP, AZURE_POLICY
from .azure_rules import _azure_rules, _network_fqdn_rules
from .dns_checks import DNS_STACK_CHECKS
from .props import Config, _external_policies, _get, _strings, _true


@dataclass(frozen=True)
class StackResource:
    """A resource as a stack check sees it: from CrossGuard's ``PolicyResource`` or a mock record."""

    type: str
    name: str
    urn: str
    props: Any
    dependencies: tuple[str, ...] | None = None  # URNs; None when not recorded
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    parent: str | None = None

    @classmethod
    def from_policy_resource(cls, resource: Any) -> StackResource:
        deps = tuple(d.urn for d in (getattr(resource, "dependencies", None) or []))
        prop_deps = {
            k: tuple(d.urn for d in v) for k, v in (getattr(resource, "property_dependencies", None) or {}).items()
        }
        parent = getattr(resource, "parent", None)
        return cls(
            resource.resource_type,
            resource.name,
            resource.urn,
            resource.props,
            deps,
            prop_deps,
            parent.urn if parent is not None else None,
        )

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> StackResource:
        deps = record.get("dependencies")
        urn = record.get("urn") or f"{record['type']}::{record['name']}"
        prop_deps = {k: tuple(v) for k, v in (record.get("propertyDependencies") or {}).items()}
        return cls(
            record["type"],
            record["name"],
            urn,
            record.get("inputs") or {},
            tuple(deps) if deps is not None else None,
            prop_deps,
            record.get("parent"),
        )


StackFinding = tuple[str | None, str]  # (urn of the resource at fault or None for the stack, message)

_ID_PATTERNS = {
    "resourceGroupName": re.compile(r"/resourceGroups/([^/]+)", re.I),
    "firewallPolicyName": re.compile(r"/firewallPolicies/([^/]+)", re.I),
}


def _props_value(props: Any, key: str) -> Any:
    value = _get(props, key)
    if value is None:
        value = _get(_get(props, "__inputs"), key)
    return value


def _input_or_id(resource: StackResource, key: str) -> str | None:
    """An input such as ``resourceGroupName``, else the same segment of the resource's ARM id."""
    value = _props_value(resource.props, key)
    if isinstance(value, str):
        return value
    rid = _get(resource.props, "id")
    match = _ID_PATTERNS[key].search(rid) if isinstance(rid, str) else None
    return match.group(1) if match else None


def _keyed(group: str | None, policy: Any) -> tuple[str | None, str] | None:
    return (group.lower() if isinstance(group, str) else None, policy.lower()) if isinstance(policy, str) else None


def _policy_key(resource: StackResource) -> tuple[str | None, str] | None:
    """(resource group, policy name) a group belongs to, lowercased; from inputs or its ARM id."""
    return _keyed(_input_or_id(resource, "resourceGroupName"), _input_or_id(resource, "firewallPolicyName"))


def _policy_resource_key(resource: StackResource) -> tuple[str | None, str] | None:
    """(resource group, name) of a FirewallPolicy resource itself, lowercased."""
    name = _props_value(resource.props, "firewallPolicyName")
    if not isinstance(name, str):
        name = _get(resource.props, "name")
    return _keyed(_input_or_id(resource, "resourceGroupName"), name)


def _same_policy(a: tuple[str | None, str], b: tuple[str | None, str]) -> bool:
    return a[1] == b[1] and (a[0] is None or b[0] is None or a[0] == b[0])


def _policy_of(group: StackResource, policies: Sequence[StackResource]) -> StackResource | None:
    """The FirewallPolicy in the stack that ``group`` is on: by name (and resource group), else by dependency."""
    key = _policy_key(group)
    if key is not None:
        for policy in policies:
            pkey = _policy_resource_key(policy)
            if pkey is not None and _same_policy(key, pkey):
                return policy
    linked = set(group.property_dependencies.get("firewallPolicyName", ())) or set(group.dependencies or ())
    candidates = [p for p in policies if p.urn in linked]
    return candidates[0] if len(candidates) == 1 else None


def check_stack_dns_proxy(resources: Sequence[StackResource], config: Config = None) -> list[StackFinding]:
    """Groups with FQDN network rules on a policy without DNS proxy (policy ``network-fqdn-needs-dns-proxy-stack``)."""
    policies = [r for r in resources if r.type == AZURE_POLICY]
    declared = _external_policies(config)
    findings: list[StackFinding] = []
    for group in resources:
        if group.type != AZURE_GROUP:
            continue
        rules = _network_fqdn_rules(AZURE_GROUP, group.props)
        if not rules:
            continue
        policy = _policy_of(group, policies)
        listed = ", ".join(rules)
        if policy is not None:
            if not _true(_get(_get(policy.props, "dnsSettings"), "enableProxy")):
                findings.append(
                    (
                        group.urn,
                        f"{group.name}: network rules {listed} use destinationFqdns but "
                        f"firewall policy {policy.name} has dnsSettings.enableProxy off",
                    )
                )
            continue
        key = _policy_key(group)
        if key is not None and key[1] in declared:
            continue  # declared external policy: the resource policy judges it
        name = key[1] if key else "?"
        findings.append(
            (
                group.urn,
                f"{group.name}: network rules {listed} use destinationFqdns; policy {name!r} is "
                "not in this stack and not declared in externalPolicies, so its DNS proxy "
                "cannot be verified",
            )
        )
    return findings


def _ip_group_refs(group: StackResource) -> set[str]:
    refs: set[str] = set()
    for rule in _azure_rules(AZURE_GROUP, group.props):
        for fld in ("sourceIpGroups", "destinationIpGroups"):
            refs.update(v.lower() for v in _strings(rule.body, fld))
    return refs


def _references(refs: set[str], ip_group: StackResource) -> bool:
    names = {n.lower() for n in (_props_value(ip_group.props, "ipGroupsName"), ip_group.name) if isinstance(n, str)}
    rid = _get(ip_group.props, "id")
    return any((isinstance(rid, str) and ref == rid.lower()) or ref.rsplit("/", 1)[-1] in names for ref in refs)


def policy_members(resources: Sequence[StackResource]) -> dict[str, list[StackResource]]:
    """Per Firewall Policy (label), its rule collection groups and the IP Groups they use, in stack order."""
    policies = [r for r in resources if r.type == AZURE_POLICY]
    ip_groups = [r for r in resources if r.type == AZURE_IP_GROUP]
    members: dict[str, set[str]] = {}
    for group in resources:
        if group.type != AZURE_GROUP:
            continue
        policy = _policy_of(group, policies)
        key = _policy_key(group)
        label = (
            policy.name if policy is not None else (f"{key[0] or '?'}/{key[1]}" if key else f"parent {group.parent}")
        )
        bucket = members.setdefault(label, set())
        bucket.add(group.urn)
        refs = _ip_group_refs(group)
        deps = set(group.dependencies or ())
        for ip_group in ip_groups:
            if ip_group.urn in deps or _references(refs, ip_group):
                bucket.add(ip_group.urn)
    order = {r.urn: i for i, r in enumerate(resources)}
    by_urn = {r.urn: r for r in resources}
    return {label: [by_urn[u] for u in sorted(urns, key=order.__getitem__)] for label, urns in members.items()}


def _reaches(start: str, target: str, graph: Mapping[str, tuple[str, ...]]) -> bool:
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        for dep in graph.get(node, ()):
            if dep == target:
                return True
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return False


def check_stack_serialized(resources: Sequence[StackResource], config: Config = None) -> list[StackFinding]:
    """Members of one policy that Azure could be asked to write at once (policy ``rule-groups-serialized``)."""
    graph = {r.urn: r.dependencies or () for r in resources}
    findings: list[StackFinding] = []
    for label, members in policy_members(resources).items():
        for previous, current in pairwise(members):
            if not _reaches(current.urn, previous.urn, graph):
                findings.append(
                    (
                        current.urn,
                        f"{current.name} does not depend on {previous.name}: both are on firewall "
                        f"policy {label} and Azure refuses concurrent writes to one policy; "
                        "chain them with depends_on",
                    )
                )
    return findings


STACK_CHECKS: dict[str, Callable[..., list[StackFinding]]] = {
    "network-fqdn-needs-dns-proxy-stack": check_stack_dns_proxy,
    "rule-groups-serialized": check_stack_serialized,
    **DNS_STACK_CHECKS,
}
