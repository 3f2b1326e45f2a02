"""The plan laid out for AWS: Suricata rules (names on exact ports, addresses and peers, the default deny) and
domain-list targets, their shards (by capacity and rules-string size), roles, STRICT_ORDER priorities and sids.

Pure: plain values in, plain values out.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...config.aws_config import AwsConfig, FqdnMode, RuleOrder
from ...endpoints.models import Protocol, Service
from ...planning.address_rules import AddressRules, ByName, parts_of, rendered_rules
from ...planning.rules import Plan, Rule, RuleKind
from ..findings import (
    ADDRESS_ANY_NAME,
    ADDRESS_ANY_PAYLOAD,
    DOMAIN_LIST_ANY_PORT,
    DOMAIN_LIST_APEX,
    NAME_ON_PLAIN_TCP_UDP,
    Finding,
)
from ..sharding import stable_shards
from .capacity import units_per_group
from .deny import default_deny_rules
from .model import AwsRenderError
from .suricata import (
    HTTP_HOST,
    SID_SPAN,
    TLS_SNI,
    SuricataRule,
    SuricataTextError,
    allocate_sids,
    expanded_length,
    name_match,
    port_spec,
    variable_name,
)

DOMAIN_LIST_SERVICES = frozenset({(Protocol.HTTP, 80), (Protocol.HTTPS, 443), (Protocol.TLS, 443)})

PRIORITY_BAND = {"rules": 100, "http-host": 200, "tls-sni": 300}  # STRICT_ORDER group priorities

LIST_ROLES = {(HTTP_HOST,): "http-host", (TLS_SNI,): "tls-sni", (HTTP_HOST, TLS_SNI): "http-tls"}


@dataclass
class RuleItem:
    """A Suricata rule of the rules group, with the IP sets it defines."""

    rule: SuricataRule
    variables: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class Collected:
    items: list[RuleItem] = field(default_factory=list)
    lists: dict[tuple[str, ...], dict[str, None]] = field(default_factory=lambda: {k: {} for k in LIST_ROLES})
    widened: set[Finding] = field(default_factory=set)
    not_expressible: set[Finding] = field(default_factory=set)
    listed_rules: list[tuple[Rule, tuple[str, ...]]] = field(default_factory=list)
    by_name: list[ByName] = field(default_factory=list)  # addresses left to their entries' names (addressRules)
    rules: list[Rule] = field(default_factory=list)  # the plan's rules as written: address rules in addressRules' view


def _target(host: str) -> str:
    return ("." + host[2:] if host.startswith("*.") else host).lower()


def _services_text(services: Iterable[Service]) -> str:
    return ", ".join(str(s) for s in services)


def _in_domain_lists(rule: Rule, mode: FqdnMode) -> bool:
    return mode is FqdnMode.DOMAIN_LIST and all(
        (s.protocol, s.port.first) in DOMAIN_LIST_SERVICES and s.port.first == s.port.last for s in rule.services
    )


def _target_types(services: Iterable[Service]) -> tuple[str, ...]:
    protocols = {s.protocol for s in services}
    types = []
    if Protocol.HTTP in protocols:
        types.append(HTTP_HOST)
    if protocols & {Protocol.HTTPS, Protocol.TLS}:
        types.append(TLS_SNI)
    return tuple(types)


def _name_rules(rule: Rule, destinations: Sequence[str]) -> list[RuleItem]:
    """Exact-port Suricata rules for host names: one per destination and buffer (HTTP Host, TLS SNI)."""
    http_ports = [(s.port.first, s.port.last) for s in rule.services if s.protocol is Protocol.HTTP]
    tls_ports = [(s.port.first, s.port.last) for s in rule.services if s.protocol in (Protocol.HTTPS, Protocol.TLS)]
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
            items.append(
                RuleItem(
                    SuricataRule(
                        key=f"name|{rule.name}|{proto}|{dest}",
                        action="pass",
                        proto=proto,
                        src="$HOME_NET",
                        src_port="any",
                        dst="any",
                        dst_port=spec,
                        options=("flow:to_server,established", *match),
                        msg=f"{rule.name} {what} {proto}:{spec}",
                    )
                )
            )
    return items


# What an address rule of an http or https/tls service matches beyond its address (``addressRules`` protocol and
# names-only): an HTTP request (complete, as the deny's HTTP drop judges it) or a TLS ClientHello, of any name.
ADDRESS_PROTOCOL_MATCH: dict[str, tuple[str, ...]] = {
    "http": ("flow:to_server,established", "http.start", 'content:"|0d 0a|"', "endswith"),
    "tls": ("flow:to_server,established", "ssl_state:client_hello"),
}


def _address_proto(protocol: Protocol) -> str:
    """The Suricata protocol of an address rule's service: http, tls (https too), else its transport."""
    return {Protocol.HTTP: "http", Protocol.HTTPS: "tls", Protocol.TLS: "tls"}.get(protocol, protocol.transport)


