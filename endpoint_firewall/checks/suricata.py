"""Run rendered AWS rules in the real Suricata engine: syntax check (``suricata -T``) and flow replay.

AWS Network Firewall's stateful engine is Suricata. This module writes every group of an
:class:`~endpoint_firewall.renderers.aws.AwsRender` (domain lists in AWS's documented generated form)
with their IP set variables into a scratch folder, replays a capture with one session per flow
(``--simulate-ips``), and reads ``eve.json``: a flow is dropped when any of its packets was (an alert
with action ``blocked``, or a flow the engine itself dropped), else allowed. Each packet's verdict is
read (``pcap_cnt``; eve ``drop`` events list every dropped packet), so a verdict also says how many client
data packets got through before the drop and how many data packets of either side got through after it.
The engine's exception policies are off (``exception-policy: ignore``): AWS does not document its own, so
a verdict rests on the rules alone, never on the engine dropping a flow after a parser error.

Sessions are what a client really sends, nothing more: TCP is the handshake, the client's first message
(in two segments when ``Flow.split``), the server's answer and one more client message (so a pass must
hold for the rest of the flow); UDP is one datagram and ICMP one echo request. A second datagram would
hide a deny that only starts once the flow is established: the first datagram, and its reply, would
already have passed. A probe (``Flow.messages``, ``Flow.syn_data``) replaces that exchange with raw payloads
of either side, written as given.

The policy side is modelled too: in ``STRICT_ORDER`` the firewall policy's stateful default actions
decide what no rule decides, so a drop default is added as final catch-all drops (:data:`POLICY_DEFAULT_MODELS`:
our reading of AWS's description of each action, expressed in Suricata). In ``DEFAULT_ACTION_ORDER`` a
policy has no stateful default action: the render's own default deny is what denies, and nothing is
added. Our strict-order groups never hold a ``drop`` before a ``pass`` that could take the same traffic
(the renderer checks it), so Suricata's native action order (pass before drop) gives the same verdicts
as AWS's strict order.

Captures are written here without third-party packages (Ethernet/IPv4/IPv6/TCP/UDP/ICMP with real
checksums, a TLS ClientHello with SNI, an HTTP/1.1 request with Host), so ``epfw check --cloud aws``
needs only Suricata.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .flow import Flow

if TYPE_CHECKING:  # the renderer is pure; imported for types only
    from ..renderers.aws import AwsRender

SURICATA_ENV = "EPFW_SURICATA"       # path to the suricata binary, if not on PATH
DEFAULT_DEST_V4 = "198.51.100.10"    # TEST-NET-2: a destination no catalogue lists
DEFAULT_DEST_V6 = "2001:db8::10"
HARNESS_SID = 4_200_000_001          # above every sid the renderer can allocate (base_sid + span <= 4e9)
SPLIT_AT = 1_400                     # a split ClientHello's first segment (a typical MSS, less options)

# The policy's drop default actions as Suricata rules (what the harness appends in STRICT_ORDER). AWS documents
# them as "the default actions to take on a packet that doesn't match any stateful rules" (API FirewallPolicy,
# StatefulDefaultActions): packets of either direction, so each model drops server-to-client packets too, except
# the ``_to_server`` variant ("server-directed only"). What they match is our reading: ``aws:drop_strict`` every
# packet no rule passed; ``aws:drop_established`` every packet of an established connection (the first segment
# of a split ClientHello included); the ``_app_layer`` actions established packets once the application layer
# has something to decide on: TLS at a complete ClientHello, HTTP at a complete request, other TCP once Suricata
# has named its protocol, other IP protocols once established (both sides have spoken); from the server, data
# of a flow whose protocol is known (not its bare ACKs: AWS made these actions for ClientHellos that span
# segments, which a dropped ACK would stall).
_APP_LAYER_TO_SERVER = (
    "drop tls any any -> any any (flow:to_server,established; ssl_state:client_hello; {opts})",
    'drop http any any -> any any (flow:to_server,established; http.start; content:"|0d 0a|"; endswith; {opts})',
    "drop tcp any any -> any any (flow:to_server,established; app-layer-protocol:!tls; app-layer-protocol:!http; {opts})",
    "drop ip any any -> any any (flow:to_server,established; ip_proto:!6; {opts})",
)
_APP_LAYER_TO_CLIENT = (
    "drop tls any any -> any any (flow:to_client,established; dsize:>0; {opts})",
    "drop http any any -> any any (flow:to_client,established; dsize:>0; {opts})",
    "drop tcp any any -> any any (flow:to_client,established; dsize:>0; app-layer-protocol:!tls; app-layer-protocol:!http; {opts})",
    "drop ip any any -> any any (flow:to_client,established; ip_proto:!6; {opts})",
)
POLICY_DEFAULT_MODELS: dict[str, tuple[str, ...]] = {
    "aws:drop_strict": ("drop ip any any -> any any (flow:to_server; {opts})",
                        "drop ip any any -> any any (flow:to_client; {opts})"),
    "aws:drop_established": ("drop ip any any -> any any (flow:to_server,established; {opts})",
                             "drop ip any any -> any any (flow:to_client,established; {opts})"),
    "aws:drop_established_app_layer": _APP_LAYER_TO_SERVER + _APP_LAYER_TO_CLIENT,
    "aws:drop_established_app_layer_to_server": _APP_LAYER_TO_SERVER,
}
FIRST_CLIENT_PORT = 20_000
TIMEOUT_SECONDS = 300


class SuricataUnavailable(RuntimeError):
    """Suricata is not installed (or ``EPFW_SURICATA`` points nowhere)."""


class SuricataError(RuntimeError):
    """Suricata refused the rules or the run failed; the message carries its output."""


def find_suricata() -> str | None:
    explicit = os.environ.get(SURICATA_ENV)
    if explicit:
        return explicit if Path(explicit).exists() else None
    return shutil.which("suricata") or (str(Path("/usr/bin/suricata")) if Path("/usr/bin/suricata").exists() else None)


def require_suricata() -> str:
    binary = find_suricata()
    if not binary:
        raise SuricataUnavailable(
            "Suricata is not installed: AWS verdicts come from the real engine. Install it (Debian 12: "
            "`apt-get install -t bookworm-backports suricata`; see scripts/install-suricata.sh) or set "
            f"{SURICATA_ENV} to the binary")
    return binary


def suricata_version(binary: str | None = None) -> str:
    out = subprocess.run([binary or require_suricata(), "-V"], capture_output=True, text=True, timeout=60)
    match = re.search(r"version (\S+)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


# --- the rule set ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleRef:
    sid: int
    msg: str
    group: str | None  # None: the modelled policy default action

    def __str__(self) -> str:
        where = f"{self.group} " if self.group else ""
        return f'{where}sid:{self.sid} "{self.msg}"'


@dataclass(frozen=True)
class Ruleset:
    rules: tuple[str, ...]
    address_groups: dict[str, tuple[str, ...]]
    refs: dict[int, RuleRef]
    policy_default: str | None  # the modelled policy default action, if a drop one was added


_SID = re.compile(r"\bsid:\s*(\d+)\s*;")
_MSG = re.compile(r'\bmsg:\s*"((?:[^"\\]|\\.)*)"')


def _ref(line: str, group: str | None) -> RuleRef:
    sid = int(_SID.search(line).group(1))  # type: ignore[union-attr]
    msg_match = _MSG.search(line)
    msg = re.sub(r"\\(.)", r"\1", msg_match.group(1)) if msg_match else ""
    return RuleRef(sid, msg, group)


def ruleset(render: AwsRender, policy_default_deny: bool | None = None) -> Ruleset:
    """Every group's rules (in policy order) with their variables, plus the modelled policy default."""
    from ..config.stack_config import RuleOrder

    groups = sorted(render.groups, key=lambda g: (g.priority or 0))
    rules: list[str] = []
    refs: dict[int, RuleRef] = {}
    variables: dict[str, tuple[str, ...]] = {}
    for group in groups:
        for name, values in group.variables:
            if variables.setdefault(name, values) != values:
                raise SuricataError(f"variable {name} has different values in two groups; one Suricata "
                                    "instance cannot hold both")
        for line in group.rules:
            ref = _ref(line, group.name)
            if ref.sid in refs:
                raise SuricataError(f"sid {ref.sid} appears twice ({refs[ref.sid].group}, {group.name})")
            refs[ref.sid] = ref
            rules.append(line)
    variables.setdefault("HOME_NET", tuple(render.source_ranges))  # a render without groups
    strict = render.rule_order is RuleOrder.STRICT_ORDER
    actions = tuple(render.stateful_default_actions)
    drop = next((a for a in actions if a in POLICY_DEFAULT_MODELS), None)
    if policy_default_deny is None:
        policy_default_deny = strict and drop is not None
    default = None
    if policy_default_deny:
        default = drop or "aws:drop_established_app_layer"
        msg = f"policy default action {default}"
        for i, template in enumerate(POLICY_DEFAULT_MODELS[default]):
            sid = HARNESS_SID + i
            rules.append(template.format(opts=f'msg:"{msg}"; sid:{sid}; rev:1;'))
            refs[sid] = RuleRef(sid, msg, None)
    return Ruleset(tuple(rules), variables, refs, default)


