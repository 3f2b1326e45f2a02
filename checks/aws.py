"""``epfw check --cloud aws``: the verdict of the real Suricata engine on a one-flow capture.

The flow runs through every rule group of the render (domain lists in AWS's generated form) and, in
``STRICT_ORDER``, the policy's drop default action; see :mod:`.suricata`. The verdict names the rule
that passed the flow (its group, sid and msg), or the rule that dropped it; ``None`` means the policy's
default action dropped it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import TYPE_CHECKING

from .flow import Flow, Verdict
from .suricata import replay

if TYPE_CHECKING:
    from ..renderers.aws import AwsRender


def evaluate(render: AwsRender, flow: Flow, source: str) -> Verdict:
    """Allow or deny ``flow`` from ``source`` (an address, or a CIDR whose first host is used).

    When the destination is of the other address family than ``source``, the first source range of its
    family stands in; with none, no rule can match (every rule starts at ``$HOME_NET``): deny.
    Raises :class:`~.suricata.SuricataUnavailable` without Suricata.
    """
    origin = flow.source or source
    if flow.ip and _family(flow.ip) != _family(origin):
        same = [r for r in render.source_ranges if _family(r) == _family(flow.ip)]
        if not same:
            return Verdict(False, None, f"the stack's source ranges have no IPv{_family(flow.ip)} range: "
                                        "no rule matches traffic to this address")
        source, flow = same[0], replace(flow, source=None)
    result = replay(render, [flow], source)
    verdict = result.verdicts[0]
    engine = f"Suricata {result.version}"
    if verdict.allowed:
        if verdict.passed_by:
            more = f" (also {', '.join(str(r) for r in verdict.passed_by[1:])})" if len(verdict.passed_by) > 1 else ""
            return Verdict(True, str(verdict.passed_by[0]), f"{engine}{more}")
        return Verdict(True, None, f"{engine}: no rule passed or dropped it; nothing in the policy denies it")
    ref = verdict.dropped_by
    if ref is None or ref.group is None:
        action = result.policy_default or "policy default"
        return Verdict(False, None, f"{engine}: no rule passed it; the policy's {action} dropped it")
    return Verdict(False, str(ref), engine)


def _family(value: str) -> int:
    return ipaddress.ip_network(value, strict=False).version
