"""Resource checks: ``check(resource_type, props, config=None) -> list[str]`` over one resource's inputs.

What an allow rule opens (``no-allow-any``, ``no-public-suffix-wildcard``), a classic firewall's DNS proxy
(``network-fqdn-needs-dns-proxy``) and an AWS rule group's capacity (``aws-capacity-headroom``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..components.resource_types import AWS_RULE_GROUP, AZURE_FIREWALL, AZURE_GROUP, AZURE_IP_GROUP
from ..renderers.suricata_text import ParsedRule, parse_suricata
from .addresses import _address_is_any, is_any_address, show_values, union_only_families
from .azure_rules import _azure_rules, _network_fqdn_rules
from .host_names import _name_problems, _suricata_host_problems
from .props import Config, _external_policies, _get, _is_map, _items, _lower, _strings, _true

RESOURCE_TYPES = (AZURE_GROUP, AZURE_FIREWALL, AZURE_IP_GROUP, AWS_RULE_GROUP)


_AZURE_DEST_ADDRESS_FIELDS = ("destinationAddresses",)
_AZURE_NAME_FIELDS = ("targetFqdns", "targetUrls", "destinationFqdns")


Problems = tuple[list[str], list[str], list[str]]  # (every address or name, public suffix, allow_any exceptions)


def _exceptions(config: Config) -> dict[str, str]:
    """``config["allowAnyExceptions"]``: rule name (an Azure rule's name; the first word of an AWS pass rule's
    msg) -> the justification of the catalogue entries whose ``allow_any`` made it reach every destination."""
    declared = _get(config, "allowAnyExceptions")
    return {str(k): str(v) for k, v in declared.items()} if _is_map(declared) else {}


def _excepted(problems: list[str], justification: str | None, out: Problems) -> None:
    """A rule's every-address problems: allow_any exceptions (advisory) when the rule is declared, else violations."""
    if justification is None:
        out[0].extend(problems)
    else:
        out[2].extend(f"{p} (allow_any exception: {justification})" for p in problems)


def _azure_problems(resource_type: str, props: Any, exceptions: dict[str, str]) -> Problems:
    out: Problems = ([], [], [])
    for rule in _azure_rules(resource_type, props):
        if not rule.allow:
            continue
        any_problems: list[str] = []
        suffix_problems = out[1]
        where = f"rule {rule.collection}/{rule.name}"
        for fld, side in [*((f, "destination") for f in _AZURE_DEST_ADDRESS_FIELDS), ("sourceAddresses", "source")]:
            values = _strings(rule.body, fld)
            for value in values:
                if is_any_address(value):
                    any_problems.append(f"{where}: {fld} {value!r} allows every {side}")
            for family in union_only_families(values):
                any_problems.append(
                    f"{where}: {fld} {show_values(values)} together cover every {family} address, "
                    f"so the rule allows every {side}"
                )
        for fld in _AZURE_NAME_FIELDS:
            for value in _strings(rule.body, fld):
                a, s = _name_problems(value, f"{where}: {fld}")
                any_problems += a
                suffix_problems += s
        _excepted(any_problems, exceptions.get(str(rule.name)), out)
    return out


def _ip_sets(group: Any) -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    variables = _get(group, "ruleVariables")
    for item in _items(variables, "ipSets"):
        key = _get(item, "key")
        if isinstance(key, str):
            sets[key] = _strings(_get(item, "ipSet"), "definitions")
    return sets


def _rule_key(rule: ParsedRule) -> str:
    """The first word of a rule's msg: the rule name the renderer starts every pass rule's msg with."""
    return (rule.option("msg") or "").strip('"').split(" ", 1)[0]


def _suricata_problems(
    rules: Iterable[ParsedRule], ip_sets: Mapping[str, Sequence[str]], exceptions: dict[str, str], out: Problems
) -> None:
    for rule in rules:
        if rule.action != "pass":
            continue
        any_problems: list[str] = []
        suffix_problems = out[1]
        sid = rule.option("sid")
        where = f"pass rule sid {sid}" if sid else f"pass rule {rule.text[:60]!r}"
        hosts = rule.host_matches()
        a, s = _suricata_host_problems(hosts, where)
        any_problems += a
        suffix_problems += s
        flow = {f.strip().lower() for f in (rule.option("flow") or "").split(",")}
        if rule.proto == "tcp" and "not_established" in flow:
            continue  # TCP handshakes only: the established-flow rules and default drop still decide
        dst_any = _address_is_any(rule.dst, ip_sets)
        src_any = _address_is_any(rule.src, ip_sets)
        if rule.bidirectional:  # '<>' allows both ways: either side open opens both
            dst_any = src_any = dst_any or src_any
        if dst_any and not hosts:
            any_problems.append(f"{where}: destination {rule.dst} with no host-name match allows every destination")
        if src_any:
            any_problems.append(f"{where}: source {rule.src} allows every source")
        _excepted(any_problems, exceptions.get(_rule_key(rule)), out)


