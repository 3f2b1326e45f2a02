"""Plan -> an Azure DNS security policy (DNS resolver policy), as ARM bodies. Pure: no Pulumi, no I/O.

How Azure matches (Microsoft, "DNS resolver policy", learn.microsoft.com/azure/dns/dns-security-policy, ms.date
08/11/2026): rules are processed by priority, 100-65000, lower first; "Rules follow the DNS hierarchy. If
contoso.com is allowed in a higher priority rule, then sub.contoso.com is allowed": a domain list entry matches the
domain and every name below it, and the domain ``.`` matches every name. An entry cannot say "this name only" nor
"subdomains only", so:

* an exact name ``a.x.com`` is written ``a.x.com`` and also resolves every name below it (reported as *widened*,
  unless the catalogue lists ``*.a.x.com`` too);
* a wildcard ``*.x.com`` is written ``x.com`` and also resolves ``x.com`` itself (*widened*, unless listed).

Entries are written as Microsoft's 2025-05-01 REST example writes them (``contoso.com``). Layout: the policy
``<namePrefix>-dns`` (or ``dns.policyName``); domain lists ``<policy>-allowed`` (stable shards ``-N`` of at most
``limits.domainsPerList``) and ``<policy>-everything`` (``.``); an ``Allow`` rule per allowed list (priorities 100,
101...) and the catch-all rule ``everything-else`` on ``.`` at 65000 (``Block``, or ``Alert`` in ``mode: alert``);
one virtual network link per VNet. Azure's block answer is not configurable in the API this renders (2025-05-01:
``DnsSecurityRuleAction`` has ``actionType`` only). CNAME chains are "chased": a rule applies to a query when it
applies to any name of its chain, so vendor names that CNAME into CDNs resolve through their allowed first name.

Rules reference domain lists by ARM id with the placeholder ``{subscriptionId}`` (as rules reference IP Groups);
the component substitutes each list's id, the ARM template ``resourceId()``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from ...config.dns_config import AzureDnsConfig, AzureDnsLimits, DnsMode
from ...planning.rules import Plan
from ..dns_names import (
    DnsList,
    DnsName,
    DnsRule,
    fold,
    layer_warnings,
    limit_problems,
    parents,
    select_names,
    shard,
)
from ..findings import DNS_BELOW_NAME, DNS_WILDCARD_APEX, Finding, kind_titles
from .model import SUBSCRIPTION_PLACEHOLDER, RenderError

API_VERSION = "2025-05-01"  # the REST spec the bodies are checked against (tests/fixtures/azure/dns-spec)
POLICY = "Microsoft.Network/dnsResolverPolicies"
DOMAIN_LIST = "Microsoft.Network/dnsResolverDomainLists"
RULE = "Microsoft.Network/dnsResolverPolicies/dnsSecurityRules"
LINK = "Microsoft.Network/dnsResolverPolicies/virtualNetworkLinks"
ALLOW_PRIORITY = 100
CATCH_ALL_PRIORITY = 65000
CATCH_ALL_RULE = "everything-else"
EVERY_NAME = "."  # Microsoft: "a rule that applies to the "." domain" applies to all domains
# Names of the policy, its lists, rules and links (ARM schema 2025-05-01 Microsoft.Network.DnsResolver.json)
NAME_RE = re.compile(r"[a-zA-Z0-9]([a-zA-Z0-9_\-]{0,78}[a-zA-Z0-9])?")
DOMAIN_LIST_ID = "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/" + DOMAIN_LIST + "/{name}"
BELOW_REASON = (
    'widened: Azure DNS domain lists match a domain and every name below it ("Rules follow the DNS hierarchy"): '
    "{domain} also resolves every name under {domain}, which the catalogue does not list"
)
APEX_REASON = (
    'widened: Azure DNS domain lists cannot say "subdomains only": {domain} (for *.{domain}) also resolves {domain} '
    "itself"
)


def _chase_risk() -> dict[str, object]:
    """The summary's residual risk of CNAME chasing; built per call: a summary's risks are its own to change."""
    return {
        "risk": "cname-chase",
        "text": "Azure applies a rule to a query when it applies to any name of the query's CNAME chain: a name "
        "outside the lists whose chain leads to an allowed name resolves, and Microsoft does not say whether such a "
        "query leaves for the name's own servers before the chain is known",
    }


def _child_name(policy: str, name: str) -> str:
    """A rule's or link's name in a template: ``policy/name``, written as an expression (the schema's name
    pattern takes the leaf name only; the firewall groups' names are written the same way)."""
    return f"[concat('{policy}', '/', '{name}')]"


def domain_list_id(resource_group: str, name: str, subscription: str = SUBSCRIPTION_PLACEHOLDER) -> str:
    return DOMAIN_LIST_ID.format(subscription=subscription, resource_group=resource_group, name=name)


def _arm_name(text: str) -> str:
    """``text`` as an ARM name of these resources (letters, digits, '_', '-'; ends with a letter or digit; <= 80),
    shortened with a hash when it must be."""
    clean = re.sub(r"[^a-zA-Z0-9_-]", "-", text).strip("-_")
    if NAME_RE.fullmatch(clean) and clean == text:
        return clean
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{clean[:70].strip('-_')}-{digest}"


@dataclass(frozen=True)
class VnetLink:
    name: str
    vnet_id: str


@dataclass(frozen=True)
class AzureDnsRender:
    mode: DnsMode
    resource_group: str
    location: str
    policy: str
    lists: tuple[DnsList, ...]  # the allowed lists, then the catch-all list
    rules: tuple[DnsRule, ...]  # by priority
    links: tuple[VnetLink, ...]
    names: tuple[DnsName, ...]
    widened: tuple[Finding, ...]
    not_resolved: tuple[Finding, ...]
    warnings: tuple[str, ...]
    limits: AzureDnsLimits

    def list_id(self, name: str) -> str:
        return domain_list_id(self.resource_group, name)

    def policy_body(self) -> dict[str, Any]:
        return {"name": self.policy, "location": self.location, "properties": {}}

    def list_body(self, dl: DnsList) -> dict[str, Any]:
        return {"name": dl.name, "location": self.location, "properties": {"domains": list(dl.domains)}}

    def rule_body(self, rule: DnsRule) -> dict[str, Any]:
        return {
            "name": rule.name,
            "location": self.location,
            "properties": {
                "priority": rule.priority,
                "action": {"actionType": rule.action},
                "dnsResolverDomainLists": [{"id": self.list_id(rule.domain_list)}],
                "dnsSecurityRuleState": "Enabled",
            },
        }

    def link_body(self, link: VnetLink) -> dict[str, Any]:
        return {"name": link.name, "location": self.location, "properties": {"virtualNetwork": {"id": link.vnet_id}}}

    def bodies(self) -> dict[str, dict[str, Any]]:
        """``azure/dns/...`` path -> ARM body (``name``, ``location``, ``properties``)."""
        out = {f"azure/dns/{self.policy}.json": self.policy_body()}
        out.update({f"azure/dns/domain-lists/{dl.name}.json": self.list_body(dl) for dl in self.lists})
        out.update({f"azure/dns/rules/{r.name}.json": self.rule_body(r) for r in self.rules})
        out.update({f"azure/dns/virtual-network-links/{link.name}.json": self.link_body(link) for link in self.links})
        return out

    def files(self) -> dict[str, str]:
        return {path: json.dumps(body, indent=2, ensure_ascii=False) + "\n" for path, body in self.bodies().items()}

    def template_resources(self) -> list[dict[str, Any]]:
        """The same bodies as ARM template resources: the policy and the lists first, each rule after its list and
        the policy (the catch-all after every allow rule), each link after every rule, so that no VNet is ever
        linked to a policy whose allow rules are not there yet."""
        policy_id = f"[resourceId('{POLICY}', '{self.policy}')]"
        list_ref = {dl.name: f"[resourceId('{DOMAIN_LIST}', '{dl.name}')]" for dl in self.lists}
        rule_refs = [f"[resourceId('{RULE}', '{self.policy}', '{r.name}')]" for r in self.rules]
        out: list[dict[str, Any]] = [{"type": POLICY, "apiVersion": API_VERSION, **self.policy_body()}]
        out += [{"type": DOMAIN_LIST, "apiVersion": API_VERSION, **self.list_body(dl)} for dl in self.lists]
        for i, rule in enumerate(self.rules):
            body = self.rule_body(rule)
            body["properties"]["dnsResolverDomainLists"] = [{"id": list_ref[rule.domain_list]}]
            after = [policy_id, list_ref[rule.domain_list]] + (rule_refs[:i] if i == len(self.rules) - 1 else [])
            out.append(
                {
                    "type": RULE,
                    "apiVersion": API_VERSION,
                    **body,
                    "name": _child_name(self.policy, rule.name),
                    "dependsOn": after,
                }
            )
        out += [
            {
                "type": LINK,
                "apiVersion": API_VERSION,
                **self.link_body(link),
                "name": _child_name(self.policy, link.name),
                "dependsOn": [policy_id, *rule_refs],
            }
            for link in self.links
        ]
        return out

    def summary(self) -> dict[str, Any]:
        allowed = [dl for dl in self.lists if dl.domains != (EVERY_NAME,)]

        def used(n: int, most: int) -> dict[str, Any]:
            return {"used": n, "max": most}

        return {
            "service": "Azure DNS security policy",
            "mode": self.mode.value,
            "policy": self.policy,
            "location": self.location,
            "names": len(self.names),
            "extraNames": [n.name for n in self.names if "extraNames" in n.entries],
            "domainLists": [{"name": dl.name, "domains": len(dl.domains)} for dl in self.lists],
            "rules": [
                {"name": r.name, "priority": r.priority, "action": r.action, "domainList": r.domain_list}
                for r in self.rules
            ],
            "catchAll": {"action": self.rules[-1].action, "blockResponse": "not configurable (API 2025-05-01)"},
            "virtualNetworks": [link.vnet_id for link in self.links],
            "limits": {
                "domainsPerList": used(
                    max((len(dl.domains) for dl in allowed), default=0), self.limits.domains_per_list
                ),
                "domainLists": used(len(self.lists), self.limits.domain_lists_max),
                "domains": used(sum(len(dl.domains) for dl in self.lists), self.limits.domains_max),
                "rulesPerPolicy": used(len(self.rules), self.limits.rules_per_policy),
            },
            "widened": [f.to_json() for f in self.widened],
            "notResolved": [f.to_json() for f in self.not_resolved],
            "findingKinds": kind_titles([*self.widened, *self.not_resolved]),
            "residualRisks": [_chase_risk()],
            "warnings": list(self.warnings),
        }


def firewall_names(groups_or_classic: list[dict[str, Any]]) -> set[str]:
    """The names Azure Firewall rules pass traffic to: application rules' ``targetFqdns`` and network rules'
    ``destinationFqdns``, from rendered rule collections (policy groups' or classic)."""
    return {
        fqdn
        for collection in groups_or_classic
        for rule in collection.get("rules", collection.get("properties", {}).get("rules", []))
        for fqdn in (*rule.get("targetFqdns", ()), *rule.get("destinationFqdns", ()))
    }


def _widened(folded: dict[str, list[DnsName]], every: list[DnsName]) -> list[Finding]:
    """What each written domain resolves beyond the catalogue's meaning of the names it stands for."""
    exact = {n.name for n in every if not n.wildcard}
    wild_bases = {n.base for n in every if n.wildcard}
    out = []
    for domain, members in folded.items():
        under_wildcard = any(p in wild_bases for p in parents(domain))
        below_listed = domain in wild_bases or under_wildcard  # every name below the domain is the catalogue's
        apex_listed = domain in exact or under_wildcard  # the domain itself is
        for n in members:
            if n.base != domain:
                continue  # a name folded under another domain: that domain's own names carry the finding
            if not n.wildcard and not below_listed:
                out += [Finding(e, n.name, BELOW_REASON.format(domain=domain), DNS_BELOW_NAME) for e in n.entries]
            if n.wildcard and not apex_listed:
                out += [Finding(e, n.name, APEX_REASON.format(domain=domain), DNS_WILDCARD_APEX) for e in n.entries]
    return out


def render_azure_dns(
    plan: Plan, dns: AzureDnsConfig, name_prefix: str, resource_group: str, location: str, passed: set[str]
) -> AzureDnsRender:
    """The DNS layer for the Azure firewall of ``plan``; ``passed``: the names its rules pass traffic to
    (:func:`firewall_names`)."""
    names, not_resolved = select_names(
        plan, passed, "azure", "no Azure Firewall rule of this stack matches it", dns.extra_names
    )
    policy = dns.policy_name or _arm_name(f"{name_prefix}-dns")
    folded = fold(names, lambda n: n.base, parents)
    lists = shard(folded, dns.limits.domains_per_list, _arm_name(f"{policy}-allowed")) if folded else []
    everything = DnsList(_arm_name(f"{policy}-everything"), (EVERY_NAME,))
    allowed_base = _arm_name(f"{policy}-allowed")
    rules = [
        DnsRule("allow" + dl.name.removeprefix(allowed_base), ALLOW_PRIORITY + i, "Allow", dl.name)
        for i, dl in enumerate(lists)
    ]
    rules.append(
        DnsRule(CATCH_ALL_RULE, CATCH_ALL_PRIORITY, "Block" if dns.mode is DnsMode.BLOCK else "Alert", everything.name)
    )
    render = AzureDnsRender(
        mode=dns.mode,
        resource_group=resource_group,
        location=location,
        policy=policy,
        lists=(*lists, everything),
        rules=tuple(rules),
        links=_links(dns.virtual_network_ids),
        names=tuple(names),
        widened=tuple(sorted(set(_widened(folded, names)))),
        not_resolved=tuple(sorted(set(not_resolved))),
        warnings=tuple(layer_warnings(dns.mode, lists, "the policy's DNS query logs")),
        limits=dns.limits,
    )
    _check(render)
    return render


def _links(vnet_ids: tuple[str, ...]) -> tuple[VnetLink, ...]:
    leaf = {v: v.rstrip("/").rsplit("/", 1)[-1] for v in vnet_ids}
    clash = {n for n in leaf.values() if list(leaf.values()).count(n) > 1}
    return tuple(
        VnetLink(_arm_name(f"link-{leaf[v]}" if leaf[v] not in clash else f"link-{leaf[v]}-{v.lower()}"), v)
        for v in vnet_ids
    )


def _check(render: AzureDnsRender) -> None:
    limits = render.limits
    names = [render.policy, *(dl.name for dl in render.lists), *(r.name for r in render.rules)]
    names += [link.name for link in render.links]
    counts = [
        (len(render.rules), limits.rules_per_policy, "rulesPerPolicy"),
        (len(render.lists), limits.domain_lists_max, "domainListsMax"),
        (sum(len(dl.domains) for dl in render.lists), limits.domains_max, "domainsMax"),
    ]
    problems = limit_problems(names, NAME_RE, "letters, digits, '_', '-'; at most 80", counts)
    priorities = [r.priority for r in render.rules]
    if not all(limits.priority_min <= p <= limits.priority_max for p in priorities):
        problems.append(f"rule priorities {priorities} outside {limits.priority_min}..{limits.priority_max}")
    if problems:
        raise RenderError("DNS security policy: " + "; ".join(problems))
