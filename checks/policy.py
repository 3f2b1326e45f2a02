"""Deployment guardrails over the resources the components register: CrossGuard policies and ``epfw preview``.

The same checks run in two places:

* ``pulumi preview/up --policy-pack policy`` (CrossGuard): ``policy/__main__.py`` builds a ``PolicyPack``
  from :func:`pulumi_policies`, which wraps the plain functions below for ``pulumi_policy``;
* ``epfw preview``: :func:`validate_resources` over the records ``program/mock_runner.py`` makes under mocks.

Resource checks are plain functions ``check(resource_type, props, config=None) -> list[str]`` over the
resource's *inputs* with camelCase keys (what CrossGuard's resource validation and the mock records both
see). Stack checks take a list of :class:`StackResource`. Every policy is **mandatory** by default.

Policies (names as in the pack; override enforcement per policy with ``--policy-pack-config``):

``no-allow-any``
    No allow rule to ``*``, ``0.0.0.0/0``, ``::/0`` (any prefix-0 network, an address range covering every
    address, the ``Internet`` service tag) or from such sources: Azure application and network rules of
    ``Allow`` collections (``targetFqdns``, ``targetUrls``, ``destinationAddresses``, ``destinationFqdns``,
    ``sourceAddresses``), classic ``AzureFirewall`` collections, IP Groups' ``ipAddresses``, AWS
    ``ALLOWLIST`` domain lists (``.``, ``*``), AWS Suricata ``pass`` rules whose destination (or source)
    is ``any``/``0.0.0.0/0``/a negation/an IP set defined as every address/``$EXTERNAL_NET`` without a
    host-name match, 5-tuple ``PASS`` rules and stateless ``aws:pass`` rules with any destination.
    Deny and DNAT collections are not allow rules and are not checked. A catalogue entry with
    ``allow_any`` (a justified lab exception) is refused here too: disable the policy for that stack.
``no-public-suffix-wildcard``
    No wildcard on a public suffix (``*.com``, ``*.co.uk``, ``.azurewebsites.net`` in a domain list, a
    Suricata host match that is a suffix match on a public suffix), judged by
    ``endpoint_firewall.endpoints.names.is_public_suffix`` (the catalogue's own rule), on allow rules.
``network-fqdn-needs-dns-proxy`` (resource) and ``network-fqdn-needs-dns-proxy-stack`` (stack)
    A network rule with ``destinationFqdns`` needs the firewall's DNS proxy. A classic ``AzureFirewall``
    carries the setting itself (``additionalProperties["Network.DNS.EnableProxy"]``): checked per
    resource. A rule collection group does not: its policy's ``dnsSettings.enableProxy`` is checked by the
    stack policy when the ``FirewallPolicy`` is in the stack. For a policy managed outside the stack, declare
    it in the pack config, under both policy names: ``{"externalPolicies": {"<policy name>": {"dnsProxy":
    true|false}}}``; the resource policy then judges each group on it, and the stack policy refuses groups
    whose policy is neither in the stack nor declared (the proxy cannot be verified).
``rule-groups-serialized`` (stack)
    Azure refuses concurrent writes to one Firewall Policy, its rule collection groups and the IP Groups
    its rules reference. The members of each policy, in stack order, must each depend (directly or
    through other resources) on the previous one. CrossGuard's ``PolicyResource.dependencies`` gives the
    dependency graph; mock records give it only when the runner records ``urn`` and ``dependencies``
    (otherwise :func:`validate_resources` reports an advisory note that it could not check).
``aws-capacity-headroom``
    An AWS rule group's fixed ``capacity`` exceeds what its rules use: one per Suricata rule and 5-tuple
    rule, ``(domains x target types) + target types`` for a domain list (AWS's observed accounting), the
    product of match-setting sizes per stateless rule. Config ``minHeadroom`` (fraction, default 0) asks
    for more: ``capacity >= used * (1 + minHeadroom)`` as well as ``capacity > used``.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..endpoints.names import is_public_suffix

AZURE_GROUP = "azure-native:network:FirewallPolicyRuleCollectionGroup"
AZURE_POLICY = "azure-native:network:FirewallPolicy"
AZURE_FIREWALL = "azure-native:network:AzureFirewall"
AZURE_IP_GROUP = "azure-native:network:IpGroup"
AWS_RULE_GROUP = "aws:networkfirewall/ruleGroup:RuleGroup"
RESOURCE_TYPES = (AZURE_GROUP, AZURE_FIREWALL, AZURE_IP_GROUP, AWS_RULE_GROUP)

MANDATORY = "mandatory"
ADVISORY = "advisory"

Config = Mapping[str, Any] | None


# --- small helpers over props (plain dicts/lists, or pulumi_policy's unknown-checking proxies) ----------

def _is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


def _is_seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _get(data: Any, key: str) -> Any:
    return data.get(key) if _is_map(data) else None


def _items(data: Any, key: str) -> list[Any]:
    value = _get(data, key)
    return list(value) if _is_seq(value) else []


def _strings(data: Any, key: str) -> list[str]:
    return [v for v in _items(data, key) if isinstance(v, str)]


def _lower(value: Any) -> str:
    return value.lower() if isinstance(value, str) else ""


# --- what "every address" and "every name" look like ------------------------------------------------------

_ANY_WORDS = {"*", "any", "internet", "0/0"}


def is_any_address(value: str) -> bool:
    """``*``, ``any``, the ``Internet`` service tag, a prefix-0 network, or a range covering a whole family."""
    text = value.strip().lower()
    if text in _ANY_WORDS:
        return True
    if "-" in text and "/" not in text:
        first, _, last = text.partition("-")
        try:
            a, b = ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())
        except ValueError:
            return False
        full = ipaddress.ip_network("0.0.0.0/0" if a.version == 4 else "::/0")
        return a == full.network_address and b == full.broadcast_address
    try:
        return ipaddress.ip_network(text, strict=False).prefixlen == 0
    except ValueError:
        return False


def _name_problems(value: str, where: str) -> tuple[list[str], list[str]]:
    """(any-problems, public-suffix-problems) of one host pattern: ``*``, ``*.com``, ``.com``, ``*com``."""
    host = value.strip().lower().split("/", 1)[0]  # targetUrls are host/path
    if host.startswith(("*", ".")) or not host:
        base = host.lstrip("*.").rstrip(".")
        if not base:
            return [f"{where} {value!r} allows every name"], []
        if is_public_suffix(base):
            return [], [f"{where} {value!r} is a wildcard on the public suffix {base!r}"]
    return [], []


# --- Azure rule walking ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _AzureRule:
    collection: str
    name: str
    kind: str  # application | network | nat
    allow: bool
    body: Any


def _azure_rules(resource_type: str, props: Any) -> list[_AzureRule]:
    rules: list[_AzureRule] = []
    if resource_type == AZURE_GROUP:
        for coll in _items(props, "ruleCollections"):
            cname = str(_get(coll, "name") or "?")
            ctype = _lower(_get(coll, "ruleCollectionType"))
            action = _lower(_get(_get(coll, "action"), "type"))
            nat = "nat" in ctype or action == "dnat"
            for rule in _items(coll, "rules"):
                rtype = _lower(_get(rule, "ruleType"))
                kind = "nat" if nat or "nat" in rtype else "application" if "application" in rtype else "network"
                rules.append(_AzureRule(cname, str(_get(rule, "name") or "?"), kind, action == "allow" and not nat, rule))
    elif resource_type == AZURE_FIREWALL:
        for key, kind in (("applicationRuleCollections", "application"), ("networkRuleCollections", "network"),
                          ("natRuleCollections", "nat")):
            for coll in _items(props, key):
                body = _get(coll, "properties") if _is_map(_get(coll, "properties")) else coll
                cname = str(_get(coll, "name") or "?")
                action = _lower(_get(_get(body, "action"), "type"))
                for rule in _items(body, "rules"):
                    rules.append(_AzureRule(cname, str(_get(rule, "name") or "?"), kind,
                                            kind != "nat" and action == "allow", rule))
    return rules


_AZURE_DEST_ADDRESS_FIELDS = ("destinationAddresses",)
_AZURE_NAME_FIELDS = ("targetFqdns", "targetUrls", "destinationFqdns")


def _azure_problems(resource_type: str, props: Any) -> tuple[list[str], list[str]]:
    any_problems: list[str] = []
    suffix_problems: list[str] = []
    for rule in _azure_rules(resource_type, props):
        if not rule.allow:
            continue
        where = f"rule {rule.collection}/{rule.name}"
        for fld in _AZURE_DEST_ADDRESS_FIELDS:
            for value in _strings(rule.body, fld):
                if is_any_address(value):
                    any_problems.append(f"{where}: {fld} {value!r} allows every destination")
        for value in _strings(rule.body, "sourceAddresses"):
            if is_any_address(value):
                any_problems.append(f"{where}: sourceAddresses {value!r} allows every source")
        for fld in _AZURE_NAME_FIELDS:
            for value in _strings(rule.body, fld):
                a, s = _name_problems(value, f"{where}: {fld}")
                any_problems += a
                suffix_problems += s
    return any_problems, suffix_problems


# --- AWS: Suricata rules --------------------------------------------------------------------------------

_RULE_RE = re.compile(
    r"^\s*(?P<action>\w+)\s+(?P<proto>\S+)\s+(?P<src>\[[^\]]*\]|\S+)\s+(?P<sport>\[[^\]]*\]|\S+)\s+"
    r"(?P<dir>->|<>)\s+(?P<dst>\[[^\]]*\]|\S+)\s+(?P<dport>\[[^\]]*\]|\S+)\s*\((?P<opts>.*)\)\s*$")
_OPTION_RE = re.compile(r'\s*([A-Za-z0-9_.\-]+)\s*(?::\s*((?:"(?:[^"\\]|\\.)*")|(?:[^;"\\]|\\.)*))?\s*;')
_HOST_BUFFERS = {"tls.sni", "http.host", "http.host.raw", "dns.query", "quic.sni"}
_LEGACY_HOST_MODIFIERS = {"tls_sni", "http_host", "http_raw_host"}
_STICKY_PREFIXES = ("tls.", "http.", "dns.", "ssh.", "quic.", "file.", "ja3", "ja4", "smb.", "krb5", "sip.")


@dataclass(frozen=True)
class SuricataRule:
    action: str
    proto: str
    src: str
    dst: str
    bidirectional: bool
    options: tuple[tuple[str, str | None], ...]
    text: str

    def host_matches(self) -> list[tuple[str, set[str]]]:
        """(content, modifiers) of each ``content`` in a host-name buffer (``tls.sni``, ``http.host``...)."""
        matches: list[tuple[str, set[str], str | None]] = []
        buffer: str | None = None
        pending: set[str] = set()
        for name, value in self.options:
            key = name.lower()
            if key in _HOST_BUFFERS or key.startswith(_STICKY_PREFIXES) and value is None:
                buffer = key
            elif key == "pkt_data":
                buffer = None
            elif key == "dotprefix":
                pending.add("dotprefix")
            elif key == "content" and value is not None:
                matches.append((_unquote(value), set(pending), buffer))
                pending = set()
            elif key in _LEGACY_HOST_MODIFIERS and matches:
                content, mods, _ = matches[-1]
                matches[-1] = (content, mods, "tls.sni" if key == "tls_sni" else "http.host")
            elif key in ("startswith", "endswith", "nocase") and matches:
                matches[-1][1].add(key)
        return [(c, m) for c, m, b in matches if b in _HOST_BUFFERS]

    def option(self, name: str) -> str | None:
        for key, value in self.options:
            if key.lower() == name:
                return value if value is not None else ""
        return None


def _unquote(value: str) -> str:
    text = value.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    return text.replace('\\"', '"').replace("\\;", ";").replace("\\\\", "\\")


def parse_suricata(rules_string: str) -> list[SuricataRule]:
    """Rules of a rules string, one per line, comments and blank lines skipped; unparsable lines kept raw."""
    out: list[SuricataRule] = []
    for line in rules_string.splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = _RULE_RE.match(text)
        if not match:
            out.append(SuricataRule("?", "?", "?", "?", False, (), text))
            continue
        options = tuple((m.group(1), m.group(2).strip() if m.group(2) is not None else None)
                        for m in _OPTION_RE.finditer(match.group("opts")))
        out.append(SuricataRule(match.group("action").lower(), match.group("proto").lower(), match.group("src"),
                                match.group("dst"), match.group("dir") == "<>", options, text))
    return out


def _ip_sets(group: Any) -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    variables = _get(group, "ruleVariables")
    for item in _items(variables, "ipSets"):
        key = _get(item, "key")
        if isinstance(key, str):
            sets[key] = _strings(_get(item, "ipSet"), "definitions")
    return sets


def _address_is_any(spec: str, ip_sets: Mapping[str, Sequence[str]], seen: frozenset[str] = frozenset()) -> bool:
    """A Suricata address spec that stands for every address (or everything but some ranges)."""
    text = spec.strip()
    if text.startswith("[") and text.endswith("]"):
        return any(_address_is_any(part, ip_sets, seen) for part in _split_list(text[1:-1]))
    if text.startswith("!"):
        return True  # everything except some ranges: as wide as any for an allow rule
    if text.startswith("$"):
        var = text[1:]
        if var in seen:
            return False
        if var in ip_sets:
            return any(_address_is_any(d, ip_sets, seen | {var}) for d in ip_sets[var])
        return var.upper() == "EXTERNAL_NET"  # AWS default: every address outside HOME_NET
    return is_any_address(text)


def _split_list(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _suricata_problems(rules: Iterable[SuricataRule], ip_sets: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str]]:
    any_problems: list[str] = []
    suffix_problems: list[str] = []
    for rule in rules:
        if rule.action != "pass":
            continue
        sid = rule.option("sid")
        where = f"pass rule sid {sid}" if sid else f"pass rule {rule.text[:60]!r}"
        hosts = rule.host_matches()
        for content, mods in hosts:
            exact = "startswith" in mods and "endswith" in mods and "dotprefix" not in mods
            if exact:
                continue
            base = content.lower().strip().lstrip("*").strip(".")
            if not base:
                any_problems.append(f"{where}: host match {content!r} matches every name")
            elif is_public_suffix(base):
                suffix_problems.append(f"{where}: host match {content!r} is a suffix match on the public suffix {base!r}")
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
    return any_problems, suffix_problems


def _aws_problems(props: Any) -> tuple[list[str], list[str]]:
    group = _get(props, "ruleGroup")
    source = _get(group, "rulesSource")
    ip_sets = _ip_sets(group)
    any_problems: list[str] = []
    suffix_problems: list[str] = []
    for var, definitions in sorted(ip_sets.items()):
        for d in definitions:
            if is_any_address(d):
                any_problems.append(f"IP set variable ${var} is defined as {d!r} (every address)")
    domain_list = _get(source, "rulesSourceList")
    if _is_map(domain_list) and _lower(_get(domain_list, "generatedRulesType")) == "allowlist":
        for target in _strings(domain_list, "targets"):
            a, s = _name_problems(target, "domain-list target")
            any_problems += a
            suffix_problems += s
    rules_string = _get(source, "rulesString")
    if isinstance(rules_string, str):
        a, s = _suricata_problems(parse_suricata(rules_string), ip_sets)
        any_problems += a
        suffix_problems += s
    rules_string_top = _get(props, "rules")  # the provider's top-level `rules` (Suricata text) input
    if isinstance(rules_string_top, str):
        a, s = _suricata_problems(parse_suricata(rules_string_top), ip_sets)
        any_problems += a
        suffix_problems += s
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
            if not addresses or any(isinstance(a, str) and is_any_address(a) for a in addresses):
                any_problems.append(f"stateless rule {i}: aws:pass {word}")
    return any_problems, suffix_problems


def _problems(resource_type: str, props: Any) -> tuple[list[str], list[str]]:
    if resource_type in (AZURE_GROUP, AZURE_FIREWALL):
        return _azure_problems(resource_type, props)
    if resource_type == AZURE_IP_GROUP:
        return [f"ipAddresses {v!r} is every address" for v in _strings(props, "ipAddresses") if is_any_address(v)], []
    if resource_type == AWS_RULE_GROUP:
        return _aws_problems(props)
    return [], []


# --- resource checks: (resource_type, props, config) -> messages ------------------------------------------

def check_no_allow_any(resource_type: str, props: Mapping[str, Any], config: Config = None) -> list[str]:
    """Allow rules to or from every address/name (policy ``no-allow-any``)."""
    return _problems(resource_type, props)[0]


def check_no_public_suffix_wildcard(resource_type: str, props: Mapping[str, Any], config: Config = None) -> list[str]:
    """Wildcards on a public suffix in allow rules (policy ``no-public-suffix-wildcard``)."""
    return _problems(resource_type, props)[1]


def _network_fqdn_rules(resource_type: str, props: Any) -> list[str]:
    """``collection/rule`` of every network rule (any action) with ``destinationFqdns``."""
    return [f"{r.collection}/{r.name}" for r in _azure_rules(resource_type, props)
            if r.kind == "network" and _strings(r.body, "destinationFqdns")]


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _external_policies(config: Config) -> dict[str, bool]:
    declared = _get(config, "externalPolicies")
    if not _is_map(declared):
        return {}
    return {str(k).lower(): _true(_get(v, "dnsProxy")) if _is_map(v) else _true(v) for k, v in declared.items()}


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
        return [] if enabled else [
            f"network rules {', '.join(rules)} use destinationFqdns but the firewall's DNS proxy is off "
            "(additionalProperties['Network.DNS.EnableProxy'] is not 'true')"]
    policy = _get(props, "firewallPolicyName")
    declared = _external_policies(config)
    if isinstance(policy, str) and policy.lower() in declared and not declared[policy.lower()]:
        return [f"network rules {', '.join(rules)} use destinationFqdns but policy {policy!r} is declared "
                "without DNS proxy (externalPolicies)"]
    return []


def rules_capacity(props: Mapping[str, Any]) -> int:
    """Capacity an AWS rule group's rules use (see the module docstring for the accounting)."""
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
        return [f"capacity {int(capacity)} leaves no headroom: the rules use {used}, "
                f"so the capacity (fixed at creation) must be at least {needed}{extra}"]
    return []