def _address_rules(
    rule: Rule, home: Sequence[str], config: AwsConfig, base: str, inbound: bool = False
) -> list[RuleItem]:
    """``pass tcp|udp $HOME_NET any -> $VAR ports (msg; sid)`` (``pass http|tls`` with the protocol's match for the
    http/https/tls services a protocol view keeps), the set split so that no rule passes ``rule_max_chars`` once
    its variables are expanded. ``inbound`` (peers): also ``pass tcp|udp $VAR any -> $HOME_NET ports``, the same
    services opened by a peer towards a device, which the deny's inbound drop would otherwise take.

    TCP and UDP rules have no ``flow`` keyword on purpose: such a rule is IP-only (AWS, suricata-limitations-caveats:
    5-tuple rules without flow keywords are treated as IP-only and see the first packet of each direction), and an
    IP-only ``pass`` applies to the whole flow (Suricata 7 ``PacketAlertFinalize``: the action of an IP-only match
    is applied to the flow, which is then not inspected further), as AWS's own 5-tuple ``StatefulRules`` do. So the
    server's replies pass too: with ``flow:to_server`` only the client's packets matched, and a default action
    or the deny's server-data drop took the replies (checked in Suricata, ``test_aws_suricata.py``). The http and
    tls rules pass at the complete request or ClientHello, as the name rules do."""
    by_proto: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for s in rule.services:
        by_proto[_address_proto(s.protocol)].append((s.port.first, s.port.last))
    limit = config.limits.rule_max_chars
    widest_sid = config.base_sid + SID_SPAN - 1
    directions = (False, True) if inbound else (False,)

    def make(var: str, proto: str, reverse: bool = False) -> SuricataRule:
        spec = port_spec(by_proto[proto])
        if reverse:
            return SuricataRule(
                key=f"addr-in|{rule.name}|{proto}|{var}",
                action="pass",
                proto=proto,
                src=f"${var}",
                src_port="any",
                dst="$HOME_NET",
                dst_port=spec,
                options=(),
                msg=f"{rule.name} {proto}:{spec} from {var} (opened by a peer)",
            )
        return SuricataRule(
            key=f"addr|{rule.name}|{proto}|{var}",
            action="pass",
            proto=proto,
            src="$HOME_NET",
            src_port="any",
            dst=f"${var}",
            dst_port=spec,
            options=ADDRESS_PROTOCOL_MATCH.get(proto, ()),
            msg=f"{rule.name} {proto}:{spec} to {var}",
        )

    def fits(var: str, values: list[str]) -> bool:
        variables = {"HOME_NET": list(home), var: values}
        return all(
            expanded_length(make(var, p, reverse).text(widest_sid), variables) <= limit
            for p in by_proto
            for reverse in directions
        )

    chunks: list[list[str]] = []
    current: list[str] = []
    for dest in rule.destinations:
        var = base if not chunks else f"{base}_{len(chunks) + 1}"
        if fits(var, current + [dest]):
            current.append(dest)
            continue
        if not current:
            raise AwsRenderError(
                f"rule {rule.name}: one rule to {dest} with HOME_NET expanded passes "
                f"limits.ruleMaxChars ({limit}); fewer source ranges or a higher limit"
            )
        chunks.append(current)
        current = [dest]
        if not fits(f"{base}_{len(chunks) + 1}", current):
            raise AwsRenderError(
                f"rule {rule.name}: one rule to {dest} with HOME_NET expanded passes "
                f"limits.ruleMaxChars ({limit}); fewer source ranges or a higher limit"
            )
    if current:
        chunks.append(current)
    items = []
    for i, chunk in enumerate(chunks):
        var = base if i == 0 else f"{base}_{i + 1}"
        for reverse in directions:
            for proto in sorted(by_proto):
                items.append(RuleItem(make(var, proto, reverse), {var: tuple(chunk)}))
    return items


def _variable_bases(rules: Sequence[Rule]) -> dict[str, str]:
    """An IP set variable name per address rule; names that abbreviate alike get the hashed form."""
    bases = {r.name: variable_name(r.name, head=r.area) for r in rules}
    counts: dict[str, int] = defaultdict(int)
    for base in bases.values():
        counts[base] += 1
    reserved = {"HOME_NET", "EXTERNAL_NET"}
    return {
        name: variable_name(name, hashed=True) if counts[base] > 1 or base in reserved else base
        for name, base in bases.items()
    }


