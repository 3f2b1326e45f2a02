"""The DNS layer against the firewall, name by name: a name should resolve exactly when the firewall would let its
traffic through. Used by the tests that hold the two layers together (tests/test_dns_consistency.py).

For every name of the plan (exact names; for a wildcard ``*.x.com``, a name below it and ``x.com`` itself; a name
below every exact name), the stack's ``extraNames`` and a set of hostile names (look-alikes, a tunnel, foreign
instances of shared-tenant suffixes), the firewall's verdict is taken on the services the catalogue lists for the
name (or, for a name it does not list, on every service its name rules use): Azure by its documented rule order
(:mod:`.azure`), AWS in Suricata (:mod:`.suricata`, one replay for all names). The DNS verdict comes from
:mod:`.dns`. A difference is acceptable only where a reported widening explains it, and the comparison says which.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..endpoints.names import wildcard_matches
from ..planning.rules import Plan
from ..renderers.aws.render import AwsRender
from ..renderers.azure.render import AzureRender
from ..renderers.dns_names import EXTRA, NAME_KINDS
from ..renderers.findings import DOMAIN_LIST_APEX
from . import dns
from .flow import Flow, FlowProtocol

PROBE = "epfw-probe"  # the label of a made-up name below a listed one
TUNNEL = "mfrggzdfmztwq2lkmnxw6.t.attacker.example"  # base32 data under a zone its owner answers for
HOSTILE: tuple[tuple[str, str], ...] = (
    ("manage.microsoft.com.evil.example", "look-alike: a listed name as the start of another domain"),
    ("evilmanage.microsoft.com", "look-alike: a listed suffix without its dot"),
    ("login.microsoftonline.com.attacker.example", "look-alike: a listed name as the start of another domain"),
    (TUNNEL, "tunnel: data in the labels of an attacker's zone"),
    ("attacker-hub.webpubsub.azure.com", "foreign instance of a shared-tenant suffix (Azure Web PubSub)"),
    ("attackerstore.blob.core.windows.net", "foreign instance of a shared-tenant suffix (Azure Storage)"),
)


@dataclass(frozen=True)
class NameCase:
    name: str
    why: str
    services: tuple[tuple[FlowProtocol, int], ...]  # (protocol, port) the firewall is asked about


@dataclass(frozen=True)
class Comparison:
    case: NameCase
    dns: dns.DnsVerdict
    firewall: bool  # some listed service of the name passes
    firewall_rule: str | None  # the rule that passed it, or that decided the first service
    explained: str | None = None  # why a difference is by design (a reported widening, extraNames, alert mode)

    @property
    def agrees(self) -> bool:
        return self.dns.resolves == self.firewall


def _services(plan: Plan) -> dict[str, set[tuple[FlowProtocol, int]]]:
    out: dict[str, set[tuple[FlowProtocol, int]]] = defaultdict(set)
    for rule in plan.rules:
        if rule.kind in NAME_KINDS:
            for dest in rule.destinations:
                out[dest] |= {(s.protocol.value, s.port.first) for s in rule.services}
    return out


def name_cases(plan: Plan, extra: Iterable[str] = (), hostile: Sequence[tuple[str, str]] = HOSTILE) -> list[NameCase]:
    """Every name to compare (see the module docstring), each once, with the services to ask the firewall about."""
    listed = _services(plan)
    every = tuple(sorted({s for services in listed.values() for s in services}))
    patterns = sorted(listed)
    cases: dict[str, NameCase] = {}

    def add(name: str, why: str) -> None:
        if name in cases or name == "*":
            return
        covering = [p for p in patterns if wildcard_matches(p, name)]
        services = tuple(sorted({s for p in covering for s in listed[p]})) or every
        cases[name] = NameCase(name, why, services)

    for pattern in patterns:
        if pattern.startswith("*."):
            add(f"{PROBE}.{pattern[2:]}", f"below the listed wildcard {pattern}")
            add(pattern[2:], f"the apex of the listed wildcard {pattern}")
        else:
            add(pattern, "listed")
            add(f"{PROBE}.{pattern}", f"below the listed name {pattern}")
    for name in extra:
        add(name.replace("*", PROBE, 1), f"{EXTRA}: {name}")
    for name, why in hostile:
        add(name, why)
    return list(cases.values())


def _flows(case: NameCase) -> list[Flow]:
    return [Flow(host=case.name, port=port, proto=proto) for proto, port in case.services]


def _explain(comparison: Comparison, dns_widened, firewall_widened, extra: Sequence[str], catch_all: str) -> str | None:
    name, verdict = comparison.case.name, comparison.dns
    if comparison.agrees:
        return None
    if comparison.firewall:  # the firewall passes a name the DNS layer blocks: only the firewall's own widening
        apex = [f for f in firewall_widened if f.destination == f"*.{name}" and f.kind is DOMAIN_LIST_APEX]
        return f"the firewall's reported widening: {apex[0].reason}" if apex else None
    if any(wildcard_matches(p, name) for p in extra):
        return f"{EXTRA}: the stack's own name, resolved for traffic that does not cross this firewall"
    if verdict.rule and verdict.rule.endswith("/" + catch_all) and verdict.resolves:
        return "mode alert: the catch-all only logs"
    below = [f for f in dns_widened if f.destination and dns.widens(f.destination, name)]
    return f"the DNS layer's reported widening: {below[0].reason}" if below else None


def compare_azure(render: AzureRender, plan: Plan, cases: Sequence[NameCase]) -> list[Comparison]:
    from .azure import evaluate

    assert render.dns is not None
    out = []
    for case in cases:
        verdicts = [evaluate(render, flow) for flow in _flows(case)]
        passed = next((v for v in verdicts if v.allowed), None)
        comparison = Comparison(
            case,
            dns.evaluate_azure(render.dns, case.name),
            passed is not None,
            (passed or verdicts[0]).rule if verdicts else None,
        )
        why = _explain(comparison, render.dns.widened, render.widened, _extra(render.dns.names), "everything-else")
        out.append(Comparison(comparison.case, comparison.dns, comparison.firewall, comparison.firewall_rule, why))
    return out


def compare_aws(render: AwsRender, plan: Plan, cases: Sequence[NameCase], source: str) -> list[Comparison]:
    """Needs Suricata (:class:`~.suricata.SuricataUnavailable` without it): one replay of every case's flows."""
    from .suricata import replay

    assert render.dns is not None
    flows = [(i, flow) for i, case in enumerate(cases) for flow in _flows(case)]
    result = replay(render, [f for _, f in flows], source)
    by_case: dict[int, list] = defaultdict(list)
    for (i, _), verdict in zip(flows, result.verdicts, strict=True):
        by_case[i].append(verdict)
    out = []
    for i, case in enumerate(cases):
        verdicts = by_case[i]
        passed = next((v for v in verdicts if v.allowed), None)
        rule = (passed or verdicts[0]).rule if verdicts else None
        comparison = Comparison(
            case, dns.evaluate_aws(render.dns, case.name), passed is not None, str(rule) if rule else None
        )
        why = _explain(comparison, render.dns.widened, render.widened, _extra(render.dns.names), "everything-else")
        out.append(Comparison(comparison.case, comparison.dns, comparison.firewall, comparison.firewall_rule, why))
    return out


def _extra(names) -> list[str]:
    return [n.name for n in names if EXTRA in n.entries]


def table(comparisons: Sequence[Comparison]) -> list[str]:
    """One line per name: the DNS verdict, the firewall's, and why they differ where they do."""
    out = []
    for c in comparisons:
        word = "resolve" if c.dns.resolves else "block"
        fw = "allow" if c.firewall else "deny"
        note = "" if c.agrees else f"  [{c.explained or 'UNEXPLAINED'}]"
        out.append(f"{c.case.name}  dns {word}  firewall {fw}  ({c.case.why}){note}")
    return out
