"""Plan -> Azure Firewall rules, as ARM resource bodies. Pure: no Pulumi, no I/O.

Target ``policy``: one rule collection group per service area (``<namePrefix>-<area>``, at the area's
priority), holding a ``FirewallPolicyFilterRuleCollection`` named ``network`` (priority 100) and one named
``application`` (priority 200), both Allow. Azure processes every network rule before any application
rule, first match wins, default deny; every rule here allows, so the order only decides which rule a
flow is logged against.

Target ``classic``: the same layout as an AzureFirewall's ``networkRuleCollections`` and
``applicationRuleCollections`` (collections ``<group>-net`` and ``<group>-app`` at the group's priority).

Rules reference IP Groups by ARM id with the placeholder ``{subscriptionId}``::

    /subscriptions/{subscriptionId}/resourceGroups/<resourceGroupName>/providers/Microsoft.Network/ipGroups/<name>

The component (``components.azure_firewall``) replaces each with the ``IpGroup``'s real ``id``.
Mapping and layout: :mod:`.rules` and :mod:`.layout`; limits come from ``AzureConfig.limits``.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ...config.azure_config import AzureConfig, AzureLimits, AzureTarget
from ...config.azure_sku import DUAL_STACK_PAGE, IPV6_CLASSIC_REASON, IPV6_OFF_REASON
from ...planning.address_rules import AddressRules, ByName
from ...planning.rules import Plan, Rule
from ..findings import (
    BASIC_TIER_NAMES,
    NETWORK_RULE_ON_ADDRESS,
    NETWORK_RULE_ON_NAME,
    RESIDUAL_RISKS_DOC,
    Finding,
    plan_widened_findings,
    skipped_findings,
)
from .dns import AzureDnsRender, firewall_names, render_azure_dns
from .layout import (
    PairCount,
    application_rule,
    build_ip_groups,
    choose_ip_groups,
    network_rule,
    shard_area,
    source_field,
)
from .model import (
    APPLICATION_COLLECTION,
    APPLICATION_COLLECTION_PRIORITY,
    NAME_RE,
    NETWORK_COLLECTION,
    NETWORK_COLLECTION_PRIORITY,
    AzureGroup,
    AzureIpGroup,
    RenderError,
    azure_name,
    json_size,
    to_text,
)
from .rules import map_plan
from .template import CLASSIC_REASON, arm_template
from .template import FILE as TEMPLATE_FILE


def _inside_tls() -> dict[str, object]:
    """What an application rule lets through by design (docs/residual-risks.md, "Azure"); built per call: a
    summary's risks are its own to change."""
    return {
        "risk": "inside-tls",
        "bound": "unbounded",
        "text": "an application rule judges the SNI (or Host) and Azure connects to the address that name resolves "
        "to (learn.microsoft.com/azure/firewall/dns-details): a spoofed SNI reaches only the listed name's service, "
        "but without TLS inspection (which Intune does not support) any HTTP Host can follow inside that TLS "
        "session, where the service routes by it (domain fronting on a shared front end)",
    }


