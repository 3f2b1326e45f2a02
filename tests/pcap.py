"""Flows for the Suricata engine tests: every catalogue flow of a stack (each TLS and HTTP one also with its
first message split over two TCP segments), and look-alikes that must not pass.

Also :func:`scapy_read`, which decodes a capture written by ``checks/suricata.py`` with scapy (an
independent packet library), so the hand-written frames are checked against a second implementation.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from address_flows import entry_host

from endpoint_firewall.checks.flow import Flow, FlowProtocol
from endpoint_firewall.endpoints.loader import Catalogue
from endpoint_firewall.endpoints.models import DestinationKind, EntryKind
from endpoint_firewall.endpoints.shared_tenants import is_shared_tenant_wildcard
from endpoint_firewall.planning.selection import Selection, SharedTenantMode, select

WILDCARD_LABEL = "epfw-test"


@dataclass(frozen=True)
class Case:
    flow: Flow
    why: str  # the entry id, or what the look-alike imitates
    expect_allowed: bool  # in exact mode (and for catalogue flows, always)
    widened_by: tuple[str, str] | None = None  # (entry, destination) whose domain-list widening allows it

    def expected(self, domain_list: bool, widened: set[tuple[str, str]]) -> bool:
        if self.expect_allowed:
            return True
        return domain_list and self.widened_by is not None and self.widened_by in widened


def inside(cidr: str) -> str:
    """An address inside ``cidr`` (the address itself for a host route; else one in the middle)."""
    net = ipaddress.ip_network(cidr)
    if net.num_addresses <= 2:
        return str(net.network_address)
    return str(net[net.num_addresses // 2 + 1])


def _ports(first: int, last: int) -> list[int]:
    return sorted({first, last, (first + last) // 2})


def catalogue_cases(catalogue: Catalogue, selection: Selection, peer_ranges: Sequence[str]) -> list[Case]:
    """Every selected entry's destinations x services: numbered hosts expanded, a concrete subdomain for
    each wildcard, an address inside each CIDR, peers inside each peer range. Names on plain TCP/UDP are
    left out (AWS cannot express them: the render lists them as not expressible). A shared-tenant wildcard's
    subdomain is a stranger's instance: allowed only with ``sharedTenantWildcards: allow``; the stack's tenant
    instances under it are allowed. A flow to an address carries its entry's protocol, and on http, https and tls
    one of the entry's names when it lists names (``address_flows.entry_host``): what the catalogue means (ID 163's
    ranges serve Intune's names)."""
    cases: list[Case] = []
    for entry in select(catalogue, selection):
        if entry.kind is EntryKind.REFERENCE:
            continue
        if entry.kind is EntryKind.PEER_TO_PEER:
            for peer in peer_ranges:
                for s in entry.services:
                    for port in _ports(s.port.first, s.port.last):
                        cases.append(Case(Flow(None, port, s.protocol.value, ip=inside(peer)), entry.id, True))
            continue
        for dest in entry.destinations:
            for s in entry.services:
                for port in _ports(s.port.first, s.port.last):
                    if dest.kind is DestinationKind.NETWORK:
                        flow = Flow(entry_host(entry, s), port, s.protocol.value, ip=inside(dest.value))
                        cases.append(Case(flow, entry.id, True))
                        continue
                    if not s.protocol.inspectable:
                        continue
                    for host in dest.hosts():
                        name = f"{WILDCARD_LABEL}.{host[2:]}" if host.startswith("*.") else host
                        if is_shared_tenant_wildcard(host):
                            opened = selection.shared_tenant_wildcards is SharedTenantMode.ALLOW
                            why = f"{entry.id}: a stranger's instance under the shared-tenant wildcard {host}"
                            cases.append(Case(Flow(name, port, s.protocol.value), why, opened))
                            cases += [
                                Case(Flow(i, port, s.protocol.value), f"{entry.id}: tenant instance", True)
                                for i in selection.tenant_instances
                                if i.endswith(host[1:])
                            ]
                            continue
                        cases.append(Case(Flow(name, port, s.protocol.value), entry.id, True))
    return cases


