"""Parsing and validation of single destinations: FQDNs, wildcards, numbered patterns, addresses, ports.

Pure functions; every check raises ``ValueError`` with a message meant for a human reading
``FILE:LINE: field: message``.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
MAX_NAME = 253
MAX_LABEL = 63


@lru_cache(maxsize=1)
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()


def is_public_suffix(name: str) -> bool:
    """True when ``name`` is itself a public suffix: ``com``, ``co.uk``, also private ones like ``azureedge.net``."""
    return _public_suffixes().is_public(name)


def registrable_domain(name: str) -> str | None:
    """The name's owner's domain: one label under its public suffix, private suffixes included
    (``a.b.microsoft.com`` -> ``microsoft.com``; ``acct.blob.core.windows.net`` -> itself); None for a suffix."""
    return _public_suffixes().privatesuffix(name.lower().removeprefix("*."))


def has_known_tld(name: str) -> bool:
    """True when the last label of ``name`` is a top-level domain of the public suffix list."""
    return _public_suffixes().publicsuffix("x." + name.rsplit(".", 1)[-1].lower(), accept_unknown=False) is not None


def normalise_fqdn(value: str) -> str:
    """Lowercase, strip one trailing dot, and check RFC 1035 shape (underscores allowed, as DNS does)."""
    name = value.strip()
    if name != value:
        raise ValueError(f"{value!r}: leading or trailing spaces")
    name = name.lower()
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise ValueError("empty name")
    if len(name) > MAX_NAME:
        raise ValueError(f"{value!r}: name is {len(name)} characters, more than {MAX_NAME}")
    for label in name.split("."):
        if not label:
            raise ValueError(f"{value!r}: empty label")
        if len(label) > MAX_LABEL:
            raise ValueError(f"{value!r}: label {label[:20]!r}... is {len(label)} characters, more than {MAX_LABEL}")
        if not _LABEL.match(label):
            raise ValueError(
                f"{value!r}: label {label!r} has a character that is not a letter, digit, '-' or '_', "
                "or starts or ends with '-'"
            )
    if "." not in name:
        raise ValueError(f"{value!r}: not a fully qualified name (no dot)")
    if name.split(".")[-1].isdigit():
        raise ValueError(f"{value!r}: top-level label is numeric; write addresses as addresses")
    return name


def normalise_wildcard(value: str) -> str:
    """``*.example.com``: the wildcard must be the whole left-most label and never sit on a public suffix."""
    text = value.strip().lower()
    if text == "*":
        raise ValueError("a bare '*' allows every name; use allow_any with a justification")
    if text.count("*") != 1 or not text.startswith("*."):
        raise ValueError(f"{value!r}: a wildcard must be the whole left-most label, as in '*.example.com'")
    base = text[2:].removesuffix(".")
    # Before the shape check: '*.com' is refused for its suffix, not for 'com' having no dot.
    if is_public_suffix(base):
        raise ValueError(f"{value!r}: wildcard directly on the public suffix {base!r}")
    return "*." + normalise_fqdn(base)


def wildcard_matches(pattern: str, host: str) -> bool:
    """The catalogue's meaning of a name: ``x.com`` matches that host only; ``*.x.com`` every host strictly below
    ``x.com``, at any depth, never ``x.com`` itself nor ``evilx.com``. Case-insensitive; the host's trailing
    dot (the DNS root) is ignored. Where a cloud matches differently (Azure DNS security policy's entry also matches
    its apex, ``*`` matches any name), its checker says so itself."""
    pattern, host = pattern.lower(), host.lower().rstrip(".")
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


NUMBER_MARK = "#"
MAX_NUMBERED_HOSTS = 1000  # each host becomes a rule target; APNs needs 51


def normalise_numbered(pattern: str, first: int, last: int) -> str:
    """A numbered host pattern such as ``#-courier.push.apple.com`` with ``#`` from ``first`` to ``last``."""
    text = pattern.strip().lower()
    if text.count(NUMBER_MARK) != 1:
        raise ValueError(f"{pattern!r}: a numbered pattern has exactly one '#'")
    if "*" in text:
        raise ValueError(f"{pattern!r}: a numbered pattern takes no '*'")
    if not 0 <= first <= last:
        raise ValueError(f"numbered range {first}..{last} is empty or negative")
    if last - first + 1 > MAX_NUMBERED_HOSTS:
        raise ValueError(
            f"numbered range {first}..{last} stands for {last - first + 1} hosts, more than "
            f"{MAX_NUMBERED_HOSTS}; list fewer, or a wildcard if every name under it is meant"
        )
    # Both ends must give valid names.
    normalise_fqdn(text.replace(NUMBER_MARK, str(first)))
    normalise_fqdn(text.replace(NUMBER_MARK, str(last)))
    return text


