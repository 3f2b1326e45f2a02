"""The default deny of the AWS rules group: everything from ``$HOME_NET`` that no pass rule allows, dropped per
protocol where that protocol's pass rules decide, the flows started outside ``HOME_NET``, and what the deny lets
through by design (the summary's ``residualRisks``; docs/residual-risks.md).

Pure: builds :class:`~.suricata.SuricataRule` values from constants. How the deny is ordered in each rule order:
docs/aws-rules.md, "Rule order".
"""

from __future__ import annotations

from collections.abc import Sequence

from .suricata import SuricataRule

# How a flow's first client data may start: a TLS handshake record (ContentType 22, major version 3) whose first
# message is a ClientHello (HandshakeType 1 at offset 5), or an HTTP/1 request line with one of these methods.
# AWS allows pcre only next to content, tls.sni, http.host or dns.query (suricata-limitations-caveats), so each
# start is a content match, and "starts as none of them" is their negations (which AND together).
TLS_RECORD_START = "|16 03|"
TLS_CLIENT_HELLO_TYPE = "|01|"
HTTP_METHODS = ("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH")  # no CONNECT (a tunnel) or TRACE
TLS_OR_HTTP_FLOWBIT = "epfw.tls_or_http"
TLS_START_FLOWBIT = "epfw.tls_start"  # set with TLS_OR_HTTP_FLOWBIT when the first data is a ClientHello record
# Client bytes an HTTP flow (or one not yet known as TLS) may send before its request headers are complete (where the
# pass rules and the HTTP drop decide): the largest TLS record (RFC 8446 5.1: 2^14 bytes of fragment plus a 5-byte
# header); real clients' request headers are a few KB (cookies included). Past this, a flow that no rule has passed
# yet is dropped, so a never-ending header block cannot carry more. Residual: up to this many bytes per connection
# reach any address before the drop (docs/residual-risks.md).
PENDING_MAX_BYTES = 16_384 + 5
# The most a ClientHello may take: its record's declared length (and its handshake message's) at most this. Real
# ClientHellos are 0.5-2 KB: about 1.8 KB with an X25519MLKEM768 key share (1,216 bytes, what browsers send since
# 2024), under 2.5 KB with ECH added, about 4 KB with a second hybrid share (SecP384r1MLKEM1024: 1,665 bytes) and a
# resumption ticket; 8 KB leaves twice that. A TLS record that declares more is dropped at its first bytes, and a
# flow that starts as TLS is dropped once it has sent :data:`TLS_PENDING_MAX_BYTES` without a complete ClientHello,
# so a never-ending ClientHello carries at most that much per connection (half the general bound).
CLIENT_HELLO_MAX_BYTES = 8_192
TLS_RECORD_HEADER = 5
HANDSHAKE_HEADER = 4
TLS_PENDING_MAX_BYTES = CLIENT_HELLO_MAX_BYTES + TLS_RECORD_HEADER
# ``stream_size:client`` counts the SYN's sequence number too (measured in Suricata 7.0.10: a 16,389-byte stream
# reads 16,390)
STREAM_SIZE_SYN = 1
DENY_TLS = "tls"
DENY_HTTP = "http"


def _allowed_starts() -> list[bytes]:
    return [bytes.fromhex(TLS_RECORD_START.strip("|")), *(f"{m} ".encode() for m in HTTP_METHODS)]


# The longest allowed start (``OPTIONS ``): a flow's first client bytes are judged whole once this many are there.
# Until then (a first segment of 1 to 7 bytes: a ClientHello or request line cut short), they are only checked to
# be the beginning of an allowed start, never dropped for being short.
START_JUDGED_AT = max(len(start) for start in _allowed_starts())
TLS_HELLO_TYPE_AT = 5  # the handshake type's offset: a record start is judged once byte 5 is there


