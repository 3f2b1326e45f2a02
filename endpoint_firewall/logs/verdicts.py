"""One verdict per denied destination and port, with the entries and the setting that decide it.

* ``selected``: this stack's rules should pass it (the plan lists it on this protocol and port, and the cloud
  expresses it): a deny is a defect, a rule order problem or another team's rule in front. The cloud's side names
  the rule that should have matched and what the log says denied it.
* ``not-selected``: the catalogue lists it, this stack's selection leaves it out: the entries and the settings
  that would include them (``selection.serviceAreas``, ``regions``, ``entries``, ``includeOptional``,
  ``peerRanges``); also an address without a name that the render leaves to its entry's names (``addressRules``).
* ``not-expressible``: listed and selected, but this cloud cannot express it (the render's findings: IPv6 on
  Azure, names on plain TCP/UDP, wildcards on plain TCP/UDP); also an address-only deny on a port where the stack
  lists only names the cloud cannot express.
* ``unlisted``: no entry lists it on this service: said to be a catalogue candidate (with the line that would add
  it) when an entry names it on other services or it sits under a vendor's domain the catalogue uses; else other
  traffic.

What the catalogue lists comes from :mod:`..checks.listed` over the stack's plan and over a plan of every entry: a
name is listed by its name, never because its address is (:func:`~..checks.listed.of_flow`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..checks import listed
from ..checks.azure import fqdn_matches
from ..checks.flow import Flow
from ..endpoints.loader import Catalogue
from ..endpoints.models import Entry, EntryKind
from ..endpoints.names import looks_like_address
from ..endpoints.shared_tenants import is_shared_tenant_wildcard, shared_tenant_suffix
from ..planning.kinds import SHARED_TENANT_LEFT_OUT
from ..planning.rules import Plan
from ..planning.selection import OPT_IN_REGIONS, Selection, SharedTenantMode
from ..renderers.findings import Finding
from .on_aws import AwsSide
from .on_azure import AzureSide
from .records import iso
from .tally import Denied, Key, Tally
from .vendors import Vendors

SELECTED, NOT_SELECTED, NOT_EXPRESSIBLE, UNLISTED = "selected", "not-selected", "not-expressible", "unlisted"
VERDICTS = (SELECTED, NOT_SELECTED, NOT_EXPRESSIBLE, UNLISTED)
_FLOW_PROTOCOLS = ("http", "https", "tls", "tcp", "udp", "icmp")
_TLS_OR_HTTP = ("http", "https", "tls")
SHOWN = 3  # entries and names quoted in a sentence


@dataclass(frozen=True)
class Explained:
    destination: str
    port: int
    protocol: str
    count: int
    first: str | None
    last: str | None
    sources: int
    verdict: str
    entries: tuple[str, ...]
    why: str

    def to_json(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "port": self.port,
            "protocol": self.protocol,
            "count": self.count,
            "first": self.first,
            "last": self.last,
            "sources": self.sources,
            "verdict": self.verdict,
            "entries": list(self.entries),
            "why": self.why,
        }


@dataclass(frozen=True)
class Stack:
    """What a stack deploys on one cloud, and the whole catalogue it selects from."""

    name: str
    catalogue: Catalogue
    selection: Selection
    plan: Plan  # the stack's selection
    full_plan: Plan  # every entry, every region, optional ones too
    peer_ranges: tuple[str, ...]
    side: AzureSide | AwsSide
    vendors: Vendors

    @cached_property
    def _listed_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        destinations = {d for plan in (self.plan, self.full_plan) for r in plan.rules for d in r.destinations}
        return [ipaddress.ip_network(d) for d in destinations if looks_like_address(d)]

    def may_be_listed(self, ip: str | None) -> str | None:
        """``ip`` when some listed network holds it, else None: a name's address matters to what is listed only
        then (the listings compare it with every network, which is the slow part of an explanation)."""
        if ip is None:
            return None
        address = ipaddress.ip_address(ip)
        return ip if any(address.version == n.version and address in n for n in self._listed_networks) else None

    @cached_property
    def _listed_names(self) -> tuple[frozenset[str], frozenset[str]]:
        """The plans' names: exact ones, and the bases of wildcards (``*.x.com`` -> ``x.com``)."""
        names = {d for plan in (self.plan, self.full_plan) for r in plan.rules for d in r.destinations}
        return (
            frozenset(n for n in names if not n.startswith("*.")),
            frozenset(n[2:] for n in names if n.startswith("*.")),
        )

    def may_list(self, flow: Flow) -> bool:
        """False when no plan can list ``flow`` (no network holds its address, no name covers its host): the
        listings need not be asked."""
        if flow.ip is not None:
            return True
        exact, wildcards = self._listed_names
        host = flow.host or ""
        labels = host.split(".")
        return host in exact or any(".".join(labels[i:]) in wildcards for i in range(1, len(labels)))

    @cached_property
    def _source_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(r) for r in self.plan.source_ranges]

    @cached_property
    def _inside_cache(self) -> dict[str, bool]:
        return {}

    def is_device(self, source: str) -> bool:
        """Whether ``source`` is inside the stack's sourceRanges (remembered: the same devices recur)."""
        known = self._inside_cache.get(source)
        if known is None:
            address = ipaddress.ip_address(source)
            known = self._inside_cache[source] = any(
                address.version == n.version and address in n for n in self._source_networks
            )
        return known