@dataclass(frozen=True)
class AzureRender:
    target: str  # "policy" or "classic"
    sku_tier: str  # Standard, Premium or Basic
    resource_group: str
    policy_name: str | None
    policy_location: str | None  # createPolicy: where the policy is created; None: an existing policy (or classic)
    firewall_name: str | None
    dns_proxy: bool
    groups: tuple[AzureGroup, ...]  # target policy; empty for classic
    ip_groups: tuple[AzureIpGroup, ...]
    classic: (
        dict[str, Any] | None
    )  # target classic: {"applicationRuleCollections": [...], "networkRuleCollections": [...]}
    widened: tuple[Finding, ...]
    not_expressible: tuple[Finding, ...]
    skipped: tuple[Finding, ...]  # the plan's skipped entries (references, P2P without peers, wildcards on plain TCP)
    warnings: tuple[str, ...]
    network_pairs: int
    limits: AzureLimits
    limits_profile: str
    dns: AzureDnsRender | None = None  # the DNS security policy, when azure.dns is enabled (docs/dns.md)
    address_rules: AddressRules = AddressRules.NAMES_ONLY
    by_name: tuple[ByName, ...] = ()  # addresses left to their entries' application rules (addressRules)
    rules: tuple[Rule, ...] = ()  # the plan's rules as rendered here: the address rules in addressRules' view

    @property
    def rule_count(self) -> int:
        return (
            sum(len(c["properties"]["rules"]) for c in self._classic_collections())
            if self.classic
            else sum(len(g.rules) for g in self.groups)
        )

    def _classic_collections(self) -> list[dict[str, Any]]:
        assert self.classic is not None
        return self.classic["networkRuleCollections"] + self.classic["applicationRuleCollections"]

    def files(self) -> dict[str, str]:
        out = {f"azure/{g.name}.json": to_text(g.body) for g in self.groups}
        out.update({f"azure/ip-groups/{g.name}.json": to_text(g.body) for g in self.ip_groups})
        if self.classic is not None:
            out[f"azure/classic/{self.firewall_name}.json"] = to_text(
                {"name": self.firewall_name, "properties": self.classic}
            )
        else:
            out[TEMPLATE_FILE] = to_text(self.template())
        if self.dns is not None:
            out.update(self.dns.files())
        return dict(sorted(out.items()))

    def template(self) -> dict[str, Any]:
        """The ARM deployment template of a target-policy render (:func:`.template.arm_template`); ``ValueError``
        for classic (``CLASSIC_REASON``)."""
        if self.classic is not None:
            raise ValueError(CLASSIC_REASON)
        dns = self.dns.template_resources() if self.dns is not None else []
        return arm_template(
            self.policy_name, self.policy_location, self.sku_tier, self.dns_proxy, self.ip_groups, self.groups, dns
        )

    def summary(self) -> dict[str, Any]:
        if self.classic is not None:
            groups = [
                {
                    "name": c["name"],
                    "priority": c["properties"]["priority"],
                    "collection": kind,
                    "rules": len(c["properties"]["rules"]),
                }
                for kind, key in (("network", "networkRuleCollections"), ("application", "applicationRuleCollections"))
                for c in self.classic[key]
            ]
        else:
            groups = [
                {
                    "name": g.name,
                    "priority": g.priority,
                    "area": g.area,
                    "rules": len(g.rules),
                    "bytes": json_size(g.body),
                }
                for g in self.groups
            ]
        return {
            "target": self.target,
            "skuTier": self.sku_tier,
            "resourceGroup": self.resource_group,
            "policy": self.policy_name,
            "firewall": self.firewall_name,
            "groups": groups,
            "rules": self.rule_count,
            "ipGroups": [{"name": g.name, "addresses": len(g.addresses), "serves": g.serves} for g in self.ip_groups],
            "networkPairs": self.network_pairs,
            "limits": self.limits_used(),
            "widened": [n.to_json() for n in self.widened],
            "notExpressible": [n.to_json() for n in self.not_expressible],
            "skipped": [n.to_json() for n in self.skipped],
            "template": {"file": None, "reason": CLASSIC_REASON}
            if self.classic is not None
            else {"file": TEMPLATE_FILE, "resources": len(self.template()["resources"])},
            "warnings": list(self.warnings),
            **({"dns": self.dns.summary()} if self.dns is not None else {}),
            "addressRules": {"mode": self.address_rules.value, "leftToNames": [b.to_json() for b in self.by_name]},
            "residualRisks": {"explained": RESIDUAL_RISKS_DOC, "risks": self.residual_risks()},
        }

    def residual_risks(self) -> list[dict[str, object]]:
        """What these rules let through by design (docs/residual-risks.md, "Azure"), as the summary lists it."""
        risks: list[dict[str, object]] = []
        addresses = {(f.entry, f.destination) for f in self.widened if f.kind == NETWORK_RULE_ON_ADDRESS}
        if addresses:
            risks.append(
                {
                    "risk": "address-any-protocol",
                    "bound": "unbounded",
                    "text": f"{len({d for _, d in addresses})} address(es) of "
                    f"{', '.join(sorted({e for e, _ in addresses}))} are network rules: any protocol and any name "
                    "reach them on their ports, before application rules (each is listed under widened)",
                }
            )
        names = {f.destination for f in self.widened if f.kind == NETWORK_RULE_ON_NAME}
        if names:
            risks.append(
                {
                    "risk": "network-rule-names",
                    "bound": "unbounded",
                    "text": f"{len(names)} name(s) on plain TCP/UDP are network rules resolved by DNS proxy: any "
                    "other name served at the addresses they resolve to is reachable on their ports (listed under "
                    "widened)",
                }
            )
        if any(g.rules for g in self.groups) or self.classic:
            risks.append(_inside_tls())
        return risks

    def limits_used(self) -> dict[str, Any]:
        """How close the render is to each limit it is checked against: used, max and the share used."""
        limits = self.limits

        def used(n: int, most: int) -> dict[str, Any]:
            return {"used": n, "max": most, "share": round(n / most, 4) if most else None}

        budget = group_budget(limits)
        out = {
            "profile": self.limits_profile,
            "networkPairs": {
                **used(self.network_pairs, limits.network_pairs_max),
                "formula": limits.network_pairs_formula,
                "counted": pair_count(limits).description,
            },
            "ipGroups": used(len(self.ip_groups), limits.ip_groups_max),
        }
        if self.classic is None:
            out["groups"] = used(len(self.groups), limits.groups_per_policy_max)
            out["groupBytes"] = {
                **used(max((json_size(g.body) for g in self.groups), default=0), budget),
                "groupMaxBytes": limits.group_max_bytes,
                "groupSizeMargin": limits.group_size_margin,
                "measure": "compact JSON of the ARM body, subscription ids at 36 characters; "
                "Microsoft publishes no exact measure of a group's size, hence the margin",
            }
        return out


