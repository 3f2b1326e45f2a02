"""AWS's own verdict on rendered rule groups: ``CreateRuleGroup`` with ``DryRun=True`` per group.

AWS validates the request (rules, variables, capacity) and computes the capacity the rules consume, and creates
nothing. The client is passed in (a boto3 ``network-firewall`` client, or one stubbed in tests), so this module
needs neither credentials nor boto3 itself. Throttling is retried a bounded number of times with backoff; any
other error is AWS's answer for that group.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

THROTTLING = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"})
ATTEMPTS = 5
BACKOFF_SECONDS = 0.5


@dataclass(frozen=True)
class GroupVerdict:
    name: str
    valid: bool
    capacity: int  # ours: reserved
    used: int  # ours: what the rules need
    aws_capacity: int | None = None  # AWS's answer: RuleGroupResponse.Capacity
    aws_consumed: int | None = None  # RuleGroupResponse.ConsumedCapacity (what AWS computes the rules use)
    error: str | None = None  # "Code: message" when AWS (or botocore's model) refused it
    attempts: int = 1

    def line(self) -> str:
        ours = f"ours {self.used} used of {self.capacity}"
        if self.valid:
            consumed = "?" if self.aws_consumed is None else str(self.aws_consumed)
            theirs = f"AWS {consumed} consumed of {self.aws_capacity if self.aws_capacity is not None else '?'}"
            return f"valid    {self.name}: {ours}; {theirs}"
        return f"INVALID  {self.name}: {ours}; AWS: {self.error}"


def _error_text(err: Exception) -> tuple[str, str]:
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        info = response.get("Error", {})
        return str(info.get("Code", type(err).__name__)), str(info.get("Message", err))
    return type(err).__name__, " ".join(str(err).split())


def verify_group(
    client: Any, request: dict, used: int, *, attempts: int = ATTEMPTS, sleep: Callable[[float], None] = time.sleep
) -> GroupVerdict:
    """One group's dry run; throttling retried up to ``attempts`` times (exponential backoff)."""
    name, capacity = request["RuleGroupName"], request["Capacity"]
    for attempt in range(1, attempts + 1):
        try:
            answer = client.create_rule_group(**request, DryRun=True)
        except Exception as err:  # botocore's ClientError / ParamValidationError, without importing botocore
            code, message = _error_text(err)
            if code in THROTTLING and attempt < attempts:
                sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                continue
            return GroupVerdict(name, False, capacity, used, error=f"{code}: {message}", attempts=attempt)
        response = answer.get("RuleGroupResponse", {})
        return GroupVerdict(
            name, True, capacity, used, response.get("Capacity"), response.get("ConsumedCapacity"), attempts=attempt
        )
    raise AssertionError("unreachable")  # pragma: no cover


def verify_groups(client: Any, groups: Sequence[Any], **kwargs: Any) -> list[GroupVerdict]:
    """Every rendered group (:class:`~endpoint_firewall.renderers.aws.model.AwsRuleGroup`), in order."""
    return [verify_group(client, g.request, g.used, **kwargs) for g in groups]