RESOURCE_CHECKS: dict[str, Callable[..., list[str]]] = {
    "no-allow-any": check_no_allow_any,
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


# --- stack checks ----------------------------------------------------------------------------------------

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
        prop_deps = {k: tuple(d.urn for d in v) for k, v in (getattr(resource, "property_dependencies", None) or {}).items()}
        parent = getattr(resource, "parent", None)
        return cls(resource.resource_type, resource.name, resource.urn, resource.props, deps, prop_deps,
                   parent.urn if parent is not None else None)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> StackResource:
        deps = record.get("dependencies")
        urn = record.get("urn") or f"{record['type']}::{record['name']}"
        prop_deps = {k: tuple(v) for k, v in (record.get("propertyDependencies") or {}).items()}
        return cls(record["type"], record["name"], urn, record.get("inputs") or {},
                   tuple(deps) if deps is not None else None, prop_deps, record.get("parent"))


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


def _policy_key(resource: StackResource) -> tuple[str | None, str] | None:
    """(resource group, policy name) a group belongs to, lowercased; from inputs or its ARM id."""
    policy = _props_value(resource.props, "firewallPolicyName")
    group = _props_value(resource.props, "resourceGroupName")
    rid = _get(resource.props, "id")
    if not isinstance(policy, str) and isinstance(rid, str):
        m = _ID_PATTERNS["firewallPolicyName"].search(rid)
        policy = m.group(1) if m else None
    if not isinstance(group, str) and isinstance(rid, str):
        m = _ID_PATTERNS["resourceGroupName"].search(rid)
        group = m.group(1) if m else None
    if not isinstance(policy, str):
        return None
    return (group.lower() if isinstance(group, str) else None, policy.lower())


def _policy_resource_key(resource: StackResource) -> tuple[str | None, str] | None:
    name = _props_value(resource.props, "firewallPolicyName")
    if not isinstance(name, str):
        name = _get(resource.props, "name")
    group = _props_value(resource.props, "resourceGroupName")
    rid = _get(resource.props, "id")
    if not isinstance(group, str) and isinstance(rid, str):
        m = _ID_PATTERNS["resourceGroupName"].search(rid)
        group = m.group(1) if m else None
    if not isinstance(name, str):
        return None
    return (group.lower() if isinstance(group, str) else None, name.lower())


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
                findings.append((group.urn, f"{group.name}: network rules {listed} use destinationFqdns but "
                                            f"firewall policy {policy.name} has dnsSettings.enableProxy off"))
            continue
        key = _policy_key(group)
        if key is not None and key[1] in declared:
            continue  # declared external policy: the resource policy judges it
        name = key[1] if key else "?"
        findings.append((group.urn, f"{group.name}: network rules {listed} use destinationFqdns; policy {name!r} is "
                                    "not in this stack and not declared in externalPolicies, so its DNS proxy "
                                    "cannot be verified"))
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
        label = policy.name if policy is not None else (f"{key[0] or '?'}/{key[1]}" if key else f"parent {group.parent}")
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
        for previous, current in zip(members, members[1:]):
            if not _reaches(current.urn, previous.urn, graph):
                findings.append((current.urn, f"{current.name} does not depend on {previous.name}: both are on firewall "
                                              f"policy {label} and Azure refuses concurrent writes to one policy; "
                                              "chain them with depends_on"))
    return findings


STACK_CHECKS: dict[str, Callable[..., list[StackFinding]]] = {
    "network-fqdn-needs-dns-proxy-stack": check_stack_dns_proxy,
    "rule-groups-serialized": check_stack_serialized,
}


# --- epfw preview: every check over mock records --------------------------------------------------------

@dataclass(frozen=True)
class Violation:
    policy: str
    message: str
    resource_type: str | None = None
    resource_name: str | None = None
    enforcement: str = MANDATORY

    @property
    def mandatory(self) -> bool:
        return self.enforcement == MANDATORY

    def __str__(self) -> str:
        where = f"{self.resource_type.rsplit(':', 1)[-1]} {self.resource_name}: " if self.resource_name and self.resource_type else ""
        return f"[{self.enforcement}] {self.policy}: {where}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"policy": self.policy, "enforcement": self.enforcement, "type": self.resource_type,
                "name": self.resource_name, "message": self.message}


