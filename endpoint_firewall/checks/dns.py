"""``epfw check --dns NAME``: would the DNS layer let a name resolve, and which rule decided, by each service's
documented evaluation of the rendered rules (docs/dns.md).

* AWS Route 53 Resolver DNS Firewall: a rule group's rules from the lowest priority; the first rule whose domain
  list matches the query name decides (ALLOW and ALERT resolve, BLOCK answers ``blockResponse``); a name no rule
  matches resolves. ``x.com`` matches that name only, ``*.x.com`` every name below ``x.com``, ``*`` every name.
* Azure DNS security policy: rules by priority, lower first, the first whose domain lists match decides (Allow and
  Alert resolve, Block blocks); an entry matches the domain and every name below it, ``.`` every name.

The query name is judged as sent; CNAME chains (what AWS's redirection setting and Azure's chasing act on) need a
real resolution and are not modelled here: the verdict says so where it matters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..endpoints.names import normalise_fqdn, wildcard_matches
from ..renderers.aws.dns import REDIRECTION, AwsDnsRender
from ..renderers.azure.dns import AzureDnsRender
from ..renderers.dns_names import DnsList, DnsRule
from ..renderers.findings import Finding


@dataclass(frozen=True)
class DnsVerdict:
    resolves: bool
    rule: str | None  # the deciding rule ("<group or policy>/<rule>"); None: no rule matched
    detail: str = ""

    def __str__(self) -> str:
        word = "resolve" if self.resolves else "block"
        by = f" by {self.rule}" if self.rule else " (no rule matches)"
        return f"{word}{by}" + (f": {self.detail}" if self.detail else "")


def aws_matches(domain: str, name: str) -> bool:
    """DNS Firewall's domain match: the catalogue's meaning (:func:`wildcard_matches`), and ``*`` every name."""
    return domain == "*" or wildcard_matches(domain, name)


def azure_matches(domain: str, name: str) -> bool:
    return domain == "." or name == domain or name.endswith("." + domain)


def _first_match(
    rules: Iterable[DnsRule], lists: dict[str, DnsList], name: str, matches
) -> tuple[DnsRule, DnsList, str] | None:
    for rule in sorted(rules, key=lambda r: r.priority):
        dl = lists[rule.domain_list]
        domain = next((d for d in dl.domains if matches(d, name)), None)
        if domain is not None:
            return rule, dl, domain
    return None


def _stands_for(dl: DnsList, domain: str) -> str:
    names = dl.stands_for(domain)
    if not names:
        return ""
    entries = sorted({e for n in names for e in n.entries})
    shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
    listed = ", ".join(n.name for n in names[:3]) + (" ..." if len(names) > 3 else "")
    return f" (for {listed}: {shown})"


def _widening(findings: Iterable[Finding], name: str) -> str:
    """The DNS layer's widened findings that explain why ``name`` resolves beyond the catalogue."""
    hits = sorted({f.destination for f in findings if f.destination and widens(f.destination, name)})
    return f"; widened: the catalogue lists {', '.join(hits)}, not {name}" if hits else ""


def widens(listed: str, name: str) -> bool:
    """Whether an Azure entry written for the catalogue's ``listed`` name also matches ``name`` beyond it."""
    base = listed.removeprefix("*.")
    return (listed.startswith("*.") and name == base) or (not listed.startswith("*.") and name.endswith("." + base))


def evaluate_aws(render: AwsDnsRender, query: str) -> DnsVerdict:
    name = normalise_fqdn(query)
    lists = {dl.name: dl for dl in render.lists}
    found = _first_match(render.rules, lists, name, aws_matches)
    if found is None:
        return DnsVerdict(
            True,
            None,
            f"no rule of {render.rule_group} matches, and DNS Firewall lets what no rule matches resolve "
            "(rule groups of other stacks associated with the VPC decide first if their priority is lower)",
        )
    rule, dl, domain = found
    where = f"{render.rule_group}/{rule.name}"
    detail = f"priority {rule.priority}, domain {domain} of list {dl.name}{_stands_for(dl, domain)}"
    if rule.action == "BLOCK":
        return DnsVerdict(False, where, f"{detail}; answers {render.block_response}")
    if rule.action == "ALERT":
        return DnsVerdict(True, where, f"{detail}; ALERT: resolves and is logged (mode alert; block is the goal)")
    return DnsVerdict(True, where, f"{detail}; {REDIRECTION}: the CNAME chain of the answer is trusted")


def evaluate_azure(render: AzureDnsRender, query: str) -> DnsVerdict:
    name = normalise_fqdn(query)
    lists = {dl.name: dl for dl in render.lists}
    found = _first_match(render.rules, lists, name, azure_matches)
    if found is None:
        return DnsVerdict(True, None, f"no rule of {render.policy} matches: it resolves")
    rule, dl, domain = found
    where = f"{render.policy}/{rule.name}"
    detail = f"priority {rule.priority}, domain {domain} of list {dl.name}{_stands_for(dl, domain)}"
    if rule.action == "Block":
        return DnsVerdict(
            False,
            where,
            f"{detail} (Azure applies a rule to any name of a query's CNAME chain: a chain that reaches an allowed "
            "name would resolve; not modelled here)",
        )
    if rule.action == "Alert":
        return DnsVerdict(True, where, f"{detail}; Alert: resolves and is logged (mode alert; block is the goal)")
    return DnsVerdict(True, where, detail + _widening(render.widened, name))