def explain_all(stack: Stack, tally: Tally) -> list[Explained]:
    """Every denied destination: by verdict (``selected`` first), then the most denied first."""
    explained = [explain(stack, key, denied, tally) for key, denied in tally.denied.items()]
    return sorted(explained, key=lambda e: (VERDICTS.index(e.verdict), -e.count, e.destination, e.port, e.protocol))


def explain(stack: Stack, key: Key, denied: Denied, tally: Tally) -> Explained:
    destination, port, protocol = key
    sources_seen = tally.sources_of(denied)
    outside = sum(1 for s in sources_seen if not stack.is_device(s))
    verdict, entries, why = _verdict(stack, key, denied, bool(sources_seen) and outside == len(sources_seen))
    extra = _sources_note(stack, outside, len(sources_seen)) + _dns_note(destination, tally)
    sources = tally.source_count(denied)
    return Explained(
        destination=destination,
        port=port,
        protocol=protocol,
        count=denied.count,
        first=iso(denied.first),
        last=iso(denied.last),
        sources=sources,
        verdict=verdict,
        entries=tuple(entries),
        why=" ".join([why, *extra]),
    )


def _verdict(stack: Stack, key: Key, denied: Denied, from_outside: bool) -> tuple[str, list[str], str]:
    """``from_outside``: every source of the records is outside the stack's sourceRanges."""
    destination, port, protocol = key
    cloud = _CLOUD_NAMES[stack.side.cloud]
    if protocol not in _FLOW_PROTOCOLS:
        return UNLISTED, [], f"{protocol} traffic: the catalogue lists only TCP, UDP, HTTP and TLS services."
    is_address = looks_like_address(destination)
    flow = Flow(
        host=None if is_address else destination,
        port=port,
        proto=protocol,  # type: ignore[arg-type]  # one of _FLOW_PROTOCOLS
        ip=destination if is_address else stack.may_be_listed(denied.ip),
    )
    service = f"{protocol}:{port}"
    # 1. The stack's own plan lists it on this wire protocol
    listable = stack.may_list(flow)
    found = listed.of_flow(listed.listings(stack.plan, flow), flow) if listable else []
    if _on_wire(found, protocol, stack.side.tcp_may_be_tls):
        entries = _entry_ids(found)
        cannot = _findings_for(stack.side.not_expressible, entries, flow)
        if cannot:
            return NOT_EXPRESSIBLE, entries, f"{cloud} cannot express it: {cannot[0].reason}."
        left = _left_to_names(stack, entries, flow)
        if left:
            return NOT_SELECTED, entries, left
        rule = stack.side.should_match(flow, found)
        if rule is None:
            return (
                NOT_EXPRESSIBLE,
                entries,
                f"the plan lists it ({_named(entries)}) but the render has no rule that passes it.",
            )
        if from_outside:
            return SELECTED, entries, f"this stack's rule passes it from the stack's sourceRanges only: {rule}."
        return SELECTED, entries, f"this stack's rule should pass it: {rule}; {stack.side.denied_by(denied)}."
    # 2. An address only, on a port where the stack lists names the cloud cannot express
    if is_address:
        names = _inexpressible_names(stack, protocol, port)
        if names:
            entries = sorted({f.entry for f in names})
            shown = ", ".join(sorted({f.destination or "" for f in names})[:SHOWN])
            return (
                NOT_EXPRESSIBLE,
                entries,
                f"the log has an address only; on {service} the stack lists names ({shown}), which {cloud} cannot "
                f"express: {names[0].reason}. If this is one of their addresses, list the address in the catalogue.",
            )
    # 3. The whole catalogue lists it: left out by the selection, or skipped by the plan
    everywhere = listed.of_flow(listed.listings(stack.full_plan, flow), flow) if listable else []
    if _on_wire(everywhere, protocol, stack.side.tcp_may_be_tls):
        entries = _entry_ids(everywhere)
        selected = [e for e in entries if e in stack.plan.selected_entries]
        skipped = [f for f in _findings_for(stack.side.skipped, selected, flow) if f.kind != SHARED_TENANT_LEFT_OUT]
        if skipped:
            return NOT_EXPRESSIBLE, entries, f"{cloud} cannot express it: {skipped[0].reason}."
        return NOT_SELECTED, entries, _left_out(stack, everywhere, flow.host)
    # 4. Peer-to-peer entries on this port
    if is_address:
        peers = _peer_entries(stack, protocol, port)
        if peers:
            return _peer_verdict(stack, destination, peers)
    # 5. Unlisted: a candidate when an entry names it or its owner's domain, else other traffic
    return UNLISTED, *_unlisted(stack, flow, service, denied)


