"""The manual's stack keys reference (``docs/reference/stack-keys.md``), generated from the pydantic models that
check a stack file: every key's name, type, constraints and default come from :class:`.stack_config.StackConfig`
and its JSON schema, its meaning from the field's ``description``. A key without one is an error here, so the
reference never lists a key it does not explain.

Regenerate the page with ``python -m endpoint_firewall.config.keys_reference > docs/reference/stack-keys.md``;
``tests/test_docs.py`` fails while the committed page differs from :func:`keys_reference`.
"""

from __future__ import annotations

import html
import inspect
import json
import re
import sys
import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

from .stack_config import NAMESPACE, StackConfig

PAGE = "docs/reference/stack-keys.md"
COMMAND = "python -m endpoint_firewall.config.keys_reference > docs/reference/stack-keys.md"

INTRO = f"""\
<!-- Generated from the models under endpoint_firewall/config/: do not edit. Regenerate with
     {COMMAND}
     (tests/test_docs.py fails while this page is stale). -->

# Stack keys

Every key of the `{NAMESPACE}:` namespace of a stack file (`stacks/Pulumi.<stack>.yaml`), generated from the
pydantic models that check it (`endpoint_firewall/config/`: `stack_config.py`, `azure_config.py`, `aws_config.py`,
`dns_config.py`): a key not listed here is refused, naming the key, before anything is rendered or registered.
How stack files are found and checked: [Stacks](../stacks.md#stack-files).
"""


class UndescribedKey(ValueError):
    """A field of the stack config without a ``description``: the reference would list a key it cannot explain."""


@dataclass(frozen=True)
class Section:
    path: str  # "" for the namespace itself, else the dotted key ("azure.limits")
    model: type[BaseModel]


def _slug(text: str) -> str:
    """The heading's anchor, as MkDocs (Python-Markdown's toc) and GitHub both make it for these headings."""
    return re.sub(r"[^\w\- ]", "", text.lower()).strip().replace(" ", "-")


def _heading(section: Section) -> str:
    return section.path or f"{NAMESPACE}:"


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (``AzureConfig | None`` -> ``AzureConfig``), if it holds one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [m for m in map(_nested_model, typing.get_args(annotation)) if m is not None]
        return found[0] if found else None
    return None


def _sections(model: type[BaseModel], path: str = "") -> list[Section]:
    out = [Section(path, model)]
    for name, field in model.model_fields.items():
        nested = _nested_model(field.annotation)
        if nested is not None:
            out += _sections(nested, f"{path}.{field.alias or name}" if path else field.alias or name)
    return out


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "anyOf" in prop:
        return " or ".join(_type(p, defs) for p in prop["anyOf"] if p.get("type") != "null")
    if "$ref" in prop:
        target = defs[prop["$ref"].rsplit("/", 1)[-1]]
        return _type(target, defs) if "enum" in target else "mapping"
    if "enum" in prop:
        return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}), defs)}"
    if kind == "object":
        values = prop.get("additionalProperties")
        return f"mapping of string to {_type(values, defs)}" if isinstance(values, dict) else "mapping"
    return str(kind or "any")


CONSTRAINTS = {
    "minimum": ">= {}",
    "exclusiveMinimum": "> {}",
    "maximum": "<= {}",
    "exclusiveMaximum": "< {}",
    "minLength": "at least {} character(s)",
    "maxLength": "at most {} character(s)",
    "minItems": "at least {} item(s)",
    "pattern": "matches `{}`",
}


def _constraints(prop: dict[str, Any]) -> list[str]:
    parts = [prop, *prop.get("anyOf", [])]
    return [text.format(part[key]) for part in parts for key, text in CONSTRAINTS.items() if key in part]


def _prose(text: str) -> str:
    """A description as Markdown text: angle brackets shown, not taken for HTML; a lone ``*`` not emphasis."""
    return html.escape(text, quote=False).replace("*", "\\*")


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "omitted"
    if isinstance(value, BaseModel):
        return "its keys' defaults"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, str):
        return f"`{value}`"
    return f"`{json.dumps(to_jsonable_python(value), separators=(', ', ': '))}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _doc(model: type[BaseModel]) -> str | None:
    doc = model.__dict__.get("__doc__")
    if not doc:
        return None
    return " ".join(inspect.cleandoc(doc).split()).replace("``", "`")


def _table(section: Section, nested: dict[str, Section]) -> list[str]:
    schema = section.model.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, field in section.model.model_fields.items():
        key = field.alias or name
        if not field.description:
            where = f"{section.model.__name__}.{name}"
            raise UndescribedKey(f"{_heading(section)} {key} ({where}) has no description: give its Field one")
        dotted = f"{section.path}.{key}" if section.path else key
        shown = f"[`{key}`](#{_slug(dotted)})" if dotted in nested else f"`{key}`"
        prop = schema["properties"][key]
        kind = "; ".join([_type(prop, defs), *_constraints(prop)])
        rows.append(f"| {shown} | {_cell(kind)} | {_cell(_default(field))} | {_cell(_prose(field.description))} |")
    return rows


def keys_reference() -> str:
    """The whole page, Markdown."""
    sections = _sections(StackConfig)
    nested = {s.path: s for s in sections if s.path}
    out = [INTRO]
    for section in sections:
        out.append(f"## {_heading(section)}\n")
        doc = _doc(section.model)
        if doc:
            out.append(doc + "\n")
        out.append("\n".join(_table(section, nested)) + "\n")
    return "\n".join(out)


def main() -> int:
    sys.stdout.write(keys_reference())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
