"""``epfw check --cloud aws``: the verdict of the real Suricata engine on a one-flow capture.

The flow runs through every rule group of the render (domain lists in AWS's generated form) and, in
``STRICT_ORDER``, the policy's drop default action; see :mod:`.suricata`. The verdict names the rule
that passed the flow (its group, sid and msg), or the rule that dropped it; ``None`` means no rule
decided: the policy's default action dropped it, or nothing dropped it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import TYPE_CHECKING

from .flow import Flow, Verdict
from .suricata import ENGINE_DROP, replay

if TYPE_CHECKING:
    from ..renderers.aws.render import AwsRender

# Stand-in device addresses for a family the stack's source ranges do not have (outside any HOME_NET then).
STAND_IN_SOURCE = {4: "192.0.2.5", 6: "fd00:e9f0::5"}


def evaluate(render: AwsRender, flow: Flow, source: str) -> Verdict:
    """Allow or deny ``flow`` from ``source`` (an address, or a CIDR whose first host is used).

    When the destination is of the other address family than ``source``, the first source range of its
    family stands in. With none, a device's traffic of that family comes from outside ``HOME_NET``: no pass
    rule starts there. The flow is then replayed from a stand-in address of that family, and the verdict says
    so: IPv6 is dropped by the deny's IPv6 rule (unless ``dropIpv6OutsideHomeNet`` is off); otherwise in
    ``DEFAULT_ACTION_ORDER`` nothing filters it (allowed), in ``STRICT_ORDER`` only the policy's default action.
    Raises :class:`~.suricata.SuricataUnavailable` without Suricata.
    """
    origin = flow.source or source
    outside = ""
    if flow.ip and _family(flow.ip) != _family(origin):
        same = [r for r in render.source_ranges if _family(r) == _family(flow.ip)]
        if same:
            source, flow = same[0], replace(flow, source=None)
        else:
            family = _family(flow.ip)  # type: ignore[arg-type]  # set: this branch starts with `if flow.ip`
            source, flow = STAND_IN_SOURCE[family], replace(flow, source=None)
            outside = (
                f"the stack's source ranges have no IPv{family} range, so a device's IPv{family} traffic "
                f"(replayed from {source}) is not in HOME_NET"
            )
    elif not _in_home(origin, render.source_ranges):
        outside = f"source {origin} is not in HOME_NET ({', '.join(render.source_ranges)})"
    result = replay(render, [flow], source)
    verdict = result.verdicts[0]
    engine = f"Suricata {result.version}"
    if verdict.delivered_before_drop:
        n = verdict.delivered_before_drop
        engine += f" ({n} client data packet{'s' if n > 1 else ''} got through before the drop)"
    if outside and verdict.dropped_by is not None and verdict.dropped_by.group not in (None, "engine"):
        return Verdict(False, str(verdict.dropped_by), f"{engine}: {outside}")  # the deny's IPv6 rule
    if outside:
        outside += " and no rule of these groups passes or drops it"
        if verdict.allowed:
            return Verdict(
                True, None, f"{engine}: {outside}; not filtered by these rules (no policy default action drops it)"
            )
        action = result.policy_default or "policy default action"
        return Verdict(False, None, f"{engine}: {outside}; the policy's {action} dropped it")
    if verdict.allowed:
        if verdict.passed_by:
            more = f" (also {', '.join(str(r) for r in verdict.passed_by[1:])})" if len(verdict.passed_by) > 1 else ""
            return Verdict(True, str(verdict.passed_by[0]), f"{engine}{more}")
        return Verdict(True, None, f"{engine}: no rule passed or dropped it; nothing in the policy denies it")
    ref = verdict.dropped_by
    if ref is ENGINE_DROP:
        return Verdict(
            False,
            None,
            f"{engine}: no rule decided; the engine dropped the flow itself (an exception "
            "policy, e.g. a malformed stream or application-layer error)",
        )
    if ref is None or ref.group is None:
        action = result.policy_default or "policy default"
        return Verdict(False, None, f"{engine}: no rule passed it; the policy's {action} dropped it")
    return Verdict(False, str(ref), engine)


def _family(value: str) -> int:
    return ipaddress.ip_network(value, strict=False).version


def _in_home(value: str, ranges: tuple[str, ...]) -> bool:
    net = ipaddress.ip_network(value, strict=False)
    return any(net.version == r.version and net.subnet_of(r) for r in (ipaddress.ip_network(x) for x in ranges))  # type: ignore[arg-type]  # same version
