"""Records aggregated as they stream by: per denied destination and port, per rule that allowed, per flow.

Memory grows with what is distinct, never with the number of records: no list of records is kept. Each source
address gets a number once (:class:`Sources`); a destination keeps the numbers of its sources as bits, one bit per
source (2,000 devices: 250 bytes a destination), so its sources are counted exactly.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from .records import DNS, NETFLOW, RESOLVE_FAILURE, Record

Key = tuple[str, int, str]  # (destination: the name, else the address; port, 0 when none; protocol)

DETAILS_KEPT = 4  # distinct deciding rules and reasons kept per destination


@dataclass
class Sources:
    """Every source address seen, numbered in order of appearance."""

    numbers: dict[str, int] = field(default_factory=dict)
    addresses: list[str] = field(default_factory=list)

    def number(self, address: str) -> int:
        found = self.numbers.get(address)
        if found is None:
            found = self.numbers[address] = len(self.addresses)
            self.addresses.append(address)
        return found


@dataclass
class Denied:
    """Every denied record of one destination and port."""

    count: int = 0
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    sources: bytearray = field(default_factory=bytearray)  # bit n: source number n was seen
    ip: str | None = None  # an address a denied name went to
    rules: Counter[str] = field(default_factory=Counter)  # the logged rules that denied it
    notes: Counter[str] = field(default_factory=Counter)  # the logged reasons (ActionReason, signature)
    policies: set[str] = field(default_factory=set)

    def add(self, record: Record, source: int | None) -> None:
        self.count += 1
        when = record.time
        if when is not None:
            if self.first is None or when < self.first:
                self.first = when
            if self.last is None or when > self.last:
                self.last = when
        if source is not None:
            byte = source >> 3
            if byte >= len(self.sources):
                self.sources.extend(bytes(byte + 1 - len(self.sources)))
            self.sources[byte] |= 1 << (source & 7)
        if self.ip is None and record.host:
            self.ip = record.ip
        if record.rule and (record.rule in self.rules or len(self.rules) < DETAILS_KEPT):
            self.rules[record.rule] += 1
        if record.note and (record.note in self.notes or len(self.notes) < DETAILS_KEPT):
            self.notes[record.note] += 1
        if record.policy and len(self.policies) < DETAILS_KEPT:
            self.policies.add(record.policy)


@dataclass
class Tally:
    since: dt.datetime | None = None
    sources: Sources = field(default_factory=Sources)
    records: int = 0  # records read within the period
    before_since: int = 0  # records older than ``since``, left out
    allowed: int = 0
    denied: dict[Key, Denied] = field(default_factory=dict)
    allowed_rules: Counter[str] = field(default_factory=Counter)  # the logged rules that allowed (Azure; AWS alerts)
    flows: Counter[tuple[str, int, str]] = field(default_factory=Counter)  # AWS flow logs: (address, port, protocol)
    dns_failures: dict[str, Counter[str]] = field(default_factory=dict)  # name -> DNS proxy response codes
    resolve_failures: dict[str, Counter[str]] = field(default_factory=dict)  # rule FQDN -> "rule: error"

    def source_count(self, denied: Denied) -> int:
        return int.from_bytes(denied.sources, "little").bit_count()

    def sources_of(self, denied: Denied) -> list[str]:
        addresses = self.sources.addresses
        return [
            addresses[i * 8 + bit]
            for i, byte in enumerate(denied.sources)
            if byte
            for bit in range(8)
            if byte >> bit & 1
        ]

    def add(self, record: Record) -> None:
        if self.since is not None and record.time is not None and record.time < self.since:
            self.before_since += 1
            return
        self.records += 1
        if record.action == "deny":
            destination = record.host or record.ip
            if destination:
                key = (destination, record.port or 0, record.protocol)
                group = self.denied.get(key)
                if group is None:
                    group = self.denied[key] = Denied()
                group.add(record, self.sources.number(record.source) if record.source else None)
        elif record.action == "allow":
            self.allowed += 1
            if record.rule:
                self.allowed_rules[record.rule] += 1
        elif record.kind == NETFLOW and record.ip and record.port is not None:
            self.flows[(record.ip, record.port, record.protocol)] += 1
        elif record.kind == DNS and record.host and record.note and record.note.upper() != "NOERROR":
            self.dns_failures.setdefault(record.host, Counter())[record.note] += 1
        elif record.kind == RESOLVE_FAILURE and record.host:
            self.resolve_failures.setdefault(record.host, Counter())[f"{record.rule or '?'}: {record.note or '?'}"] += 1