def _set_exception(var: str, rules: list[ParsedRule], exceptions: dict[str, str]) -> str | None:
    """An IP set defined as every address is an exception when every pass rule that uses it is one."""
    users = [r for r in rules if r.action == "pass" and f"${var}" in f"{r.src} {r.dst}"]
    reasons = [exceptions.get(_rule_key(r)) for r in users]
    return "; ".join(sorted(set(reasons))) if users and all(reasons) else None  # type: ignore[arg-type]


def _aws_problems(props: Any, exceptions: dict[str, str]) -> Problems:
    group = _get(props, "ruleGroup")
    source = _get(group, "rulesSource")
    ip_sets = _ip_sets(group)
    out: Problems = ([], [], [])
    any_problems, suffix_problems = out[0], out[1]
    texts = [t for t in (_get(source, "rulesString"), _get(props, "rules")) if isinstance(t, str)]
    suricata = [r for t in texts for r in parse_suricata(t)]
    for var, definitions in sorted(ip_sets.items()):
        if var == "EXTERNAL_NET":  # the complement of HOME_NET (AWS wants both set): "outside", not an allow
            continue  # list; a rule that passes to it without a host match is still caught below
        wide = [f"IP set variable ${var} is defined as {d!r} (every address)" for d in definitions if is_any_address(d)]
        wide += [
            f"IP set variable ${var}: its definitions {show_values(definitions)} together cover every {family} address"
            for family in union_only_families(definitions)
        ]
        _excepted(wide, _set_exception(var, suricata, exceptions) if wide else None, out)
    domain_list = _get(source, "rulesSourceList")
    if _is_map(domain_list) and _lower(_get(domain_list, "generatedRulesType")) == "allowlist":
        for target in _strings(domain_list, "targets"):
            a, s = _name_problems(target, "domain-list target")
            any_problems += a
            suffix_problems += s
    # rulesSource.rulesString, and the provider's top-level `rules` (Suricata text) input
    _suricata_problems(suricata, ip_sets, exceptions, out)
    for i, rule in enumerate(_items(source, "statefulRules")):
        if _lower(_get(rule, "action")) != "pass":
            continue
        header = _get(rule, "header")
        if _address_is_any(str(_get(header, "destination") or "any"), ip_sets):
            any_problems.append(f"stateful rule {i}: PASS to {_get(header, 'destination')!r} allows every destination")
        if _address_is_any(str(_get(header, "source") or "any"), ip_sets):
            any_problems.append(f"stateful rule {i}: PASS from {_get(header, 'source')!r} allows every source")
    stateless = _get(source, "statelessRulesAndCustomActions")
    for i, rule in enumerate(_items(stateless, "statelessRules")):
        definition = _get(rule, "ruleDefinition")
        if "aws:pass" not in [_lower(a) for a in _strings(definition, "actions")]:
            continue
        match = _get(definition, "matchAttributes")
        for key, word in (("destinations", "to every destination"), ("sources", "from every source")):
            addresses = [_get(d, "addressDefinition") for d in _items(match, key)]
            texts = [a for a in addresses if isinstance(a, str)]
            if not addresses or any(is_any_address(a) for a in texts) or union_only_families(texts):
                any_problems.append(f"stateless rule {i}: aws:pass {word}")
    return out


def _problems(resource_type: str, props: Any, config: Config = None) -> Problems:
    exceptions = _exceptions(config)
    if resource_type in (AZURE_GROUP, AZURE_FIREWALL):
        return _azure_problems(resource_type, props, exceptions)
    if resource_type == AZURE_IP_GROUP:
        addresses = _strings(props, "ipAddresses")
        return (
            (
                [f"ipAddresses {v!r} is every address" for v in addresses if is_any_address(v)]
                + [
                    f"ipAddresses {show_values(addresses)} together cover every {family} address"
                    for family in union_only_families(addresses)
                ]
            ),
            [],
            [],
        )
    if resource_type == AWS_RULE_GROUP:
        return _aws_problems(props, exceptions)
    return [], [], []


# --- resource checks: (resource_type, props, config) -> messages ------------------------------------------


def check_no_allow_any(resource_type: str, props: Mapping[str, Any], config: Config = None) -> list[str]:
    """Allow rules to or from every address/name (policy ``no-allow-any``), but the declared allow_any exceptions."""
    return _problems(resource_type, props, config)[0]


def check_allow_any_exception(resource_type: str, props: Mapping[str, Any], config: Config = None) -> list[str]:
    """The declared allow_any exceptions, named with their justification (policy ``allow-any-exception``)."""
    return _problems(resource_type, props, config)[2]


