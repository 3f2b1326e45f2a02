"""Read YAML into plain data while keeping the line of every mapping value and sequence item.

PyYAML's composer gives nodes with marks; we construct the data ourselves from those nodes so that a
pydantic error location such as ``("entries", 3, "destinations", 1)`` maps back to a line.
Duplicate mapping keys, which PyYAML would silently overwrite, are refused.
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import Problem

Path = tuple[Any, ...]


# libyaml's parser when PyYAML was built with it (about 13x faster on large catalogues), else pure Python.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlProblem(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def _compose(text: str) -> yaml.Node | None:
    """libyaml when available; on a syntax error, the pure-Python parser again for its clearer messages."""
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError:
        if _LOADER is yaml.SafeLoader:
            raise
    return yaml.compose(text, Loader=yaml.SafeLoader)


def load(text: str, filename: str) -> tuple[Any, dict[Path, int]]:
    """Parse ``text``; return the data and a map from path to 1-based line."""
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as err:
        raise YamlProblem(Problem(filename, *_syntax(err))) from None
    except yaml.reader.ReaderError as err:  # a character YAML does not allow, e.g. a control character
        line = text[: err.position].count("\n") + 1
        code = err.character if isinstance(err.character, int) else ord(err.character)
        raise YamlProblem(
            Problem(filename, line, "yaml", f"character {chr(code)!r} (code {code:#x}) is not allowed in YAML")
        ) from None
    except yaml.YAMLError as err:
        raise YamlProblem(Problem(filename, 1, "yaml", " ".join(str(err).split()))) from None
    if node is None:
        raise YamlProblem(Problem(filename, 1, "file", "empty file"))
    builder = _Builder(filename)
    data = builder.build(node, ())
    return data, builder.lines


def _syntax(err: yaml.MarkedYAMLError) -> tuple[int, str, str]:
    """Line, field and message of a YAML syntax error, with where the broken construct started."""
    mark = err.problem_mark or err.context_mark
    line = mark.line + 1 if mark else 1
    message = str(err.problem or err)
    if "<block" in message:
        message += "; check the indentation"
    if err.context and err.context_mark and err.context_mark.line + 1 != line:
        message += f" ({err.context} that starts on line {err.context_mark.line + 1})"
    return line, "yaml", message


class _Builder:
    """Builds plain data from one document's nodes, recording lines; state lives for one load only."""

    SCALAR_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp")}

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.lines: dict[Path, int] = {}
        self.seen: set[int] = set()
        self.constructor = yaml.constructor.SafeConstructor()

    def problem(self, node: yaml.Node, path: Path, message: str) -> YamlProblem:
        return YamlProblem(Problem(self.filename, node.start_mark.line + 1, _dotted(path) or "yaml", message))

    def build(self, node: yaml.Node, path: Path, record: bool = True) -> Any:
        if id(node) in self.seen:  # an alias: refuse rather than expand (no billion laughs)
            line = self.lines.get(path) or self.lines.get(path[:-1]) or node.start_mark.line + 1
            raise YamlProblem(
                Problem(
                    self.filename,
                    line,
                    _dotted(path) or "yaml",
                    "YAML anchors and aliases ('&', '*') are not supported",
                )
            )
        self.seen.add(id(node))
        if record:
            self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if node.tag not in self.SCALAR_TAGS:
            raise self.problem(node, path, f"unsupported YAML tag {node.tag}")
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as err:
            reason = getattr(err, "problem", None) or str(err)
            raise self.problem(
                node, path, f"{node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]} ({reason})"
            ) from err

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.problem(key_node, path, "merge keys ('<<') are not supported")
            key = self.build(key_node, path + ("<key>",), record=False)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise self.problem(key_node, path, "mapping keys must be plain strings")
            if key in out:
                raise self.problem(key_node, path + (key,), f"duplicate key {key!r}")
            self.lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, path + (key,), record=False)
        return out


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def line_of(lines: dict[Path, int], path: Path) -> int:
    """The line of the deepest known prefix of ``path``."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1


dotted = _dotted
