"""The AWS renderer's model: its one error and a rendered rule group (its ``CreateRuleGroup`` request, the rules it
enforces, what it reserves and uses), with the rules file ``epfw render`` writes for it.

Pure: plain values in, plain values out. Every module of the package may import this one; it imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...config.aws_config import RuleOrder
from ...endpoints.errors import EpfwError


class AwsRenderError(EpfwError, ValueError):
    """The plan cannot be rendered within AWS's limits (the message says which and what to change)."""


@dataclass(frozen=True, eq=False)
class AwsRuleGroup:
    name: str
    role: str  # rules, rules-2, http-host, tls-sni-2, ...
    kind: str  # "rules" (RulesString) or "domain-list" (RulesSourceList)
    capacity: int  # reserved (fixed at creation)
    used: int  # what the rules need
    request: dict[str, Any]  # CreateRuleGroup input
    rules_text: str  # the Suricata rules enforced (domain lists: AWS's generated form)
    priority: int | None  # STRICT_ORDER only
    rule_count: int
    variables: tuple[tuple[str, tuple[str, ...]], ...]  # IP sets, HOME_NET included, sorted by name
    targets: tuple[str, ...] = ()
    target_types: tuple[str, ...] = ()

    @property
    def rules(self) -> list[str]:
        return [line for line in self.rules_text.splitlines() if line.strip()]

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "role": self.role,
            "kind": self.kind,
            "capacity": self.capacity,
            "capacityUsed": self.used,
            "rules": self.rule_count,
            "priority": self.priority,
        }
        if self.kind == "domain-list":
            out["targetTypes"] = list(self.target_types)
            out["targets"] = len(self.targets)
        else:
            out["variables"] = [name for name, _ in self.variables]
        return out


def rules_file(group: AwsRuleGroup, order: RuleOrder) -> str:
    head = [
        f"# rule group: {group.name} ({group.kind}), rule order {order.value}"
        + (f", priority {group.priority}" if group.priority is not None else "")
    ]
    head.append(f"# capacity used: {group.used} of {group.capacity}")
    if group.kind == "domain-list":
        head.append(
            f"# domain list {', '.join(group.target_types)} (ALLOWLIST, {len(group.targets)} targets): "
            "AWS generates these rules; shown in its documented form (AWS picks its own sids)"
        )
    head.append("# variables: " + ", ".join(name for name, _ in group.variables))
    return "\n".join(head) + "\n" + group.rules_text
