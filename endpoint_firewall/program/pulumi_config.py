"""Read the ``endpoint-firewall:`` namespace from the Pulumi runtime's config into a :class:`StackConfig`."""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import config as runtime_config

from ..config.stack_config import NAMESPACE, ConfigError, StackConfig, namespace_problems, parse


def namespace_values() -> dict[str, Any]:
    """Every key of our namespace, with structured values decoded (Pulumi passes them as JSON text)."""
    raw: dict[str, Any] = dict(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    values: dict[str, Any] = {}
    for key, value in sorted(raw.items()):
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE:
            continue
        values[name] = _decode(value)
    return values


def _decode(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def read_stack_config(stack: str) -> StackConfig:
    origin = f"stack {stack} config"
    problems = namespace_problems(dict(runtime_config.get_config_env()) | runtime_config.CONFIG.get(), origin)
    if problems:
        raise ConfigError(problems)
    return parse(namespace_values(), origin)
