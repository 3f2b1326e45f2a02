"""One firewall log record, as both clouds' readers give it: what an explanation needs, nothing else."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import Literal

from ..endpoints.errors import EpfwError

Action = Literal["allow", "deny"]

# What a record is: a verdict of the firewall (alert, application, network) or a record without one (a flow, a
# DNS query, a failed resolution of a rule's FQDN).
ALERT, NETFLOW, APPLICATION, NETWORK, DNS, RESOLVE_FAILURE = (
    "alert",
    "netflow",
    "application",
    "network",
    "dns",
    "resolve-failure",
)


class LogFormatError(EpfwError, ValueError):
    """A file is in no log format the command reads (the message says which it expected), or of the other cloud."""


@dataclass(frozen=True, slots=True)
class Record:
    kind: str
    action: Action | None  # None: the record carries no verdict (a flow, a DNS query)
    time: dt.datetime | None
    source: str | None
    host: str | None  # the name the client sent (TLS SNI, HTTP Host, Azure's Fqdn), lowercase, no final dot
    ip: str | None  # the destination address
    port: int | None
    protocol: str  # on the wire: http, https, tls, tcp, udp, icmp (else the log's own word, lowercase)
    rule: str | None = None  # the cloud's rule that decided: Azure "group/collection/rule", AWS "sid:N"
    policy: str | None = None  # Azure: the Firewall Policy of that rule
    note: str | None = None  # the log's words: Azure's ActionReason or error, AWS's signature, a DNS response code

    @property
    def destination(self) -> str | None:
        return self.host or self.ip


def host_name(value: object) -> str | None:
    """A logged name, as the catalogue writes names: lowercase, without a final dot; None for blanks and ``-``."""
    if not isinstance(value, str):
        return None
    text = value.strip().rstrip(".").lower()
    return text if text and text != "-" else None


def address(value: object) -> str | None:
    """A logged address in its short form (eve writes IPv6 fully expanded); None when it is not an address."""
    if not isinstance(value, str) or not value:
        return None
    if ":" not in value:
        return value if value[0].isdigit() else None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def port_number(value: object) -> int | None:
    """A port, written as a number or a string of one (both clouds' logs hold both)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 65535 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value)
        return number if number <= 65535 else None
    return None


def utc_time(value: object) -> dt.datetime | None:
    """ISO 8601 text (``2024-03-20T23:39:59.8494370Z``, ``2020-09-25T23:01:05.598481+0000``) or epoch seconds,
    as an aware UTC datetime. Raises ValueError for a value that is neither."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a time")
    text = value.strip()
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text), dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        parsed = _portal_time(text)
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def _portal_time(text: str) -> dt.datetime:
    """The Azure portal's CSV export writes ``TimeGenerated [UTC]`` as ``3/20/2024, 11:39:59.849 PM``."""
    for layout in ("%m/%d/%Y, %I:%M:%S.%f %p", "%m/%d/%Y, %I:%M:%S %p", "%m/%d/%Y %I:%M:%S %p"):
        try:
            return dt.datetime.strptime(text, layout)
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not an ISO 8601 time")


def iso(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
