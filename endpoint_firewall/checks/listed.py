"""What the catalogue itself lists for a flow's destination and port, from the plan: for ``epfw check`` to pick
the protocol the catalogue names, and to say when an allow rests on a rule wider than the catalogue."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from ..endpoints.names import looks_like_address
from ..planning.address_rules import parts_of
from ..planning.rules import Plan, RuleKind
from ..renderers.findings import Finding
from .azure import fqdn_matches
from .flow import Flow, FlowProtocol

# On the wire, https and tls are both TLS with an SNI: a catalogue https:443 is what a --proto tls flow is.
_SAME_WIRE = {"https": {"https", "tls"}, "tls": {"https", "tls"}}
_PREFERENCE: tuple[FlowProtocol, ...] = ("tls", "https", "http", "tcp", "udp")
_NAMED = {"http", "https", "tls"}  # protocols that carry a name (Host, SNI)


@dataclass(frozen=True)
class Listing:
    destination: str
    protocol: str
    port: str
    entries: tuple[str, ...]
    by_address: bool = False  # the destination is an address or range (its entries' services, as listed)


def _covers(destination: str, flow: Flow) -> bool:
    if looks_like_address(destination):
        return flow.ip is not None and ipaddress.ip_address(flow.ip) in ipaddress.ip_network(destination)
    return flow.host is not None and fqdn_matches(destination, flow.host)


def listings(plan: Plan, flow: Flow) -> list[Listing]:
    """Every (destination, service) of the plan that names the flow's host or address on its port; an address with
    the services its entries list (``http:80``, not the rule's ``tcp:80``)."""
    out = []
    for rule in plan.rules:
        parts = (
            [(p.services, p.origins) for p in parts_of(rule)]
            if rule.kind is RuleKind.ADDRESS
            else [(rule.services, rule.origins)]
        )
        for services, origins in parts:
            on_port = [s for s in services if s.port.first <= flow.port <= s.port.last]
            for dest, entries in origins if on_port else ():
                if _covers(dest, flow):
                    out += [
                        Listing(dest, s.protocol.value, str(s.port), entries, looks_like_address(dest)) for s in on_port
                    ]
    return out


def of_flow(found: Iterable[Listing], flow: Flow) -> list[Listing]:
    """What lists the flow itself: a flow that names a host is listed by that name, never because its address is
    (an address listed on http, https or tls says nothing of the names sent to it); on plain TCP/UDP, where no name
    is on the wire, and for a flow without a host, an address lists it."""
    return [i for i in found if not (flow.host and i.by_address and i.protocol in _NAMED)]


def address_only(found: Iterable[Listing], flow: Flow) -> list[Listing]:
    """The listings of the flow's address that :func:`of_flow` does not count for its name."""
    counted = of_flow(found, flow)
    return [i for i in found if i not in counted]


def address_widening(findings: Iterable[Finding], ip: str | None) -> list[str]:
    """How a render's widened address rules reach ``ip`` beyond the catalogue (any name, or any protocol)."""
    if not ip:
        return []
    entries: dict[tuple[str, str], set[str]] = {}
    for finding in findings:
        dest = finding.destination or ""
        if looks_like_address(dest) and ipaddress.ip_address(ip) in ipaddress.ip_network(dest):
            entries.setdefault((dest, finding.reason), set()).add(finding.entry)
    return [
        f"the address rule for {dest} (entries {', '.join(sorted(ids))}): {reason}"
        for (dest, reason), ids in sorted(entries.items())
    ]


def listed_protocol(found: Iterable[Listing], default: str) -> FlowProtocol | None:
    """The protocol to check when none was given: ``default`` when the catalogue lists it, else the one it lists."""
    protocols = {item.protocol for item in found}
    if not protocols or default in protocols:
        return None
    return next(p for p in _PREFERENCE if p in protocols)


def lists_flow(found: Iterable[Listing], proto: str) -> bool:
    return any(item.protocol in _SAME_WIRE.get(proto, {proto}) for item in found)


def widening(findings: Iterable[Finding], host: str | None) -> list[str]:
    """How a render's *widened* destinations reach ``host`` beyond the catalogue: a name or wildcard that covers
    it, whose domain-list target matches any port, or a wildcard on ``host`` itself, whose target ``.host`` also
    matches ``host``. One line per destination, with the entries that list it."""
    if not host:
        return []
    entries: dict[str, set[str]] = {}
    for finding in findings:
        dest = finding.destination or ""
        if dest and (fqdn_matches(dest, host) or dest == f"*.{host}"):
            entries.setdefault(dest, set()).add(finding.entry)
    out = []
    for dest, ids in sorted(entries.items()):
        shown = ", ".join(sorted(ids)[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        if dest == f"*.{host}":
            out.append(f"the domain-list target .{host} (for {dest}, entries {shown}) also matches {host} itself")
        else:
            out.append(f"the domain-list target for {dest} (entries {shown}) matches any port")
    return out
