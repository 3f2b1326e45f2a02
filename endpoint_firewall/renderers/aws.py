"""Plan -> AWS Network Firewall stateful rule groups: ``CreateRuleGroup`` requests and Suricata rules.

Pure: no Pulumi, no network, no clock. The component (``components/aws_network_firewall.py``) deploys
exactly :func:`render_aws`'s requests; ``epfw render`` writes them as files; ``checks/suricata.py`` runs
their rules in the real Suricata engine.

Layout, per stack (a handful of groups, far below AWS's 20 stateful groups per policy, which the render checks:
``limits.statefulGroupsPerPolicy``):

* ``<prefix>-rules-<hash>``: a Suricata rules string (``RulesString``) with everything a domain list
  cannot say exactly: addresses and peers (IP set variables, ``flow:to_server``), names on other ports
  (``tls.sni``/``http.host`` with the port in the header) and, in ``exact`` mode, every name. It ends with
  the default deny (:func:`~.suricata_rules.default_deny_rules`): TLS at a complete ClientHello and HTTP
  at a complete request (so a hello split over two TCP segments is judged whole), other TCP at its first
  data, SYN data, server data on flows no rule passed, UDP, ICMP and other IP protocols at their first
  packet, IPv6 from outside HOME_NET. Every group sets ``HOME_NET`` and ``EXTERNAL_NET`` (its complement),
  and every render passes AWS's own rules (:mod:`.aws_compat`) and the policy quota (``policyCapacity``).
  ``DEFAULT_ACTION_ORDER`` has no policy default action, so this is the deny. In ``STRICT_ORDER`` the
  TLS/HTTP drops are left to the domain-list groups that follow (each ends with AWS's generated drop for
  its protocol) when there are any, and the policy's default action (``aws:drop_established_app_layer``
  unless configured otherwise) covers the rest; ``aws:drop_strict`` with name-based rules is refused (it
  drops the handshakes those rules need).
* ``domain-list`` mode only, ALLOWLIST domain lists for names whose services are all among http:80,
  https:443, tls:443 (HTTP_HOST for http, TLS_SNI for https/tls):

  - ``DEFAULT_ACTION_ORDER``: one group per distinct set of target types (``<prefix>-http-host-<hash>``,
    ``<prefix>-tls-sni-<hash>``, ``<prefix>-http-tls-<hash>``), so a name joins exactly one group and a
    one-name catalogue change updates one group. Sound because in this order every ``pass`` of every
    group wins over every ``drop``, including the default drops AWS generates for an allowlist.
  - ``STRICT_ORDER``: one group per protocol (``http-host`` at priority 200, ``tls-sni`` at 300, after
    the Suricata rules at 100). Here a group's generated default ``drop`` is evaluated where the group
    stands, so it must never precede a ``pass`` of a later group for the same protocol: with one list per
    protocol it cannot (the renderer checks it, :func:`_check_strict_order`).

Shards (``-2``, ``-3``...) appear when a group would pass ``capacity_max`` (with headroom),
``rules_string_max_bytes`` or, for an IP set, ``rule_max_chars`` in one rule (variables expanded).
Names end with a hash of the replacement-forcing properties (capacity, rule order, type), so a
replacement never collides with the group it replaces, and anything else keeps the name. Capacity is
``used x (1 + capacityHeadroom)`` rounded up to a multiple of 100, unless ``capacity`` pins a role: a pinned
group keeps its capacity (and name) while what it uses fits, and the render fails once it does not.

What these rules let through by design (a listed name at any address, the deny's pending bytes): README,
"Residual risks of the AWS rules", and the summary's ``residualRisks``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..config.stack_config import DEFAULT_STATEFUL_ACTIONS, AwsConfig, FqdnMode, RuleOrder
from ..endpoints.errors import EpfwError
from ..endpoints.models import Protocol, Service
from ..planning.rules import Plan, Rule, RuleKind
from .aws_compat import APP_LAYER_DROP_ACTIONS, AWS_RULES, GroupText
from .aws_compat import problems as compat_problems
from .findings import Finding, skipped_findings
from .sharding import stable_shards
from .suricata_rules import (
    HTTP_HOST,
    RESIDUAL_RISKS_DOC,
    SID_SPAN,
    TLS_SNI,
    SuricataRule,
    SuricataTextError,
    allocate_sids,
    default_deny_rules,
    deny_residuals,
    domain_list_rules,
    drop_traffic_class,
    expanded_length,
    name_match,
    port_spec,
    referenced_variables,
    variable_name,
)

CAPACITY_STEP = 100            # reserved capacity is a multiple of this
DESCRIPTION_MAX = 512
DOMAIN_LIST_SERVICES = frozenset({(Protocol.HTTP, 80), (Protocol.HTTPS, 443), (Protocol.TLS, 443)})
PRIORITY_BAND = {"rules": 100, "http-host": 200, "tls-sni": 300}  # STRICT_ORDER group priorities
LIST_ROLES = {(HTTP_HOST,): "http-host", (TLS_SNI,): "tls-sni", (HTTP_HOST, TLS_SNI): "http-tls"}
DEFAULT_POLICY_ACTIONS = DEFAULT_STATEFUL_ACTIONS  # STRICT_ORDER, when the policy is not configured here


# What a name rule (a domain list, a tls.sni or http.host pass) lets through by design (the summary's
# residualRisks; README, "Residual risks of the AWS rules")
NAME_RESIDUALS: list[dict[str, object]] = [
    {"risk": "name-any-address",
     "text": "a name rule passes the listed name at any destination address: a client can send the SNI or Host of "
             "a listed name to an arbitrary IP; an absolute-URI request (GET http://listed/...) passes whatever "
             "its Host header says; and once a connection is passed, later requests on it (keep-alive) are not "
             "judged"},
]


class AwsRenderError(EpfwError, ValueError):
    """The plan cannot be rendered within AWS's limits (the message says which and what to change)."""