def check_no_public_suffix_wildcard(resource_type: str, props: Mapping[str, Any], config: Config = None) -> list[str]:
    """Wildcards on a public suffix, or reaching past a label, in allow rules (policy ``no-public-suffix-wildcard``)."""
    return _problems(resource_type, props)[1]


def check_network_fqdn_dns_proxy(resource_type: str, props: Mapping[str, Any], config: Config = None) -> list[str]:
    """FQDN network rules without DNS proxy, where the resource itself tells (policy ``network-fqdn-needs-dns-proxy``).

    A classic ``AzureFirewall`` carries its DNS proxy switch; a rule collection group is judged only when its
    policy is declared in ``config["externalPolicies"]`` (the stack policy handles policies in the stack).
    """
    rules = _network_fqdn_rules(resource_type, props) if resource_type in (AZURE_GROUP, AZURE_FIREWALL) else []
    if not rules:
        return []
    if resource_type == AZURE_FIREWALL:
        extra = _get(props, "additionalProperties")
        enabled = _true(_get(extra, "Network.DNS.EnableProxy"))
        return (
            []
            if enabled
            else [
                f"network rules {', '.join(rules)} use destinationFqdns but the firewall's DNS proxy is off "
                "(additionalProperties['Network.DNS.EnableProxy'] is not 'true')"
            ]
        )
    policy = _get(props, "firewallPolicyName")
    declared = _external_policies(config)
    if isinstance(policy, str) and policy.lower() in declared and not declared[policy.lower()]:
        return [
            f"network rules {', '.join(rules)} use destinationFqdns but policy {policy!r} is declared "
            "without DNS proxy (externalPolicies)"
        ]
    return []


def rules_capacity(props: Mapping[str, Any]) -> int:
    """Capacity an AWS rule group's rules use (see ``aws-capacity-headroom`` in the package docstring)."""
    group = _get(props, "ruleGroup")
    source = _get(group, "rulesSource")
    used = 0
    domain_list = _get(source, "rulesSourceList")
    if _is_map(domain_list):
        targets, types = len(_strings(domain_list, "targets")), max(1, len(_strings(domain_list, "targetTypes")))
        used += targets * types + types
    for text in (_get(source, "rulesString"), _get(props, "rules")):
        if isinstance(text, str):
            used += len(parse_suricata(text))
    used += len(_items(source, "statefulRules"))
    stateless = _get(source, "statelessRulesAndCustomActions")
    for rule in _items(stateless, "statelessRules"):
        match = _get(_get(rule, "ruleDefinition"), "matchAttributes")
        cost = 1
        for key in ("sources", "destinations", "sourcePorts", "destinationPorts", "protocols", "tcpFlags"):
            cost *= max(1, len(_items(match, key)))
        used += cost
    return used


def check_aws_capacity(resource_type: str, props: Mapping[str, Any], config: Config = None) -> list[str]:
    """Capacity without headroom (policy ``aws-capacity-headroom``)."""
    if resource_type != AWS_RULE_GROUP:
        return []
    capacity = _get(props, "capacity")
    used = rules_capacity(props)
    if not isinstance(capacity, (int, float)) or isinstance(capacity, bool):
        return [f"capacity {capacity!r} is not a number; the rules use {used}"]
    headroom = _get(config, "minHeadroom")
    headroom = float(headroom) if isinstance(headroom, (int, float)) and not isinstance(headroom, bool) else 0.0
    needed = max(used + 1, math.ceil(used * (1 + headroom)))
    if capacity < needed:
        extra = f" with {headroom:.0%} headroom" if headroom else " with room to grow"
        return [
            f"capacity {int(capacity)} leaves no headroom: the rules use {used}, "
            f"so the capacity (fixed at creation) must be at least {needed}{extra}"
        ]
    return []


# Policies whose findings are advisory unless configured otherwise; every other policy is mandatory.
ADVISORY_POLICIES = ("allow-any-exception", "dns-alert-only")

RESOURCE_CHECKS: dict[str, Callable[..., list[str]]] = {
    "no-allow-any": check_no_allow_any,
    "allow-any-exception": check_allow_any_exception,
    "no-public-suffix-wildcard": check_no_public_suffix_wildcard,
    "network-fqdn-needs-dns-proxy": check_network_fqdn_dns_proxy,
    "aws-capacity-headroom": check_aws_capacity,
}


def validate_resource(resource_type: str, props: Mapping[str, Any], config: Config = None) -> list[str]:
    """Every resource check's messages for one resource, each prefixed with its policy name."""
    out: list[str] = []
    for name, check in RESOURCE_CHECKS.items():
        out += [f"{name}: {m}" for m in check(resource_type, props, _get(config, name))]
    return out
