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


class YamlProblem(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def _construct_scalar(node: yaml.ScalarNode) -> Any:
    # Reuse PyYAML's safe resolution of tags (int, bool, date, str...).
    return yaml.SafeLoader.construct_object(_SCALAR_LOADER, node, deep=True)


class _ScalarLoader(yaml.SafeLoader):
    def __init__(self) -> None:  # no stream: only used to construct single scalar nodes
        yaml.constructor.SafeConstructor.__init__(self)


_SCALAR_LOADER = _ScalarLoader()


def load(text: str, filename: str) -> tuple[Any, dict[Path, int]]:
    """Parse ``text``; return the data and a map from path to 1-based line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        raise YamlProblem(Problem(filename, *_syntax(err))) from None
    except yaml.YAMLError as err:
        raise YamlProblem(Problem(filename, 1, "yaml", str(err))) from None
    if node is None:
        raise YamlProblem(Problem(filename, 1, "file", "empty file"))
    lines: dict[Path, int] = {}
    data = _build(node, (), lines, filename)
    return data, lines


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


def _build(node: yaml.Node, path: Path, lines: dict[Path, int], filename: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlProblem(Problem(filename, key_node.start_mark.line + 1, "yaml",
                                          "merge keys ('<<') are not supported"))
            key = _build(key_node, path + ("<key>",), {}, filename)
            if not isinstance(key, (str, int)):
                raise YamlProblem(Problem(filename, key_node.start_mark.line + 1, "yaml",
                                          "mapping keys must be plain strings"))
            if key in out:
                raise YamlProblem(Problem(filename, key_node.start_mark.line + 1, _dotted(path + (key,)),
                                          f"duplicate key {key!r}"))
            out[key] = _build(value_node, path + (key,), lines, filename)
            lines[path + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), lines, filename) for i, item in enumerate(node.value)]
    if node.tag in ("tag:yaml.org,2002:binary",) or node.tag.startswith("!"):
        raise YamlProblem(Problem(filename, node.start_mark.line + 1, _dotted(path) or "yaml",
                                  f"unsupported YAML tag {node.tag}"))
    return _construct_scalar(node)


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