def _first_data(*options: str, at_least: int = START_JUDGED_AT) -> tuple[str, ...]:
    """Options that judge the client's reassembled stream from its first byte, once ``at_least`` bytes are there.

    ``only_stream``: Suricata 7 inspects a TCP ``content`` rule on the reassembled stream and, failing that, on
    the packet alone, where a negated ``startswith`` would judge the second segment of a split ClientHello as if
    it were the start; ``only_stream`` keeps to the stream (which starts at the flow's first byte until long
    after :data:`START_JUDGED_AT`). ``isdataat`` (not ``dsize``, which would make the rule packet-only) waits for
    the bytes a judgement needs."""
    return (
        "flow:to_server,established,only_stream",
        f"flowbits:isnotset,{TLS_OR_HTTP_FLOWBIT}",
        *options,
        f"isdataat:{at_least - 1}",
    )


def _content(data: bytes) -> str:
    """A ``content`` value for ``data``: printable ASCII as is, anything else as a ``|hex|`` run."""
    if all(32 <= b < 127 and chr(b) not in '";|\\' for b in data):
        return data.decode()
    return "|" + " ".join(f"{b:02x}" for b in data) + "|"


def default_deny_rules(
    tls: bool = True, http: bool = True, ipv6_outside: Sequence[str] = ("::/0",), inbound: bool = True
) -> list[SuricataRule]:
    """The deny of everything from ``$HOME_NET`` that no pass rule allows, per protocol (keys ``default-deny|...``).

    Checked in Suricata 7 (``tests/test_aws_suricata.py``, one probe per way a flow can carry data), each for
    a reason:

    * TLS and HTTP are dropped where their pass rules decide: at a complete ClientHello
      (``ssl_state:client_hello``) and at a complete request (``http.start``, which Suricata fills once the
      request line and headers are complete, also when there are no header lines; AWS's generated
      ``http.header_names`` drop misses a request without headers). A ClientHello or request that spans
      several TCP segments is therefore judged whole; a generic drop of established TCP would drop its first
      segment before the SNI or Host exists. ``tls``/``http`` False leave them out (a later domain-list group
      drops that protocol, STRICT_ORDER); without ``http``, a request with no header lines (which no Host
      rule can pass) is still dropped here, since AWS's generated drop misses it.
    * Other TCP: the client's stream must start as a TLS ClientHello record or an HTTP request line
      (:data:`HTTP_METHODS`), else it is dropped at once; one ``alert`` helper per allowed start sets a flow
      bit (never alerts) so later segments are not judged again. These rules read the reassembled stream from
      its first byte (``only_stream``), never a later segment alone, and judge a start whole once
      :data:`START_JUDGED_AT` bytes are there; a first segment shorter than that (a ClientHello or request line
      cut after 1 to 7 bytes) is dropped only if it is not the beginning of an allowed start, and judged whole
      when the next segment arrives. Residual: a connection that sends the beginning of an allowed start (at most
      7 bytes, e.g. ``GET``) and nothing more is never judged; the server's answer is dropped. Once Suricata knows the application protocol,
      anything but TLS and HTTP is dropped (``app-layer-protocol`` alone is not enough: it never matches while
      detection is pending). A flow that has sent :data:`PENDING_MAX_BYTES` without a pass is dropped (a
      ClientHello or header block that never ends); one that starts as TLS is held to less: a record or
      ClientHello that declares more than :data:`CLIENT_HELLO_MAX_BYTES` is dropped at its first bytes, and the
      flow once it has sent :data:`TLS_PENDING_MAX_BYTES` without a pass. Data in a SYN (TCP Fast Open) or before the handshake
      completes is dropped, and so is data a server sends on a flow no rule passed (server-first protocols,
      data pushed before the client's first message).
    * UDP, ICMP (v4 and v6) and every other IP protocol: ``flow:to_server`` without ``established``, so the
      first datagram is dropped (Suricata calls a non-TCP flow established only once both sides have spoken);
      and UDP from the server side of a flow no rule passed.
      Pass rules for listed addresses win: they come first in either rule order.
    * ``inbound``: a flow started outside ``HOME_NET`` towards it (``$EXTERNAL_NET`` to ``$HOME_NET``), TCP, UDP,
      ICMP or any IP protocol, at its first packet (``flow:to_server``: the side that opened it), and whatever a
      device sends on such a flow (``flow:to_client`` from ``$HOME_NET``); the replies of a flow a device opened are
      ``to_client`` towards ``$HOME_NET`` and never match. ICMP error messages (:data:`ICMP_ERROR_TYPES`) pass: they
      tell a device about its own flows (Path MTU discovery). Passes for peers (peer-to-peer entries) come first.
    * ``ipv6_outside`` (the IPv6 addresses outside ``HOME_NET``, as CIDRs; empty: no such rule): IPv6 from there
      (a device's IPv6 when the source ranges are IPv4 only) at its first packet; every other rule starts at
      ``$HOME_NET``, so nothing else would judge it. Spelled out, not ``[::/0,!$HOME_NET]``: Suricata reads that
      as a union (every source outside HOME_NET, IPv4 too).
    """
    rules: list[SuricataRule] = []

    def add(
        key: str, action: str, proto: str, options: tuple[str, ...], msg: str, src: str = "$HOME_NET", dst: str = "any"
    ) -> None:
        rules.append(
            SuricataRule(
                key=f"default-deny|{key}",
                action=action,
                proto=proto,
                src=src,
                src_port="any",
                dst=dst,
                dst_port="any",
                options=options,
                msg=msg,
            )
        )

    if tls:
        add(
            "tls",
            "drop",
            "tls",
            ("flow:to_server,established", "ssl_state:client_hello"),
            "default deny: TLS ClientHello whose SNI no rule allows",
        )
    if http:
        add(
            "http",
            "drop",
            "http",
            ("flow:to_server,established", "http.start", 'content:"|0d 0a|"', "endswith"),
            "default deny: HTTP request whose Host no rule allows",
        )
    else:  # no Host header can be listed in a later group's http.host pass: safe before it
        add(
            "http-no-headers",
            "drop",
            "http",
            ("flow:to_server,established", "http.start", 'content:!"|0d 0a 0d 0a|"'),
            "default deny: HTTP request without header lines (no Host)",
        )
    starts = [f'content:!"{TLS_RECORD_START}"', "startswith"]
    for method in HTTP_METHODS:
        starts += [f'content:!"{method} "', "startswith"]
    add("tcp-start", "drop", "tcp", _first_data(*starts), "default deny: TCP data that starts as neither TLS nor HTTP")
    for size in range(1, START_JUDGED_AT):  # exactly ``size`` bytes so far: each must begin an allowed start
        prefixes = sorted({start[:size] for start in _allowed_starts()})
        short: list[str] = [f"isdataat:!{size}"]
        for prefix in prefixes:
            short += [f'content:!"{_content(prefix)}"', "startswith"]
        add(
            f"tcp-start-{size}",
            "drop",
            "tcp",
            _first_data(*short, at_least=size),
            f"default deny: TCP data whose first {size} bytes begin neither TLS nor HTTP",
        )
    tls_length = [
        ("tcp-start-tls-record", "TLS record", TLS_RECORD_HEADER, ("byte_test:2,>,{max},3",), CLIENT_HELLO_MAX_BYTES),
        (
            "tcp-start-tls-hello",
            "ClientHello",
            TLS_RECORD_HEADER + HANDSHAKE_HEADER,
            (f'content:"{TLS_CLIENT_HELLO_TYPE}"', f"offset:{TLS_HELLO_TYPE_AT}", "depth:1", "byte_test:3,>,{max},6"),
            CLIENT_HELLO_MAX_BYTES - HANDSHAKE_HEADER,
        ),
    ]
    for key, what, header, match, most in tls_length:
        add(
            key,
            "drop",
            "tcp",
            (
                "flow:to_server,established,only_stream",
                f'content:"{TLS_RECORD_START}"',
                "startswith",
                *(m.format(max=most) for m in match),
                f"isdataat:{header - 1}",
            ),
            f"default deny: {what} that declares more than {most:,} bytes (more than a ClientHello needs)",
        )
    add(
        "tcp-start-tls",
        "drop",
        "tcp",
        _first_data(
            f'content:"{TLS_RECORD_START}"',
            "startswith",
            f'content:!"{TLS_CLIENT_HELLO_TYPE}"',
            f"offset:{TLS_HELLO_TYPE_AT}",
            "depth:1",
            at_least=TLS_HELLO_TYPE_AT + 1,
        ),
        "default deny: TLS record that does not start with a ClientHello",
    )
    marks: list[tuple[str, tuple[str, ...]]] = [
        (
            "tls",
            (
                f'content:"{TLS_RECORD_START}"',
                "startswith",
                f'content:"{TLS_CLIENT_HELLO_TYPE}"',
                f"offset:{TLS_HELLO_TYPE_AT}",
                "depth:1",
            ),
        )
    ]
    marks += [(f"http-{m.lower()}", (f'content:"{m} "', "startswith")) for m in HTTP_METHODS]
    for name, match in marks:
        bits = (f"flowbits:set,{TLS_START_FLOWBIT}",) if name == "tls" else ()
        add(
            f"tcp-start-mark-{name}",
            "alert",
            "tcp",
            _first_data(*match, f"flowbits:set,{TLS_OR_HTTP_FLOWBIT}", *bits, "flowbits:noalert"),
            f"default deny helper: marks a flow whose first data starts as {name.split('-')[-1].upper()} "
            "(never alerts)",
        )
    add(
        "tcp-app",
        "drop",
        "tcp",
        ("flow:to_server,established", "app-layer-protocol:!tls", "app-layer-protocol:!http"),
        "default deny: TCP application protocol other than TLS and HTTP",
    )
    add(
        "tcp-pending",
        "drop",
        "tcp",
        ("flow:to_server,established", f"stream_size:client,>,{PENDING_MAX_BYTES + STREAM_SIZE_SYN}"),
        f"default deny: TLS or HTTP flow past {PENDING_MAX_BYTES} bytes without a complete ClientHello or request",
    )
    add(
        "tcp-pending-tls",
        "drop",
        "tcp",
        (
            "flow:to_server,established",
            f"flowbits:isset,{TLS_START_FLOWBIT}",
            f"stream_size:client,>,{TLS_PENDING_MAX_BYTES + STREAM_SIZE_SYN}",
        ),
        f"default deny: TLS flow past {TLS_PENDING_MAX_BYTES} bytes without a complete ClientHello",
    )
    add(
        "tcp-syn-data",
        "drop",
        "tcp",
        ("flow:to_server,not_established", "dsize:>0"),
        "default deny: TCP data before the handshake completes (SYN data, TCP Fast Open)",
    )
    add(
        "tcp-server-data",
        "drop",
        "tcp",
        ("flow:to_client", "dsize:>0"),
        "default deny: data from a server on a flow no rule passed",
        src="any",
        dst="$HOME_NET",
    )
    add("udp", "drop", "udp", ("flow:to_server",), "default deny: UDP")
    add(
        "udp-server",
        "drop",
        "udp",
        ("flow:to_client",),
        "default deny: UDP from a server on a flow no rule passed",
        src="any",
        dst="$HOME_NET",
    )
    add("icmp", "drop", "icmp", ("flow:to_server",), "default deny: ICMP")
    add(
        "ip",
        "drop",
        "ip",
        ("flow:to_server", "ip_proto:!6", "ip_proto:!17", "ip_proto:!1", "ip_proto:!58"),
        "default deny: IP protocols other than TCP, UDP and ICMP",
    )
    if inbound:
        add(
            "inbound",
            "drop",
            "ip",
            ("flow:to_server", "ip_proto:!1", "ip_proto:!58"),
            "default deny: flow started outside HOME_NET towards it",
            src="$EXTERNAL_NET",
            dst="$HOME_NET",
        )
        add(
            "inbound-reply",
            "drop",
            "ip",
            ("flow:to_client",),
            "default deny: flow started outside HOME_NET towards it (a device's side)",
            src="$HOME_NET",
            dst="$EXTERNAL_NET",
        )
        for proto, itype in _icmp_not_errors():
            add(
                f"inbound-icmp{proto}-{itype.replace('<>', '-').replace('<', 'lt').replace('>', 'gt')}",
                "drop",
                "ip",
                ("flow:to_server", f"ip_proto:{proto}", f"itype:{itype}"),
                "default deny: flow started outside HOME_NET towards it (ICMP other than an error message)",
                src="$EXTERNAL_NET",
                dst="$HOME_NET",
            )
    if ipv6_outside:
        src = ipv6_outside[0] if len(ipv6_outside) == 1 else "[" + ",".join(ipv6_outside) + "]"
        add(
            "ipv6-outside",
            "drop",
            "ip",
            ("flow:to_server",),
            "default deny: IPv6 from outside HOME_NET (devices' IPv6 not in sourceRanges)",
            src=src,
        )
    return rules