def validate_resources(resources: Sequence[Mapping[str, Any]], config: Mapping[str, Any] | None = None) -> list[Violation]:
    """Every policy over resource records ``{type, name, inputs (camelCase), custom[, urn, dependencies]}``.

    ``config`` is keyed by policy name like a CrossGuard pack config (``{"aws-capacity-headroom":
    {"minHeadroom": 0.2}}``); a policy set to ``"disabled"`` or ``{"enforcementLevel": "disabled"}`` is
    skipped, ``"advisory"`` downgrades its violations.
    """
    config = config or {}
    violations: list[Violation] = []

    def level(name: str) -> str:
        value = config.get(name)
        value = value.get("enforcementLevel") if isinstance(value, Mapping) else value
        return value if value in ("advisory", "mandatory", "disabled") else MANDATORY

    def options(name: str) -> Mapping[str, Any]:
        value = config.get(name)
        return value if isinstance(value, Mapping) else {}

    for record in resources:
        if not record.get("custom", True) or record["type"] not in RESOURCE_TYPES:
            continue
        for name, check in RESOURCE_CHECKS.items():
            if level(name) == "disabled":
                continue
            for message in check(record["type"], record.get("inputs") or {}, options(name)):
                violations.append(Violation(name, message, record["type"], record["name"], level(name)))
    stack = [StackResource.from_record(r) for r in resources]
    by_urn = {r.urn: r for r in stack}
    for name, check in STACK_CHECKS.items():
        if level(name) == "disabled":
            continue
        if name == "rule-groups-serialized" and any(r.dependencies is None for r in stack):
            if any(len(m) > 1 for m in policy_members(stack).values()):
                violations.append(Violation(name, "not checked: the resource records carry no dependencies "
                                                  "(the mock runner does not record them)", enforcement=ADVISORY))
            continue
        for urn, message in check(stack, options(name)):
            res = by_urn.get(urn) if urn else None
            violations.append(Violation(name, message, res.type if res else None, res.name if res else None, level(name)))
    return violations