def _default_deny(
    config: AwsConfig, lists: dict[tuple[str, ...], dict[str, None]], home: Sequence[str]
) -> list[RuleItem]:
    """The rendered deny (see the module docstring): everything in ``DEFAULT_ACTION_ORDER``; in
    ``STRICT_ORDER`` without the TLS/HTTP drop when a later domain-list group holds passes for it."""
    if config.rule_order is RuleOrder.STRICT_ORDER:
        tls = not lists[(TLS_SNI,)]
        http = not lists[(HTTP_HOST,)]
    else:
        tls = http = True
    outside = tuple(n for n in external_net(home) if ":" in n) if config.drop_ipv6_outside_home_net else ()
    rules = default_deny_rules(tls=tls, http=http, ipv6_outside=outside, inbound=config.drop_inbound)
    return [RuleItem(rule) for rule in rules]


def _peers_outside(rule: Rule, home: Sequence[str]) -> bool:
    """Whether some peer range of a peer-to-peer rule lies outside HOME_NET (its inbound flows need a pass)."""
    nets = [ipaddress.ip_network(h) for h in home]
    return any(
        not any(p.version == n.version and p.subnet_of(n) for n in nets)  # type: ignore[arg-type]  # same version
        for p in (ipaddress.ip_network(d) for d in rule.destinations)
    )


def _rendered_rules(plan: Plan, config: AwsConfig, out: Collected) -> list[Rule]:
    """The plan's rules as this render writes them: the address rules in the view ``addressRules`` asks for
    (:func:`~...planning.address_rules.rendered_rules`), the addresses it leaves to names in ``out.by_name``."""
    out.rules, out.by_name = rendered_rules(plan, config.address_rules, keep_protocols=True)
    for rule in out.rules:
        if rule.kind is RuleKind.ADDRESS:
            _widen_address(rule, config.address_rules, out)
    return out.rules


def _widen_address(rule: Rule, mode: AddressRules, out: Collected) -> None:
    """An address rule of http/https/tls services passes more than its entry's names: any name (protocol, and
    names-only for entries without names), or any TCP payload (tcp)."""
    listed = [s for s in rule.services if s.protocol.inspectable]
    if mode is AddressRules.TCP:
        reason = (
            f"address rule ({_services_text(rule.services)}; the entries list "
            f"{_services_text(_listed_services(rule)) or 'plain TCP/UDP'}): any TCP payload, any protocol and any "
            "name reach this address on these ports (addressRules: tcp)"
        )
        kind = ADDRESS_ANY_PAYLOAD
        if not any(s.protocol.inspectable for s in _listed_services(rule)):
            return
    elif listed:
        reason = (
            f"address rule ({_services_text(listed)}): an HTTP request or TLS ClientHello for any name reaches this "
            "address; "
            + (
                "the entry lists no name to hold it to"
                if mode is AddressRules.NAMES_ONLY
                else "addressRules: names-only would leave the addresses of entries with names to those names"
            )
        )
        kind = ADDRESS_ANY_NAME
    else:
        return
    for dest, entries in rule.origins:
        for entry in entries:
            out.widened.add(Finding(entry, dest, reason, kind))


def _listed_services(rule: Rule) -> tuple[Service, ...]:
    """The services the entries of an address rule list (its parts'), for a rule rendered as planned (tcp)."""
    return tuple(sorted({s for p in parts_of(rule) for s in p.services}, key=Service.sort_key))


def collect_rules(plan: Plan, config: AwsConfig, home: Sequence[str]) -> Collected:
    out = Collected()
    rendered = _rendered_rules(plan, config, out)
    bases = _variable_bases([r for r in rendered if r.kind in (RuleKind.ADDRESS, RuleKind.PEER)])
    for rule in rendered:
        if rule.kind is RuleKind.HOST_NETWORK:
            for dest in rule.destinations:
                for entry in rule.origin_of(dest) or ("?",):
                    out.not_expressible.add(
                        Finding(
                            entry,
                            dest,
                            (
                                f"AWS Network Firewall cannot match a host name on plain {_services_text(rule.services)}: "
                                "there is no HTTP Host or TLS SNI to inspect; list the host's addresses instead"
                            ),
                            NAME_ON_PLAIN_TCP_UDP,
                        )
                    )
        elif rule.kind is RuleKind.ADDRESS:
            out.items.extend(_address_rules(rule, home, config, bases[rule.name]))
        elif rule.kind is RuleKind.PEER:
            inbound = config.drop_inbound and _peers_outside(rule, home)
            out.items.extend(_address_rules(rule, home, config, bases[rule.name], inbound=inbound))
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
    for listed, listed_names in out.listed_rules:
        _widen(listed, listed_names, out)
    return out