# ICMP error messages a device gets about its own flows, which the inbound drop lets through (replies of a kind: a
# router's "fragmentation needed" is how Path MTU discovery works, RFC 1191 and RFC 8201). ICMPv4 (RFC 792):
# destination unreachable 3, time exceeded 11, parameter problem 12; ICMPv6 (RFC 4443): 1 to 4, packet too big 2.
ICMP_ERROR_TYPES: dict[int, tuple[int, ...]] = {1: (3, 11, 12), 58: (1, 2, 3, 4)}


def _icmp_not_errors() -> list[tuple[int, str]]:
    """(IP protocol, ``itype`` value) covering every ICMP type but :data:`ICMP_ERROR_TYPES` (``a<>b``: between,
    both excluded)."""
    out = []
    for proto, errors in ICMP_ERROR_TYPES.items():
        low = -1
        for error in (*sorted(errors), 256):
            if error - low > 1:
                out.append((proto, f"<{error}" if low < 0 else f">{low}" if error > 255 else f"{low}<>{error}"))
            low = error
    return out


def deny_residuals() -> list[dict[str, object]]:
    """What the deny lets through by design, each bounded per connection (the summary's ``residualRisks``;
    docs/residual-risks.md explains them): N parallel connections carry N times each bound, and no rule can count
    connections (AWS supports no thresholding keyword)."""
    parallel = "per connection: N parallel connections carry N times that (AWS rules cannot count connections)"
    return [
        {
            "risk": "pending-bytes",
            "boundBytesPerConnection": {"tls": TLS_PENDING_MAX_BYTES, "http": PENDING_MAX_BYTES},
            "text": f"a connection whose ClientHello never completes carries up to {TLS_PENDING_MAX_BYTES:,} client "
            f"bytes, one whose HTTP request headers never complete up to {PENDING_MAX_BYTES:,}, to any address "
            f"before the drop; {parallel}",
        },
        {
            "risk": "unjudged-prefix",
            "boundBytesPerConnection": START_JUDGED_AT - 1,
            "text": f"a connection that sends only the beginning of a TLS record or request line (at most "
            f"{START_JUDGED_AT - 1} bytes, e.g. 'GET') and nothing more is never judged; the server's answer "
            f"is dropped; {parallel}",
        },
    ]