def _on_wire(found: list[listed.Listing], protocol: str, tcp_may_be_tls: bool) -> bool:
    """Listed on this protocol; an address listed on TCP also carries HTTP and TLS; and where the log says TCP for
    TLS and HTTP alike (``tcp_may_be_tls``: Azure's network rule log), a TCP record to an address listed on http,
    https or tls may be that."""
    return (
        listed.lists_flow(found, protocol)
        or (protocol in _TLS_OR_HTTP and listed.lists_flow(found, "tcp"))
        or (tcp_may_be_tls and protocol == "tcp" and any(listed.lists_flow(found, p) for p in _TLS_OR_HTTP))
    )


def _left_to_names(stack: Stack, entries: list[str], flow: Flow) -> str:
    """Why a flow without a name to an address the render leaves to its entries' names (``addressRules:
    names-only``) is denied by design, and the setting that would render the address; empty when it is not one."""
    if flow.host is not None or flow.ip is None:
        return ""
    left = [b for b in stack.side.render.by_name if b.entry in entries and b.left_at(flow.ip, flow.port)]
    if not left:
        return ""
    cloud = stack.side.cloud
    services = ", ".join(sorted({str(s) for b in left for s in b.services}))
    wider = (
        "protocol (a request or ClientHello of any name) or tcp (any TCP payload)"
        if cloud == "aws"
        else "tcp (any TCP payload, before every application rule)"
    )
    return (
        f"listed by {_named(sorted({b.entry for b in left}))} for {services} with its names; {cloud}.addressRules: "
        f"{stack.side.render.address_rules.value} leaves this address to those names, which pass at any address, "
        f"and the record names no host; to pass the address itself: set {cloud}.addressRules: {wider}."
    )


def _entry_ids(found: list[listed.Listing]) -> list[str]:
    return sorted({e for item in found for e in item.entries})


