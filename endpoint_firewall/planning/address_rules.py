"""How much an address rule carries: the stack's ``addressRules`` choice, per cloud (docs/address-rules.md).

The plan keeps each address rule as its transports (``intune-core-ip-tcp80-tcp443``) with its :class:`AddressPart`
(the services its entries list, and whether the plan deploys names of those entries for them). A cloud renders one of three views:

* ``tcp``: the rule as planned, every protocol on the listed ports (what this project rendered before).
* ``protocol``: one rule per listed service set, so an ``http`` entry's addresses take an HTTP request and an
  ``https``/``tls`` entry's a TLS ClientHello (any name), plain TCP/UDP as listed.
* ``names-only``: like ``protocol``, without the addresses whose entries' names the plan deploys for those services: a
  name-aware firewall passes a listed name to any address (AWS: domain lists and ``tls.sni``/``http.host`` match
  only the name; Azure: application rules resolve the name themselves and ignore the client's destination IP), so
  the addresses would only let other names and protocols in.

Pure: plain values in, plain values out.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ..endpoints.models import Protocol, Service
from . import addresses
from .kinds import ADDRESS_LEFT_TO_NAMES, Kind
from .rules import AddressPart, Plan, Rule, RuleKind, rule_name


class AddressRules(StrEnum):
    NAMES_ONLY = "names-only"  # addresses of entries with deployed names are left to them; the rest as PROTOCOL
    PROTOCOL = "protocol"  # each address carries its entry's protocols (http: a request, https/tls: a ClientHello)
    TCP = "tcp"  # each address takes any TCP (UDP) payload on the listed ports


@dataclass(frozen=True)
class ByName:
    """Addresses a render leaves out because their entries' names pass the same services by name."""

    entry: str
    services: tuple[Service, ...]
    destinations: tuple[str, ...]
    kind: Kind = ADDRESS_LEFT_TO_NAMES

    def left_at(self, ip: str, port: int) -> tuple[str, ...]:
        """The destinations that hold ``ip``, when ``port`` is one of the services left to names (on the entry's
        other services the address keeps its address rule): none otherwise."""
        if not any(s.port.first <= port <= s.port.last for s in self.services):
            return ()
        address = ipaddress.ip_address(ip)
        return tuple(d for d in self.destinations if address in ipaddress.ip_network(d))

    def to_json(self) -> dict[str, object]:
        return {
            "entry": self.entry,
            "services": ", ".join(str(s) for s in self.services),
            "addresses": list(self.destinations),
            "kind": self.kind.id,
        }


def parts_of(rule: Rule) -> tuple[AddressPart, ...]:
    """The rule's parts; a rule built without them (by hand) is one part: its own services, not by name."""
    return rule.parts or (AddressPart(rule.services, False, rule.destinations, rule.origins),)


def rendered_rules(
    plan: Plan,
    mode: AddressRules,
    keep_protocols: bool,
    by_name_applies: Callable[[AddressPart, str], bool] = lambda part, destination: True,
) -> tuple[list[Rule], list[ByName]]:
    """The plan's rules as a cloud renders them under ``mode``, and the addresses it leaves to names.

    Per service area, the address rules are replaced by one rule per service set of what ``mode`` keeps (``tcp``:
    the planned rules themselves), rules sorted by name as the plan sorts them. ``keep_protocols``: rules keep the
    services as listed (AWS, which can require an HTTP request or a ClientHello); False: their transports (Azure
    network rules, which cannot). ``by_name_applies(part, destination)``: whether the cloud's name rules do serve
    that destination (Azure: IPv4 and application-rule ports only); when not, it is kept."""
    rules: list[Rule] = []
    left: list[ByName] = []
    for area in plan.areas:
        address = [r for r in area.rules if r.kind is RuleKind.ADDRESS]
        if mode == AddressRules.TCP or not address:
            rules += area.rules
            continue
        views, by_name = _views(address, mode, keep_protocols, by_name_applies)
        rules += sorted([r for r in area.rules if r.kind is not RuleKind.ADDRESS] + views, key=lambda r: r.name)
        left += by_name
    return rules, left


def _views(
    address: Sequence[Rule],
    mode: AddressRules,
    keep_protocols: bool,
    by_name_applies: Callable[[AddressPart, str], bool],
) -> tuple[list[Rule], list[ByName]]:
    kept: dict[tuple[Service, ...], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    left: dict[tuple[str, tuple[Service, ...]], list[str]] = defaultdict(list)
    for rule in address:
        for part in parts_of(rule):
            services = part.services if keep_protocols else _transports(part.services)
            for destination, entries in part.origins:
                if mode == AddressRules.NAMES_ONLY and part.by_name and by_name_applies(part, destination):
                    for entry in entries:
                        left[(entry, part.services)].append(destination)
                    continue
                kept[services][destination].update(entries)
    area = address[0].area
    rules = [
        _same_rule(address, services, origins) or _rule(area, services, origins) for services, origins in kept.items()
    ]
    by_name = [
        ByName(entry, services, tuple(addresses.merge(dests)))
        for (entry, services), dests in sorted(left.items(), key=lambda item: (item[0][0], _order(item[0][1])))
    ]
    return rules, by_name


def _order(services: Sequence[Service]) -> list:
    return [s.sort_key() for s in services]


def _transports(services: Sequence[Service]) -> tuple[Service, ...]:
    out = {Service(protocol=Protocol(s.protocol.transport), port=s.port) for s in services}
    return tuple(sorted(out, key=Service.sort_key))


def _same_rule(address: Sequence[Rule], services: tuple[Service, ...], origins: dict[str, set[str]]) -> Rule | None:
    """The planned rule itself when the view keeps it as it is (its services, exactly its destinations)."""
    for rule in address:
        if rule.services == services and set(rule.destinations) == set(origins):
            return rule
    return None


def _rule(area: str, services: tuple[Service, ...], origins: dict[str, set[str]]) -> Rule:
    merged = addresses.merge_origins(origins)
    return Rule(
        name=rule_name(area, RuleKind.ADDRESS, services),
        area=area,
        kind=RuleKind.ADDRESS,
        services=services,
        destinations=tuple(merged),
        origins=tuple((d, tuple(sorted(ids))) for d, ids in merged.items()),
    )
