"""Suricata rule text for AWS Network Firewall: pure helpers (no cloud SDK, no I/O).

Everything here builds strings from plain values: ports, host-name matches, AWS's documented
domain-list generated form, stable sids, and the length a rule has once its variables are expanded
(AWS counts a rule's characters that way). The default deny built from these: :mod:`.deny`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SID_SPAN = 1_000_000  # sids live in [base_sid, base_sid + SID_SPAN)
VARIABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
VARIABLE_MAX = 32  # botocore: RuleVariableName max 32
VAR_REF = re.compile(r"\$([A-Za-z][A-Za-z0-9_]*)")


class SuricataTextError(ValueError):
    """A rule that cannot be written (e.g. longer than AWS accepts even when split)."""


def escape_msg(text: str) -> str:
    """``msg`` text: Suricata needs ``\\``, ``"`` and ``;`` escaped; keep it on one line."""
    text = " ".join(text.split())
    return text.replace("\\", "\\\\").replace('"', '\\"').replace(";", "\\;")


def port_spec(ranges: Iterable[tuple[int, int]]) -> str:
    """``443``, ``[80,443]``, ``5228:5230`` or ``[443,5228:5230]`` (Suricata port syntax)."""
    parts = [str(a) if a == b else f"{a}:{b}" for a, b in sorted(set(ranges))]
    if not parts:
        raise SuricataTextError("a rule needs at least one port")
    return parts[0] if len(parts) == 1 else "[" + ",".join(parts) + "]"


def variable_name(text: str, suffix: str = "", head: str = "", hashed: bool = False) -> str:
    """A valid IP set variable name (``^[A-Za-z][A-Za-z0-9_]*$``, at most 32) derived from ``text``.

    ``head`` is a leading part of ``text`` that may be shortened to fit: its first words stay whole and only
    the end is cut (``DELIVERY_OPTIMIZ_P2P_TCP7680``, never ``DELIVE_OPTIMI_...``); past that, a readable head
    and a hash of the whole. ``suffix`` (e.g. ``_2`` for a second shard of one set) always fits. ``hashed``
    forces the hashed form (to part two names that shorten alike).
    """

    def clean(value: str) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_").upper()

    room = VARIABLE_MAX - 4  # leave space for a shard suffix _NNN
    tail = clean(text[len(head) :]) if head and text.startswith(head) else clean(text)
    words = clean(head).split("_") if head and text.startswith(head) else []
    base = ""
    full = "_".join(w for w in words if w)
    candidate = f"{full}_{tail}" if full and tail else (full or tail)
    if not hashed and len(candidate) <= room:
        base = candidate
    elif not hashed and full and tail:
        keep = room - len(tail) - 1  # characters left for the head, cut at its end
        shortened = full[:keep].rstrip("_")
        if keep >= 3 and len(shortened) >= 3:
            base = f"{shortened}_{tail}"
    if not base:
        digest = hashlib.sha256(text.encode()).hexdigest()[:6].upper()
        base = f"{clean(text)[: room - 7].rstrip('_')}_{digest}"
    base = base or "NET"
    if not base[0].isalpha():
        base = ("N_" + base)[:room]
    name = base + suffix
    assert VARIABLE_NAME.match(name) and len(name) <= VARIABLE_MAX, name
    return name


def expanded_length(rule: str, variables: Mapping[str, Sequence[str]]) -> int:
    """Characters of ``rule`` once each ``$VAR`` is replaced by ``[a,b,...]`` (how AWS measures a rule)."""

    def sub(match: re.Match[str]) -> str:
        values = variables.get(match.group(1))
        return match.group(0) if values is None else "[" + ",".join(values) + "]"

    return len(VAR_REF.sub(sub, rule))


def referenced_variables(rule: str) -> set[str]:
    return set(VAR_REF.findall(rule))


# --- stable sids -------------------------------------------------------------------------------------