# --- CrossGuard: the same checks as pulumi_policy policies ----------------------------------------------

POLICY_DESCRIPTIONS = {
    "no-allow-any": "No allow rule to or from every address or name (*, 0.0.0.0/0, ::/0, '.', any).",
    "no-public-suffix-wildcard": "No wildcard on a public suffix (*.com, .co.uk, *.azurewebsites.net).",
    "network-fqdn-needs-dns-proxy": "FQDN network rules need DNS proxy (classic firewall; declared external policies).",
    "aws-capacity-headroom": "AWS rule group capacity exceeds what its rules use.",
    "network-fqdn-needs-dns-proxy-stack": "FQDN network rules need their Firewall Policy's DNS proxy.",
    "rule-groups-serialized": "Rule collection groups and IP Groups of one Firewall Policy depend on each other in order.",
}

_EXTERNAL_SCHEMA = {"externalPolicies": {
    "type": "object", "description": "Firewall Policies managed outside the stack: name -> {dnsProxy: bool}",
    "additionalProperties": {"type": "object", "properties": {"dnsProxy": {"type": "boolean"}}}}}
CONFIG_SCHEMAS: dict[str, dict[str, Any]] = {
    "network-fqdn-needs-dns-proxy": _EXTERNAL_SCHEMA,
    "network-fqdn-needs-dns-proxy-stack": _EXTERNAL_SCHEMA,
    "aws-capacity-headroom": {"minHeadroom": {"type": "number", "minimum": 0, "default": 0,
                                              "description": "required spare capacity as a fraction of what is used"}},
}


