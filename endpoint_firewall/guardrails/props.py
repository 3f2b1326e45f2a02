"""Small readers over resource props and pack config: plain dicts/lists, or pulumi_policy's unknown-checking proxies.

They never raise on a missing key or a value of the wrong shape: a check sees ``None``/``[]`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Config = Mapping[str, Any] | None


def _is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


def _is_seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _get(data: Any, key: str) -> Any:
    return data.get(key) if _is_map(data) else None


def _items(data: Any, key: str) -> list[Any]:
    value = _get(data, key)
    return list(value) if _is_seq(value) else []


def _strings(data: Any, key: str) -> list[str]:
    return [v for v in _items(data, key) if isinstance(v, str)]


def _lower(value: Any) -> str:
    return value.lower() if isinstance(value, str) else ""


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _external_policies(config: Config) -> dict[str, bool]:
    """``config["externalPolicies"]`` as {lowercased policy name: DNS proxy on}."""
    declared = _get(config, "externalPolicies")
    if not _is_map(declared):
        return {}
    return {str(k).lower(): _true(_get(v, "dnsProxy")) if _is_map(v) else _true(v) for k, v in declared.items()}