def _config(address_groups: dict[str, tuple[str, ...]], log_dir: Path) -> str:
    groups = "\n".join(f'    {name}: "[{",".join(values)}]"' for name, values in sorted(address_groups.items()))
    if "EXTERNAL_NET" not in address_groups:  # every rendered group sets it; a render without groups
        groups += '\n    EXTERNAL_NET: "!$HOME_NET"'
    return f"""%YAML 1.1
---
vars:
  address-groups:
{groups}
  port-groups:
    HTTP_PORTS: "80"
default-log-dir: {log_dir}
outputs:
  - eve-log:
      enabled: yes
      filetype: regular
      filename: eve.json
      types:
        - alert
        - flow
        - drop:
            alerts: yes
            flows: all
app-layer:
  protocols:
    tls:
      enabled: yes
      detection-ports:
        dp: 443
    http:
      enabled: yes
stream:
  midstream: false
# AWS does not document its exception policies: verdicts come from the rules alone, never from the engine
# dropping a flow on a parser error or a memcap (which would hide a hole in the rules)
exception-policy: ignore
logging:
  default-log-level: notice
  outputs:
    - console:
        enabled: yes
"""


@dataclass(frozen=True)
class RulesCheck:
    loaded: int
    failed: int
    output: str


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)


def _prepare(rules: Ruleset, folder: Path, lines: Sequence[str] | None = None) -> tuple[Path, Path, Path]:
    out = folder / "log"
    out.mkdir(parents=True, exist_ok=True)
    rules_file = folder / "rules.rules"
    rules_file.write_text("\n".join(lines if lines is not None else rules.rules) + "\n", encoding="utf-8")
    config = folder / "suricata.yaml"
    config.write_text(_config(rules.address_groups, out), encoding="utf-8")
    return config, rules_file, out


