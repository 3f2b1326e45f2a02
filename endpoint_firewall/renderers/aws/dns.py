"""Plan -> Route 53 Resolver DNS Firewall, as ``route53resolver`` API requests. Pure: no Pulumi, no I/O.

Layout (docs/dns.md explains each choice):

* domain lists ``<prefix>-dns-allowed`` (stable shards ``-N`` of at most ``limits.domainsPerList`` domains, the most
  one ``UpdateFirewallDomains`` request takes) holding the names the firewall passes (:mod:`..dns_names`) and the
  stack's ``extraNames``, written as the catalogue means them: ``x.com`` matches that name only, ``*.x.com`` every
  name below ``x.com`` and not ``x.com`` itself (so nothing is widened on AWS); ``<prefix>-dns-everything`` holds
  ``*``, every name.
* one rule group ``<prefix>-dns``: an ALLOW rule per allowed list (priorities 100, 101...), with
  ``FirewallDomainRedirectionAction`` TRUST_REDIRECTION_DOMAIN (vendor names CNAME into CDNs no catalogue lists; the
  name a device asks for is what is inspected), then the catch-all ``everything-else`` on ``*`` at priority
  :data:`CATCH_ALL_PRIORITY`: BLOCK with ``blockResponse`` (NODATA by default) in ``mode: block``, ALERT in
  ``mode: alert``. DNS Firewall evaluates a rule group's rules from the lowest priority, and the first match
  decides; a name no rule matches resolves.
* one association per VPC (``associationPriority``, ``mutationProtection``) and the VPC's firewall config
  (``FirewallFailOpen``: DISABLED unless ``failOpen``, i.e. queries DNS Firewall cannot evaluate are blocked).

Resource ids the requests need (a list's, the rule group's) are AWS's answers to the create calls: the requests
carry ``{domain-list:<name>}`` and ``{rule-group:<name>}`` there, which the deployment replaces.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from ...config.dns_config import AwsDnsConfig, AwsDnsLimits, DnsMode
from ...planning.rules import Plan, RuleKind
from ..dns_names import (
    EXTRA,
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
from ..findings import DNS_UNWRITABLE, Finding, kind_titles
from .model import AwsRenderError

ALLOW_PRIORITY = 100
CATCH_ALL_PRIORITY = 10000
CATCH_ALL_RULE = "everything-else"
EVERY_NAME = "*"  # a domain list entry matching every name
REDIRECTION = "TRUST_REDIRECTION_DOMAIN"
REDIRECTION_WHY = (
    'the ALLOW rules inspect only the first name of a CNAME/DNAME chain (AWS: TRUST_REDIRECTION_DOMAIN "inspects '
    'only the first domain in the redirection chain"; INSPECT_REDIRECTION_DOMAIN, the default, would need every '
    "CDN and Traffic Manager name a vendor's answer passes through in the list, names no catalogue lists). The name "
    "a device asks for, the one that would carry a tunnel's data, is always inspected; the chain is the vendor's "
    "zone's answer"
)
# Route 53 Resolver's names (CreateFirewallRuleGroup, CreateFirewallDomainList, CreateFirewallRule,
# AssociateFirewallRuleGroup: botocore route53resolver Name, max 64, pattern (?!^[0-9]+$)([a-zA-Z0-9\-_' ']+))
NAME_RE = re.compile(r"(?!^[0-9]+$)[a-zA-Z0-9\-_ ]{1,64}")
# UpdateFirewallDomains' domain specification: "It can optionally start with * (asterisk). With the exception of the
# optional starting asterisk, it must only contain the following characters: A-Z, a-z, 0-9, - (hyphen)" (and '.'
# between labels, developer guide "Managing your own domain lists"); 1-255 characters.
DOMAIN_RE = re.compile(r"(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*")
DOMAIN_CHARACTERS_REASON = (
    "not resolved: Route 53 Resolver DNS Firewall domains take letters, digits and hyphens only (UpdateFirewallDomains), "
    "so no domain list can hold this name"
)


def placeholder(kind: str, name: str) -> str:
    """Where a request needs the id AWS gives the named list or rule group (``{domain-list:<name>}``)."""
    return f"{{{kind}:{name}}}"


def _with_request_id(name: str, request: dict[str, Any]) -> dict[str, Any]:
    """The request with a ``CreatorRequestId`` that names it and changes with it (a retry of the same request is
    idempotent; a changed request is a new one)."""
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:12]
    return {"CreatorRequestId": f"{name}-{digest}", **request}


@dataclass(frozen=True)
class VpcAssociation:
    vpc_id: str
    name: str
    priority: int
    mutation_protection: bool


@dataclass(frozen=True)
class AwsDnsRender:
    mode: DnsMode
    rule_group: str
    lists: tuple[DnsList, ...]  # the allowed lists, then the catch-all list
    rules: tuple[DnsRule, ...]  # by priority
    associations: tuple[VpcAssociation, ...]
    fail_open: bool
    block_response: str
    names: tuple[DnsName, ...]
    not_resolved: tuple[Finding, ...]
    warnings: tuple[str, ...]
    limits: AwsDnsLimits
    widened: tuple[Finding, ...] = ()  # AWS's domain lists say exactly "this name" and "names below it"

    def _rule_request(self, rule: DnsRule) -> dict[str, Any]:
        request: dict[str, Any] = {
            "FirewallRuleGroupId": placeholder("rule-group", self.rule_group),
            "FirewallDomainListId": placeholder("domain-list", rule.domain_list),
            "Priority": rule.priority,
            "Action": rule.action,
            "Name": rule.name,
        }
        if rule.action == "BLOCK":
            request["BlockResponse"] = self.block_response
        if rule.action == "ALLOW":
            request["FirewallDomainRedirectionAction"] = REDIRECTION
        return _with_request_id(rule.name, request)

    def requests(self) -> dict[str, dict[str, Any]]:
        """``aws/dns/...`` path -> the API requests that make that resource, by operation name, in call order."""
        out: dict[str, dict[str, Any]] = {}
        for dl in self.lists:
            out[f"aws/dns/domain-lists/{dl.name}.json"] = {
                "CreateFirewallDomainList": _with_request_id(dl.name, {"Name": dl.name}),
                "UpdateFirewallDomains": {
                    "FirewallDomainListId": placeholder("domain-list", dl.name),
                    "Operation": "REPLACE",
                    "Domains": list(dl.domains),
                },
            }
        out[f"aws/dns/rule-groups/{self.rule_group}.json"] = {
            "CreateFirewallRuleGroup": _with_request_id(self.rule_group, {"Name": self.rule_group}),
            "CreateFirewallRule": [self._rule_request(r) for r in self.rules],
        }
        for a in self.associations:
            out[f"aws/dns/vpcs/{a.vpc_id}.json"] = {
                "AssociateFirewallRuleGroup": _with_request_id(
                    a.name,
                    {
                        "FirewallRuleGroupId": placeholder("rule-group", self.rule_group),
                        "VpcId": a.vpc_id,
                        "Priority": a.priority,
                        "Name": a.name,
                        "MutationProtection": "ENABLED" if a.mutation_protection else "DISABLED",
                    },
                ),
                "UpdateFirewallConfig": {
                    "ResourceId": a.vpc_id,
                    "FirewallFailOpen": "ENABLED" if self.fail_open else "DISABLED",
                },
            }
        return out

    def files(self) -> dict[str, str]:
        return {path: json.dumps(body, indent=2, ensure_ascii=False) + "\n" for path, body in self.requests().items()}

    def summary(self) -> dict[str, Any]:
        allowed = [dl for dl in self.lists if dl.domains != (EVERY_NAME,)]
        domains = sum(len(dl.domains) for dl in self.lists)

        def used(n: int, most: int) -> dict[str, Any]:
            return {"used": n, "max": most}

        return {
            "service": "Route 53 Resolver DNS Firewall",
            "mode": self.mode.value,
            "ruleGroup": self.rule_group,
            "names": len(self.names),
            "extraNames": [n.name for n in self.names if EXTRA in n.entries],
            "domainLists": [{"name": dl.name, "domains": len(dl.domains)} for dl in self.lists],
            "rules": [
                {"name": r.name, "priority": r.priority, "action": r.action, "domainList": r.domain_list}
                for r in self.rules
            ],
            "catchAll": {"action": self.rules[-1].action, "blockResponse": self.block_response},
            "redirection": {"action": REDIRECTION, "why": REDIRECTION_WHY},
            "vpcs": [
                {
                    "vpcId": a.vpc_id,
                    "association": a.name,
                    "priority": a.priority,
                    "mutationProtection": a.mutation_protection,
                }
                for a in self.associations
            ],
            "failOpen": self.fail_open,
            "limits": {
                "domainsPerList": used(
                    max((len(dl.domains) for dl in allowed), default=0), self.limits.domains_per_list
                ),
                "domainLists": used(len(self.lists), self.limits.domain_lists_per_account),
                "domains": used(domains, self.limits.domains_per_account),
                "rulesPerGroup": used(len(self.rules), self.limits.rules_per_group),
            },
            "widened": [f.to_json() for f in self.widened],
            "notResolved": [f.to_json() for f in self.not_resolved],
            "findingKinds": kind_titles([*self.widened, *self.not_resolved]),
            "warnings": list(self.warnings),
        }


def aws_covers(domain: str) -> list[str]:
    """The domains that would cover ``domain`` in a list: the wildcards on its proper parents, outermost first."""
    return ["*." + p for p in parents(domain)]


def render_aws_dns(plan: Plan, dns: AwsDnsConfig, name_prefix: str) -> AwsDnsRender:
    """The DNS layer for the AWS firewall of ``plan`` (see the module docstring)."""
    passed = {d for r in plan.rules if r.kind is RuleKind.HOSTNAME for d in r.destinations}
    names, not_resolved = select_names(
        plan, passed, "aws", "AWS Network Firewall matches names only in HTTP Host and TLS SNI", dns.extra_names
    )
    writable = [n for n in names if DOMAIN_RE.fullmatch(n.name) and len(n.name) <= 255]
    unwritable = [n for n in names if not (DOMAIN_RE.fullmatch(n.name) and len(n.name) <= 255)]
    not_resolved += [
        Finding(e, n.name, DOMAIN_CHARACTERS_REASON, DNS_UNWRITABLE) for n in unwritable for e in n.entries
    ]
    base = f"{name_prefix}-dns"
    folded = fold(writable, lambda n: n.name, aws_covers)
    lists = shard(folded, dns.limits.domains_per_list, f"{base}-allowed") if folded else []
    everything = DnsList(f"{base}-everything", (EVERY_NAME,))
    rules = [
        DnsRule("allow" + dl.name.removeprefix(f"{base}-allowed"), ALLOW_PRIORITY + i, "ALLOW", dl.name)
        for i, dl in enumerate(lists)
    ]
    catch_all = "BLOCK" if dns.mode is DnsMode.BLOCK else "ALERT"
    rules.append(DnsRule(CATCH_ALL_RULE, CATCH_ALL_PRIORITY, catch_all, everything.name))
    associations = tuple(
        VpcAssociation(vpc, f"{name_prefix}-{vpc}", dns.association_priority, dns.mutation_protection)
        for vpc in dns.vpc_ids
    )
    render = AwsDnsRender(
        mode=dns.mode,
        rule_group=base,
        lists=(*lists, everything),
        rules=tuple(rules),
        associations=associations,
        fail_open=dns.fail_open,
        block_response=dns.block_response,
        names=tuple(names),
        not_resolved=tuple(sorted(set(not_resolved))),
        warnings=tuple(_warnings(dns, lists)),
        limits=dns.limits,
    )
    _check(render)
    return render


def _warnings(dns: AwsDnsConfig, lists: list[DnsList]) -> list[str]:
    out = layer_warnings(dns.mode, lists, "the Resolver query logs")
    if dns.fail_open:
        out.append("failOpen: queries DNS Firewall cannot evaluate resolve unfiltered")
    return out


def _check(render: AwsDnsRender) -> None:
    limits = render.limits
    names = [render.rule_group, *(dl.name for dl in render.lists), *(r.name for r in render.rules)]
    names += [a.name for a in render.associations]
    counts = [
        (len(render.rules), limits.rules_per_group, "rulesPerGroup"),
        (len(render.lists), limits.domain_lists_per_account, "domainListsPerAccount"),
        (sum(len(dl.domains) for dl in render.lists), limits.domains_per_account, "domainsPerAccount"),
    ]
    problems = limit_problems(names, NAME_RE, "at most 64 letters, digits, '-', '_', ' '", counts)
    if problems:
        raise AwsRenderError("DNS Firewall: " + "; ".join(problems))