def allocate_sids(keys: Iterable[str], base_sid: int, span: int = SID_SPAN) -> dict[str, int]:
    """A sid per identity key: ``base_sid + sha256(key) mod span``, stable when other keys come and go.

    Collisions probe deterministically (``key#1``, ``key#2``...) in sorted key order, so the same set of
    keys always gets the same sids, and a new key can only move an old one if it lands on exactly the
    old one's slot first (about one chance in ``span / len(keys)``).
    """
    out: dict[str, int] = {}
    taken: set[int] = set()
    unique = sorted(set(keys))
    if len(unique) > span:
        raise SuricataTextError(f"{len(unique)} rules do not fit the sid span of {span}")
    for key in unique:
        attempt = 0
        while True:
            probe = key if attempt == 0 else f"{key}#{attempt}"
            slot = int.from_bytes(hashlib.sha256(probe.encode()).digest()[:8], "big") % span
            if slot not in taken:
                taken.add(slot)
                out[key] = base_sid + slot
                break
            attempt += 1
    return out


# --- rules -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuricataRule:
    """One rule before its sid is known. ``key`` is its identity (the sid derives from it)."""

    key: str
    action: str  # pass | drop | alert (the default deny's flow-bit helper)
    proto: str  # tcp | udp | tls | http
    src: str
    src_port: str
    dst: str
    dst_port: str
    options: tuple[str, ...]  # keyword options before msg, each without the trailing ';'
    msg: str
    after_msg: tuple[str, ...] = ()  # options after msg (AWS's generated form puts flow there)

    def text(self, sid: int) -> str:
        opts = "; ".join((*self.options, f'msg:"{escape_msg(self.msg)}"', *self.after_msg, f"sid:{sid}", "rev:1")) + ";"
        return f"{self.action} {self.proto} {self.src} {self.src_port} -> {self.dst} {self.dst_port} ({opts})"


def name_match(buffer: str, host: str) -> tuple[str, ...]:
    """Options matching ``host`` exactly in ``tls.sni`` or ``http.host``; ``*.x.com``: subdomains only.

    ``*.x.com`` becomes ``content:".x.com"; endswith`` without ``dotprefix``, so it never matches ``x.com``
    itself nor ``evilx.com``. ``http.host`` is normalised to lowercase by Suricata: no ``nocase`` there.
    """
    nocase = ("nocase",) if buffer == "tls.sni" else ()
    head = ("ssl_state:client_hello", "tls.sni") if buffer == "tls.sni" else ("http.host",)
    if host.startswith("*."):
        return (*head, f'content:"{host[1:]}"', *nocase, "endswith")
    return (*head, f'content:"{host}"', "startswith", *nocase, "endswith")


# --- AWS's generated form of a domain-list rule group ---------------------------------------------------

HTTP_HOST = "HTTP_HOST"
TLS_SNI = "TLS_SNI"


def domain_list_rules(targets: Sequence[str], target_types: Sequence[str]) -> list[SuricataRule]:
    """The rules AWS generates for an ALLOWLIST domain list, in the shape its developer guide documents.

    One ``pass`` per target and protocol, then one default ``drop`` per protocol. ``.x.com`` uses
    ``dotprefix`` (so it also matches ``x.com``); exact names ``startswith ... endswith``.
    """
    rules: list[SuricataRule] = []
    for target in targets:
        for target_type in target_types:
            tls = target_type == TLS_SNI
            head = ("ssl_state:client_hello", "tls.sni") if tls else ("http.host",)
            nocase = ("nocase",) if tls else ()
            if target.startswith("."):
                match = (*head, "dotprefix", f'content:"{target}"', *nocase, "endswith")
            else:
                match = (*head, f'content:"{target}"', "startswith", *nocase, "endswith")
            rules.append(
                SuricataRule(
                    key=f"domain-list|{target_type}|{target}",
                    action="pass",
                    proto="tls" if tls else "http",
                    src="$HOME_NET",
                    src_port="any",
                    dst="$EXTERNAL_NET",
                    dst_port="any",
                    options=match,
                    msg=f"matching {'TLS' if tls else 'HTTP'} allowlisted FQDNs",
                    after_msg=("flow:to_server, established",),
                )
            )
    for target_type in target_types:
        tls = target_type == TLS_SNI
        match = ("ssl_state:client_hello",) if tls else ("http.header_names", 'content:"|0d 0a|"', "startswith")
        rules.append(
            SuricataRule(
                key=f"domain-list|{target_type}|default-drop",
                action="drop",
                proto="tls" if tls else "http",
                src="$HOME_NET",
                src_port="any",
                dst="$EXTERNAL_NET",
                dst_port="any",
                options=match,
                msg=f"not matching any {'TLS' if tls else 'HTTP'} allowlisted FQDNs",
                after_msg=("flow:to_server, established",),
            )
        )
    return rules