def check_rules(render: AwsRender) -> RulesCheck:
    """``suricata -T``: every rule of every group (plus the modelled policy default) must load."""
    binary = require_suricata()
    rules = ruleset(render)
    with tempfile.TemporaryDirectory(prefix="epfw-suricata-") as tmp:
        config, rules_file, out = _prepare(rules, Path(tmp))
        proc = _run([binary, "-T", "-v", "-c", str(config), "-S", str(rules_file), "-l", str(out)])
    text = proc.stdout + proc.stderr
    match = re.search(r"(\d+) rules successfully loaded, (\d+) rules failed", text)
    loaded, failed = (int(match.group(1)), int(match.group(2))) if match else (0, len(rules.rules))
    if proc.returncode != 0 or failed or loaded != len(rules.rules):
        raise SuricataError(f"suricata -T refused the rules (loaded {loaded} of {len(rules.rules)}, "
                            f"failed {failed}, exit {proc.returncode}):\n{text}")
    return RulesCheck(loaded, failed, text)


# --- capture -------------------------------------------------------------------------------------------

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
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64, proto, 0,
                             s.packed, d.packed)
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


def tcp_segment(src: str, dst: str, sport: int, dport: int, seq: int, ack: int, flags: int,
                payload: bytes = b"", ident: int = 1) -> tuple[bytes, int]:
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
    body = (b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack("!H", len(suites)) + suites + b"\x01\x00"
            + struct.pack("!H", len(extensions)) + extensions)
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
    return [(start + i * 0.001, _ether(packet, ethertype, to_server))
            for i, (packet, ethertype, to_server, _) in enumerate(session_frames(session))]


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