def _findings_for(findings: tuple[Finding, ...], entries: list[str], flow: Flow) -> list[Finding]:
    return [f for f in findings if f.entry in entries and _finding_covers(f.destination, flow)]


def _finding_covers(destination: str | None, flow: Flow) -> bool:
    if destination is None:
        return True
    if looks_like_address(destination):
        return flow.ip is not None and _in(flow.ip, destination)
    return flow.host is not None and fqdn_matches(destination, flow.host)


def _in(ip: str, network: str) -> bool:
    address, net = ipaddress.ip_address(ip), ipaddress.ip_network(network, strict=False)
    return address.version == net.version and address in net


def _inexpressible_names(stack: Stack, protocol: str, port: int) -> list[Finding]:
    """The render's not-expressible names of selected entries that list this transport and port."""
    out = []
    for finding in stack.side.not_expressible:
        if finding.destination is None or looks_like_address(finding.destination):
            continue
        entry = stack.catalogue.entry(finding.entry)
        if any(
            _service_takes(s.protocol.value, s.protocol.transport, s.port.first, s.port.last, protocol, port)
            for s in entry.services
        ):
            out.append(finding)
    return out


def _service_takes(listed_protocol: str, transport: str, first: int, last: int, protocol: str, port: int) -> bool:
    same = listed_protocol == protocol or transport == protocol
    return same and first <= port <= last


def _left_out(stack: Stack, found: list[listed.Listing], host: str | None) -> str:
    """Which entries list it, and the smallest change of the stack's settings that includes one of them."""
    wildcards: dict[str, str] = {}  # entry -> the shared-tenant wildcard through which alone it lists the host
    for item in found:
        for entry_id in item.entries:
            if is_shared_tenant_wildcard(item.destination):
                wildcards.setdefault(entry_id, item.destination)
            else:
                wildcards[entry_id] = ""
    entries = [stack.catalogue.entry(e) for e in sorted(wildcards)]
    changes = {e.id: _changes_for(stack, e, wildcards[e.id], host) for e in entries}
    best = min(entries, key=lambda e: (len(changes[e.id]), e.id))
    areas = ", ".join(sorted({e.service_area for e in entries}))
    listed_by = f"listed by {_named([e.id for e in entries])} (service area {areas})"
    through = f" through the shared-tenant wildcard {wildcards[best.id]}" if wildcards[best.id] else ""
    return (
        f"{listed_by}{through}, which this stack's selection leaves out; to include it: {'; '.join(changes[best.id])}."
    )


def _changes_for(stack: Stack, entry: Entry, shared_wildcard: str = "", host: str | None = None) -> list[str]:
    """Every setting that keeps ``entry`` (or its shared-tenant wildcard) out, as the change that lets it in."""
    selection, changes = stack.selection, []
    if selection.entry_ids is not None and entry.id not in selection.entry_ids:
        changes.append(f"add {entry.id} to selection.entries")
    if selection.service_areas is not None and entry.service_area not in selection.service_areas:
        changes.append(f"add {entry.service_area} to selection.serviceAreas")
    named = selection.regions or frozenset()
    if (
        entry.regions
        and not set(entry.regions) & named
        and (selection.regions is not None or set(entry.regions) <= OPT_IN_REGIONS)
    ):
        changes.append(f"add {' or '.join(entry.regions)} to selection.regions")
    if not entry.required and not selection.include_optional:
        changes.append("set selection.includeOptional: true (the entry is marked required: false)")
    if entry.kind is EntryKind.PEER_TO_PEER and not stack.peer_ranges:
        changes.append("name the peers in peerRanges (a peer-to-peer entry)")
    if shared_wildcard and selection.shared_tenant_wildcards is SharedTenantMode.EXACT:
        suffix = shared_tenant_suffix(shared_wildcard)
        why = f": {suffix.why()}" if suffix else ""
        changes.append(
            f"if {host} is your tenant's own instance, name it in selection.tenantInstances (a stranger's instance "
            f"is as reachable under {shared_wildcard}{why}; selection.sharedTenantWildcards: allow opens the "
            "wildcard to any tenant)"
        )
    return changes or ["(selected already: the plan skips it)"]


