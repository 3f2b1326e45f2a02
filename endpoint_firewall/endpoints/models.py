"""Typed model of the endpoint catalogue (pydantic v2).

A catalogue file holds ``sources`` (documents the entries come from), ``service_areas`` (with the
priority their firewall rules take) and ``entries``. An entry is a set of destinations times a set of
services (protocol + port or port range), with provenance. See docs/catalogue.md, "Format".
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from . import names

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
Identifier = Annotated[str, Field(pattern=ID_PATTERN)]
URL_PATTERN = r"^https://\S+$"
Url = Annotated[str, Field(pattern=URL_PATTERN)]


def located(at: tuple[Any, ...], message: str) -> PydanticCustomError:
    """An error a model validator raises about one of its parts, e.g. ``("destinations", 2)``.

    The loader appends ``at`` to the error's location so the line points at that part.
    """
    return PydanticCustomError("located", message, {"at": at})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Protocol(StrEnum):
    """What is spoken on the port: the application protocol where known, else the transport."""

    HTTP = "http"  # plain HTTP: Host header is inspectable
    HTTPS = "https"  # HTTP over TLS: SNI is inspectable
    TLS = "tls"  # another protocol over TLS (APNs, FCM): SNI is inspectable
    TCP = "tcp"  # plain TCP, nothing inspectable
    UDP = "udp"  # plain UDP, nothing inspectable

    @property
    def transport(self) -> str:
        return "udp" if self is Protocol.UDP else "tcp"

    @property
    def inspectable(self) -> bool:
        """True when a firewall can match a host name in the traffic (HTTP Host or TLS SNI)."""
        return self in (Protocol.HTTP, Protocol.HTTPS, Protocol.TLS)


class PortRange(Strict):
    first: int
    last: int

    @model_validator(mode="after")
    def _check(self) -> PortRange:
        for port in (self.first, self.last):
            if not 1 <= port <= 65535:
                raise ValueError(f"port {port} is outside 1-65535")
        if self.first > self.last:
            raise ValueError(f"reversed port range {self.first}-{self.last}")
        return self

    @classmethod
    def parse(cls, value: Any) -> PortRange:
        if isinstance(value, PortRange):
            return value
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a port")
        if isinstance(value, int):
            return cls(first=value, last=value)
        if isinstance(value, str):
            text = value.strip()
            first, sep, last = text.partition("-")
            try:
                a = int(first)
                b = int(last) if sep else a
            except ValueError:
                raise ValueError(f"{value!r} is not a port or a port range like '5228-5230'") from None
            return cls(first=a, last=b)
        raise ValueError(f"{value!r} is not a port or a port range")

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"

    def sort_key(self) -> tuple[int, int]:
        return (self.first, self.last)


class Service(Strict):
    """One protocol on one port or port range, e.g. ``{protocol: https, port: 443}``."""

    protocol: Protocol
    port: PortRange

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: Any) -> PortRange:
        return PortRange.parse(value)

    def __str__(self) -> str:
        return f"{self.protocol.value}:{self.port}"

    def sort_key(self) -> tuple[str, int, int]:
        return (self.protocol.value, self.port.first, self.port.last)


class DestinationKind(StrEnum):
    FQDN = "fqdn"  # exact host name
    WILDCARD = "wildcard"  # *.example.com: subdomains only, never the apex
    NUMBERED = "numbered"  # #-courier.push.apple.com with # in first..last: exactly those hosts
    NETWORK = "network"  # IPv4/IPv6 address or CIDR
    ANY = "any"  # '*', 0.0.0.0/0, ::/0 (only with allow_any)


class Destination(Strict):
    kind: DestinationKind
    value: str
    first: int | None = None
    last: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any) -> Any:
        if isinstance(data, Destination):
            return data
        if isinstance(data, str):
            return _classify(data)
        if isinstance(data, dict) and "kind" not in data:
            unknown = set(data) - {"numbered", "first", "last"}
            if unknown:
                raise ValueError(
                    f"unknown key(s) {sorted(unknown)} in a numbered destination (expected numbered, first, last)"
                )
            if not {"numbered", "first", "last"} <= set(data):
                raise ValueError("a numbered destination needs numbered, first and last")
            first, last = data["first"], data["last"]
            if not all(isinstance(n, int) and not isinstance(n, bool) for n in (first, last)):
                raise ValueError("first and last of a numbered destination are whole numbers")
            value = names.normalise_numbered(str(data["numbered"]), first, last)
            return {"kind": DestinationKind.NUMBERED, "value": value, "first": first, "last": last}
        if isinstance(data, dict):
            return _checked(data)
        raise ValueError(
            f"{data!r} is not a destination (a host name, wildcard, address, CIDR or {{numbered, first, last}})"
        )

    def hosts(self) -> list[str]:
        """The names this destination stands for (a numbered pattern expands; others are themselves)."""
        if self.kind is DestinationKind.NUMBERED:
            assert self.first is not None and self.last is not None
            return names.expand_numbered(self.value, self.first, self.last)
        return [self.value]

    def to_data(self) -> Any:
        if self.kind is DestinationKind.NUMBERED:
            return {"numbered": self.value, "first": self.first, "last": self.last}
        return self.value

    @property
    def is_name(self) -> bool:
        return self.kind in (DestinationKind.FQDN, DestinationKind.WILDCARD, DestinationKind.NUMBERED)


def _classify(text: str) -> dict[str, Any]:
    stripped = text.strip()
    if stripped == "*" or stripped in names.ANY_NETWORKS:
        return {"kind": DestinationKind.ANY, "value": stripped}
    names.refuse_pasted(stripped)
    if names.looks_like_address(stripped):
        value = names.normalise_network(text)
        if value in names.ANY_NETWORKS:
            return {"kind": DestinationKind.ANY, "value": value}
        return {"kind": DestinationKind.NETWORK, "value": value}
    if "*" in stripped:
        return {"kind": DestinationKind.WILDCARD, "value": names.normalise_wildcard(text)}
    if names.NUMBER_MARK in stripped:
        raise ValueError(f"{text!r}: a numbered pattern is written {{numbered: '{stripped}', first: N, last: M}}")
    return {"kind": DestinationKind.FQDN, "value": names.normalise_fqdn(text)}


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    """``{kind, value, ...}`` as written by code: the value gets the same checks as a written string."""
    kind, value = data.get("kind"), data.get("value")
    if not isinstance(value, str) or kind not in set(DestinationKind):
        return data  # the field validation reports it
    if kind == DestinationKind.NUMBERED:
        first, last = data.get("first"), data.get("last")
        if isinstance(first, int) and isinstance(last, int):
            return {**data, "value": names.normalise_numbered(value, first, last)}
        return data
    classified = _classify(value)
    if classified["kind"] != kind:
        raise ValueError(f"{value!r} is a destination of kind {classified['kind'].value}, not {kind}")
    return {**data, **classified}


class Reference(Strict):
    title: str = Field(min_length=1)
    url: Url
    date: dt.date | None = Field(default=None, description="date of the version of the document that was read")


class Provenance(Strict):
    source: Identifier
    section: str = Field(min_length=1, description="anchor of the section in the source document")
    endpoint_set: int | None = Field(default=None, ge=1, description="the source's endpoint-set ID (table column ID)")
    line: int | None = Field(default=None, ge=1, description="line of the section's heading in the source's copy")
    note: str | None = None


class AllowAny(Strict):
    justification: str = Field(min_length=20, description="why this entry may reach any destination")


class EntryKind(StrEnum):
    ENDPOINTS = "endpoints"  # fixed destinations
    PEER_TO_PEER = "peer-to-peer"  # no fixed destination: a stack opts in by naming its peer ranges
    REFERENCE = "reference"  # points at an external list; nothing to render by itself


class Entry(Strict):
    id: Identifier
    service_area: Identifier
    description: str = Field(min_length=1)
    required: bool = True
    kind: EntryKind = EntryKind.ENDPOINTS
    destinations: tuple[Destination, ...] = ()
    services: tuple[Service, ...] = ()
    regions: tuple[Identifier, ...] = ()
    scale_units: tuple[str, ...] = ()
    provenance: Provenance
    added_from: Reference | None = Field(
        default=None, description="vendor document the destinations come from when the seed names none"
    )
    references: tuple[Reference, ...] = ()
    allow_any: AllowAny | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Entry:
        if self.kind is EntryKind.ENDPOINTS:
            if not self.destinations:
                raise ValueError("an endpoints entry needs at least one destination")
            if not self.services:
                raise ValueError("an endpoints entry needs at least one service")
        elif self.kind is EntryKind.PEER_TO_PEER:
            if self.destinations:
                raise located(
                    ("destinations",), "a peer-to-peer entry has no destinations: a stack names its peer ranges"
                )
            if not self.services:
                raise ValueError("a peer-to-peer entry needs at least one service")
        elif self.kind is EntryKind.REFERENCE:
            if self.destinations or self.services:
                raise located(
                    ("destinations" if self.destinations else "services",),
                    "a reference entry has no destinations or services",
                )
            if not self.references:
                raise ValueError("a reference entry needs at least one reference")
        for i, dest in enumerate(self.destinations):
            if dest.kind is DestinationKind.ANY and self.allow_any is None:
                raise located(
                    ("destinations", i),
                    f"{dest.value!r} allows every destination; it needs allow_any: {{justification: ...}} on the entry",
                )
        return self

    def to_data(self) -> dict[str, Any]:
        """The entry as catalogue YAML data (inverse of validation)."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["destinations"] = [d.to_data() for d in self.destinations]
        data["services"] = [
            {"protocol": s.protocol.value, "port": s.port.first if s.port.first == s.port.last else str(s.port)}
            for s in self.services
        ]
        for key in ("destinations", "services"):
            if not data[key]:
                del data[key]
        return data


class Source(Strict):
    id: Identifier
    title: str = Field(min_length=1)
    url: Url
    date: dt.date
    language: str | None = None


class ServiceArea(Strict):
    id: Identifier
    title: str = Field(min_length=1)
    priority: int = Field(ge=100, le=65000, description="base priority of this area's rule collection groups")


class CatalogueFile(Strict):
    schema_version: Literal[1]
    sources: tuple[Source, ...] = ()
    service_areas: tuple[ServiceArea, ...] = ()
    entries: tuple[Entry, ...] = ()

    @field_validator("schema_version", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"schema_version is the whole number 1, not {value!r}")
        return value