@dataclass(frozen=True, eq=False)
class AwsRuleGroup:
    name: str
    role: str                 # rules, rules-2, http-host, tls-sni-2, ...
    kind: str                 # "rules" (RulesString) or "domain-list" (RulesSourceList)
    capacity: int             # reserved (fixed at creation)
    used: int                 # what the rules need
    request: dict[str, Any]   # CreateRuleGroup input
    rules_text: str           # the Suricata rules enforced (domain lists: AWS's generated form)
    priority: int | None      # STRICT_ORDER only
    rule_count: int
    variables: tuple[tuple[str, tuple[str, ...]], ...]  # IP sets, HOME_NET included, sorted by name
    targets: tuple[str, ...] = ()
    target_types: tuple[str, ...] = ()

    @property
    def rules(self) -> list[str]:
        return [line for line in self.rules_text.splitlines() if line.strip()]

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "role": self.role, "kind": self.kind,
                               "capacity": self.capacity, "capacityUsed": self.used, "rules": self.rule_count,
                               "priority": self.priority}
        if self.kind == "domain-list":
            out["targetTypes"] = list(self.target_types)
            out["targets"] = len(self.targets)
        else:
            out["variables"] = [name for name, _ in self.variables]
        return out


@dataclass(frozen=True, eq=False)
class AwsRender:
    groups: tuple[AwsRuleGroup, ...]
    widened: tuple[Finding, ...]
    not_expressible: tuple[Finding, ...]
    warnings: tuple[str, ...]
    skipped: tuple[Finding, ...] = ()  # the plan's skipped entries (references, P2P without peers, ...)
    rule_order: RuleOrder = RuleOrder.DEFAULT_ACTION_ORDER
    fqdn_mode: FqdnMode = FqdnMode.DOMAIN_LIST
    source_ranges: tuple[str, ...] = ()
    stateful_default_actions: tuple[str, ...] = ()  # STRICT_ORDER: what the policy does with the rest
    policy_name: str | None = None  # the firewall policy's physical name, when the policy is created here
    ipv6: dict[str, Any] = field(default_factory=dict)  # how devices' IPv6 is handled (:func:`ipv6_handling`)

    def files(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for group in self.groups:
            out[f"aws/{group.name}.json"] = json.dumps(group.request, indent=2, ensure_ascii=False) + "\n"
            out[f"aws/{group.name}.rules"] = _rules_file(group, self.rule_order)
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "ruleOrder": self.rule_order.value,
            "fqdnMode": self.fqdn_mode.value,
            "groups": [g.summary() for g in self.groups],
            "rules": sum(g.rule_count for g in self.groups),
            "capacityUsed": sum(g.used for g in self.groups),
            "capacityReserved": sum(g.capacity for g in self.groups),
            "statefulDefaultActions": list(self.stateful_default_actions),
            "firewallPolicyName": self.policy_name,
            "ipv6": self.ipv6,
            "widened": [f.to_json() for f in self.widened],
            "notExpressible": [f.to_json() for f in self.not_expressible],
            "skipped": [f.to_json() for f in self.skipped],
            "warnings": list(self.warnings),
            "residualRisks": {"explained": RESIDUAL_RISKS_DOC,
                              "risks": (NAME_RESIDUALS if _name_based(self.groups) else []) + deny_residuals()},
        }


def _rules_file(group: AwsRuleGroup, order: RuleOrder) -> str:
    head = [f"# rule group: {group.name} ({group.kind}), rule order {order.value}"
            + (f", priority {group.priority}" if group.priority is not None else "")]
    head.append(f"# capacity used: {group.used} of {group.capacity}")
    if group.kind == "domain-list":
        head.append(f"# domain list {', '.join(group.target_types)} (ALLOWLIST, {len(group.targets)} targets): "
                    "AWS generates these rules; shown in its documented form (AWS picks its own sids)")
    head.append("# variables: " + ", ".join(name for name, _ in group.variables))
    return "\n".join(head) + "\n" + group.rules_text


# --- capacity ------------------------------------------------------------------------------------------