# First segments cut very short: inside the TLS record header (1, 3, 5 bytes), at the handshake type (6), inside
# the method (1, 3: "GET" without its space) or just past it (5, 6, 10)
SPLIT_OFFSETS = (1, 3, 5, 6, 10)


def split_cases(cases: Sequence[Case]) -> list[Case]:
    """The TLS and HTTP cases again, with the client's first message in two TCP segments (for TLS a ~1.8 KB
    post-quantum ClientHello whose SNI lands in the second segment); and once more each, split after one of
    :data:`SPLIT_OFFSETS` bytes (the offsets taken in turn, per protocol, so every offset meets TLS and HTTP
    hosts and each host meets one offset)."""
    named = [c for c in cases if c.flow.proto in ("http", "https", "tls")]
    out = [Case(replace(c.flow, split=True), c.why, c.expect_allowed, c.widened_by) for c in named]
    for protocol in (("http",), ("https", "tls")):
        of_protocol = [c for c in named if c.flow.proto in protocol]
        out += [
            Case(
                replace(c.flow, split=True, split_at=SPLIT_OFFSETS[n % len(SPLIT_OFFSETS)]),
                c.why,
                c.expect_allowed,
                c.widened_by,
            )
            for n, c in enumerate(of_protocol)
        ]
    return out


def short_split_look_alikes() -> list[Case]:
    """Unlisted and look-alike hosts with the first message split after each of :data:`SPLIT_OFFSETS` bytes."""
    hosts: tuple[tuple[str, int, FlowProtocol], ...] = (
        ("www.example.com", 443, "https"),
        ("www.example.com", 80, "http"),
        ("evilmanage.microsoft.com", 443, "https"),
        ("manage.microsoft.com.evil.example", 80, "http"),
    )
    return [
        Case(Flow(host, port, proto, split=True, split_at=at), f"unlisted or look-alike, split after {at} bytes", False)
        for at in SPLIT_OFFSETS
        for host, port, proto in hosts
    ]


