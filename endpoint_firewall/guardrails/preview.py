"""``epfw preview``: every resource and stack check over the records the program registers under mocks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .resource_checks import ADVISORY_POLICIES, RESOURCE_CHECKS, RESOURCE_TYPES
from .stack_checks import STACK_CHECKS, StackResource, policy_members

MANDATORY = "mandatory"
ADVISORY = "advisory"


@dataclass(frozen=True)
class Violation:
    policy: str
    message: str
    resource_type: str | None = None
    resource_name: str | None = None
    enforcement: str = MANDATORY

    @property
    def mandatory(self) -> bool:
        return self.enforcement == MANDATORY

    def __str__(self) -> str:
        where = (
            f"{self.resource_type.rsplit(':', 1)[-1]} {self.resource_name}: "
            if self.resource_name and self.resource_type
            else ""
        )
        return f"[{self.enforcement}] {self.policy}: {where}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "enforcement": self.enforcement,
            "type": self.resource_type,
            "name": self.resource_name,
            "message": self.message,
        }


def validate_resources(
    resources: Sequence[Mapping[str, Any]], config: Mapping[str, Any] | None = None
) -> list[Violation]:
    """Every policy over resource records ``{type, name, inputs (camelCase), custom[, urn, dependencies]}``.

    ``config`` is keyed by policy name like a CrossGuard pack config (``{"aws-capacity-headroom":
    {"minHeadroom": 0.2}}``); a policy set to ``"disabled"`` or ``{"enforcementLevel": "disabled"}`` is
    skipped, ``"advisory"`` downgrades its violations.
    """
    config = config or {}
    violations: list[Violation] = []

    def level(name: str) -> str:
        value = config.get(name)
        value = value.get("enforcementLevel") if isinstance(value, Mapping) else value
        if value in ("advisory", "mandatory", "disabled"):
            return value
        return ADVISORY if name in ADVISORY_POLICIES else MANDATORY

    def options(name: str) -> Mapping[str, Any]:
        value = config.get(name)
        return value if isinstance(value, Mapping) else {}

    for record in resources:
        if not record.get("custom", True) or record["type"] not in RESOURCE_TYPES:
            continue
        for name, check in RESOURCE_CHECKS.items():
            if level(name) == "disabled":
                continue
            for message in check(record["type"], record.get("inputs") or {}, options(name)):
                violations.append(Violation(name, message, record["type"], record["name"], level(name)))
    stack = [StackResource.from_record(r) for r in resources]
    by_urn = {r.urn: r for r in stack}
    for name, stack_check in STACK_CHECKS.items():
        if level(name) == "disabled":
            continue
        if name == "rule-groups-serialized" and any(r.dependencies is None for r in stack):
            if any(len(m) > 1 for m in policy_members(stack).values()):
                violations.append(
                    Violation(
                        name,
                        "not checked: the resource records carry no dependencies "
                        "(the mock runner does not record them)",
                        enforcement=ADVISORY,
                    )
                )
            continue
        for urn, message in stack_check(stack, options(name)):
            res = by_urn.get(urn) if urn else None
            violations.append(
                Violation(name, message, res.type if res else None, res.name if res else None, level(name))
            )
    # the records come in the order the program registered them, which its async calls do not fix: sort
    return sorted(violations, key=lambda v: (v.policy, v.resource_type or "", v.resource_name or "", v.message))