def drop_traffic_class(line: str) -> str:
    """What a rendered ``drop`` line can match, for the STRICT_ORDER ordering check: its protocol, except
    ``tcp-other`` (TCP that is neither TLS nor HTTP, or not yet judged as such), ``ip-other`` (neither TCP, UDP
    nor ICMP), ``http-no-headers`` (HTTP without a Host header, which no Host rule can pass) and ``outside-home``
    (sources outside HOME_NET, where no pass rule starts)."""
    proto = line.split()[1]
    tcp_other = (
        f"flowbits:isnotset,{TLS_OR_HTTP_FLOWBIT}",
        "byte_test:",
        "app-layer-protocol:!tls",
        "stream_size:client,>",
        "flow:to_server,not_established",
        "flow:to_client",
    )
    if proto == "tcp" and any(marker in line for marker in tcp_other):
        return "tcp-other"
    if proto == "udp" and "flow:to_client" in line:
        return "udp-reply"
    if proto == "ip" and (
        "default deny: IPv6 from outside HOME_NET" in line or "default deny: flow started outside HOME_NET" in line
    ):
        return "outside-home"
    if proto == "ip" and "ip_proto:!6" in line and "ip_proto:!17" in line:
        return "ip-other"
    if proto == "http" and 'http.start; content:!"|0d 0a 0d 0a|"' in line:
        return "http-no-headers"
    return proto
