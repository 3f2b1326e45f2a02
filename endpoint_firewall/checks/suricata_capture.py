"""Captures for the Suricata replay, written without third-party packages: Ethernet/IPv4/IPv6/TCP/UDP/ICMP with
real checksums, a TLS ClientHello with SNI, an HTTP/1.1 request with Host, so ``epfw check --cloud aws`` needs
only Suricata.

Sessions are what a client really sends, nothing more: TCP is the handshake, the client's first message
(in two segments when ``Flow.split``, the first ``Flow.split_at`` bytes long if given), the server's answer and
one more client message (so a pass must hold for the rest of the flow); UDP is one datagram and ICMP one echo
request. A second datagram would hide a deny that only starts once the flow is established: the first datagram,
and its reply, would already have passed. A probe (``Flow.messages``, ``Flow.syn_data``) replaces that exchange
with raw payloads of either side, written as given.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .flow import Flow

DEFAULT_DEST_V4 = "198.51.100.10"  # TEST-NET-2: a destination no catalogue lists
DEFAULT_DEST_V6 = "2001:db8::10"
SPLIT_AT = 1_400  # a split ClientHello's first segment (a typical MSS, less options)
FIRST_CLIENT_PORT = 20_000
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ip(src: str, dst: str, proto: int, payload: bytes, ident: int) -> tuple[bytes, int]:
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version != d.version:
        raise ValueError(f"source {src} and destination {dst} are of different address families")
    if s.version == 4:
        header = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64, proto, 0, s.packed, d.packed
        )
        header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
        return header + payload, 0x0800
    header = struct.pack("!IHBB16s16s", 6 << 28, len(payload), proto, 64, s.packed, d.packed)
    return header + payload, 0x86DD


def _pseudo(src: str, dst: str, proto: int, length: int) -> bytes:
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version == 4:
        return s.packed + d.packed + struct.pack("!BBH", 0, proto, length)
    return s.packed + d.packed + struct.pack("!I3xB", length, proto)


def _ether(payload: bytes, ethertype: int, to_server: bool) -> bytes:
    client, server = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
    dst, src = (server, client) if to_server else (client, server)
    return dst + src + struct.pack("!H", ethertype) + payload


def tcp_segment(
    src: str, dst: str, sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b"", ident: int = 1
) -> tuple[bytes, int]:
    header = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    segment = header + payload
    csum = _checksum(_pseudo(src, dst, 6, len(segment)) + segment)
    segment = segment[:16] + struct.pack("!H", csum) + segment[18:]
    return _ip(src, dst, 6, segment, ident)


def udp_datagram(src: str, dst: str, sport: int, dport: int, payload: bytes, ident: int = 1) -> tuple[bytes, int]:
    datagram = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    csum = _checksum(_pseudo(src, dst, 17, len(datagram)) + datagram) or 0xFFFF
    datagram = datagram[:6] + struct.pack("!H", csum) + datagram[8:]
    return _ip(src, dst, 17, datagram, ident)


def client_hello(sni: str | None, post_quantum: bool = False, record_size: int = 0) -> bytes:
    """A TLS 1.2-framed ClientHello record, with a server_name extension when ``sni`` is given.

    ``post_quantum``: the size browsers send today (about 1.8 KB): an X25519MLKEM768 key share (1,216 bytes)
    plus X25519, and padding; the server_name extension comes last, so a split at :data:`SPLIT_AT` leaves the
    SNI in the second segment. ``record_size``: a post-quantum ClientHello padded to exactly this many bytes
    (at most 16,389, the largest TLS record)."""
    if record_size:
        base = len(_client_hello(sni, True, 400))
        return _client_hello(sni, True, 400 + record_size - base)
    return _client_hello(sni, post_quantum, 400)


def _client_hello(sni: str | None, post_quantum: bool, padding: int) -> bytes:
    extensions = b""
    versions = b"\x04\x03\x04\x03\x03"  # supported_versions: TLS 1.3, 1.2
    extensions += struct.pack("!HH", 43, len(versions)) + versions
    if post_quantum:
        shares = struct.pack("!HH", 0x11EC, 1216) + bytes(1216) + struct.pack("!HH", 29, 32) + bytes(32)
        shares = struct.pack("!H", len(shares)) + shares
        extensions += struct.pack("!HH", 51, len(shares)) + shares
        extensions += struct.pack("!HH", 21, padding) + bytes(padding)
    if sni:
        name = sni.encode("idna") if not sni.isascii() else sni.encode()
        server_name = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
        extensions += struct.pack("!HH", 0, len(server_name)) + server_name
    suites = b"\x13\x01\x13\x02\xc0\x2f\xc0\x30"
    body = (
        b"\x03\x03"
        + bytes(range(32))
        + b"\x00"
        + struct.pack("!H", len(suites))
        + suites
        + b"\x01\x00"
        + struct.pack("!H", len(extensions))
        + extensions
    )
    handshake = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def http_request(host: str, port: int, path: str = "/") -> bytes:
    authority = host if port == 80 else f"{host}:{port}"
    return (f"GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: epfw-check\r\nAccept: */*\r\n\r\n").encode()


def server_hello() -> bytes:
    """A TLS 1.3 ServerHello record (what a server answers a ClientHello with)."""
    versions = struct.pack("!HHH", 43, 2, 0x0304)
    body = b"\x03\x03" + bytes(32) + b"\x00" + b"\x13\x01" + b"\x00" + struct.pack("!H", len(versions)) + versions
    handshake = b"\x02" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x03" + struct.pack("!H", len(handshake)) + handshake


def _payload(flow: Flow, dest: str) -> bytes:
    if flow.proto == "http":
        return http_request(flow.host or dest, flow.port)
    if flow.proto in ("https", "tls"):
        return client_hello(flow.host, post_quantum=flow.split)
    return b"epfw-check\r\n"


def _exchange(flow: Flow, dest: str) -> tuple[list[bytes], bytes, bytes]:
    """(the client's first message in segments, the server's answer, the client's next message)."""
    first = _payload(flow, dest)
    if flow.proto == "http":
        answer, more = b"HTTP/1.1 204 No Content\r\n\r\n", http_request(flow.host or dest, flow.port, "/more")
    elif flow.proto in ("https", "tls"):
        answer, more = server_hello(), b"\x17\x03\x03\x00\x20" + bytes(32)  # then application data
    else:
        answer, more = b"epfw-reply\r\n", b"epfw-more\r\n"
    if not flow.split:
        return [first], answer, more
    if flow.split_at:
        cut = flow.split_at
    else:
        cut = min(SPLIT_AT, len(first) // 2) if flow.proto == "http" or len(first) <= SPLIT_AT else SPLIT_AT
    return [first[:cut], first[cut:]], answer, more


@dataclass(frozen=True)
class Session:
    """One flow on its own 5-tuple (ICMP: its own client and server pair)."""

    flow: Flow
    client: str
    client_port: int
    server: str

    @property
    def transport(self) -> str:
        return {"udp": "UDP", "icmp": "ICMP"}.get(self.flow.proto, "TCP")

    @property
    def server_port(self) -> int:
        return 0 if self.transport == "ICMP" else self.flow.port


def icmp_echo(src: str, dst: str, ident: int, seq: int = 0) -> tuple[bytes, int]:
    """An ICMP (IPv4) or ICMPv6 echo request."""
    v6 = ipaddress.ip_address(src).version == 6
    proto = 58 if v6 else 1
    body = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, ident & 0xFFFF, seq) + b"epfw-check"
    csum = _checksum((_pseudo(src, dst, proto, len(body)) if v6 else b"") + body)
    return _ip(src, dst, proto, body[:2] + struct.pack("!H", csum) + body[4:], ident)


def session_frames(session: Session) -> list[tuple[bytes, int, bool, bool]]:
    """(packet, ethertype, to_server, carries client data) for each frame of one session: see the module
    docstring."""
    c, s, cp, sp = session.client, session.server, session.client_port, session.flow.port
    if session.flow.messages or session.flow.syn_data:
        return _raw_frames(session)
    if session.transport == "UDP":
        return [(*udp_datagram(c, s, cp, sp, _payload(session.flow, s), 1), True, True)]
    if session.transport == "ICMP":
        return [(*icmp_echo(c, s, cp), True, True)]
    segments, answer, more = _exchange(session.flow, s)
    frames: list[tuple[bytes, int, bool, bool]] = []
    cseq, sseq = 1_000, 500_000
    frames.append((*tcp_segment(c, s, cp, sp, cseq, 0, SYN, ident=1), True, False))
    frames.append((*tcp_segment(s, c, sp, cp, sseq, cseq + 1, SYN | ACK, ident=2), False, False))
    frames.append((*tcp_segment(c, s, cp, sp, cseq + 1, sseq + 1, ACK, ident=3), True, False))
    cseq, sseq, ident = cseq + 1, sseq + 1, 4
    for segment in segments:
        frames.append((*tcp_segment(c, s, cp, sp, cseq, sseq, PSH | ACK, segment, ident=ident), True, True))
        cseq += len(segment)
        frames.append((*tcp_segment(s, c, sp, cp, sseq, cseq, ACK, ident=ident + 1), False, False))
        ident += 2
    frames.append((*tcp_segment(s, c, sp, cp, sseq, cseq, PSH | ACK, answer, ident=ident), False, False))
    sseq += len(answer)
    frames.append((*tcp_segment(c, s, cp, sp, cseq, sseq, PSH | ACK, more, ident=ident + 1), True, True))
    cseq += len(more)
    frames.append((*tcp_segment(s, c, sp, cp, sseq, cseq, ACK, ident=ident + 2), False, False))
    return frames


def _raw_frames(session: Session) -> list[tuple[bytes, int, bool, bool]]:
    """A probe's frames: its ``messages`` as written, each acknowledged by the other side (UDP: one datagram
    each, ICMP refused); for TCP after a handshake whose SYN carries ``syn_data`` (TCP Fast Open)."""
    flow = session.flow
    c, s, cp, sp = session.client, session.server, session.client_port, flow.port
    if session.transport == "ICMP":
        raise ValueError("a probe with raw messages is TCP or UDP")
    frames: list[tuple[bytes, int, bool, bool]] = []
    if session.transport == "UDP":
        for i, (to_server, data) in enumerate(flow.messages):
            src, dst, sport, dport = (c, s, cp, sp) if to_server else (s, c, sp, cp)
            frames.append((*udp_datagram(src, dst, sport, dport, data, i + 1), to_server, to_server))
        return frames
    cseq, sseq = 1_000, 500_000
    frames.append((*tcp_segment(c, s, cp, sp, cseq, 0, SYN, flow.syn_data, ident=1), True, bool(flow.syn_data)))
    cseq += 1 + len(flow.syn_data)
    frames.append((*tcp_segment(s, c, sp, cp, sseq, cseq, SYN | ACK, ident=2), False, False))
    sseq += 1
    frames.append((*tcp_segment(c, s, cp, sp, cseq, sseq, ACK, ident=3), True, False))
    ident = 4
    for to_server, data in flow.messages:
        if to_server:
            frames.append((*tcp_segment(c, s, cp, sp, cseq, sseq, PSH | ACK, data, ident=ident), True, True))
            cseq += len(data)
            frames.append((*tcp_segment(s, c, sp, cp, sseq, cseq, ACK, ident=ident + 1), False, False))
        else:
            frames.append((*tcp_segment(s, c, sp, cp, sseq, cseq, PSH | ACK, data, ident=ident), False, False))
            sseq += len(data)
            frames.append((*tcp_segment(c, s, cp, sp, cseq, sseq, ACK, ident=ident + 1), True, False))
        ident += 2
    return frames


def session_packets(session: Session, start: float) -> list[tuple[float, bytes]]:
    """The timestamped Ethernet frames of one session (:func:`session_frames`)."""
    return [
        (start + i * 0.001, _ether(packet, ethertype, to_server))
        for i, (packet, ethertype, to_server, _) in enumerate(session_frames(session))
    ]


def write_pcap(path: Path, frames: Sequence[tuple[float, bytes]]) -> None:
    """Classic pcap (microsecond timestamps, Ethernet link type)."""
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, frame in frames:
            sec = int(ts)
            usec = int(round((ts - sec) * 1_000_000))
            out.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)


