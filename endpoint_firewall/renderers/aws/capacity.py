"""AWS rule group capacity: what a group reserves (headroom, the role's pin), the replacement-forcing name that
carries it, and the policy quota all groups of one firewall policy share (``limits.policyCapacity``).

Pure: plain values in, plain values out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Sequence
from fractions import Fraction

from ...config.aws_config import AwsConfig, RuleOrder
from .model import AwsRenderError, AwsRuleGroup
from .suricata import HTTP_HOST, TLS_SNI

CAPACITY_STEP = 100  # reserved capacity is a multiple of this


def reserved_capacity(used: int, config: AwsConfig) -> int:
    """``ceil(used * (1 + headroom))`` rounded up to a multiple of 100, within [minimum, capacity_max]."""
    wanted = math.ceil(used * (1 + Fraction(str(config.capacity_headroom))))
    wanted = -(-wanted // CAPACITY_STEP) * CAPACITY_STEP
    return min(max(wanted, config.capacity_minimum, used), config.limits.capacity_max)


def units_per_group(config: AwsConfig) -> int:
    """The most capacity one group may use so that its headroom still fits under ``capacity_max``."""
    return max(1, math.floor(config.limits.capacity_max / (1 + Fraction(str(config.capacity_headroom)))))


def domain_list_capacity(targets: int, target_types: str | Sequence[str]) -> int:
    """AWS's guidance (the first domain costs 2 for HTTP, 1 for TLS, 3 for both; each further one 1 per
    protocol), and never less than the rules AWS generates (one per target and protocol, plus one default
    drop per protocol)."""
    types = (target_types,) if isinstance(target_types, str) else tuple(target_types)
    first = (2 if HTTP_HOST in types else 0) + (1 if TLS_SNI in types else 0)
    guidance = first + max(0, targets - 1) * len(types) if targets else 0
    return max(guidance, targets * len(types) + len(types))


def group_capacity(role: str, used: int, config: AwsConfig) -> int:
    """The reserved capacity of a group: its pin (``capacity.<role>``) while ``used`` fits it, else
    :func:`reserved_capacity`."""
    pinned = config.capacity.get(role)
    if pinned is None:
        return reserved_capacity(used, config)
    if used > pinned:
        raise AwsRenderError(
            f"group {role} now needs capacity {used}, more than its pinned capacity {pinned} (aws.capacity.{role}). "
            f"Raise the pin to at least {used} (e.g. {reserved_capacity(used, config)}, with capacityHeadroom): AWS "
            "fixes capacity at creation, so this replaces the group (a new name, created before the old one is "
            "deleted)"
        )
    return pinned


def group_name(prefix: str, role: str, capacity: int, rule_order: RuleOrder) -> str:
    digest = hashlib.sha256(f"{capacity}|{rule_order.value}|STATEFUL".encode()).hexdigest()[:6]
    name = f"{prefix}-{role}-{digest}"
    assert len(name) <= 128, name
    return name


def fit_policy_capacity(groups: list[AwsRuleGroup], config: AwsConfig) -> tuple[list[AwsRuleGroup], list[str]]:
    """Keep the groups of one policy within ``limits.policyCapacity`` (AWS: "Maximum number of stateful rules per
    firewall policy per account per Region. This is the total across all rule groups that are referenced by the
    policy", 30,000 by default, adjustable: quotas page).


    What the rules use must fit, else the render fails naming the figure needed and how to raise the quota. Headroom
    is what gives: when the reserved total is over, each unpinned group's headroom shrinks by the same fraction
    (:func:`share_headroom`: in capacity steps where they fit, the remainder given back rather than wasted), which
    changes those groups' capacity and so their names (a replacement, said in the warning). Pinned capacities are kept; if they alone leave no room,
    the render fails naming them."""
    quota = config.limits.policy_capacity
    used = sum(g.used for g in groups)
    how = (
        'request an increase of the Network Firewall quota "Maximum number of stateful rules per firewall '
        'policy" in the Service Quotas console (service-quotas request-service-quota-increase), then set '
        "aws.limits.policyCapacity to the granted value; or select fewer entries"
    )
    if used > quota:
        raise AwsRenderError(
            f"these rule groups need stateful capacity {used}, more than one firewall policy holds: "
            f"aws.limits.policyCapacity is {quota} (AWS's default quota is 30,000). To deploy them, "
            f"{how}"
        )
    reserved = sum(g.capacity for g in groups)
    if reserved <= quota:
        return groups, []
    pinned = [g for g in groups if g.role in config.capacity]
    free = [g for g in groups if g.role not in config.capacity]
    room = quota - sum(g.capacity for g in pinned) - sum(g.used for g in free)
    if room < 0:
        raise AwsRenderError(
            f"pinned capacities ({', '.join(f'{g.role} {g.capacity}' for g in pinned)}) and the other groups' use "
            f"need {quota - room}, more than aws.limits.policyCapacity ({quota}): lower the pins (a replacement) or "
            f"{how}"
        )
    capacities = share_headroom(free, room)
    out = []
    for g in groups:
        if g in free:
            capacity = capacities[g.role]
            name = group_name(config.name_prefix, g.role, capacity, config.rule_order)
            request = {**g.request, "RuleGroupName": name, "Capacity": capacity}
            g = dataclasses.replace(g, name=name, capacity=capacity, request=request)
        out.append(g)
    total = sum(g.capacity for g in out)
    return out, [
        f"headroom trimmed to fit aws.limits.policyCapacity ({quota}): the groups reserve {total} instead "
        f"of {reserved} for {used} used (changed capacities replace those groups)"
    ]


def share_headroom(free: Sequence[AwsRuleGroup], room: int) -> dict[str, int]:
    """Capacities (by role) for the unpinned groups when only ``room`` headroom fits in all: each group's fair
    share is the same fraction of its untrimmed headroom. Deterministic, never above a group's untrimmed capacity
    nor the room in total:


    1. each group gets its fair share rounded down to the capacity step (at least what it uses);
    2. what that leaves goes back in whole steps, the group furthest below its fair share first (ties by role),
       a group rising at most to the step just above its fair share;
    3. what is still left (less than the steps that remain) goes to the groups furthest below their share, one
       unit at a time up to their fair share rounded up, so the quota is not wasted (such a capacity is not a
       multiple of the step)."""
    headroom = sum(g.capacity - g.used for g in free)
    fraction = Fraction(room, headroom) if headroom else Fraction(0)
    fair = {g.role: g.used + (g.capacity - g.used) * fraction for g in free}
    top = {g.role: g.capacity for g in free}
    out = {
        g.role: min(top[g.role], max(g.used, math.floor(fair[g.role]) // CAPACITY_STEP * CAPACITY_STEP, 1))
        for g in free
    }
    left = room + sum(g.used for g in free) - sum(out.values())

    def neediest() -> list[str]:
        return sorted(out, key=lambda role: (out[role] - fair[role], role))

    raised = True
    while raised:
        raised = False
        for role in neediest():
            step_up = min(
                top[role],
                (out[role] // CAPACITY_STEP + 1) * CAPACITY_STEP,
                -(-math.ceil(fair[role]) // CAPACITY_STEP) * CAPACITY_STEP,
            )
            if out[role] < step_up and step_up - out[role] <= left:
                left -= step_up - out[role]
                out[role] = step_up
                raised = True
                break
    for role in neediest():
        extra = max(0, min(left, min(top[role], math.ceil(fair[role])) - out[role]))
        out[role] += extra
        left -= extra
    return out
