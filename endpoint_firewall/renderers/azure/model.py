"""Pieces shared by the Azure renderer's modules: names, notes, the error, the IP Group id placeholder.

Pure: no Pulumi, no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...endpoints.errors import EpfwError

# Names of rule collection groups, rule collections, rules and IP Groups (Azure Firewall limits page):
# letters, digits, '_', '.', '-'; start with a letter or digit; end with a letter, digit or '_'; 2..80.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]$")
NAME_MAX = 80

# Rule references to IP Groups are ARM resource ids. The render cannot know the subscription, so it
# writes this placeholder; the Pulumi component substitutes each ``IpGroup``'s real ``id`` output.
SUBSCRIPTION_PLACEHOLDER = "{subscriptionId}"
IP_GROUP_ID_TEMPLATE = (
    "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Network/ipGroups/{name}"
)
SUBSCRIPTION_ID_LENGTH = 36  # a GUID: the placeholder is measured at this length for the size limit

# Inside every rule collection group: network rules first (Azure processes them first anyway).
NETWORK_COLLECTION = "network"
APPLICATION_COLLECTION = "application"
NETWORK_COLLECTION_PRIORITY = 100
APPLICATION_COLLECTION_PRIORITY = 200
FILTER_COLLECTION = "FirewallPolicyFilterRuleCollection"

# Application rule protocols take one port each, 1..64000 (ARM schema: FirewallPolicyRuleApplicationProtocol).
APP_PORT_MAX = 64000
APP_PORT_RANGE_MAX = 64  # a wider range is refused rather than expanded into hundreds of protocol entries


class RenderError(EpfwError, ValueError):
    """The plan cannot be rendered for Azure as configured; the message names the limit and the numbers."""


def azure_name(base: str) -> str:
    """``base`` if Azure accepts it as a name, else a deterministic shortened form with a hash suffix."""
    if NAME_RE.match(base):
        return base
    digest = hashlib.sha256(base.encode()).hexdigest()[:10]
    head = re.sub(r"[^A-Za-z0-9_.-]", "-", base)[: NAME_MAX - 11].rstrip("-.")
    name = f"{head}-{digest}" if head and head[0].isalnum() else f"n{digest}"
    assert NAME_RE.match(name), name
    return name


def ip_group_id(resource_group: str, name: str, subscription: str = SUBSCRIPTION_PLACEHOLDER) -> str:
    return IP_GROUP_ID_TEMPLATE.format(subscription=subscription, resource_group=resource_group, name=name)


def replace_ids(value: Any, ids: Mapping[str, Any]) -> Any:
    """``value`` with every IP Group id placeholder replaced by ``ids[placeholder]`` (an ARM expression, a Pulumi
    output...); a placeholder ``ids`` does not know is an error."""
    if isinstance(value, dict):
        return {k: replace_ids(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_ids(v, ids) for v in value]
    if isinstance(value, str) and SUBSCRIPTION_PLACEHOLDER in value:
        if value not in ids:
            raise ValueError(f"{value} references an IP Group the render does not define")
        return ids[value]
    return value


def json_size(obj: Any) -> int:
    """Bytes of ``obj`` as compact JSON, counting the subscription placeholder at a real id's length."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8")) + text.count(SUBSCRIPTION_PLACEHOLDER) * (
        SUBSCRIPTION_ID_LENGTH - len(SUBSCRIPTION_PLACEHOLDER)
    )


def to_text(obj: Any) -> str:
    """The files' JSON: indent 2, trailing newline, key order as built (which is fixed)."""
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class AzureGroup:
    """One rule collection group: ``body`` is the ARM resource body (``name`` and ``properties``)."""

    name: str
    priority: int
    area: str
    body: dict[str, Any]

    @property
    def rules(self) -> list[dict[str, Any]]:
        return [r for c in self.body["properties"]["ruleCollections"] for r in c["rules"]]


@dataclass(frozen=True)
class AzureIpGroup:
    """One IP Group: ``body`` is the ARM resource body; ``id`` is the placeholder id rules reference."""

    name: str
    id: str
    body: dict[str, Any]
    serves: str  # the plan rule whose destinations it holds, or "sources"

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(self.body["properties"]["ipAddresses"])