def look_alike_cases(peer: str) -> list[Case]:
    """Traffic that imitates a catalogue flow and must be dropped, except where a domain list widens
    (then the render's summary must say so, for exactly that entry and destination)."""
    return [
        Case(Flow("manage.microsoft.com.evil.example", 443, "https"), "suffix appended to a listed name", False),
        Case(Flow("evilmanage.microsoft.com", 443, "https"), "prefix glued to a wildcard's base", False),
        Case(Flow("evilmanage.microsoft.com", 80, "http"), "prefix glued to a wildcard's base (HTTP)", False),
        Case(Flow("www.example.com", 443, "https"), "unlisted host", False),
        Case(Flow("www.example.com", 80, "http"), "unlisted host (HTTP)", False),
        Case(Flow(None, 443, "https"), "TLS without SNI to an unlisted address", False),
        Case(Flow("1-courier.push.apple.com", 5224, "tls"), "listed APNs host, unlisted port", False),
        Case(Flow("51-courier.push.apple.com", 5223, "tls"), "numbered host outside 0..50", False),
        Case(Flow("mtalk.google.com", 5231, "tls"), "listed FCM host, port after the range", False),
        Case(Flow("updates-http.cdn-apple.com", 443, "https"), "http-only name over TLS", False),
        Case(Flow(None, 8443, "tcp", ip="40.82.248.230"), "listed address, unlisted port", False),
        Case(Flow(None, 443, "udp", ip="40.82.248.230"), "listed address, UDP instead of TCP", False),
        Case(Flow(None, 443, "tcp", ip="40.82.248.240"), "just above 40.82.248.224/28", False),
        Case(Flow(None, 443, "tcp", ip="40.82.248.223"), "just below 40.82.248.224/28", False),
        Case(Flow(None, 7681, "tcp", ip=inside(peer)), "peer range, unlisted port", False),
        Case(Flow(None, 3545, "udp", ip=inside(peer)), "peer range, unlisted UDP port", False),
        # one datagram, one echo request, one first segment: denied at the first packet, nothing gets through
        Case(Flow(None, 53, "udp", ip="8.8.8.8"), "UDP to an unlisted address (DNS to 8.8.8.8)", False),
        Case(Flow(None, 443, "udp", ip="198.51.100.20"), "UDP 443 (QUIC) to an unlisted address", False),
        Case(Flow(None, 0, "icmp", ip="8.8.8.8"), "ICMP echo to an unlisted address", False),
        Case(Flow(None, 0, "icmp", ip="40.82.248.230"), "ICMP echo to a listed TCP address", False),
        # look-alikes of the 2026 page's hosts and ranges
        Case(Flow("q7x2storage.blob.core.windows.net", 443, "https"), "a storage account ID 182 does not list", False),
        Case(Flow("amsua0103lmsas.blob.core.windows.net", 443, "https"), "an unlisted scale-unit account", False),
        Case(Flow("evildm.microsoft.com", 443, "https"), "prefix glued to *.dm.microsoft.com's base", False),
        Case(
            Flow("imeswda-afd-primary.manage.microsoft.com.evil.example", 443, "https"),
            "suffix appended to a Win32 CDN host",
            False,
        ),
        Case(Flow("intunemaape99.eus.attest.azure.net", 443, "https"), "an unlisted attestation instance", False),
        Case(Flow("gcc.remotehelp.microsoft.com", 443, "https"), "a GCC host: commercial stacks leave it out", False),
        Case(Flow(None, 443, "tcp", ip="13.107.226.10"), "just below the AFD range 13.107.227.0/24", False),
        Case(Flow(None, 443, "tcp", ip="198.51.100.21"), "plain TCP (no TLS, no HTTP) to an unlisted address", False),
        Case(Flow(None, 22, "tcp", ip="198.51.100.22"), "TCP 22 to an unlisted address", False),
        Case(Flow("www.example.com", 443, "https", split=True), "unlisted host, ClientHello split in two", False),
        Case(Flow("evilmanage.microsoft.com", 443, "https", split=True), "look-alike, ClientHello split in two", False),
        Case(Flow("www.example.com", 80, "http", split=True), "unlisted host, HTTP request split in two", False),
        *short_split_look_alikes(),
        # allowed only where a domain list widens, and then listed in the summary:
        Case(
            Flow("mzstatic.com", 443, "https"), "apex of *.mzstatic.com", False, ("apple-app-store", "*.mzstatic.com")
        ),
        Case(
            Flow("notify.windows.com", 443, "https"),
            "apex of *.notify.windows.com",
            False,
            ("intune-171", "*.notify.windows.com"),
        ),
        Case(
            Flow("itunes.apple.com", 8080, "http"),
            "listed http:80 name on another port",
            False,
            ("apple-app-store-web", "itunes.apple.com"),
        ),
        Case(
            Flow("login.microsoftonline.com", 8443, "https"),
            "listed https:443 name on another port",
            False,
            ("intune-56", "login.microsoftonline.com"),
        ),
    ]


# --- independent decoding with scapy ---------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    src: str
    dst: str
    sport: int
    dport: int
    proto: str
    flags: str
    checksum_ok: bool
    payload: bytes


