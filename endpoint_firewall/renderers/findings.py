"""What a cloud renders wider than the catalogue says, cannot render, or what the plan skipped; and the kinds of
finding the renderers make (:mod:`..planning.kinds` says how reports use them). Each cloud's summary also lists what
its rules let through by design (``residualRisks``), explained on the page :data:`RESIDUAL_RISKS_DOC`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..planning.address_rules import ByName
from ..planning.kinds import UNCLASSIFIED, Kind
from ..planning.rules import Plan, Skipped

RESIDUAL_RISKS_DOC = "docs/residual-risks.md"  # the summary's residualRisks.explained

# Azure (azure/rules.py)
NETWORK_RULE_ON_NAME = Kind("network-rule-on-name", "names on plain TCP/UDP: every address they resolve to is allowed")
BASIC_TIER_NAMES = Kind("basic-tier-names", "names on plain TCP/UDP: the Basic tier has no FQDNs in network rules")
IPV6_DESTINATION = Kind("ipv6-destination", "IPv6 destinations Azure does not filter as configured (azure.ipv6)")
APP_PORT_OUT_OF_RANGE = Kind("app-port-out-of-range", "names on ports application rules cannot take")
NETWORK_RULE_ON_ADDRESS = Kind(
    "network-rule-on-address", "http/https/tls addresses as network rules: any protocol, any name"
)
# AWS (aws/layout.py)
NAME_ON_PLAIN_TCP_UDP = Kind("name-on-plain-tcp-udp", "names on plain TCP/UDP: no HTTP Host or TLS SNI to match")
DOMAIN_LIST_ANY_PORT = Kind("domain-list-any-port", "names in domain lists: matched on any port, not only the listed")
DOMAIN_LIST_APEX = Kind("domain-list-apex", "wildcards in domain lists: .x.com also matches x.com itself")
# The DNS layer (dns_names.py, aws/dns.py, azure/dns.py): summary.json <cloud>.dns.widened and .notResolved
DNS_BELOW_NAME = Kind("dns-below-name", "Azure DNS: a name's entry also matches every name below it")
DNS_WILDCARD_APEX = Kind("dns-wildcard-apex", "Azure DNS: a wildcard's entry also matches the domain itself")
DNS_NOT_PASSED = Kind("dns-not-passed", "names the firewall passes no traffic to: they do not resolve either")
DNS_UNWRITABLE = Kind("dns-unwritable-name", "names no DNS Firewall domain list can hold (letters, digits, '-')")
DNS_ALLOW_ANY = Kind("dns-allow-any-name", "allow_any names: the DNS layer never lets every name resolve")
ADDRESS_ANY_NAME = Kind("address-rule-any-name", "http/https/tls addresses: a request or ClientHello for any name")
ADDRESS_ANY_PAYLOAD = Kind("address-rule-any-payload", "http/https/tls addresses: any TCP payload (addressRules: tcp)")
ADDRESS_RULE_KINDS = frozenset({ADDRESS_ANY_NAME, ADDRESS_ANY_PAYLOAD})  # what an AWS address rule widens


@dataclass(frozen=True, order=True)
class Finding:
    """One catalogue entry's destination (or the whole entry, destination None), the reason and its kind."""

    entry: str
    destination: str | None
    reason: str
    kind: Kind = UNCLASSIFIED

    def to_json(self) -> dict[str, Any]:
        return {"entry": self.entry, "destination": self.destination, "reason": self.reason, "kind": self.kind.id}


def skipped_findings(plan: Plan) -> tuple[Finding, ...]:
    """The plan's skipped entries (references, peer-to-peer without peers, wildcards on plain TCP/UDP)."""
    return tuple(Finding(s.entry, s.destination, s.reason, s.kind) for s in plan.skipped)


def plan_widened_findings(plan: Plan) -> tuple[Finding, ...]:
    """What the plan deploys wider than its entries mean on every cloud (a shared-tenant wildcard under
    ``sharedTenantWildcards: allow``: open to any tenant)."""
    return tuple(Finding(w.entry, w.destination, w.reason, w.kind) for w in plan.widened)


def kind_titles(findings: Iterable[Finding | Skipped | ByName]) -> dict[str, str]:
    """``{kind id: title}`` of ``findings``, sorted by id: summary.json's ``findingKinds``."""
    return {kind.id: kind.title for kind in sorted({f.kind for f in findings})}