def _peer_entries(stack: Stack, protocol: str, port: int) -> list[Entry]:
    return [
        e
        for e in stack.catalogue.entries
        if e.kind is EntryKind.PEER_TO_PEER
        and any(
            _service_takes(s.protocol.value, s.protocol.transport, s.port.first, s.port.last, protocol, port)
            for s in e.services
        )
    ]


def _peer_verdict(stack: Stack, destination: str, peers: list[Entry]) -> tuple[str, list[str], str]:
    ids = [e.id for e in peers]
    selected = [e for e in peers if stack.selection.keeps(e)]
    if selected and stack.peer_ranges:
        return (
            UNLISTED,
            ids,
            f"a peer-to-peer port of {_named(ids)}, to an address outside peerRanges "
            f"({', '.join(stack.peer_ranges)}): not a listed peer.",
        )
    return (
        NOT_SELECTED,
        ids,
        (
            f"a peer-to-peer port of {_named(ids)}: peers are the stack's peerRanges; to include it: "
            f"{'; '.join(_changes_for(stack, peers[0]))}."
        ),
    )


def _unlisted(stack: Stack, flow: Flow, service: str, denied: Denied) -> tuple[list[str], str]:
    tenant = shared_tenant_suffix(flow.host) if flow.host else None
    if tenant is not None:
        return [], f"no entry lists it; it is an instance under {tenant.suffix}, where {tenant.why()}: other traffic."
    if flow.host is None and flow.proto in _TLS_OR_HTTP:
        return [], (
            f"no entry lists this address on this service, and the record names no host: the {flow.proto} flow was "
            "denied before its first message (ClientHello, request) was complete, as a rule in front or a policy "
            "default that drops established traffic (aws:drop_established) does to a ClientHello split over two "
            f"segments; {stack.side.denied_by(denied)}."
        )
    if flow.host is None:
        return [], "no entry lists this address on this service: other traffic."
    wire = "https:443" if service == "tls:443" else service
    near = stack.vendors.near(flow.host, wire)
    if near.naming:
        entry, name = near.naming[0]
        offered = ", ".join(sorted({f"{s.protocol.value}:{s.port}" for e, _ in near.naming for s in e.services}))
        return [e.id for e, _ in near.naming], (
            f"{_named(sorted({e.id for e, _ in near.naming}))} list {name} on {offered}, not on {service}: a catalogue "
            f"candidate if the vendor uses this port: {stack.vendors.add_line(entry, flow.host, wire)}."
        )
    if near.siblings:
        entry, name = near.siblings[0]
        return [], (
            f"no entry lists it, but it is under {near.domain}, a domain the catalogue uses ({name}, entry "
            f"{entry.id}): a catalogue candidate; {stack.vendors.add_line(entry, flow.host, wire)}."
        )
    return [], "no entry lists it and no catalogue name shares its domain: other traffic."


def _sources_note(stack: Stack, outside: int, sources: int) -> list[str]:
    if not outside:
        return []
    return [
        f"{outside} of its {sources} sources are outside sourceRanges ({', '.join(stack.plan.source_ranges)}): "
        "not this stack's devices (add their range to sourceRanges if they are managed devices)."
    ]


def _dns_note(destination: str, tally: Tally) -> list[str]:
    notes = []
    failures = tally.resolve_failures.get(destination)
    if failures:
        notes.append(f"Azure Firewall could not resolve it for a network rule: {', '.join(sorted(failures))}.")
    answers = tally.dns_failures.get(destination)
    if answers:
        notes.append("The DNS proxy answered " + ", ".join(f"{c} ({n})" for c, n in answers.most_common()) + ".")
    return notes


def _named(ids: list[str]) -> str:
    shown = ", ".join(ids[:SHOWN])
    return shown + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


_CLOUD_NAMES = {"azure": "Azure Firewall", "aws": "AWS Network Firewall"}