def sessions_for(flows: Sequence[Flow], source: str) -> list[Session]:
    out = []
    icmp_pairs: set[tuple[str, str]] = set()
    for i, flow in enumerate(flows):
        client = _host_address(flow.source or source)
        server = flow.ip or (DEFAULT_DEST_V6 if ipaddress.ip_address(client).version == 6 else DEFAULT_DEST_V4)
        session = Session(flow, client, FIRST_CLIENT_PORT + i, _host_address(server))
        if session.transport == "ICMP":
            if (session.client, session.server) in icmp_pairs:  # eve names an ICMP flow by its addresses only
                raise ValueError(f"two ICMP flows from {session.client} to {session.server} in one replay")
            icmp_pairs.add((session.client, session.server))
        out.append(session)
    if len(out) > 65_535 - FIRST_CLIENT_PORT:
        raise ValueError(f"at most {65_535 - FIRST_CLIENT_PORT} flows per replay")
    return out


def _host_address(value: str) -> str:
    if "/" in value:
        net = ipaddress.ip_network(value, strict=False)
        return str(net.network_address if net.num_addresses == 1 else next(net.hosts()))
    return str(ipaddress.ip_address(value))


@dataclass(frozen=True)
class Capture:
    sessions: list[Session]
    packets: list[tuple[int, bool]]  # per frame (pcap_cnt - 1): (session index, carries client data)
    payload: list[bool] = field(default_factory=list)  # per frame: carries data of either side


def write_capture(flows: Sequence[Flow], source: str, path: Path) -> Capture:
    sessions = sessions_for(flows, source)
    frames: list[tuple[float, bytes]] = []
    packets: list[tuple[int, bool]] = []
    payload: list[bool] = []
    for i, session in enumerate(sessions):
        start = 1_700_000_000 + i * 0.1
        for j, (packet, ethertype, to_server, data) in enumerate(session_frames(session)):
            frames.append((start + j * 0.001, _ether(packet, ethertype, to_server)))
            packets.append((i, data))
            payload.append(data or _carries_data(packet, ethertype))
    write_pcap(path, frames)
    return Capture(sessions, packets, payload)


def _carries_data(packet: bytes, ethertype: int) -> bool:
    """Whether an IP packet of ours carries transport payload (TCP beyond its 20-byte header, any UDP data)."""
    header, proto = (20, packet[9]) if ethertype == 0x0800 else (40, packet[6])
    transport = {6: 20, 17: 8}.get(proto)
    return transport is not None and len(packet) > header + transport


def build_capture(flows: Sequence[Flow], source: str, path: Path) -> list[Session]:
    return write_capture(flows, source, path).sessions
