"""Write catalogue data as YAML in the layout of the shipped files, and write files only once they load.

:func:`dump_catalogue` turns a :class:`CatalogueFile` into text laid out like ``catalogue/intune.yaml``:
sources and entries as block mappings, service areas, services, provenance and short lists (regions,
scale units) in flow style, destinations one per line, a blank line between entries. The text is made by
PyYAML's safe dumper (quoting is PyYAML's), so it always parses; keys keep the model's field order and
defaults are left out, so the same data always gives the same bytes.

:func:`write_catalogue` writes such text only after it has loaded through :func:`load_catalogue` and read
back equal to the data it was made from: the text goes to a temporary file next to the target, is checked,
and is renamed over the target. On any failure the target is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ..endpoints.errors import CatalogueError, Problem
from ..endpoints.loader import merge, parse_file
from ..endpoints.models import CatalogueFile, Entry, Service

WIDTH = 110


class _Flow(list):
    """A sequence written in flow style: ``[a, b]``."""


class _FlowMap(dict):
    """A mapping written in flow style: ``{a: 1, b: 2}``."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # never write &anchors / *aliases
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent block sequences under their key ("entries:\n  - id: ..."), as the shipped files do.
        super().increase_indent(flow, False)


def _with_flow_markers(dumper: type[yaml.SafeDumper]) -> None:
    dumper.add_representer(_Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
    dumper.add_representer(_FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))


_with_flow_markers(_Dumper)


class _FastDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]  # libyaml when built with it
    """libyaml's emitter (about 2.5x faster on large catalogues); it writes a block sequence under a key at
    the key's column, which :func:`_indent_sequences` then indents like :class:`_Dumper`."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_with_flow_markers(_FastDumper)


def service_data(service: Service) -> dict[str, Any]:
    """``{protocol, port}`` as written in a catalogue: a single port as a number, a range as ``'a-b'``."""
    port: int | str = service.port.first if service.port.first == service.port.last else str(service.port)
    return {"protocol": service.protocol.value, "port": port}


def entry_data(entry: Entry) -> dict[str, Any]:
    """One entry as YAML data with the flow markers of the shipped layout."""
    data = entry.to_data()
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "destinations":
            value = [_FlowMap(d) if isinstance(d, dict) else d for d in (x.to_data() for x in entry.destinations)]
        elif key == "services":
            value = _flow_if_short(
                key,
                _Flow(_FlowMap(service_data(s)) for s in entry.services),
                [_FlowMap(service_data(s)) for s in entry.services],
            )
        elif key in ("regions", "scale_units"):
            value = _flow_if_short(key, _Flow(value), list(value))
        elif key == "provenance":
            value = _flow_if_short(key, _FlowMap(value), dict(value))
        out[key] = value
    return out


def _flow_if_short(key: str, flow: Any, block: Any, indent: int = 4) -> Any:
    """``flow`` when ``key: {...}`` fits on one line of an entry, else ``block`` (PyYAML would fold it)."""
    text = yaml.dump(flow, Dumper=_FastDumper, sort_keys=False, allow_unicode=True, width=10**6).strip()
    return flow if indent + len(key) + 2 + len(text) <= WIDTH and "\n" not in text else block


def catalogue_data(doc: CatalogueFile) -> dict[str, Any]:
    """The whole file as YAML data (dates stay dates so they are written unquoted)."""
    data: dict[str, Any] = {"schema_version": doc.schema_version}
    if doc.sources:
        data["sources"] = [
            {k: v for k, v in s.model_dump(mode="python", exclude_none=True).items()} for s in doc.sources
        ]
    if doc.service_areas:
        data["service_areas"] = [_FlowMap(a.model_dump(mode="json")) for a in doc.service_areas]
    if doc.entries:
        data["entries"] = [entry_data(e) for e in doc.entries]
    return data


_SEQUENCE_KEY = re.compile(r"^[^\s#'\"{\[][^:]*:$")  # "key:" with its value on the following lines


def _indent_sequences(text: str) -> str:
    """Indent every block sequence that starts at its key's column by two more columns, with all it holds."""
    out: list[str] = []
    open_sequences: list[int] = []  # the dash column of each enclosing sequence, in libyaml's layout
    key_column: int | None = None  # column of the previous line's "key:" when its value follows
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        if not stripped:
            out.append(line)
            continue
        column = len(line) - len(stripped)
        dash = stripped.startswith("- ") or stripped == "-"
        while open_sequences and not (column > open_sequences[-1] or (column == open_sequences[-1] and dash)):
            open_sequences.pop()
        if dash and column == key_column and (not open_sequences or open_sequences[-1] != column):
            open_sequences.append(column)
        body = stripped[2:] if dash else stripped
        key_column = column + (2 if dash else 0) if _SEQUENCE_KEY.match(body) else None
        out.append(" " * (2 * len(open_sequences)) + line)
    return "\n".join(out)


def _emit(data: Any) -> str:
    if _FastDumper.__mro__[1] is yaml.SafeDumper:  # no libyaml here
        return yaml.dump(
            data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=WIDTH
        )
    # Two columns narrower: most long scalars sit two columns deeper once their sequence is indented.
    return _indent_sequences(
        yaml.dump(
            data, Dumper=_FastDumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=WIDTH - 2
        )
    )


def dump_catalogue(doc: CatalogueFile, header: str | None = None) -> str:
    """YAML text of ``doc``; ``header`` (plain text, any number of lines) becomes a leading comment."""
    body = _emit(catalogue_data(doc))
    lines: list[str] = []
    section = None
    for line in body.splitlines():
        top = re.match(r"^([A-Za-z_]\w*):", line)
        if top:
            if lines:
                lines.append("")  # a blank line between top-level keys
            section = top.group(1)
        elif section == "entries" and line.startswith("  - ") and not lines[-1].startswith("entries:"):
            lines.append("")  # and between entries
        lines.append(line)
    text = "\n".join(lines) + "\n"
    if header:
        comment = "".join(f"# {h}".rstrip() + "\n" for h in header.splitlines())
        text = comment + text
    return text


def write_catalogue(doc: CatalogueFile, out: Path, header: str | None = None) -> str:
    """Write ``doc`` to ``out`` if, and only if, the written text loads and reads back as ``doc``.

    Returns the text written. Raises :class:`CatalogueError` (located in the generated text, named
    ``OUT (generated)``) and leaves ``out`` untouched when the text does not load.
    """
    out = Path(out)
    text = dump_catalogue(doc, header)
    shown = f"{out} (generated)"
    folder = out.parent if str(out.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as err:
        raise CatalogueError([Problem(str(out), 1, "file", f"cannot write: {err.strerror or err}")]) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, _mode_for(out))
        try:
            reread = parse_file(text, shown)  # parsed once: the file's own checks, then the cross-file ones
            merge([(shown, text, reread)])
        except CatalogueError as err:
            raise CatalogueError([Problem(shown, p.line, p.field, p.message) for p in err.problems]) from None
        if reread != doc:
            raise CatalogueError(
                [
                    Problem(
                        shown,
                        1,
                        "file",
                        "internal error: the written YAML does not read "
                        "back as the data it was made from; nothing written",
                    )
                ]
            )
        os.replace(tmp, out)
    except OSError as err:
        raise CatalogueError([Problem(str(out), 1, "file", f"cannot write: {err.strerror or err}")]) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return text


def _mode_for(out: Path) -> int:
    """The target's current permissions, or those of a new file under the umask (mkstemp makes 0600)."""
    try:
        return out.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


__all__ = ["catalogue_data", "dump_catalogue", "entry_data", "service_data", "write_catalogue"]
