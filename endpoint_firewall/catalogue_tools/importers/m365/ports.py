"""The web service's port strings (``"80,443"``, ``"3478-3481"``) and the catalogue services they become.

TCP 80 is ``http``, TCP 443 ``https``, a TCP port or range that lies wholly within the TLS ports
(:data:`TLS_PORTS`, or the caller's list) ``tls``, every other TCP port and range ``tcp``, every UDP port or
range ``udp``: why, in the package's docstring (:mod:`..m365`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import ValidationError

from ....endpoints.located import first_message
from ....endpoints.models import PortRange, Protocol, Service

# TCP ports that carry TLS from the first byte (implicit TLS), so the server name is in the ClientHello's SNI
# and both clouds can match it. The one list; ``--tls-ports`` replaces it for one import. 80 and 443 are
# always http and https. STARTTLS ports (25, 587, 143, 110, 389) are left out on purpose.
TLS_PORTS: tuple[tuple[str, str], ...] = (
    ("465", "SMTP submission over implicit TLS (RFC 8314 section 3.3; IANA 'submissions')"),
    ("636", "LDAP over TLS (IANA 'ldaps')"),
    ("853", "DNS over TLS (RFC 7858; IANA 'domain-s')"),
    ("993", "IMAP over implicit TLS (RFC 8314 section 3.2; IANA 'imaps')"),
    ("995", "POP3 over implicit TLS (RFC 8314 section 3.2; IANA 'pop3s')"),
    ("5061", "SIP over TLS (RFC 3261 section 19.1.2; IANA 'sips')"),
    ("5223", "Apple Push Notification service, devices to APNs (Apple, support.apple.com/102266)"),
    (
        "5228-5230",
        "Firebase Cloud Messaging, devices to FCM; Google's hostname filtering is by TLS SNI "
        "(firebase.google.com/docs/cloud-messaging/network-configuration)",
    ),
    ("8443", "HTTPS on the alternate port (IANA 'pcsync-https'; e.g. on-premises MDM servers)"),
)

_PORT = re.compile(r"^([0-9]+)(?:\s*-\s*([0-9]+))?$")


def parse_ports(text: str) -> tuple[PortRange, ...]:
    """``"80,443"``, ``"443, 5223"``, ``"3478-3481"`` -> port ranges; blank -> none. ValueError says why not."""
    if not text.strip():
        return ()
    out: list[PortRange] = []
    for part in text.split(","):
        piece = part.strip()
        if not piece:
            raise ValueError(f"{text!r}: empty port between commas")
        match = _PORT.match(piece)
        if not match:
            raise ValueError(f"{text!r}: {piece!r} is not a port or a port range like '3478-3481'")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        try:
            out.append(PortRange(first=first, last=last))
        except ValidationError as err:
            raise ValueError(f"{text!r}: {first_message(err)}") from None
    return tuple(out)


def default_tls_ports() -> tuple[PortRange, ...]:
    """The TCP ports of :data:`TLS_PORTS`."""
    return parse_ports(",".join(ports for ports, _ in TLS_PORTS))


def services_for(
    tcp: Iterable[PortRange], udp: Iterable[PortRange], tls_ports: Iterable[PortRange] | None = None
) -> tuple[Service, ...]:
    """TCP 80 -> http, TCP 443 -> https, TCP within ``tls_ports`` (default :data:`TLS_PORTS`) -> tls, other
    TCP -> tcp, UDP -> udp; deduplicated and sorted."""
    tls = _merged(default_tls_ports() if tls_ports is None else tls_ports)
    out: set[Service] = set()
    for ports in tcp:
        single = ports.first if ports.first == ports.last else None
        protocol = {80: Protocol.HTTP, 443: Protocol.HTTPS}.get(single)  # type: ignore[arg-type]  # None: a range
        if protocol is None:
            within = any(first <= ports.first and ports.last <= last for first, last in tls)
            protocol = Protocol.TLS if within else Protocol.TCP
        out.add(Service(protocol=protocol, port=ports))
    for ports in udp:
        out.add(Service(protocol=Protocol.UDP, port=ports))
    return tuple(sorted(out, key=Service.sort_key))


def _merged(ranges: Iterable[PortRange]) -> list[tuple[int, int]]:
    """Port ranges -> sorted, non-overlapping, non-adjacent (first, last) pairs."""
    out: list[tuple[int, int]] = []
    for first, last in sorted((r.first, r.last) for r in ranges):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out
