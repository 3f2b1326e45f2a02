"""The DNS layer's stack checks (docs/dns.md): no allow rule of a DNS filter that lets every name resolve
(``dns-no-allow-all``, mandatory), and a catch-all that only alerts (``dns-alert-only``, advisory: the rollout
state, allowed on purpose in a staged rollout, but nothing is blocked yet).

A rule's domain lists are the lists of the stack it depends on (``propertyDependencies`` of its list input when
the engine gives them, else its dependencies): an AWS ``ResolverFirewallRule`` (``firewallDomainListId``), an Azure
``DnsSecurityRule`` (``dnsResolverDomainLists``). Every name: AWS ``*``, Azure ``.``. Every name under a public
suffix: AWS ``*.com``; Azure ``com`` (an Azure entry matches its domain and every name below it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..components.resource_types import AWS_DNS_DOMAIN_LIST, AWS_DNS_RULE, AZURE_DNS_DOMAIN_LIST, AZURE_DNS_RULE
from ..endpoints.names import is_public_suffix
from .props import Config, _get, _lower, _strings

if TYPE_CHECKING:  # the stack checks module imports this one
    from .stack_checks import StackFinding, StackResource

_LIST_INPUT = {AWS_DNS_RULE: "firewallDomainListId", AZURE_DNS_RULE: "dnsResolverDomainLists"}
_EVERY_NAME = {AWS_DNS_RULE: "*", AZURE_DNS_RULE: "."}


def _action(rule: StackResource) -> str:
    action = _get(rule.props, "action")
    return _lower(_get(action, "actionType") if rule.type == AZURE_DNS_RULE else action)


def _lists(rule: StackResource, by_urn: dict[str, StackResource]) -> list[StackResource]:
    linked = rule.property_dependencies.get(_LIST_INPUT[rule.type]) or rule.dependencies or ()
    kinds = (AWS_DNS_DOMAIN_LIST, AZURE_DNS_DOMAIN_LIST)
    return [by_urn[u] for u in linked if u in by_urn and by_urn[u].type in kinds]


def _too_wide(domain: str, rule_type: str) -> str | None:
    text = domain.strip().lower()
    if text in ("*", ".", "*.", ""):
        return "every name"
    base = text.removeprefix("*.").rstrip(".") if rule_type == AWS_DNS_RULE else text.rstrip(".")
    if rule_type == AWS_DNS_RULE and not text.startswith("*."):
        return None  # an exact AWS entry is that name only
    if is_public_suffix(base):
        return f"every name under the public suffix {base!r}"
    return None


def _rules(resources: Sequence[StackResource], action: str):
    by_urn = {r.urn: r for r in resources}
    for rule in resources:
        if rule.type in _LIST_INPUT and _action(rule) == action:
            yield rule, _lists(rule, by_urn)


def check_dns_no_allow_all(resources: Sequence[StackResource], config: Config = None) -> list[StackFinding]:
    """Allow rules whose domain lists let every name (or every name under a public suffix) resolve."""
    findings: list[StackFinding] = []
    for rule, lists in _rules(resources, "allow"):
        for dl in lists:
            for domain in _strings(dl.props, "domains"):
                wide = _too_wide(domain, rule.type)
                if wide:
                    findings.append((rule.urn, f"allows {wide}: domain {domain!r} of list {dl.name} (a DNS allow-all)"))
    return findings


def check_dns_alert_only(resources: Sequence[StackResource], config: Config = None) -> list[StackFinding]:
    """Catch-all rules (on every name) that only alert: every name still resolves."""
    return [
        (
            rule.urn,
            "the catch-all only alerts, so every name still resolves (dns mode alert: read the query "
            "logs, then set mode: block)",
        )
        for rule, lists in _rules(resources, "alert")
        if any(_EVERY_NAME[rule.type] in _strings(dl.props, "domains") for dl in lists)
    ]


DNS_STACK_CHECKS = {"dns-no-allow-all": check_dns_no_allow_all, "dns-alert-only": check_dns_alert_only}
