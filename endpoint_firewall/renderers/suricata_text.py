"""A small reader of Suricata rule text, enough for the guardrails: header fields, options, host-name matches.

Deliberately separate from ``renderers/aws/suricata.py`` (which writes rules): the guardrails judge any
rules string a stack registers, hand-written ones included, so they read the text rather than trust the writer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RULE_RE = re.compile(
    r"^\s*(?P<action>\w+)\s+(?P<proto>\S+)\s+(?P<src>\[[^\]]*\]|\S+)\s+(?P<sport>\[[^\]]*\]|\S+)\s+"
    r"(?P<dir>->|<>)\s+(?P<dst>\[[^\]]*\]|\S+)\s+(?P<dport>\[[^\]]*\]|\S+)\s*\((?P<opts>.*)\)\s*$"
)
_OPTION_RE = re.compile(r'\s*([A-Za-z0-9_.\-]+)\s*(?::\s*((?:!?\s*"(?:[^"\\]|\\.)*")|(?:[^;"\\]|\\.)*))?\s*;')
_HOST_BUFFERS = {"tls.sni", "http.host", "http.host.raw", "dns.query", "quic.sni"}
_LEGACY_HOST_MODIFIERS = {"tls_sni": "tls.sni", "http_host": "http.host", "http_raw_host": "http.host.raw"}
_STICKY_PREFIXES = ("tls.", "http.", "dns.", "ssh.", "quic.", "file.", "ja3", "ja4", "smb.", "krb5", "sip.")


@dataclass(frozen=True)
class ParsedRule:
    """One rule read back from a rules string (what the guardrails and the AWS compatibility checks inspect);
    the rule the AWS renderer builds is ``aws.suricata.SuricataRule``."""

    action: str
    proto: str
    src: str
    dst: str
    bidirectional: bool
    options: tuple[tuple[str, str | None], ...]
    text: str

    def host_matches(self) -> list[tuple[str, set[str]]]:
        """(content, modifiers) of each ``content`` in a host-name buffer (``tls.sni``, ``http.host``...)."""
        return [(content, modifiers) for content, modifiers, _ in self.host_buffer_matches()]

    def host_buffer_matches(self) -> list[tuple[str, set[str], str]]:
        """(content, modifiers, buffer) of each ``content`` in a host-name buffer, the buffer named as its
        sticky keyword (a legacy modifier ``http_host`` as ``http.host``)."""
        matches: list[tuple[str, set[str], str | None]] = []
        buffer: str | None = None
        pending: set[str] = set()
        for name, value in self.options:
            key = name.lower()
            if key in _HOST_BUFFERS or key.startswith(_STICKY_PREFIXES) and value is None:
                buffer = key
            elif key == "pkt_data":
                buffer = None
            elif key == "dotprefix":
                pending.add("dotprefix")
            elif key == "content" and value is not None:
                matches.append((_unquote(value), set(pending), buffer))
                pending = set()
            elif key in _LEGACY_HOST_MODIFIERS and matches:
                content, mods, _ = matches[-1]
                matches[-1] = (content, mods, _LEGACY_HOST_MODIFIERS[key])
            elif key in ("startswith", "endswith", "nocase") and matches:
                matches[-1][1].add(key)
        return [(c, m, b) for c, m, b in matches if b is not None and b in _HOST_BUFFERS]

    def option(self, name: str) -> str | None:
        for key, value in self.options:
            if key.lower() == name:
                return value if value is not None else ""
        return None


def _unquote(value: str) -> str:
    text = value.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    return text.replace('\\"', '"').replace("\\;", ";").replace("\\\\", "\\")


def parse_suricata(rules_string: str) -> list[ParsedRule]:
    """Rules of a rules string, one per line, comments and blank lines skipped; unparsable lines kept raw."""
    out: list[ParsedRule] = []
    for line in rules_string.splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = _RULE_RE.match(text)
        if not match:
            out.append(ParsedRule("?", "?", "?", "?", False, (), text))
            continue
        options = tuple(
            (m.group(1), m.group(2).strip() if m.group(2) is not None else None)
            for m in _OPTION_RE.finditer(match.group("opts"))
        )
        out.append(
            ParsedRule(
                match.group("action").lower(),
                match.group("proto").lower(),
                match.group("src"),
                match.group("dst"),
                match.group("dir") == "<>",
                options,
                text,
            )
        )
    return out


def _split_list(text: str) -> list[str]:
    """The top-level items of a Suricata list's inside (``a, [b, c], !d`` -> ``a``, ``[b, c]``, ``!d``)."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return [p.strip() for p in parts if p.strip()]