def pair_count(limits: AzureLimits) -> PairCount:
    """How the limits count network-rule combinations (``networkPairsFormula``, ``networkPairsPortsPerUnit``)."""
    return PairCount(limits.network_pairs_formula, limits.network_pairs_ports_per_unit)


def group_budget(limits: AzureLimits) -> int:
    """Bytes a rule collection group may take here: ``groupMaxBytes`` less the safety margin."""
    return int(limits.group_max_bytes * (1 - limits.group_size_margin))


def render_azure(plan: Plan, config: AzureConfig) -> AzureRender:
    """Render ``plan`` for Azure; raise :class:`RenderError` rather than emit anything Azure would refuse."""
    limits = config.limits
    target = AzureTarget(config.target)
    resource_group = config.resource_group_name
    if resource_group is None:  # a stack file always names it; a component renders with its input or a placeholder
        raise RenderError("azure.resourceGroupName is not set: the IP Groups' ids name the resource group")
    warnings: list[str] = []
    sources = [s for s in plan.source_ranges if ipaddress.ip_network(s).version == 4]
    sources6 = [s for s in plan.source_ranges if ipaddress.ip_network(s).version == 6]
    if sources6 and not config.ipv6:
        warnings.append(
            "IPv6 source ranges left out (azure.ipv6 is not set: IPv4 only): " + ", ".join(sorted(sources6))
        )
        sources6 = []
    if not sources:
        raise RenderError("no IPv4 source range to allow traffic from")

    mapped = map_plan(plan, config.dns_proxy, config.tier, _ipv6_reason(config, target, sources6), config.address_rules)
    if any(spec.family == 6 for spec in mapped.net):
        warnings.append(
            "azure.ipv6: preview: the IPv6 network rules need the firewall in dual stack mode (preview; "
            f"Microsoft: a dual stack firewall cannot be reverted to IPv4-only), {DUAL_STACK_PAGE}"
        )
    per_group = limits.ip_group_max_addresses
    grouped, pairs = choose_ip_groups(
        mapped.net,
        sources,
        config.ip_group_threshold,
        per_group,
        limits.network_pairs_max,
        len(sources6),
        pair_count(limits),
    )
    ip_groups, ids = build_ip_groups(
        config.name_prefix,
        resource_group,
        config.ip_group_location,
        mapped.net,
        sources,
        grouped,
        per_group,
    )
    if len(ip_groups) > limits.ip_groups_max:
        raise RenderError(f"{len(ip_groups)} IP Groups needed, more than ipGroupsMax ({limits.ip_groups_max})")

    src = source_field(sources, ids)
    src6 = {"sourceAddresses": sources6}
    items: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for spec in sorted(mapped.net, key=lambda s: s.name):
        items[spec.area].append((NETWORK_COLLECTION, network_rule(spec, src6 if spec.family == 6 else src, ids)))
    for app in sorted(mapped.app, key=lambda s: s.name):
        items[app.area].append((APPLICATION_COLLECTION, application_rule(app, src)))
    groups: list[AzureGroup] = []
    for area in plan.areas:
        if items.get(area.area):
            groups.extend(
                shard_area(config.name_prefix, area.area, area.priority, items[area.area], group_budget(limits))
            )
    _check(groups, ip_groups, limits, target)

    fqdns = {f for g in groups for r in g.rules for f in r.get("destinationFqdns", [])}
    if len(fqdns) > limits.network_fqdns_warn:
        warnings.append(
            f"{len(fqdns)} FQDNs in network rules, more than networkFqdnsWarn ({limits.network_fqdns_warn}):"
            " the firewall resolves each through DNS proxy; expect slow updates and stale addresses"
        )
    if fqdns and target is AzureTarget.POLICY and not config.create_policy:
        warnings.append(
            f"network rules use FQDNs: the existing policy {config.policy_name} must have DNS proxy "
            "enabled (dnsSettings.enableProxy); this stack does not manage it"
        )

    basic_names = sum(1 for f in mapped.not_expressible if f.kind == BASIC_TIER_NAMES)
    if basic_names:
        warnings.append(
            f"skuTier {config.tier}: {basic_names} name(s) on plain TCP/UDP are not expressible (no DNS "
            "proxy, so no FQDNs in network rules); see notExpressible for what to list instead"
        )
    classic = _classic(groups) if target is AzureTarget.CLASSIC else None
    if classic is not None:
        warnings.append(CLASSIC_REASON)
    dns = None
    if config.dns is not None and config.dns.enabled:
        location = config.dns.location or config.ip_group_location
        assert location is not None  # AzureConfig refuses dns without one
        collections = [c for g in groups for c in g.body["properties"]["ruleCollections"]]
        passed = firewall_names(collections)
        dns = render_azure_dns(plan, config.dns, config.name_prefix, resource_group, location, passed)
    skipped = skipped_findings(plan)
    return AzureRender(
        target=target.value,
        sku_tier=config.tier,
        resource_group=resource_group,
        policy_name=config.policy_name,
        policy_location=config.create_policy.location if config.create_policy and classic is None else None,
        firewall_name=config.firewall_name,
        dns_proxy=config.dns_proxy,
        groups=tuple(groups) if classic is None else (),
        ip_groups=tuple(ip_groups),
        classic=classic,
        widened=tuple(sorted(set(mapped.widened) | set(plan_widened_findings(plan)), key=_finding_key)),
        not_expressible=tuple(sorted(set(mapped.not_expressible), key=_finding_key)),
        skipped=skipped,
        warnings=tuple(warnings),
        network_pairs=pairs,
        limits=limits,
        limits_profile=config.limits_profile,
        dns=dns,
        address_rules=config.address_rules,
        by_name=tuple(mapped.by_name),
        rules=tuple(mapped.rules),
    )


