"""A flow to check against rendered rules, and the verdict: shared by ``epfw check`` for both clouds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FlowProtocol = Literal["http", "https", "tls", "tcp", "udp", "icmp"]


@dataclass(frozen=True)
class Flow:
    """Traffic from ``source`` to ``host`` (the HTTP Host / TLS SNI / resolved name) at ``ip``:``port``.

    ``host`` may be None (a bare connection to an address); ``ip`` may be None (the firewall sees only the
    name, e.g. an application rule). ``proto`` says what is on the wire (``icmp``: an echo request; its
    ``port`` is ignored). ``split``: the client's first message (a ClientHello the size post-quantum key
    shares make it, about 1.8 KB, or an HTTP request) spans two TCP segments; ``split_at``: the first
    segment's length in bytes (0: a typical MSS for a ClientHello, half of an HTTP request).

    ``messages`` (probes of the deny): raw payloads written into the capture instead of the protocol's usual
    exchange, each ``(to_server, bytes)`` in order after the handshake (UDP: datagrams); ``syn_data``: a
    payload carried by the client's SYN (TCP Fast Open). ``proto`` then only says the transport.
    """

    host: str | None
    port: int
    proto: FlowProtocol
    ip: str | None = None
    source: str | None = None
    split: bool = False
    split_at: int = 0
    messages: tuple[tuple[bool, bytes], ...] = ()
    syn_data: bytes = b""

    def _split_text(self) -> str:
        return f" (split after {self.split_at} bytes)" if self.split_at else " (split over two segments)"

    def __str__(self) -> str:
        target = self.host or self.ip or "?"
        extra = f" ip {self.ip}" if self.host and self.ip else ""
        bracketed = f"[{target}]" if ":" in target else target  # an IPv6 address
        where = target if self.proto == "icmp" else f"{bracketed}:{self.port}"
        raw = ""
        if self.messages or self.syn_data:
            first = self.syn_data or self.messages[0][1]
            raw = f" raw {first[:24]!r}" + (f" +{len(self.messages)} messages" if len(self.messages) > 1 else "")
        return f"{self.proto} {where}{extra}" + (self._split_text() if self.split else "") + raw


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: str | None  # the rule that decided; None: no rule (allowed: nothing dropped it; denied: a default)
    detail: str = ""

    def __str__(self) -> str:
        word = "allow" if self.allowed else "deny"
        if self.rule:
            by = f" by {self.rule}"
        else:
            by = " (no rule dropped it)" if self.allowed else " (default deny)"
        return f"{word}{by}" + (f": {self.detail}" if self.detail else "")
