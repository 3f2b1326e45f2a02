"""Which names the DNS layer lets resolve: exactly the names the cloud's firewall passes traffic to, plus the
stack's ``extraNames``. Pure.

The names come from the plan the firewall rules come from (the destinations of its name rules, after the
planner's folding of exact names under wildcards), never from the raw catalogue, and only those the cloud's
firewall actually passes: a name the firewall cannot express (a name on plain UDP on AWS, say) does not resolve
either, and says so (``notResolved``). Address-only entries have no names: the DNS layer says nothing about them.
How each cloud's domain lists then match these names: :mod:`.aws.dns`, :mod:`.azure.dns`; docs/dns.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from ..config.dns_config import DnsMode
from ..planning.rules import Plan, RuleKind
from .findings import DNS_ALLOW_ANY, DNS_NOT_PASSED, Finding
from .sharding import stable_shards

EXTRA = "extraNames"  # the "entry" a stack's own names are reported under
NAME_KINDS = (RuleKind.HOSTNAME, RuleKind.HOST_NETWORK)


@dataclass(frozen=True)
class DnsName:
    """A name the layer resolves (``x.com`` or ``*.x.com``, the catalogue's meaning) and who asked for it."""

    name: str
    entries: tuple[str, ...]  # catalogue entries; EXTRA for the stack's extraNames

    @property
    def wildcard(self) -> bool:
        return self.name.startswith("*.")

    @property
    def base(self) -> str:
        return self.name[2:] if self.wildcard else self.name


@dataclass(frozen=True)
class DnsList:
    """One domain list as the cloud takes it: its name, its domains in the cloud's syntax, and for each domain the
    names it stands for (several when one domain covers several of the catalogue's names)."""

    name: str
    domains: tuple[str, ...]
    members: tuple[tuple[str, tuple[DnsName, ...]], ...] = ()

    def stands_for(self, domain: str) -> tuple[DnsName, ...]:
        return dict(self.members).get(domain, ())


@dataclass(frozen=True)
class DnsRule:
    name: str
    priority: int
    action: str  # the cloud's word: ALLOW/ALERT/BLOCK (AWS), Allow/Alert/Block (Azure)
    domain_list: str  # the DnsList it applies to


def plan_names(plan: Plan) -> dict[str, set[str]]:
    """Every name of the plan's name rules (HTTP Host / TLS SNI names, and names on plain TCP/UDP) -> its entries."""
    out: dict[str, set[str]] = defaultdict(set)
    for rule in plan.rules:
        if rule.kind in NAME_KINDS:
            for dest in rule.destinations:
                out[dest] |= set(rule.origin_of(dest))
    return out


ALLOW_ANY_REASON = (
    "an allow_any entry names every host: the DNS layer never lets every name resolve (that is no filter); list "
    "the names it needs in {cloud}.dns.extraNames"
)


def select_names(
    plan: Plan, passed: Collection[str], cloud: str, why_not: str, extra: Sequence[str] = ()
) -> tuple[list[DnsName], list[Finding]]:
    """The plan's names the firewall passes (``passed``) and the stack's ``extra`` names; for every other name of
    the plan, a finding (``why_not``: why the firewall passes it nowhere, in a few words)."""
    chosen: dict[str, set[str]] = {}
    left_out: list[Finding] = []
    found = plan_names(plan)
    for name in sorted(found):
        entries = found[name]
        if name == "*":
            reason, kind = ALLOW_ANY_REASON.format(cloud=cloud), DNS_ALLOW_ANY
        elif name not in passed:
            kind = DNS_NOT_PASSED
            reason = (
                f"not resolved: the {cloud} firewall passes no traffic to this name ({why_not}; see notExpressible); "
                f"if its traffic takes another way, list it in {cloud}.dns.extraNames"
            )
        else:
            chosen[name] = set(entries)
            continue
        left_out.extend(Finding(e, name, reason, kind) for e in sorted(entries))
    for name in extra:
        chosen.setdefault(name, set()).add(EXTRA)
    return [DnsName(n, tuple(sorted(chosen[n]))) for n in sorted(chosen)], left_out


def fold(names: Iterable[DnsName], domain_of: Callable[[DnsName], str], covers: Callable[[str], Iterable[str]]):
    """Group names by the domain they are written as, and join a domain that another domain of the set covers to
    that one (``covers(domain)``: the domains that would cover it, outermost first): ``{domain: [names]}``."""
    by_domain: dict[str, list[DnsName]] = defaultdict(list)
    for name in names:
        by_domain[domain_of(name)].append(name)
    out: dict[str, list[DnsName]] = defaultdict(list)
    for domain in sorted(by_domain):
        outer = next((d for d in covers(domain) if d in by_domain), domain)
        out[outer].extend(by_domain[domain])
    return {d: out[d] if len(out[d]) == 1 else sorted(out[d], key=lambda n: n.name) for d in sorted(out)}


def parents(name: str) -> list[str]:
    """The proper parent domains of a name (or of a wildcard's base), outermost first: ``a.b.x.com`` ->
    ``com, x.com, b.x.com``."""
    labels = name.removeprefix("*.").split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1, 0, -1)]


def shard(domains: dict[str, list[DnsName]], per_list: int, base_name: str) -> list[DnsList]:
    """Stable shards of at most ``per_list`` domains (a one-name change touches one list): ``<base>`` when one list
    holds them all, else ``<base>-<bucket>``."""
    shards = stable_shards(sorted(domains), per_list) if len(domains) > per_list else [(0, sorted(domains))]
    single = len(shards) == 1
    return [
        DnsList(
            name=base_name if single else f"{base_name}-{bucket + 1}",
            domains=tuple(values),
            members=tuple((d, tuple(domains[d])) for d in values),
        )
        for bucket, values in shards
        if values
    ]


def layer_warnings(mode: DnsMode, allowed: Sequence[DnsList], logs: str) -> list[str]:
    """What the summary says of a layer that does not block yet, or allows nothing."""
    out = []
    if mode is DnsMode.ALERT:
        out.append(
            f"mode alert: every name resolves, the others are only logged; read {logs}, add what is missing to "
            "extraNames, then set mode: block"
        )
    if not allowed:
        out.append("no name is allowed: in mode block every query is blocked")
    return out


def limit_problems(names: Sequence[str], valid: re.Pattern[str], rule: str, counts: Iterable[tuple[int, int, str]]):
    """Names the cloud refuses (``rule`` says its rule) or repeats, and every ``(used, max, limits key)`` past its
    limit."""
    problems = []
    bad = [n for n in names if not valid.fullmatch(n)]
    if bad:
        problems.append(f"names the cloud refuses ({rule}): {bad}")
    if len(set(names)) != len(names):
        problems.append("resource names collide")
    for used, most, key in counts:
        if used > most:
            hint = " (raise limits.domainsPerList: fewer, larger lists)" if key.startswith("rules") else ""
            problems.append(
                f"{used} {key.removesuffix('PerAccount').removesuffix('Max')}, more than limits.{key} ({most}){hint}"
            )
    return problems
