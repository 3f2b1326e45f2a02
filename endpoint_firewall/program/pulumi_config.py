"""Read the stack's ``endpoint-firewall:`` config into a :class:`StackConfig`, through Pulumi's public API.

Values: ``pulumi.Config("endpoint-firewall").get(key)`` for each key :class:`StackConfig` knows (the SDK's
documented way to read config; it sees the stack file, ``pulumi config set``, ESC environments and ``--config``
alike). Structured values arrive as JSON text and are decoded here.

Keys: the SDK has no public way to list every config key, so the keys are checked where Pulumi reads them from,
the stack file (``stacks/Pulumi.<stack>.yaml``), by the loader ``epfw`` uses: a key of another namespace than ours
and the providers' (``endpoint-firewal:selection``) or an unknown key of ours is refused with its file and line.
Keys given only outside the file (an ESC environment, ``--config``) are validated as values, not checked for typos.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi

from ..config.stack_config import NAMESPACE, StackConfig, load_stack_file, parse, stack_file


def config_keys() -> list[str]:
    """The top-level keys of our namespace, as written in a stack file (``sourceRanges``, ``azure``, ...)."""
    return sorted(field.alias or name for name, field in StackConfig.model_fields.items())


def namespace_values() -> dict[str, Any]:
    """Every key of our namespace that is set, structured values decoded (Pulumi passes them as JSON text)."""
    config = pulumi.Config(NAMESPACE)
    values: dict[str, Any] = {}
    for key in config_keys():
        value = config.get(key)
        if value is not None:
            values[key] = _decode(value)
    return values


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def read_stack_config(stack: str, project_dir: Path) -> StackConfig:
    """The stack's config: its stack file's keys checked (with lines), the values read from Pulumi."""
    path = stack_file(project_dir, stack)
    if path.exists():
        load_stack_file(path)  # located problems: unknown namespaces and keys, bad values, with file and line
    return parse(namespace_values(), f"stack {stack} config")
