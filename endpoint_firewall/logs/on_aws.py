"""AWS's side of an explanation: which rendered rule should pass a flow, who dropped it according to the alert
log (this stack's rule, or another), and which address rules the flow log shows in use.

Every rule the renderer writes carries ``msg:"<plan rule> ..."`` and a sid of its own (``renderers/aws/layout.py``);
the sids and messages are read from the render as the Suricata harness loads it (``checks/suricata_engine.py``'s
:func:`~..checks.suricata_engine.ruleset`). AWS's domain lists get AWS's own sids, which no log can be traced to;
they are named by group and target. AWS flow logs (``netflow``) carry addresses and ports but no names: they show
which address rules passed traffic, never which name rules did.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from ..checks.flow import Flow
from ..checks.listed import Listing
from ..checks.suricata_engine import RuleRef, ruleset
from ..endpoints.models import Protocol
from ..planning.rules import Plan, Rule, RuleKind
from ..renderers.aws.render import AwsRender
from ..renderers.aws.suricata import HTTP_HOST, TLS_SNI
from .tally import Denied, Tally

FLOW_PROTOCOLS = {"tcp": "tcp", "tls": "tcp", "http": "tcp", "https": "tcp", "udp": "udp"}


class AwsSide:
    cloud = "aws"
    tcp_may_be_tls = False  # Suricata names the application protocol: a tcp record is neither TLS nor HTTP

    def __init__(self, render: AwsRender, plan: Plan):
        self.render, self.plan = render, plan
        self.not_expressible = render.not_expressible
        self.skipped = render.skipped
        self.refs: dict[int, RuleRef] = ruleset(render, policy_default_deny=False).refs
        self._by_rule: dict[str, list[RuleRef]] = {}
        for ref in self.refs.values():
            self._by_rule.setdefault(ref.msg.split(" ", 1)[0], []).append(ref)

    def should_match(self, flow: Flow, listings: list[Listing]) -> str | None:
        """The rendered pass rules (group, sid, msg) or domain lists for the plan's listings of ``flow``."""
        found: list[str] = []
        for listing in listings:
            for rule in self._plan_rules(listing):
                for ref in self._by_rule.get(rule.name, []):
                    words = ref.msg.split(" ")
                    if rule.kind is RuleKind.ADDRESS or (
                        words[1:2] == [listing.destination] and _takes(words[-1], flow)
                    ):
                        found.append(str(ref))
                found += self._domain_lists(listing)
        return "; ".join(dict.fromkeys(found)) or None

    def denied_by(self, denied: Denied) -> str:
        said = []
        for rule, n in denied.rules.most_common():
            sid = int(rule.removeprefix("sid:")) if rule.removeprefix("sid:").isdigit() else None
            ref = self.refs.get(sid) if sid is not None else None
            if ref is not None:
                said.append(f"this stack's own {ref} ({n}): its pass rule should have come first (a rule order defect)")
            else:
                signature = next(iter(denied.notes), "")
                said.append(
                    f"{rule} {signature!r} ({n}), not one of this stack's rules: another rule group in front, or the "
                    "policy's default action"
                )
        return "; ".join(said) or "the log names no rule"

    def rules(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        """The rendered address rules (``group/plan rule``) with their entries: those a flow log can show in use."""
        for rule in self._address_rules():
            for ref in self._by_rule.get(rule.name, [])[:1]:
                yield f"{ref.group}/{rule.name}", rule.entries

    def used_rules(self, tally: Tally) -> set[str] | None:
        """The address rules some logged flow went through; None without flow records."""
        if not tally.flows:
            return None
        rules = [(r, [ipaddress.ip_network(d) for d in r.destinations]) for r in self._address_rules()]
        used: set[str] = set()
        for (ip, port, protocol), _ in tally.flows.items():
            address = ipaddress.ip_address(ip)
            for rule, networks in rules:
                if rule.name in used:
                    continue
                if any(
                    s.protocol.transport == FLOW_PROTOCOLS.get(protocol) and s.port.first <= port <= s.port.last
                    for s in rule.services
                ) and any(address.version == n.version and address in n for n in networks):
                    used.add(rule.name)
        return {path for path, _ in self.rules() if path.rsplit("/", 1)[-1] in used}

    @property
    def _rules(self) -> tuple[Rule, ...]:
        """The plan's rules as the render writes them (address rules in ``addressRules``' view)."""
        return self.render.rules or self.plan.rules

    def _address_rules(self) -> list[Rule]:
        return [r for r in self._rules if r.kind in (RuleKind.ADDRESS, RuleKind.PEER)]

    def _plan_rules(self, listing: Listing) -> list[Rule]:
        """The written rules for a listing: a name's rule on its protocol; an address's rule that holds it, on its
        protocol or (a rule of transports, ``addressRules: tcp``) its transport."""
        if not listing.by_address:
            return [
                r
                for r in self._rules
                if listing.destination in r.destinations
                and any(s.protocol.value == listing.protocol for s in r.services)
            ]
        network = ipaddress.ip_network(listing.destination)
        transport = Protocol(listing.protocol).transport
        return [
            r
            for r in self._address_rules()
            if any(s.protocol.value in (listing.protocol, transport) for s in r.services)
            and any(_holds(d, network) for d in r.destinations)
        ]

    def _domain_lists(self, listing: Listing) -> list[str]:
        target = "." + listing.destination[2:] if listing.destination.startswith("*.") else listing.destination
        wanted = HTTP_HOST if listing.protocol == "http" else TLS_SNI
        return [
            f"{g.name} (domain list {', '.join(g.target_types)}: {target})"
            for g in self.render.groups
            if g.kind == "domain-list"
            and wanted in g.target_types
            and (target in g.targets or listing.destination in g.targets)
        ]


def _holds(destination: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    held = ipaddress.ip_network(destination)
    return held.version == network.version and network.subnet_of(held)  # type: ignore[arg-type]  # same version


def _takes(service: str, flow: Flow) -> bool:
    """Whether a name rule's ``msg`` service (``tls:443``, ``tls:[443,5223]``, ``tls:5228:5230``: Suricata's port
    syntax) takes the flow's protocol and port."""
    protocol, _, spec = service.partition(":")
    if protocol != ("http" if flow.proto == "http" else "tls"):
        return False
    for part in spec.strip("[]").split(","):
        first, _, last = part.partition(":")
        if first.isdigit() and int(first) <= flow.port <= int(last if last.isdigit() else first):
            return True
    return False