def expand_numbered(pattern: str, first: int, last: int) -> list[str]:
    return [pattern.replace(NUMBER_MARK, str(n)) for n in range(first, last + 1)]


_CANONICAL_IPV4 = re.compile(
    r"^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})"
    r"(?:/(0|[1-9]\d?))?$"
)


def _canonical_ipv4(text: str) -> str | None:
    """Fast path for the common case, an IPv4 address or CIDR already written canonically; None otherwise
    (the general path then decides, and words any error)."""
    match = _CANONICAL_IPV4.match(text)
    if not match:
        return None
    octets = [int(o) for o in match.groups()[:4]]
    prefix = 32 if match.group(5) is None else int(match.group(5))
    if max(octets) > 255 or prefix > 32:
        return None
    address = (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]
    if address & ((1 << (32 - prefix)) - 1):
        return None  # host bits set
    return f"{match.group(1)}.{match.group(2)}.{match.group(3)}.{match.group(4)}/{prefix}"


def normalise_network(value: str) -> str:
    """An IPv4/IPv6 address or CIDR, in canonical form (host bits must be zero)."""
    fast = _canonical_ipv4(value)
    if fast is not None:
        return fast
    text = value.strip()
    v6 = ":" in text
    family, bits = ("IPv6", 128) if v6 else ("IPv4", 32)
    head, slash, prefix = text.partition("/")
    if "%" in head:
        raise ValueError(f"{value!r}: a zone index ('%...') has no place in a firewall rule")
    if slash and not (prefix.isdigit() and int(prefix) <= bits):
        raise ValueError(f"{value!r}: prefix length /{prefix} is not valid for {family} (/0 to /{bits})")
    try:
        address = ipaddress.IPv6Address(head) if v6 else ipaddress.IPv4Address(head)
    except ValueError as err:
        raise ValueError(f"{value!r}: not a valid {family} address ({err})") from None
    net = (ipaddress.IPv6Network if v6 else ipaddress.IPv4Network)(
        (address, int(prefix) if slash else bits), strict=False
    )
    if net.network_address != address:
        raise ValueError(f"{value!r}: host bits are set; the network is {net}")
    return str(net)


ANY_NETWORKS = {"0.0.0.0/0", "::/0"}


def looks_like_address(value: str) -> bool:
    text = value.strip()
    if ":" in text:
        return True
    head = text.split("/")[0]
    return bool(head) and all(part.isdigit() for part in head.split("."))


_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<rest>.*)$", re.IGNORECASE)
_HOST_PORT = re.compile(r"^(?P<host>[^:/\[\]\s]+):(?P<port>\d+)$")
URL_PORTS = {"http": 80, "https": 443}


def split_pasted(value: str) -> tuple[str, str, int | None] | None:
    """What a destination pasted from a browser or a log looks like: ``(what, host, port)`` with ``what`` one of
    ``"URL"``, ``"host and path"``, ``"host and port"``; ``None`` for anything else (a name, an address, a CIDR)."""
    text = value.strip()
    url = _URL.match(text)
    if url:
        host, _, port = url["authority"].rpartition("@")[2].partition(":")
        number = int(port) if port.isdigit() else URL_PORTS.get(url["scheme"].lower())
        return "URL", host, number
    pair = _HOST_PORT.match(text)
    if pair:
        return "host and port", pair["host"], int(pair["port"])
    head, slash, _ = text.partition("/")
    if slash and not looks_like_address(head) and "." in head:
        return "host and path", head, None
    return None


def refuse_pasted(value: str) -> None:
    """A catalogue destination written as a URL, ``host:port`` or ``host/path``: say what to write instead."""
    pasted = split_pasted(value)
    if pasted is None:
        return
    what, host, port = pasted
    where = f" and port {port} under services" if port else ""
    raise ValueError(
        f"{value!r} is a {what}, not a destination: write the host name {host!r}{where} "
        "(rules match host names and ports, never URLs or paths)"
    )