# --- replay -----------------------------------------------------------------------------------------------

ENGINE_DROP = RuleRef(0, "dropped by the engine itself, no rule (an exception policy)", "engine")


@dataclass(frozen=True)
class FlowVerdict:
    flow: Flow
    session: Session
    allowed: bool
    passed_by: tuple[RuleRef, ...] = ()   # pass rules that match the flow (from the explain run)
    dropped_by: RuleRef | None = None     # the first rule whose drop hit the flow
    delivered_before_drop: int = 0        # client data packets that got through before the first drop
    delivered_after_drop: int = 0         # data packets (either side) that got through after it (should be 0)

    @property
    def rule(self) -> RuleRef | None:
        return self.passed_by[0] if self.allowed and self.passed_by else (None if self.allowed else self.dropped_by)


@dataclass(frozen=True)
class Replay:
    verdicts: tuple[FlowVerdict, ...]
    rules_loaded: int
    policy_default: str | None
    version: str
    log: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        allowed = sum(v.allowed for v in self.verdicts)
        return {"flows": len(self.verdicts), "allowed": allowed, "dropped": len(self.verdicts) - allowed}


def _alerts(eve: Path) -> list[dict]:
    if not eve.exists():
        return []
    out = []
    for line in eve.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("event_type") in ("alert", "flow", "drop"):
            out.append(event)
    return out


