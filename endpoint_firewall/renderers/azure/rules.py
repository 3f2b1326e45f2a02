"""Plan rules -> Azure rule specs, before any layout (IP Groups, sharding) is decided.

- HOSTNAME -> application rule: ``Http:<port>`` for http, ``Https:<port>`` for https and tls; one protocol
  entry per port (Azure takes single ports 1..64000); ``*.x.com`` stays as written (subdomains only).
- ADDRESS, PEER -> network rule on addresses (TCP/UDP, ports as ``"443"`` or ``"5228-5230"``); an ADDRESS rule in
  the view ``azure.addressRules`` asks for (``planning.address_rules``): ``names-only`` leaves the IPv4 addresses of
  entries that also list names to their application rules, ``tcp`` renders every address. IPv6 destinations
  become their own rules (``<rule>-v6``, from the stack's IPv6 sources, never in IP Groups) when the caller passes
  no ``ipv6_reason``; otherwise each is a not-expressible finding with that reason.
- HOST_NETWORK -> network rule on ``destinationFqdns``: only with DNS proxy, else :class:`RenderError`; on the
  Basic tier (no DNS proxy, no FQDNs in network rules) each name is a not-expressible finding with the reason.

A rule whose services mix TCP and UDP on different ports becomes one network rule per transport
(``<rule>-tcp``, ``<rule>-udp``): one rule with both protocols and all ports would allow every
protocol on every port, wider than the catalogue.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ...config.azure_sku import BASIC_NAMES_REASON, DNS_PROXY_TIERS, IPV6_OFF_REASON
from ...endpoints.models import Protocol, Service
from ...planning.address_rules import AddressRules, ByName, parts_of, rendered_rules
from ...planning.rules import AddressPart, Plan, Rule, RuleKind
from ..findings import (
    APP_PORT_OUT_OF_RANGE,
    BASIC_TIER_NAMES,
    IPV6_DESTINATION,
    NETWORK_RULE_ON_ADDRESS,
    NETWORK_RULE_ON_NAME,
    Finding,
)
from .model import APP_PORT_MAX, APP_PORT_RANGE_MAX, RenderError, azure_name

APP_PROTOCOL = {Protocol.HTTP: "Http", Protocol.HTTPS: "Https", Protocol.TLS: "Https"}
NET_PROTOCOL = {"tcp": "TCP", "udp": "UDP"}


@dataclass(frozen=True)
class AppSpec:
    area: str
    name: str
    protocols: tuple[tuple[str, int], ...]  # (protocolType, port), sorted
    fqdns: tuple[str, ...]


@dataclass(frozen=True)
class NetSpec:
    area: str
    name: str
    key: str  # the plan rule's name: the key of its destination set (and of its IP Groups)
    ip_protocols: tuple[str, ...]
    ports: tuple[str, ...]
    addresses: tuple[str, ...] = ()
    fqdns: tuple[str, ...] = ()
    family: int = 4  # 6: IPv6 addresses, from IPv6 sources (dual stack), never in IP Groups


@dataclass
class Mapped:
    app: list[AppSpec] = field(default_factory=list)
    net: list[NetSpec] = field(default_factory=list)
    not_expressible: list[Finding] = field(default_factory=list)
    widened: list[Finding] = field(default_factory=list)
    by_name: list[ByName] = field(default_factory=list)  # addresses left to their entries' application rules
    rules: list[Rule] = field(default_factory=list)  # the plan's rules as mapped: address rules in addressRules' view


# Why an address of an http/https entry is wider on Azure than its entry (learn.microsoft.com/azure/firewall/
# rule-processing: network rules are processed before application rules)
NETWORK_ADDRESS_REASON = (
    "network rule on addresses ({listed} listed): Azure network rules match protocol (TCP/UDP) and port only, so any "
    "application protocol and any name reach this address on these ports, before any application rule is "
    "evaluated; {why}"
)


def _names_serve(part: AddressPart, destination: str) -> bool:
    """Whether Azure's application rules serve a listed name at ``destination``: IPv4 only (dual stack preview:
    "Application and DNAT rules aren't supported yet" for IPv6), and only ports application rules take."""
    return ":" not in destination and not any(_app_port_problem(s) for s in part.services)


def _widen_addresses(plan: Plan, rendered_v6: bool, out: Mapped) -> None:
    """Every rendered address of an http/https/tls service is wider than its entry: a network rule cannot hold it
    to TLS or HTTP (those left to names, ``out.by_name``, are not rendered)."""
    left = {(b.entry, d) for b in out.by_name for d in b.destinations}
    for rule in plan.rules:
        if rule.kind is not RuleKind.ADDRESS:
            continue
        for part in parts_of(rule):
            listed = [s for s in part.services if s.protocol.inspectable]
            if not listed:
                continue
            why = (
                "addressRules: names-only would leave these addresses to the entry's names"
                if part.by_name
                else "the entry lists no name; Azure cannot narrow it (a network rule cannot require TLS or HTTP)"
            )
            reason = NETWORK_ADDRESS_REASON.format(listed=", ".join(str(s) for s in listed), why=why)
            out.widened.extend(
                Finding(e, d, reason, NETWORK_RULE_ON_ADDRESS)
                for d, entries in part.origins
                if rendered_v6 or ":" not in d
                for e in entries
                if (e, d) not in left
            )


def map_plan(
    plan: Plan,
    dns_proxy: bool,
    tier: str = "Standard",
    ipv6_reason: str | None = IPV6_OFF_REASON,
    address_rules: AddressRules = AddressRules.NAMES_ONLY,
) -> Mapped:
    out = Mapped()
    refused: dict[str, set[str]] = defaultdict(set)
    out.rules, out.by_name = rendered_rules(plan, address_rules, keep_protocols=False, by_name_applies=_names_serve)
    _widen_addresses(plan, ipv6_reason is None, out)
    for rule in out.rules:
        _map_rule(rule, dns_proxy, tier, ipv6_reason, out, refused)
    if refused:
        listed = "; ".join(f"{entry} ({', '.join(sorted(hosts))})" for entry, hosts in sorted(refused.items()))
        raise RenderError(
            "exact host names on plain TCP/UDP need FQDNs in network rules, which Azure resolves only with DNS "
            f"proxy; set dnsProxy: true (and enable DNS proxy on the firewall policy) or drop these entries: {listed}"
        )
    return out


def _map_rule(
    rule: Rule, dns_proxy: bool, tier: str, ipv6_reason: str | None, out: Mapped, refused: dict[str, set[str]]
) -> None:
    if rule.kind is RuleKind.HOSTNAME:
        _application(rule, out)
    elif rule.kind is RuleKind.HOST_NETWORK:
        if tier not in DNS_PROXY_TIERS:
            reason = BASIC_NAMES_REASON.format(services=", ".join(str(s) for s in rule.services))
            out.not_expressible.extend(
                Finding(e, host, reason, BASIC_TIER_NAMES) for host in rule.destinations for e in rule.origin_of(host)
            )
            return
        if not dns_proxy:
            for host in rule.destinations:
                for entry in rule.origin_of(host):
                    refused[entry].add(host)
            return
        _network(rule, rule.destinations, out, fqdns=True)
        for host in rule.destinations:
            services = ", ".join(str(s) for s in rule.services)
            out.widened.extend(
                Finding(
                    e,
                    host,
                    f"network rule on a name ({services}): with DNS proxy Azure allows "
                    "every address the name resolves to, so any other name served at those "
                    "addresses is reachable on these ports too",
                    NETWORK_RULE_ON_NAME,
                )
                for e in rule.origin_of(host)
            )
    else:  # ADDRESS, PEER
        v4 = tuple(d for d in rule.destinations if ":" not in d)  # canonical CIDRs: IPv6 iff a colon
        v6 = tuple(d for d in rule.destinations if ":" in d)
        if v4:
            _network(rule, v4, out, fqdns=False)
        if v6 and ipv6_reason is None:
            _network(rule, v6, out, fqdns=False, family=6)
        elif v6 and ipv6_reason is not None:
            out.not_expressible.extend(
                Finding(e, d, ipv6_reason, IPV6_DESTINATION) for d in v6 for e in rule.origin_of(d)
            )


def _application(rule: Rule, out: Mapped) -> None:
    protocols: set[tuple[str, int]] = set()
    for service in rule.services:
        reason = _app_port_problem(service)
        if reason:
            out.not_expressible.extend(
                Finding(e, d, reason, APP_PORT_OUT_OF_RANGE) for d in rule.destinations for e in rule.origin_of(d)
            )
            continue
        kind = APP_PROTOCOL[service.protocol]
        protocols.update((kind, port) for port in range(service.port.first, service.port.last + 1))
    if protocols:
        out.app.append(
            AppSpec(
                area=rule.area,
                name=azure_name(rule.name),
                protocols=tuple(sorted(protocols)),
                fqdns=tuple(sorted(rule.destinations)),
            )
        )


def _app_port_problem(service: Service) -> str | None:
    first, last = service.port.first, service.port.last
    if last > APP_PORT_MAX:
        return (
            f"{service}: Azure application rules take ports 1-{APP_PORT_MAX}; port {last} is outside, and a "
            "network rule cannot match the host name"
        )
    if last - first + 1 > APP_PORT_RANGE_MAX:
        return (
            f"{service}: Azure application rules take single ports; a range of {last - first + 1} ports is more "
            f"than the {APP_PORT_RANGE_MAX} this renderer expands"
        )
    return None


def _network(rule: Rule, destinations: tuple[str, ...], out: Mapped, fqdns: bool, family: int = 4) -> None:
    by_transport: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for service in rule.services:
        key = (service.port.first, service.port.last)
        if key not in by_transport[service.protocol.transport]:
            by_transport[service.protocol.transport].append(key)
    ports = {t: tuple(str(a) if a == b else f"{a}-{b}" for a, b in sorted(v)) for t, v in by_transport.items()}
    base = rule.name if family == 4 else f"{rule.name}-v6"
    if len(set(ports.values())) == 1:  # same ports on every transport: one rule is exact
        variants = [(tuple(NET_PROTOCOL[t] for t in sorted(ports)), next(iter(ports.values())), base)]
    else:
        variants = [((NET_PROTOCOL[t],), ports[t], f"{base}-{t}") for t in sorted(ports)]
    for protocols, port_list, name in variants:
        out.net.append(
            NetSpec(
                area=rule.area,
                name=azure_name(name),
                key=base,
                ip_protocols=protocols,
                ports=port_list,
                addresses=() if fqdns else destinations,
                fqdns=tuple(sorted(destinations)) if fqdns else (),
                family=family,
            )
        )
