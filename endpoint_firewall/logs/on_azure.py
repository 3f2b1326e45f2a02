"""Azure's side of an explanation: which rendered rule passes a flow in Azure's documented order, who denied it
according to the log, and which rules the allowed records name."""

from __future__ import annotations

from collections.abc import Iterator

from ..checks.azure import evaluate
from ..checks.flow import Flow
from ..checks.listed import Listing
from ..planning.rules import Plan
from ..renderers.azure.render import AzureRender
from .tally import Denied, Tally


class AzureSide:
    cloud = "azure"
    tcp_may_be_tls = True  # the network rule log says TCP for TLS and HTTP to an address alike

    def __init__(self, render: AzureRender, plan: Plan):
        self.render, self.plan = render, plan
        self.not_expressible = render.not_expressible
        self.skipped = render.skipped

    def should_match(self, flow: Flow, listings: list[Listing]) -> str | None:
        """The rule that passes ``flow`` in Azure's documented order (network rules, then application rules,
        first match; ``checks/azure.py``), None when no rendered rule does."""
        verdict = evaluate(self.render, flow)
        return f"{verdict.rule} ({verdict.detail})" if verdict.allowed else None

    def denied_by(self, denied: Denied) -> str:
        """What the log says denied it: a rule (of which policy), or Azure's default action."""
        rules = [f"{rule} ({n})" for rule, n in denied.rules.most_common()]
        policies = f" of policy {', '.join(sorted(denied.policies))}" if denied.policies else ""
        if rules:
            return f"the log names the deny rule {', '.join(rules)}{policies}, which Azure processed first"
        reasons = ", ".join(f"{note} ({n})" for note, n in denied.notes.most_common())
        return (
            f"the log says {reasons or 'no rule'}: no rule of the deployed policy matched, so the deployed rules differ "
            "from this render (compare with `epfw preview` or `az deployment group what-if`)"
        )

    def rules(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        """Every rendered rule as ``group/collection/rule`` (classic: ``firewall/collection/rule``), with its entries."""
        if self.render.classic is not None:
            for key in ("networkRuleCollections", "applicationRuleCollections"):
                for collection in self.render.classic[key]:
                    for rule in collection["properties"]["rules"]:
                        path = f"{self.render.firewall_name}/{collection['name']}/{rule['name']}"
                        yield path, self._entries(rule["name"])
            return
        for group in self.render.groups:
            for collection in group.body["properties"]["ruleCollections"]:
                for rule in collection["rules"]:
                    yield f"{group.name}/{collection['name']}/{rule['name']}", self._entries(rule["name"])

    def used_rules(self, tally: Tally) -> set[str] | None:
        """The rendered rules the allowed records name; None when the logs hold no allowed record."""
        if not tally.allowed:
            return None
        used = set()
        for path in tally.allowed_rules:
            group, _, rest = path.partition("/")
            used.add(path if group else f"{self.render.firewall_name}/{rest}")  # classic rules log no group
        return used

    def _entries(self, azure_name: str) -> tuple[str, ...]:
        """The entries of the plan rule an Azure rule renders (its name, or its name with a shard suffix; address
        rules as ``addressRules`` renders them)."""
        best = None
        for rule in self.render.rules or self.plan.rules:
            if azure_name == rule.name or azure_name.startswith(rule.name + "-"):
                if best is None or len(rule.name) > len(best.name):
                    best = rule
        return best.entries if best else ()