def scapy_read(path: Path) -> list[Decoded]:
    from scapy.all import ICMP, IP, TCP, UDP, ICMPv6EchoRequest, IPv6, rdpcap  # test extra

    out = []
    for packet in rdpcap(str(path)):
        ip_class = IP if IP in packet else IPv6
        transport = next(t for t in (TCP, UDP, ICMP, ICMPv6EchoRequest) if t in packet)
        fresh = ip_class(bytes(packet[ip_class]))
        field = "cksum" if transport is ICMPv6EchoRequest else "chksum"
        stored = [getattr(fresh[transport], field)] + ([fresh[IP].chksum] if ip_class is IP else [])
        delattr(fresh[transport], field)
        if ip_class is IP:
            del fresh[IP].chksum
        rebuilt = ip_class(bytes(fresh))
        recomputed = [getattr(rebuilt[transport], field)] + ([rebuilt[IP].chksum] if ip_class is IP else [])
        layer = packet[transport]
        icmp = transport in (ICMP, ICMPv6EchoRequest)
        out.append(
            Decoded(
                packet[ip_class].src,
                packet[ip_class].dst,
                0 if icmp else layer.sport,
                0 if icmp else layer.dport,
                "icmp" if icmp else transport.__name__.lower(),
                str(layer.flags) if transport is TCP else "",
                stored == recomputed,
                bytes(layer.data) if transport is ICMPv6EchoRequest else bytes(layer.payload),
            )
        )
    return out


def sni_of(client_hello: bytes) -> str | None:
    """The server_name of a TLS ClientHello record (a small independent parser)."""
    if len(client_hello) < 44 or client_hello[0] != 0x16 or client_hello[5] != 0x01:
        return None
    i = 9 + 2 + 32
    i += 1 + client_hello[i]
    (n,) = struct.unpack("!H", client_hello[i : i + 2])
    i += 2 + n
    i += 1 + client_hello[i]
    (total,) = struct.unpack("!H", client_hello[i : i + 2])
    i += 2
    end = i + total
    while i + 4 <= end:
        kind, size = struct.unpack("!HH", client_hello[i : i + 4])
        if kind == 0:
            (name_len,) = struct.unpack("!H", client_hello[i + 7 : i + 9])
            return client_hello[i + 9 : i + 9 + name_len].decode()
        i += 4 + size
    return None


# --- probes of the deny: every way a flow can carry data to an unlisted address ---------------------------

PROBE_DEST = "198.51.100.77"  # TEST-NET-2, listed by no catalogue
_JUNK = b"exfiltrated-data-" * 64  # ~1 KB a segment


def _probe(
    port: int,
    *messages: tuple[bool, bytes],
    proto: str = "tcp",
    syn: bytes = b"",
    ip: str = PROBE_DEST,
    source: str | None = None,
) -> Flow:
    return Flow(None, port, proto, ip=ip, source=source, messages=tuple(messages), syn_data=syn)  # type: ignore[arg-type]


