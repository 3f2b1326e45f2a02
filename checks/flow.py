"""A flow to check against rendered rules, and the verdict: shared by ``epfw check`` for both clouds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FlowProtocol = Literal["http", "https", "tls", "tcp", "udp"]


@dataclass(frozen=True)
class Flow:
    """Traffic from ``source`` to ``host`` (the HTTP Host / TLS SNI / resolved name) at ``ip``:``port``.

    ``host`` may be None (a bare connection to an address); ``ip`` may be None (the firewall sees only the
    name, e.g. an application rule). ``proto`` says what is on the wire.
    """

    host: str | None
    port: int
    proto: FlowProtocol
    ip: str | None = None
    source: str | None = None

    def __str__(self) -> str:
        target = self.host or self.ip or "?"
        extra = f" ip {self.ip}" if self.host and self.ip else ""
        return f"{self.proto} {target}:{self.port}{extra}"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: str | None  # the rule that decided, or None for the default deny
    detail: str = ""

    def __str__(self) -> str:
        word = "allow" if self.allowed else "deny"
        by = f" by {self.rule}" if self.rule else " (default deny)"
        return f"{word}{by}" + (f": {self.detail}" if self.detail else "")
