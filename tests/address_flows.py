"""The flow set of issue 17 (address rules, flows started outside HOME_NET): what the catalogue lists to the
addresses it lists, what imitates it there, and flows opened from the Internet towards a device.

Listed flows (a listed name to a listed address, the address-only entry's address on its protocols) must pass on
both clouds; everything else must be denied, except what the render names as widened (an address-only entry lists
no name, so any name in a ClientHello or request to its address passes; on Azure a network rule cannot even
require TLS or HTTP). Each case says what it expects per cloud: ``allow``, ``deny`` or ``widened`` (allowed, and
the render's ``widened`` list names its destination). Only :class:`~endpoint_firewall.checks.flow.Flow` is used,
so the same set runs on older code (the verdicts before the change).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from endpoint_firewall.checks.flow import Flow
from endpoint_firewall.endpoints.models import DestinationKind, Entry, Service

# Addresses the shipped catalogue lists (ID 163: Azure Front Door ranges and an Intune CIDR; the consolidated
# list's address-only entry) and one outside the stacks' HOME_NET
FRONT_DOOR = "13.107.219.10"  # 13.107.219.0/24, Azure Front Door (ID 163)
FRONT_DOOR_HTTP = "150.171.97.20"  # 150.171.97.0/24, Azure Front Door (ID 163)
INTUNE = "40.82.248.230"  # 40.82.248.224/28 (ID 163)
ADDRESS_ONLY = "20.189.172.170"  # 20.189.172.160/27, intune-consolidated-addresses: no name
ADDRESS_ONLY_ENTRY = "intune-consolidated-addresses"
OUTSIDE = "198.51.100.9"  # TEST-NET-2: the Internet

SSH = b"SSH-2.0-OpenSSH_9.6\r\n"
BINARY = bytes(range(256)) * 4
c, s = True, False


@dataclass(frozen=True)
class FlowCase:
    name: str
    flow: Flow
    azure: str  # allow | deny | widened
    aws: str

    def expected(self, cloud: str) -> str:
        return self.azure if cloud == "azure" else self.aws


def device(source_ranges: tuple[str, ...]) -> str:
    """A managed device: the fifth address of the first source range."""
    return str(ipaddress.ip_network(source_ranges[0])[5])


def flow_set(source_ranges: tuple[str, ...]) -> list[FlowCase]:
    """The cases for a stack whose devices are in ``source_ranges`` (both shipped stacks select ID 163 and the
    consolidated entry)."""
    me = device(source_ranges)
    return [
        # listed names to listed addresses: pass (by their name rules)
        FlowCase(
            "ClientHello manage.microsoft.com to Front Door",
            Flow("manage.microsoft.com", 443, "https", ip=FRONT_DOOR),
            "allow",
            "allow",
        ),
        FlowCase(
            "ClientHello portal.manage.microsoft.com to Front Door, split (post-quantum)",
            Flow("portal.manage.microsoft.com", 443, "https", ip=FRONT_DOOR, split=True),
            "allow",
            "allow",
        ),
        FlowCase(
            "HTTP Host manage.microsoft.com to Front Door",
            Flow("manage.microsoft.com", 80, "http", ip=FRONT_DOOR_HTTP),
            "allow",
            "allow",
        ),
        FlowCase(
            "ClientHello enterpriseenrollment.manage.microsoft.com to an Intune range",
            Flow("enterpriseenrollment.manage.microsoft.com", 443, "https", ip=INTUNE),
            "allow",
            "allow",
        ),
        FlowCase(
            "HTTP Host enroll.dm.microsoft.com to an Intune range",
            Flow("enroll.dm.microsoft.com", 80, "http", ip=INTUNE),
            "allow",
            "allow",
        ),
        # the address-only entry on its protocols: pass (any name: the entry names none, reported as widened)
        FlowCase(
            "ClientHello without SNI to the address-only entry",
            Flow(None, 443, "https", ip=ADDRESS_ONLY),
            "widened",
            "widened",
        ),
        FlowCase(
            "HTTP request to the address-only entry", Flow(None, 80, "http", ip=ADDRESS_ONLY), "widened", "widened"
        ),
        # foreign names, SSH and binary bytes to the Front Door and Intune ranges: denied
        FlowCase(
            "ClientHello attacker-c2.azurefd.net to Front Door",
            Flow("attacker-c2.azurefd.net", 443, "https", ip=FRONT_DOOR),
            "deny",
            "deny",
        ),
        FlowCase(
            "HTTP Host attacker.example to Front Door",
            Flow("attacker.example", 80, "http", ip=FRONT_DOOR_HTTP),
            "deny",
            "deny",
        ),
        FlowCase(
            "ClientHello attacker.example to an Intune range",
            Flow("attacker.example", 443, "https", ip=INTUNE),
            "deny",
            "deny",
        ),
        FlowCase("ClientHello without SNI to Front Door", Flow(None, 443, "https", ip=FRONT_DOOR), "deny", "deny"),
        FlowCase(
            "SSH bytes to Front Door 443",
            Flow(None, 443, "tcp", ip=FRONT_DOOR, messages=((c, SSH), (s, SSH), (c, BINARY))),
            "deny",
            "deny",
        ),
        FlowCase(
            "SSH bytes to an Intune range 443",
            Flow(None, 443, "tcp", ip=INTUNE, messages=((c, SSH), (c, BINARY))),
            "deny",
            "deny",
        ),
        FlowCase(
            "binary bytes to Front Door 80",
            Flow(None, 80, "tcp", ip=FRONT_DOOR_HTTP, messages=((c, BINARY), (c, BINARY))),
            "deny",
            "deny",
        ),
        FlowCase(
            "binary bytes to an Intune range 80",
            Flow(None, 80, "tcp", ip=INTUNE, messages=((c, BINARY), (c, BINARY))),
            "deny",
            "deny",
        ),
        # the address-only entry: AWS holds it to its protocols; Azure network rules cannot (reported as widened)
        FlowCase(
            "SSH bytes to the address-only entry 443",
            Flow(None, 443, "tcp", ip=ADDRESS_ONLY, messages=((c, SSH), (c, BINARY))),
            "widened",
            "deny",
        ),
        FlowCase(
            "ClientHello attacker.example to the address-only entry",
            Flow("attacker.example", 443, "https", ip=ADDRESS_ONLY),
            "widened",
            "widened",
        ),
        # flows started outside HOME_NET towards a device: denied
        FlowCase(
            "inbound SSH to a device",
            Flow(None, 22, "tcp", ip=me, source=OUTSIDE, messages=((c, SSH), (c, BINARY))),
            "deny",
            "deny",
        ),
        FlowCase(
            "inbound ClientHello to a device 443",
            Flow("device.example", 443, "https", ip=me, source=OUTSIDE),
            "deny",
            "deny",
        ),
        FlowCase(
            "inbound binary bytes to a device 443",
            Flow(None, 443, "tcp", ip=me, source=OUTSIDE, messages=((c, BINARY),)),
            "deny",
            "deny",
        ),
        FlowCase("inbound UDP to a device", Flow(None, 500, "udp", ip=me, source=OUTSIDE), "deny", "deny"),
        FlowCase("inbound ICMP echo to a device", Flow(None, 0, "icmp", ip=me, source=OUTSIDE), "deny", "deny"),
        FlowCase(
            "inbound TCP from a listed Front Door address to a device",
            Flow(None, 8080, "tcp", ip=me, source=FRONT_DOOR, messages=((c, BINARY),)),
            "deny",
            "deny",
        ),
    ]


def entry_host(entry: Entry, service: Service) -> str | None:
    """The name a flow to one of ``entry``'s addresses carries on ``service``, as the catalogue means it: on http,
    https and tls one of the entry's own names (its first exact name, else a subdomain of its first wildcard); None
    for plain TCP/UDP and for an entry that lists no name (then any name, or none, is the entry's)."""
    if not service.protocol.inspectable:
        return None
    for dest in entry.destinations:
        if dest.kind in (DestinationKind.FQDN, DestinationKind.NUMBERED):
            return dest.hosts()[0]
    wildcard = next((d.value for d in entry.destinations if d.kind is DestinationKind.WILDCARD), None)
    return f"probe.{wildcard[2:]}" if wildcard else None