def deny_probes(ipv6_source: str) -> dict[str, Flow]:
    """Raw-payload flows that avoid a well-formed TLS ClientHello and HTTP request with a Host header (where the
    TLS and HTTP drops decide), one per way data can travel; each must be dropped with nothing delivered after
    the drop. ``pending``-class probes (a ClientHello or header block that never completes) may deliver up to
    the deny's pending bound before it; ``prefix``-class probes (a first segment shorter than a start can be
    judged on, and the beginning of one) deliver that one segment before it; ``pending-tls`` ones (a ClientHello
    within its size bound that never completes) up to the smaller bound of a flow that starts as TLS."""
    c, s = True, False
    many = [(c, _JUNK)] * 40  # ~40 KB, past PENDING_MAX_BYTES
    no_headers = b"GET /?d=x HTTP/1.0\r\n\r\n"
    not_hello = b"\x16\x03\x01\x00\x06\x02\x00\x00\x02\x03\x03"  # a handshake record holding a ServerHello
    return {
        "http: request without header lines, port 80": _probe(80, (c, no_headers), (c, _JUNK)),
        "http: request without header lines, port 8080": _probe(8080, (c, no_headers), (c, _JUNK)),
        "http: HTTP/0.9 request line": _probe(80, (c, b"GET /?d=x\r\n"), (c, _JUNK)),
        "http: CONNECT without headers": _probe(443, (c, b"CONNECT evil.example:443 HTTP/1.1\r\n\r\n"), (c, _JUNK)),
        "pending: request line, headers never end": _probe(80, (c, b"GET /?d=x HTTP/1.1\r\nX-A: "), *many),
        "tls: handshake record that is not a ClientHello, port 443": _probe(443, (c, not_hello), (c, _JUNK)),
        "tls: handshake record that is not a ClientHello, port 8443": _probe(8443, (c, not_hello), (c, _JUNK)),
        "tls: application-data record first": _probe(443, (c, b"\x17\x03\x03\x00\x10" + bytes(16)), (c, _JUNK)),
        "tls: alert record first": _probe(443, (c, b"\x15\x03\x03\x00\x02\x02\x28"), (c, _JUNK)),
        "tls: 16 03 then arbitrary bytes": _probe(443, (c, b"\x16\x03" + _JUNK), (c, _JUNK)),
        "short: data in 1-byte segments": _probe(443, *[(c, b"x")] * 20),
        "short: 7 bytes, the beginning of nothing allowed": _probe(443, (c, b"GET/abc"), (c, _JUNK)),
        "prefix: 'GET' (no space yet), then arbitrary bytes": _probe(80, (c, b"GET"), (c, _JUNK)),
        "prefix: a TLS record header cut after 5 bytes, then no ClientHello": _probe(
            443, (c, b"\x16\x03\x01\x00\x10"), (c, b"\x02" + _JUNK)
        ),
        "pending: ClientHello header whose body never ends": _probe(
            443, (c, b"\x16\x03\x01\x40\x00\x01\x00\x3f\xfc"), *many
        ),
        # within the ClientHello bound (8,192 bytes declared): dropped once the TLS flow passes its pending bound
        "pending-tls: ClientHello of 8 KB declared whose body never ends": _probe(
            443, (c, b"\x16\x03\x01\x20\x00\x01\x00\x1f\xfc"), *[(c, b"\xff" * 1_088)] * 40
        ),
        "other protocol: ssh on 22": _probe(22, (c, b"SSH-2.0-OpenSSH_9.6\r\n"), (c, _JUNK)),
        "other protocol: ssh on 443": _probe(443, (c, b"SSH-2.0-OpenSSH_9.6\r\n"), (c, _JUNK)),
        "other protocol: smtp, server speaks first": _probe(
            25, (s, b"220 mx ESMTP\r\n"), (c, b"EHLO x\r\n"), (c, _JUNK)
        ),
        "other protocol: ftp, server speaks first": _probe(21, (s, b"220 ftp\r\n"), (c, b"USER x\r\n")),
        "other protocol: dns over tcp": _probe(
            53, (c, b"\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01")
        ),
        "other protocol: smb": _probe(445, (c, b"\x00\x00\x00\x2f\xffSMBr" + bytes(39))),
        "unknown protocol: arbitrary bytes on 443": _probe(443, (c, _JUNK), (c, _JUNK)),
        "server first: data pushed before the client speaks": _probe(443, (s, _JUNK), (s, _JUNK)),
        "before the handshake: data in the SYN (TCP Fast Open)": _probe(443, syn=no_headers),
        "before the handshake: arbitrary SYN data": _probe(443, syn=_JUNK[:512]),
        "udp: two-way datagrams": _probe(53, (c, _JUNK[:512]), (s, _JUNK[:512]), (c, _JUNK[:512]), proto="udp"),
        "ipv6: a device's IPv6 outside HOME_NET (tcp)": _probe(443, (c, _JUNK), ip="2001:db8::77", source=ipv6_source),
        "ipv6: a device's IPv6 outside HOME_NET (udp)": _probe(
            443, (c, _JUNK[:512]), proto="udp", ip="2001:db8::77", source=ipv6_source
        ),
    }