def _ipv6_reason(config: AzureConfig, target: AzureTarget, sources6: list[str]) -> str | None:
    """None when IPv6 destinations are rendered; else why each is not expressible."""
    if target is AzureTarget.CLASSIC:
        return IPV6_CLASSIC_REASON
    if not config.ipv6:
        return IPV6_OFF_REASON
    if not sources6:
        return (
            "IPv6 destination: azure.ipv6 is preview but sourceRanges names no IPv6 range, so no IPv6 rule "
            "could match a device's traffic; add the devices' IPv6 prefixes to sourceRanges"
        )
    return None


def _finding_key(finding: Finding) -> tuple[str, str, str]:
    return (finding.entry, finding.destination or "", finding.reason)


def _check(groups: list[AzureGroup], ip_groups: list[AzureIpGroup], limits: AzureLimits, target: AzureTarget) -> None:
    if target is AzureTarget.POLICY and len(groups) > limits.groups_per_policy_max:
        per_area: dict[str, int] = defaultdict(int)
        for g in groups:
            per_area[g.area] += 1
        raise RenderError(
            f"{len(groups)} rule collection groups needed, more than groupsPerPolicyMax "
            f"({limits.groups_per_policy_max}): " + ", ".join(f"{a} {n}" for a, n in per_area.items())
        )
    for coll_priority in (NETWORK_COLLECTION_PRIORITY, APPLICATION_COLLECTION_PRIORITY):
        if not limits.priority_min <= coll_priority <= limits.priority_max:
            raise RenderError(
                f"rule collection priority {coll_priority} is outside {limits.priority_min}..{limits.priority_max}"
            )
    by_priority: dict[int, AzureGroup] = {}
    for g in groups:
        if not limits.priority_min <= g.priority <= limits.priority_max:
            raise RenderError(
                f"group {g.name}: priority {g.priority} is outside {limits.priority_min}.."
                f"{limits.priority_max} (area {g.area})"
            )
        if g.priority in by_priority:
            other = by_priority[g.priority]
            raise RenderError(
                f"groups {other.name} and {g.name} both need priority {g.priority}: space the "
                f"service areas' priorities further apart (area {g.area} has more shards than fit)"
            )
        by_priority[g.priority] = g
    names = [g.name for g in groups]
    if len(set(names)) != len(names):
        raise RenderError(f"rule collection group names collide: {sorted({n for n in names if names.count(n) > 1})}")
    for g in groups:
        for coll in g.body["properties"]["ruleCollections"]:
            rule_names = [r["name"] for r in coll["rules"]]
            if len(set(rule_names)) != len(rule_names):
                raise RenderError(f"group {g.name}, collection {coll['name']}: rule names collide")
            bad = [n for n in [g.name, coll["name"], *rule_names] if not NAME_RE.match(n)]
            if bad:
                raise RenderError(f"names Azure refuses: {bad}")
    bad = [g.name for g in ip_groups if not NAME_RE.match(g.name)]
    if bad:
        raise RenderError(f"IP Group names Azure refuses: {bad}")


def _classic(groups: list[AzureGroup]) -> dict[str, Any]:
    """The same groups as classic rule collections: one network and one application collection per group."""
    network: list[dict[str, Any]] = []
    application: list[dict[str, Any]] = []
    for g in groups:
        for coll in g.body["properties"]["ruleCollections"]:
            rules = [_classic_rule(r) for r in coll["rules"]]
            suffix, target = ("net", network) if coll["name"] == NETWORK_COLLECTION else ("app", application)
            target.append(
                {
                    "name": azure_name(f"{g.name}-{suffix}"),
                    "properties": {"priority": g.priority, "action": {"type": "Allow"}, "rules": rules},
                }
            )
    return {"applicationRuleCollections": application, "networkRuleCollections": network}


def _classic_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """Policy rule -> classic rule: no ``ruleType``; network rules name their protocols ``protocols``."""
    return {("protocols" if k == "ipProtocols" else k): v for k, v in rule.items() if k != "ruleType"}