def pulumi_policies() -> list[Any]:
    """The pack's ``pulumi_policy`` policies (imported here, lazily: the package does not need pulumi_policy)."""
    from pulumi_policy import (  # noqa: PLC0415
        PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy)

    def schema(name: str) -> Any:
        return PolicyConfigSchema(properties=CONFIG_SCHEMAS[name]) if name in CONFIG_SCHEMAS else None

    def resource_validator(check: Callable[..., list[str]]) -> Callable[[Any, Any], None]:
        def validate(args: Any, report_violation: Any) -> None:
            if args.resource_type not in RESOURCE_TYPES:
                return
            for message in check(args.resource_type, args.props, args.get_config()):
                report_violation(message, None)
        return validate

    def stack_validator(check: Callable[..., list[StackFinding]]) -> Callable[[Any, Any], None]:
        def validate(args: Any, report_violation: Any) -> None:
            resources = [StackResource.from_policy_resource(r) for r in args.resources]
            for urn, message in check(resources, args.get_config()):
                report_violation(message, urn)
        return validate

    policies: list[Any] = [
        ResourceValidationPolicy(name=name, description=POLICY_DESCRIPTIONS[name], validate=resource_validator(check),
                                 config_schema=schema(name))
        for name, check in RESOURCE_CHECKS.items()]
    policies += [
        StackValidationPolicy(name=name, description=POLICY_DESCRIPTIONS[name], validate=stack_validator(check),
                              config_schema=schema(name))
        for name, check in STACK_CHECKS.items()]
    return policies