def _address(value: str) -> str:
    """eve writes IPv6 fully expanded (``2001:0db8:0000:...``): compare addresses, not strings."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def _session_key(event: dict) -> tuple[str, int, str, int, str]:
    proto = str(event.get("proto", "")).upper()
    if proto in ("ICMP", "IPV6-ICMP"):
        return (_address(event.get("src_ip", "")), 0, _address(event.get("dest_ip", "")), 0, "ICMP")
    return (_address(event.get("src_ip", "")), int(event.get("src_port", 0)), _address(event.get("dest_ip", "")),
            int(event.get("dest_port", 0)), proto)


def _index(sessions: Sequence[Session]) -> dict[tuple[str, int, str, int, str], int]:
    index = {}
    for i, s in enumerate(sessions):
        client, server = _address(s.client), _address(s.server)
        client_port = 0 if s.transport == "ICMP" else s.client_port
        index[(client, client_port, server, s.server_port, s.transport)] = i
        index[(server, s.server_port, client, client_port, s.transport)] = i
    return index


def _engine(binary: str, rules: Ruleset, lines: Sequence[str], pcap: Path, folder: Path) -> tuple[list[dict], str]:
    config, rules_file, out = _prepare(rules, folder, lines)
    proc = _run([binary, "-c", str(config), "--simulate-ips", "-r", str(pcap), "-k", "none", "--runmode", "single",
                 "-l", str(out), "-S", str(rules_file)])
    text = proc.stdout + proc.stderr
    if proc.returncode != 0 or re.search(r"^E: ", text, re.M):
        raise SuricataError(f"suricata failed (exit {proc.returncode}):\n{text}")
    return _alerts(out / "eve.json"), text


def replay(render: AwsRender, flows: Sequence[Flow], source: str, *,
           policy_default_deny: bool | None = None, keep: Path | None = None) -> Replay:
    """Replay ``flows`` (each on its own 5-tuple, from ``source`` unless the flow names one) through
    the render's rules in Suricata, and say per flow whether it was allowed and by which rule.

    Two runs: the verdict run (rules as rendered, plus the modelled policy default); and an explain
    run in which every ``pass`` is an ``alert`` and nothing drops, to name the rules that passed a flow
    (Suricata does not log pass matches).
    """
    binary = require_suricata()
    check = check_rules(render)
    rules = ruleset(render, policy_default_deny)
    explain_lines = ["alert " + line[len("pass "):] for line in rules.rules if line.startswith("pass ")]
    with tempfile.TemporaryDirectory(prefix="epfw-replay-") as tmp:
        folder = Path(tmp)
        pcap = folder / "flows.pcap"
        capture = write_capture(flows, source, pcap)
        sessions = capture.sessions
        verdict_events, verdict_log = _engine(binary, rules, rules.rules, pcap, folder / "verdict")
        explain_events = _engine(binary, rules, explain_lines, pcap, folder / "explain")[0] if explain_lines else []
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
            for path in folder.rglob("*"):
                if path.is_file():
                    target = keep / path.relative_to(folder)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target)
    index = _index(sessions)
    seen: set[int] = set()
    dropped: dict[int, tuple[int, RuleRef]] = {}  # session -> (pcap_cnt of its first dropped packet, rule)
    engine_dropped: set[int] = set()
    dropped_packets: set[int] = set()  # pcap_cnt of every dropped packet (eve ``drop`` events, flows: all)
    for event in verdict_events:
        i = index.get(_session_key(event))
        if i is None:
            continue
        seen.add(i)
        if event["event_type"] == "drop" and event.get("pcap_cnt"):
            dropped_packets.add(int(event["pcap_cnt"]))
        alert = event.get("alert")
        if event["event_type"] == "alert" and alert and alert.get("action") == "blocked":
            sid = int(alert["signature_id"])
            at = int(event.get("pcap_cnt") or 0)
            if i not in dropped or at < dropped[i][0]:
                dropped[i] = (at, rules.refs.get(sid, RuleRef(sid, alert.get("signature", ""), None)))
        elif event["event_type"] == "flow" and (event.get("flow") or {}).get("action") == "drop":
            engine_dropped.add(i)
    for i in engine_dropped - set(dropped):
        dropped[i] = (0, ENGINE_DROP)
    missing = [str(sessions[i].flow) for i in range(len(sessions)) if i not in seen]
    if missing:
        raise SuricataError(f"Suricata saw no flow record for {len(missing)} flow(s), e.g. {missing[:3]}")
    passed: dict[int, list[RuleRef]] = {}
    for event in explain_events:
        i = index.get(_session_key(event))
        alert = event.get("alert")
        if i is None or event["event_type"] != "alert" or not alert:
            continue
        ref = rules.refs.get(int(alert["signature_id"]))
        if ref and ref not in passed.setdefault(i, []):
            passed[i].append(ref)
    first_drop: dict[int, int] = {}
    for cnt, (i, _) in enumerate(capture.packets, start=1):
        if cnt in dropped_packets and i not in first_drop:
            first_drop[i] = cnt
    delivered: dict[int, int] = {}
    after: dict[int, int] = {}
    for cnt, (i, data) in enumerate(capture.packets, start=1):
        if i not in dropped:
            continue
        at = first_drop.get(i, dropped[i][0])
        if data and 0 < at and cnt < at:
            delivered[i] = delivered.get(i, 0) + 1
        elif capture.payload[cnt - 1] and cnt > at and cnt not in dropped_packets:
            after[i] = after.get(i, 0) + 1
    verdicts = tuple(
        FlowVerdict(flow=s.flow, session=s, allowed=i not in dropped,
                    passed_by=tuple(passed.get(i, ())) if i not in dropped else (),
                    dropped_by=dropped[i][1] if i in dropped else None,
                    delivered_before_drop=delivered.get(i, 0), delivered_after_drop=after.get(i, 0))
        for i, s in enumerate(sessions))
    return Replay(verdicts, check.loaded, rules.policy_default, suricata_version(binary), {"verdict": verdict_log})