def _widen(rule: Rule, names: Sequence[str], out: Collected) -> None:
    types = _target_types(rule.services)
    for dest in names:
        entries = rule.origin_of(dest) or ("?",)
        reasons = [
            (
                f"AWS domain lists ({', '.join(types)}) match on any port: allowed beyond {_services_text(rule.services)}",
                DOMAIN_LIST_ANY_PORT,
            )
        ]
        if dest.startswith("*."):
            apex = dest[2:]
            apex_types = [t for t in types if not any(apex in listed for key, listed in out.lists.items() if t in key)]
            if apex_types:
                reasons.append(
                    (
                        f"domain list target .{apex} also matches {apex} itself "
                        f"({', '.join(apex_types)}); the catalogue allows only its subdomains",
                        DOMAIN_LIST_APEX,
                    )
                )
        for entry in entries:
            for reason, kind in reasons:
                out.widened.add(Finding(entry, dest, reason, kind))


def shard_items(items: list[RuleItem], texts: dict[str, str], config: AwsConfig) -> list[list[RuleItem]]:
    units = units_per_group(config)
    max_bytes = config.limits.rules_string_max_bytes
    shards: list[list[RuleItem]] = []
    current: list[RuleItem] = []
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
        # one family per pass, which the stubs cannot express: Any keeps IPv4 and IPv6 methods apart
        remaining: list[Any] = [everything]
        family: list[Any] = [
            n for n in (ipaddress.ip_network(r, strict=False) for r in home) if n.version == everything.version
        ]
        for net in ipaddress.collapse_addresses(family):
            remaining = [
                part
                for block in remaining
                for part in ((block.address_exclude(net)) if net.subnet_of(block) else (block,))
                if not part.subnet_of(net)
            ]
        out += ipaddress.collapse_addresses(remaining)
    return tuple(str(n) for n in out)


def role_name(base: str, index: int) -> str:
    return base if index == 0 else f"{base}-{index + 1}"


def group_priority(base: str, index: int, order: RuleOrder) -> int | None:
    if order is not RuleOrder.STRICT_ORDER:
        return None
    assert base in PRIORITY_BAND, base  # STRICT_ORDER never makes an http-tls group
    if index >= 100:
        raise AwsRenderError(f"more than 100 {base} shards: priorities would overlap")
    return PRIORITY_BAND[base] + index


def shard_key(key: str, shard: int) -> str:
    return key if shard == 0 else f"{key}|shard{shard + 1}"


def shard_lists(collected: Collected, config: AwsConfig) -> dict[tuple[str, ...], list[list[str]]]:
    """The domain-list targets of each set of target types, in stable shards that fit a group."""
    units = units_per_group(config)
    order = config.rule_order
    list_shards: dict[tuple[str, ...], list[list[str]]] = {}
    for key in LIST_ROLES:
        chunk = max(1, units // len(key) - 1)  # n targets cost n * types + types
        values = sorted(collected.lists[key])
        # Stable shards: one name added or removed changes one domain-list group, not every later one.
        list_shards[key] = (
            [shard for _, shard in stable_shards(values, chunk)]
            if len(values) > chunk
            else ([values] if values else [])
        )
        if order is RuleOrder.STRICT_ORDER and len(list_shards[key]) > 1:
            raise AwsRenderError(
                f"{len(values)} {'/'.join(key)} targets need {len(list_shards[key])} domain-list groups, but in "
                "STRICT_ORDER each ALLOWLIST group drops what it does not list before the next group is "
                "evaluated; use fqdnMode exact or raise limits.capacityMax"
            )

    return list_shards


def allocate_rule_sids(
    collected: Collected, generated: dict[tuple[str, ...], list[list[SuricataRule]]], config: AwsConfig
) -> dict[str, int]:
    """A stable sid per rule identity: the rules group's rules and every domain list's generated rules."""
    keys = [item.rule.key for item in collected.items]
    for list_key, per_shard in generated.items():
        for i, rules in enumerate(per_shard):
            keys += [shard_key(f"{LIST_ROLES[list_key]}|{r.key}", i) for r in rules]
    if len(keys) != len(set(keys)):
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        raise AwsRenderError(f"duplicate rule identities (a planner bug?): {dupes[:5]}")
    try:
        sids = allocate_sids(keys, config.base_sid)
    except SuricataTextError as err:
        raise AwsRenderError(str(err)) from None
    return sids


def rule_texts(collected: Collected, sids: dict[str, int], home: Sequence[str], config: AwsConfig) -> dict[str, str]:
    """Each rule's text with its sid, every one within ``limits.ruleMaxChars`` once its variables are expanded."""
    texts = {item.rule.key: item.rule.text(sids[item.rule.key]) for item in collected.items}
    for item in collected.items:
        length = expanded_length(texts[item.rule.key], {"HOME_NET": home, **item.variables})
        if length > config.limits.rule_max_chars:
            raise AwsRenderError(
                f"a rule is {length} characters with its variables expanded, more than "
                f"limits.ruleMaxChars ({config.limits.rule_max_chars}); fewer source ranges "
                f"or a higher limit: {texts[item.rule.key][:120]}..."
            )
    return texts