def reserved_capacity(used: int, config: AwsConfig) -> int:
    """``ceil(used * (1 + headroom))`` rounded up to a multiple of 100, within [minimum, capacity_max]."""
    wanted = math.ceil(used * (1 + Fraction(str(config.capacity_headroom))))
    wanted = -(-wanted // CAPACITY_STEP) * CAPACITY_STEP
    return min(max(wanted, config.capacity_minimum, used), config.limits.capacity_max)


def units_per_group(config: AwsConfig) -> int:
    """The most capacity one group may use so that its headroom still fits under ``capacity_max``."""
    return max(1, math.floor(config.limits.capacity_max / (1 + Fraction(str(config.capacity_headroom)))))


def domain_list_capacity(targets: int, target_types: str | Sequence[str]) -> int:
    """AWS's guidance (the first domain costs 2 for HTTP, 1 for TLS, 3 for both; each further one 1 per
    protocol), and never less than the rules AWS generates (one per target and protocol, plus one default
    drop per protocol)."""
    types = (target_types,) if isinstance(target_types, str) else tuple(target_types)
    first = (2 if HTTP_HOST in types else 0) + (1 if TLS_SNI in types else 0)
    guidance = first + max(0, targets - 1) * len(types) if targets else 0
    return max(guidance, targets * len(types) + len(types))


def group_capacity(role: str, used: int, config: AwsConfig) -> int:
    """The reserved capacity of a group: its pin (``capacity.<role>``) while ``used`` fits it, else
    :func:`reserved_capacity`."""
    pinned = config.capacity.get(role)
    if pinned is None:
        return reserved_capacity(used, config)
    if used > pinned:
        raise AwsRenderError(
            f"group {role} now needs capacity {used}, more than its pinned capacity {pinned} (aws.capacity.{role}). "
            f"Raise the pin to at least {used} (e.g. {reserved_capacity(used, config)}, with capacityHeadroom): AWS "
            "fixes capacity at creation, so this replaces the group (a new name, created before the old one is "
            "deleted)")
    return pinned


def group_name(prefix: str, role: str, capacity: int, rule_order: RuleOrder) -> str:
    digest = hashlib.sha256(f"{capacity}|{rule_order.value}|STATEFUL".encode()).hexdigest()[:6]
    name = f"{prefix}-{role}-{digest}"
    assert len(name) <= 128, name
    return name


def policy_name(config: AwsConfig) -> str | None:
    """The firewall policy's physical name: ``firewallPolicy.name``, with a short hash of the rule order in
    ``STRICT_ORDER``. AWS cannot change a policy's rule order in place (the policy is replaced), and names are
    unique per account and region: with the hash, the replacement is created under another name before the
    old policy is deleted. ``DEFAULT_ACTION_ORDER`` keeps the bare name (what policies created before had)."""
    if config.firewall_policy is None:
        return None
    name = config.firewall_policy.name
    if config.rule_order is RuleOrder.STRICT_ORDER:
        name += "-" + hashlib.sha256(f"{config.rule_order.value}|POLICY".encode()).hexdigest()[:6]
    assert len(name) <= 128, name
    return name


# --- the plan, split into Suricata rules and domain lists ----------------------------------------------

@dataclass
class _Item:
    """A Suricata rule of the rules group, with the IP sets it defines."""

    rule: SuricataRule
    variables: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class _Collected:
    items: list[_Item] = field(default_factory=list)
    lists: dict[tuple[str, ...], dict[str, None]] = field(default_factory=lambda: {k: {} for k in LIST_ROLES})
    widened: set[Finding] = field(default_factory=set)
    not_expressible: set[Finding] = field(default_factory=set)
    listed_rules: list[tuple[Rule, tuple[str, ...]]] = field(default_factory=list)


def _target(host: str) -> str:
    return ("." + host[2:] if host.startswith("*.") else host).lower()


def _services_text(services: Iterable[Service]) -> str:
    return ", ".join(str(s) for s in services)


def _in_domain_lists(rule: Rule, mode: FqdnMode) -> bool:
    return mode is FqdnMode.DOMAIN_LIST and all(
        (s.protocol, s.port.first) in DOMAIN_LIST_SERVICES and s.port.first == s.port.last for s in rule.services)


def _target_types(services: Iterable[Service]) -> tuple[str, ...]:
    protocols = {s.protocol for s in services}
    types = []
    if Protocol.HTTP in protocols:
        types.append(HTTP_HOST)
    if protocols & {Protocol.HTTPS, Protocol.TLS}:
        types.append(TLS_SNI)
    return tuple(types)


def _name_rules(rule: Rule, destinations: Sequence[str]) -> list[_Item]:
    """Exact-port Suricata rules for host names: one per destination and buffer (HTTP Host, TLS SNI)."""
    http_ports = [(s.port.first, s.port.last) for s in rule.services if s.protocol is Protocol.HTTP]
    tls_ports = [(s.port.first, s.port.last) for s in rule.services
                 if s.protocol in (Protocol.HTTPS, Protocol.TLS)]
    items = []
    for dest in destinations:
        for proto, buffer, ports in (("http", "http.host", http_ports), ("tls", "tls.sni", tls_ports)):
            if not ports:
                continue
            spec = port_spec(ports)
            if dest == "*":  # an allow_any entry: every name on these ports
                match: tuple[str, ...] = ("ssl_state:client_hello",) if proto == "tls" else ()
                what = "any host"
            else:
                match = name_match(buffer, dest)
                what = dest
            items.append(_Item(SuricataRule(
                key=f"name|{rule.name}|{proto}|{dest}", action="pass", proto=proto, src="$HOME_NET",
                src_port="any", dst="any", dst_port=spec, options=("flow:to_server,established", *match),
                msg=f"{rule.name} {what} {proto}:{spec}")))
    return items


def _address_rules(rule: Rule, home: Sequence[str], config: AwsConfig, base: str) -> list[_Item]:
    """``pass tcp|udp $HOME_NET any -> $VAR ports (msg; sid)``, the set split so that no rule passes
    ``rule_max_chars`` once its variables are expanded.

    No ``flow`` keyword on purpose: such a rule is IP-only (AWS, suricata-limitations-caveats: 5-tuple rules
    without flow keywords are treated as IP-only and see the first packet of each direction), and an IP-only
    ``pass`` applies to the whole flow (Suricata 7 ``PacketAlertFinalize``: the action of an IP-only match is
    applied to the flow, which is then not inspected further), as AWS's own 5-tuple ``StatefulRules`` do. So the
    server's replies pass too: with ``flow:to_server`` only the client's packets matched, and a default action
    or the deny's server-data drop took the replies (checked in Suricata, ``test_aws_suricata.py``)."""
    by_transport: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for s in rule.services:
        by_transport[s.protocol.transport].append((s.port.first, s.port.last))
    limit = config.limits.rule_max_chars
    widest_sid = config.base_sid + SID_SPAN - 1

    def make(var: str, transport: str) -> SuricataRule:
        spec = port_spec(by_transport[transport])
        return SuricataRule(key=f"addr|{rule.name}|{transport}|{var}", action="pass", proto=transport,
                            src="$HOME_NET", src_port="any", dst=f"${var}", dst_port=spec,
                            options=(), msg=f"{rule.name} {transport}:{spec} to {var}")

    def fits(var: str, values: list[str]) -> bool:
        variables = {"HOME_NET": list(home), var: values}
        return all(expanded_length(make(var, t).text(widest_sid), variables) <= limit for t in by_transport)

    chunks: list[list[str]] = []
    current: list[str] = []
    for dest in rule.destinations:
        var = base if not chunks else f"{base}_{len(chunks) + 1}"
        if fits(var, current + [dest]):
            current.append(dest)
            continue
        if not current:
            raise AwsRenderError(f"rule {rule.name}: one rule to {dest} with HOME_NET expanded passes "
                                 f"limits.ruleMaxChars ({limit}); fewer source ranges or a higher limit")
        chunks.append(current)
        current = [dest]
        if not fits(f"{base}_{len(chunks) + 1}", current):
            raise AwsRenderError(f"rule {rule.name}: one rule to {dest} with HOME_NET expanded passes "
                                 f"limits.ruleMaxChars ({limit}); fewer source ranges or a higher limit")
    if current:
        chunks.append(current)
    items = []
    for i, chunk in enumerate(chunks):
        var = base if i == 0 else f"{base}_{i + 1}"
        for transport in sorted(by_transport):
            items.append(_Item(make(var, transport), {var: tuple(chunk)}))
    return items


def _variable_bases(rules: Sequence[Rule]) -> dict[str, str]:
    """An IP set variable name per address rule; names that abbreviate alike get the hashed form."""
    bases = {r.name: variable_name(r.name, head=r.area) for r in rules}
    counts: dict[str, int] = defaultdict(int)
    for base in bases.values():
        counts[base] += 1
    reserved = {"HOME_NET", "EXTERNAL_NET"}
    return {name: variable_name(name, hashed=True) if counts[base] > 1 or base in reserved else base
            for name, base in bases.items()}


def _default_deny(config: AwsConfig, lists: dict[tuple[str, ...], dict[str, None]], home: Sequence[str]) -> list[_Item]:
    """The rendered deny (see the module docstring): everything in ``DEFAULT_ACTION_ORDER``; in
    ``STRICT_ORDER`` without the TLS/HTTP drop when a later domain-list group holds passes for it."""
    if config.rule_order is RuleOrder.STRICT_ORDER:
        tls = not lists[(TLS_SNI,)]
        http = not lists[(HTTP_HOST,)]
    else:
        tls = http = True
    outside = tuple(n for n in external_net(home) if ":" in n) if config.drop_ipv6_outside_home_net else ()
    return [_Item(rule) for rule in default_deny_rules(tls=tls, http=http, ipv6_outside=outside)]


def _collect(plan: Plan, config: AwsConfig, home: Sequence[str]) -> _Collected:
    out = _Collected()
    bases = _variable_bases([r for r in plan.rules if r.kind in (RuleKind.ADDRESS, RuleKind.PEER)])
    for rule in plan.rules:
        if rule.kind is RuleKind.HOST_NETWORK:
            for dest in rule.destinations:
                for entry in rule.origin_of(dest) or ("?",):
                    out.not_expressible.add(Finding(entry, dest, (
                        f"AWS Network Firewall cannot match a host name on plain {_services_text(rule.services)}: "
                        "there is no HTTP Host or TLS SNI to inspect; list the host's addresses instead")))
        elif rule.kind in (RuleKind.ADDRESS, RuleKind.PEER):
            out.items.extend(_address_rules(rule, home, config, bases[rule.name]))
        elif _in_domain_lists(rule, config.fqdn_mode):
            names = [d for d in rule.destinations if d != "*"]
            out.items.extend(_name_rules(rule, [d for d in rule.destinations if d == "*"]))
            types = _target_types(rule.services)
            keys = [(t,) for t in types] if config.rule_order is RuleOrder.STRICT_ORDER else [types]
            for dest in names:
                for key in keys:
                    out.lists[key][_target(dest)] = None
            out.listed_rules.append((rule, tuple(names)))
        else:
            out.items.extend(_name_rules(rule, rule.destinations))
    out.items.extend(_default_deny(config, out.lists, home))
    for rule, names in out.listed_rules:
        _widen(rule, names, out)
    return out


def _widen(rule: Rule, names: Sequence[str], out: _Collected) -> None:
    types = _target_types(rule.services)
    for dest in names:
        entries = rule.origin_of(dest) or ("?",)
        reasons = [f"AWS domain lists ({', '.join(types)}) match on any port: allowed beyond "
                   f"{_services_text(rule.services)}"]
        if dest.startswith("*."):
            apex = dest[2:]
            apex_types = [t for t in types if not any(apex in listed for key, listed in out.lists.items() if t in key)]
            if apex_types:
                reasons.append(f"domain list target .{apex} also matches {apex} itself "
                               f"({', '.join(apex_types)}); the catalogue allows only its subdomains")
        for entry in entries:
            for reason in reasons:
                out.widened.add(Finding(entry, dest, reason))


# --- groups ----------------------------------------------------------------------------------------------

def _shard_items(items: list[_Item], texts: dict[str, str], config: AwsConfig) -> list[list[_Item]]:
    units = units_per_group(config)
    max_bytes = config.limits.rules_string_max_bytes
    shards: list[list[_Item]] = []
    current: list[_Item] = []
    size = 0
    for item in items:
        line = len(texts[item.rule.key].encode()) + (1 if current else 0)
        if len(texts[item.rule.key].encode()) > max_bytes:
            raise AwsRenderError(f"one rule is longer than limits.rulesStringMaxBytes ({max_bytes})")
        if current and (len(current) + 1 > units or size + line > max_bytes):
            shards.append(current)
            current, size = [], 0
            line = len(texts[item.rule.key].encode())
        current.append(item)
        size += line
    if current:
        shards.append(current)
    return shards


def external_net(home: Sequence[str]) -> tuple[str, ...]:
    """``EXTERNAL_NET`` for a group that sets ``HOME_NET``: its complement, as CIDRs (both families).

    AWS (suricata-limitations-caveats): a rule group that sets ``HOME_NET`` differently from the policy must set
    ``EXTERNAL_NET`` too, else ``EXTERNAL_NET`` stays the negation of the policy's ``HOME_NET`` (troubleshooting-
    rules: "Network Firewall maintains that the value of EXTERNAL_NET in the rule group is the negation of the
    HOME_NET value that you define at the firewall policy level"). An IP set's ``Definition`` is a list of CIDRs
    (API IPSet: "The list of IP addresses and address ranges, in CIDR notation"), not a Suricata expression, so
    ``!$HOME_NET`` cannot be written there: the complement is spelled out (at most 32 prefixes per IPv4 range,
    128 per IPv6 range, merged).
    """
    out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for everything in (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")):
        remaining = [everything]
        for net in ipaddress.collapse_addresses(  # type: ignore[type-var]  # one family per pass
                n for n in (ipaddress.ip_network(r, strict=False) for r in home) if n.version == everything.version):
            remaining = [part for block in remaining
                         for part in ((block.address_exclude(net)) if net.subnet_of(block) else (block,))
                         if not part.subnet_of(net)]
        out += ipaddress.collapse_addresses(remaining)  # type: ignore[type-var]  # one family per pass
    return tuple(str(n) for n in out)


def _ip_sets(home: Sequence[str], extra: dict[str, tuple[str, ...]]) -> dict[str, dict[str, list[str]]]:
    merged = {"HOME_NET": tuple(home), "EXTERNAL_NET": external_net(home), **extra}
    return {name: {"Definition": list(merged[name])} for name in sorted(merged)}


def _description(prefix: str, text: str) -> str:
    out = f"endpoint-firewall {prefix}: {text}"
    return out[:DESCRIPTION_MAX]


def _request(name: str, capacity: int, description: str, ip_sets: dict, source: dict, order: RuleOrder) -> dict:
    return {
        "RuleGroupName": name,
        "Type": "STATEFUL",
        "Capacity": capacity,
        "Description": description,
        "RuleGroup": {
            "RuleVariables": {"IPSets": ip_sets},
            "RulesSource": source,
            "StatefulRuleOptions": {"RuleOrder": order.value},
        },
    }


def _role(base: str, index: int) -> str:
    return base if index == 0 else f"{base}-{index + 1}"


def _priority(base: str, index: int, order: RuleOrder) -> int | None:
    if order is not RuleOrder.STRICT_ORDER:
        return None
    assert base in PRIORITY_BAND, base  # STRICT_ORDER never makes an http-tls group
    if index >= 100:
        raise AwsRenderError(f"more than 100 {base} shards: priorities would overlap")
    return PRIORITY_BAND[base] + index


def render_aws(plan: Plan, config: AwsConfig) -> AwsRender:
    """Render ``plan`` as AWS Network Firewall stateful rule groups (see the module docstring)."""
    home = list(plan.source_ranges)
    if not home:
        raise AwsRenderError("the plan has no source ranges: HOME_NET would be empty")
    order = config.rule_order
    collected = _collect(plan, config, home)
    units = units_per_group(config)
    list_shards: dict[tuple[str, ...], list[list[str]]] = {}
    for key in LIST_ROLES:
        chunk = max(1, units // len(key) - 1)  # n targets cost n * types + types
        values = sorted(collected.lists[key])
        # Stable shards: one name added or removed changes one domain-list group, not every later one.
        list_shards[key] = [shard for _, shard in stable_shards(values, chunk)] if len(values) > chunk else \
            ([values] if values else [])
        if order is RuleOrder.STRICT_ORDER and len(list_shards[key]) > 1:
            raise AwsRenderError(
                f"{len(values)} {'/'.join(key)} targets need {len(list_shards[key])} domain-list groups, but in "
                "STRICT_ORDER each ALLOWLIST group drops what it does not list before the next group is "
                "evaluated; use fqdnMode exact or raise limits.capacityMax")

    generated = {key: [domain_list_rules(shard, key) for shard in shards] for key, shards in list_shards.items()}
    keys = [item.rule.key for item in collected.items]
    for list_key, per_shard in generated.items():
        for i, rules in enumerate(per_shard):
            keys += [_shard_key(f"{LIST_ROLES[list_key]}|{r.key}", i) for r in rules]
    if len(keys) != len(set(keys)):
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        raise AwsRenderError(f"duplicate rule identities (a planner bug?): {dupes[:5]}")
    try:
        sids = allocate_sids(keys, config.base_sid)
    except SuricataTextError as err:
        raise AwsRenderError(str(err)) from None
    texts = {item.rule.key: item.rule.text(sids[item.rule.key]) for item in collected.items}
    for item in collected.items:
        length = expanded_length(texts[item.rule.key], {"HOME_NET": home, **item.variables})
        if length > config.limits.rule_max_chars:
            raise AwsRenderError(f"a rule is {length} characters with its variables expanded, more than "
                                 f"limits.ruleMaxChars ({config.limits.rule_max_chars}); fewer source ranges "
                                 f"or a higher limit: {texts[item.rule.key][:120]}...")

    groups: list[AwsRuleGroup] = []
    rules_desc = ("Suricata rules: addresses, peers and host names on ports domain lists cannot hold"
                  if config.fqdn_mode is FqdnMode.DOMAIN_LIST else
                  "Suricata rules: host names on exact ports, addresses and peers")
    rules_desc += ", then the default deny per protocol"
    rule_shards = _shard_items(collected.items, texts, config) if collected.items else []
    for i, shard in enumerate(rule_shards):
        lines = [texts[item.rule.key] for item in shard]
        extra: dict[str, tuple[str, ...]] = {}
        for item in shard:
            for var, values in item.variables.items():
                if extra.setdefault(var, values) != values:
                    raise AwsRenderError(f"IP set variable {var} defined twice with different values")
        ip_sets = _ip_sets(home, extra)
        defined = set(ip_sets)
        for line in lines:
            missing = referenced_variables(line) - defined
            if missing:
                raise AwsRenderError(f"rule refers to undefined variables {sorted(missing)}: {line}")
        used = len(lines)
        role = _role("rules", i)
        capacity = group_capacity(role, used, config)
        name = group_name(config.name_prefix, role, capacity, order)
        rules_string = "\n".join(lines)
        desc = rules_desc + (f" (shard {i + 1} of {len(rule_shards)})" if len(rule_shards) > 1 else "")
        groups.append(AwsRuleGroup(
            name=name, role=role, kind="rules", capacity=capacity, used=used,
            request=_request(name, capacity, _description(config.name_prefix, desc), ip_sets,
                             {"RulesString": rules_string}, order),
            rules_text=rules_string + "\n", priority=_priority("rules", i, order), rule_count=used,
            variables=tuple((k, tuple(v["Definition"])) for k, v in ip_sets.items())))

    for list_key, shards in list_shards.items():
        role = LIST_ROLES[list_key]
        for i, shard in enumerate(shards):
            rules = generated[list_key][i]
            lines = [r.text(sids[_shard_key(f"{role}|{r.key}", i)]) for r in rules]
            used = domain_list_capacity(len(shard), list_key)
            shard_role = _role(role, i)
            capacity = group_capacity(shard_role, used, config)
            name = group_name(config.name_prefix, shard_role, capacity, order)
            what = {"http-host": "HTTP Host", "tls-sni": "TLS SNI", "http-tls": "HTTP Host and TLS SNI"}[role]
            names_on = {"http-host": "http:80", "tls-sni": "https:443 and tls:443",
                        "http-tls": "http:80 and https:443"}[role]
            desc = f"{what} allowlist (domain list) for names on {names_on}"
            if order is RuleOrder.DEFAULT_ACTION_ORDER and role != "http-tls":
                desc += " only"
            if len(shards) > 1:
                desc += f" (shard {i + 1} of {len(shards)})"
            ip_sets = _ip_sets(home, {})
            source = {"RulesSourceList": {"Targets": list(shard), "TargetTypes": list(list_key),
                                          "GeneratedRulesType": "ALLOWLIST"}}
            groups.append(AwsRuleGroup(
                name=name, role=shard_role, kind="domain-list", capacity=capacity, used=used,
                request=_request(name, capacity, _description(config.name_prefix, desc), ip_sets, source, order),
                rules_text="\n".join(lines) + "\n", priority=_priority(role, i, order), rule_count=len(lines),
                variables=tuple((k, tuple(v["Definition"])) for k, v in ip_sets.items()),
                targets=tuple(shard), target_types=list_key))

    groups, trimmed = _fit_policy_capacity(groups, config)
    if order is RuleOrder.STRICT_ORDER:
        _check_strict_order(groups)
        _check_default_actions(groups, config)
    _check_aws_accepts(groups, config)
    return AwsRender(
        groups=tuple(groups), widened=tuple(sorted(collected.widened)),
        not_expressible=tuple(sorted(collected.not_expressible, key=lambda f: (f.entry, f.destination or "", f.reason))),
        warnings=tuple(trimmed + _warnings(groups, config, plan)), rule_order=order, fqdn_mode=config.fqdn_mode,
        skipped=skipped_findings(plan),
        source_ranges=tuple(home), stateful_default_actions=_default_actions(config), policy_name=policy_name(config),
        ipv6=ipv6_handling(home, config))


def ipv6_handling(home: Sequence[str], config: AwsConfig) -> dict[str, Any]:
    """The summary's word on IPv6 from devices: which families ``HOME_NET`` holds, and what happens to IPv6 from
    outside it (a device's IPv6 when ``sourceRanges`` are IPv4 only): ``dropped`` by the deny
    (``aws.dropIpv6OutsideHomeNet``, the default); with the setting off ``unfiltered`` in DEFAULT_ACTION_ORDER
    (no rule passes or drops it), ``policy-default-action`` in STRICT_ORDER (only the policy's default action
    judges it)."""
    families = sorted({ipaddress.ip_network(r, strict=False).version for r in home})
    if config.drop_ipv6_outside_home_net:
        outside = "dropped"
    elif config.rule_order is RuleOrder.STRICT_ORDER:
        outside = "policy-default-action"
    else:
        outside = "unfiltered"
    return {"homeNetFamilies": families, "outsideHomeNet": outside,
            "dropIpv6OutsideHomeNet": config.drop_ipv6_outside_home_net}


def _fit_policy_capacity(groups: list[AwsRuleGroup], config: AwsConfig) -> tuple[list[AwsRuleGroup], list[str]]:
    """Keep the groups of one policy within ``limits.policyCapacity`` (AWS: "Maximum number of stateful rules per
    firewall policy per account per Region. This is the total across all rule groups that are referenced by the
    policy", 30,000 by default, adjustable: quotas page).

    What the rules use must fit, else the render fails naming the figure needed and how to raise the quota. Headroom
    is what gives: when the reserved total is over, each unpinned group's headroom shrinks by the same fraction
    (:func:`_share_headroom`: in capacity steps where they fit, the remainder given back rather than wasted), which
    changes those groups' capacity and so their names (a replacement, said in the warning). Pinned capacities are kept; if they alone leave no room,
    the render fails naming them."""
    quota = config.limits.policy_capacity
    used = sum(g.used for g in groups)
    how = ("request an increase of the Network Firewall quota \"Maximum number of stateful rules per firewall "
           "policy\" in the Service Quotas console (service-quotas request-service-quota-increase), then set "
           "aws.limits.policyCapacity to the granted value; or select fewer entries")
    if used > quota:
        raise AwsRenderError(f"these rule groups need stateful capacity {used}, more than one firewall policy holds: "
                             f"aws.limits.policyCapacity is {quota} (AWS's default quota is 30,000). To deploy them, "
                             f"{how}")
    reserved = sum(g.capacity for g in groups)
    if reserved <= quota:
        return groups, []
    pinned = [g for g in groups if g.role in config.capacity]
    free = [g for g in groups if g.role not in config.capacity]
    room = quota - sum(g.capacity for g in pinned) - sum(g.used for g in free)
    if room < 0:
        raise AwsRenderError(
            f"pinned capacities ({', '.join(f'{g.role} {g.capacity}' for g in pinned)}) and the other groups' use "
            f"need {quota - room}, more than aws.limits.policyCapacity ({quota}): lower the pins (a replacement) or "
            f"{how}")
    capacities = _share_headroom(free, room)
    out = []
    for g in groups:
        if g in free:
            capacity = capacities[g.role]
            name = group_name(config.name_prefix, g.role, capacity, config.rule_order)
            request = {**g.request, "RuleGroupName": name, "Capacity": capacity}
            g = dataclasses.replace(g, name=name, capacity=capacity, request=request)
        out.append(g)
    total = sum(g.capacity for g in out)
    return out, [f"headroom trimmed to fit aws.limits.policyCapacity ({quota}): the groups reserve {total} instead "
                 f"of {reserved} for {used} used (changed capacities replace those groups)"]


def _share_headroom(free: Sequence[AwsRuleGroup], room: int) -> dict[str, int]:
    """Capacities (by role) for the unpinned groups when only ``room`` headroom fits in all: each group's fair
    share is the same fraction of its untrimmed headroom. Deterministic, never above a group's untrimmed capacity
    nor the room in total:

    1. each group gets its fair share rounded down to the capacity step (at least what it uses);
    2. what that leaves goes back in whole steps, the group furthest below its fair share first (ties by role),
       a group rising at most to the step just above its fair share;
    3. what is still left (less than the steps that remain) goes to the groups furthest below their share, one
       unit at a time up to their fair share rounded up, so the quota is not wasted (such a capacity is not a
       multiple of the step)."""
    headroom = sum(g.capacity - g.used for g in free)
    fraction = Fraction(room, headroom) if headroom else Fraction(0)
    fair = {g.role: g.used + (g.capacity - g.used) * fraction for g in free}
    top = {g.role: g.capacity for g in free}
    out = {g.role: min(top[g.role], max(g.used, math.floor(fair[g.role]) // CAPACITY_STEP * CAPACITY_STEP, 1))
           for g in free}
    left = room + sum(g.used for g in free) - sum(out.values())

    def neediest() -> list[str]:
        return sorted(out, key=lambda role: (out[role] - fair[role], role))

    raised = True
    while raised:
        raised = False
        for role in neediest():
            step_up = min(top[role], (out[role] // CAPACITY_STEP + 1) * CAPACITY_STEP,
                          -(-math.ceil(fair[role]) // CAPACITY_STEP) * CAPACITY_STEP)
            if out[role] < step_up and step_up - out[role] <= left:
                left -= step_up - out[role]
                out[role] = step_up
                raised = True
                break
    for role in neediest():
        extra = max(0, min(left, min(top[role], math.ceil(fair[role])) - out[role]))
        out[role] += extra
        left -= extra
    return out


def _check_aws_accepts(groups: Sequence[AwsRuleGroup], config: AwsConfig) -> None:
    """AWS's own rules (:mod:`.aws_compat`): a render AWS would refuse fails here, naming group, sid and rule."""
    texts = [GroupText(g.name, g.rules, dict(g.variables),
                       g.request["RuleGroup"]["RulesSource"].get("RulesString")) for g in groups]
    found = compat_problems(texts, config.rule_order is RuleOrder.STRICT_ORDER, config.limits.rule_max_chars,
                            config.limits.rules_string_max_bytes, config.limits.stateful_groups_per_policy)
    if found:
        shown = "\n  ".join(str(p) for p in found[:10])
        more = f"\n  ... and {len(found) - 10} more" if len(found) > 10 else ""
        raise AwsRenderError(f"AWS would refuse {len(found)} rule(s) of these groups:\n  {shown}{more}")


def _shard_key(key: str, shard: int) -> str:
    return key if shard == 0 else f"{key}|shard{shard + 1}"


def _default_actions(config: AwsConfig) -> tuple[str, ...]:
    if config.rule_order is not RuleOrder.STRICT_ORDER:
        return ()
    return tuple(config.firewall_policy.stateful_default_actions) if config.firewall_policy else DEFAULT_POLICY_ACTIONS


def _check_strict_order(groups: Sequence[AwsRuleGroup]) -> None:
    """In STRICT_ORDER the first matching rule decides: no ``drop`` may come before a ``pass`` for the same
    application protocol, else the pass is dead. Our layout guarantees it; this keeps it guaranteed. The
    default deny's ``tcp-other`` drops (TCP that starts as, or is, neither TLS nor HTTP) and ``ip-other``
    drop (neither TCP, UDP nor ICMP) cannot take a TLS, HTTP, UDP or ICMP pass's traffic."""
    def overlap(a: str, b: str) -> bool:
        if b == "outside-home":  # every pass starts at $HOME_NET
            return False
        if b == "udp-reply":  # passes are IP-only (whole flow) or client-side
            return False
        if b == "http-no-headers":  # the only HTTP passes after the rules group are domain lists' http.host
            return a == "ip"
        if b == "tcp-other":
            return a in ("tcp", "ip")
        if b == "ip-other":
            return a == "ip"
        over_tcp = {"tcp", "tls", "http"}
        return a == b or "ip" in (a, b) or (a in over_tcp and b in over_tcp and "tcp" in (a, b))

    seen_drops: set[str] = set()
    for group in sorted(groups, key=lambda g: g.priority or 0):
        for line in group.rules:
            action, proto = line.split()[:2]
            if action == "pass" and any(overlap(proto, d) for d in seen_drops):
                raise AwsRenderError(f"STRICT_ORDER: {group.name} passes {proto} after a drop of it: {line}")
            if action == "drop":
                seen_drops.add(drop_traffic_class(line))


def _name_based(groups: Sequence[AwsRuleGroup]) -> bool:
    """Whether any rule passes on a TLS SNI or HTTP Host (which needs the handshake to complete first)."""
    return any(g.kind == "domain-list" or any(line.split()[:2] in (["pass", "tls"], ["pass", "http"])
                                              for line in g.rules) for g in groups)


def _check_default_actions(groups: Sequence[AwsRuleGroup], config: AwsConfig) -> None:
    policy = config.firewall_policy
    if policy is not None and policy.drop_action == "aws:drop_strict" and _name_based(groups):
        raise AwsRenderError(
            "firewallPolicy.statefulDefaultActions has aws:drop_strict, which drops every packet no rule passes, "
            "TCP handshakes included: the TLS SNI and HTTP Host rules here never see a ClientHello or request. "
            "Use aws:drop_established_app_layer")


def _warnings(groups: Sequence[AwsRuleGroup], config: AwsConfig, plan: Plan) -> list[str]:
    out = []
    if config.rule_order is RuleOrder.STRICT_ORDER:
        actions = _default_actions(config)
        drop = next((a for a in actions if a.startswith("aws:drop_")), None)
        if drop in APP_LAYER_DROP_ACTIONS:
            caveat = AWS_RULES["app-layer-session-holding"]
            out.append(f"STRICT_ORDER with {drop}: do not turn on session holding for this firewall; AWS: "
                       f"\"{caveat.says}\" ({caveat.source})")
        if drop is None:
            out.append(f"STRICT_ORDER without a drop default action ({', '.join(actions) or 'none'}): traffic "
                       "that no rule drops is allowed (allowAlertOnly)")
        elif drop == "aws:drop_established" and _name_based(groups):
            out.append("STRICT_ORDER with aws:drop_established: a TLS ClientHello spanning two TCP segments (common "
                       "with post-quantum key shares) is dropped at its first segment, before its SNI can be "
                       "matched, so listed hosts fail; use aws:drop_established_app_layer")
        if config.firewall_policy is None:
            out.append(f"STRICT_ORDER: the firewall policy is managed elsewhere; these groups assume its stateful "
                       f"default actions are {', '.join(actions)} (aws:drop_established drops split TLS "
                       "ClientHellos of listed hosts; aws:drop_strict drops the handshakes name rules need)")
    by_role = {g.role for g in groups}
    for role in sorted(set(config.capacity) - by_role):
        out.append(f"capacity pins {role}, but this render has no {role} group")
    for g in groups:
        if g.role in config.capacity and g.capacity < math.ceil(g.used * (1 + Fraction(str(config.capacity_headroom)))):
            out.append(f"group {g.role} uses {g.used} of its pinned capacity {g.capacity}: less headroom than "
                       f"capacityHeadroom ({config.capacity_headroom}); raise the pin before it fills (a replacement)")
    out += _ipv6_warnings(plan, config)
    return out


def _ipv6_warnings(plan: Plan, config: AwsConfig) -> list[str]:
    """Addresses of the other family than every source range: devices reach them from addresses outside
    HOME_NET. IPv6 from outside HOME_NET is dropped by the deny (``dropIpv6OutsideHomeNet``, the default), so
    the listed IPv6 addresses are unreachable until the devices' IPv6 ranges join sourceRanges; IPv4 from outside
    HOME_NET (an IPv6-only HOME_NET) no rule here judges."""
    families = {ipaddress.ip_network(r, strict=False).version for r in plan.source_ranges}
    out = []
    for version in (6, 4):
        if version in families:
            continue
        listed = sorted({d for r in plan.rules if r.kind in (RuleKind.ADDRESS, RuleKind.PEER)
                         for d in r.destinations if _family(d) == version})
        if not listed:
            continue
        head = (f"the catalogue or peers list IPv{version} destinations ({', '.join(listed[:3])}"
                f"{', ...' if len(listed) > 3 else ''}) but no source range is IPv{version}: devices' "
                f"IPv{version} traffic is not in HOME_NET, ")
        if version == 6 and config.drop_ipv6_outside_home_net:
            out.append(head + "so the deny drops it (dropIpv6OutsideHomeNet) and these IPv6 destinations are "
                       "unreachable. Add the devices' IPv6 ranges to sourceRanges")
        else:
            out.append(head + "so these rules neither pass nor drop it (in DEFAULT_ACTION_ORDER nothing filters it; "
                       "in STRICT_ORDER only the policy's default action does). Add the devices' "
                       f"IPv{version} ranges to sourceRanges, or keep IPv{version} away from the firewall")
    return out


def _family(value: str) -> int | None:
    """6 or 4 for the plan's canonical CIDRs (a cheap test: this runs once per address), None otherwise."""
    if "/" not in value:
        return None
    return 6 if ":" in value else 4
