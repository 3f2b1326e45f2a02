"""Read and check the web service's JSON: a list of records, each problem located by its path.

The feed is machine-generated (one record per line, or all on one line): a problem is located by the record's
index and key in the list, ``FILE: [3].tcpPorts: message`` (``jq '.[3].tcpPorts'`` shows it), not by a line.
Only a text that is no JSON at all is located by its line (``FILE:LINE: json: ...``, from :mod:`json`). Every
problem of every record is found before the import is refused.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....endpoints.errors import CatalogueError, Problem
from ....endpoints.loader import read_text
from ....endpoints.models import ID_PATTERN, PortRange
from .ports import parse_ports

CATEGORIES = ("Optimize", "Allow", "Default")
# key -> expected JSON type
KEYS: dict[str, str] = {
    "id": "int",
    "serviceArea": "str",
    "serviceAreaDisplayName": "str",
    "urls": "strings",
    "ips": "strings",
    "tcpPorts": "str",
    "udpPorts": "str",
    "expressRoute": "bool",
    "category": "str",
    "required": "bool",
    "notes": "str",
}
REQUIRED_KEYS = ("id", "serviceArea", "serviceAreaDisplayName", "expressRoute", "category", "required")
_EXPECTED = {"int": "a whole number", "str": "a string", "bool": "true or false", "strings": "a list of strings"}


@dataclass(frozen=True)
class Record:
    """One checked record of the web service; ``index`` is its place in the list (``[index].key`` paths)."""

    index: int
    id: int
    service_area: str
    display_name: str
    express_route: bool
    category: str
    required: bool
    urls: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    tcp_ports: tuple[PortRange, ...] = ()
    udp_ports: tuple[PortRange, ...] = ()
    notes: str | None = None
    unknown_keys: tuple[str, ...] = ()  # keys the importer does not know, ignored

    @property
    def area_id(self) -> str:
        return area_id(self.service_area)

    def path(self, key: str | None = None, item: int | None = None) -> str:
        """``[3]``, ``[3].urls``, ``[3].urls[1]``: where in the list a value of this record is."""
        return f"[{self.index}]" + (f".{key}" if key else "") + (f"[{item}]" if item is not None else "")


class _Object(dict[str, Any]):
    """A JSON object and the keys it repeats (the last value is kept, as :func:`json.loads` does; a repeat is an
    input error)."""

    def __init__(self, pairs: list[tuple[str, Any]]):
        super().__init__(pairs)
        self.repeated = tuple(key for key, n in Counter(key for key, _ in pairs).items() if n > 1)


def area_id(service_area: str) -> str:
    """``"MEM"`` -> ``"mem"``; other characters than a-z, 0-9 and '-' become '-'."""
    return re.sub(r"[^a-z0-9-]+", "-", service_area.strip().lower()).strip("-")


def read_records(path: Path | str) -> list[Record]:
    path = Path(path)
    return parse_records(read_text(path), str(path))


def parse_records(text: str, filename: str) -> list[Record]:
    """Decode and check the JSON text; raise :class:`CatalogueError` with every problem found."""
    try:
        data = json.loads(text.removeprefix("\ufeff"), object_pairs_hook=_Object)
    except json.JSONDecodeError as err:
        raise CatalogueError([Problem(filename, err.lineno, "json", f"{err.msg} (column {err.colno})")]) from None
    except RecursionError:
        raise CatalogueError([Problem(filename, 1, "json", "nested too deeply")]) from None
    if not isinstance(data, list):
        raise CatalogueError(
            [
                Problem(
                    filename,
                    1,
                    "file",
                    f'expected a JSON list of records ([{{"id": 1, ...}}, ...]), found {_json_type(data)}',
                )
            ]
        )
    problems: list[Problem] = []
    records: list[Record] = []
    first_of_id: dict[int, int] = {}
    for index, item in enumerate(data):
        if not isinstance(item, _Object):
            problems.append(
                Problem(filename, None, f"[{index}]", f"expected a record (a JSON object), found {_json_type(item)}")
            )
            continue
        record = _record(index, item, filename, problems)
        if record is None:
            continue
        if record.id in first_of_id:
            problems.append(
                Problem(
                    filename,
                    None,
                    record.path("id"),
                    f"duplicate record id {record.id} (first at [{first_of_id[record.id]}])",
                )
            )
            continue
        first_of_id[record.id] = index
        records.append(record)
    if problems:
        raise CatalogueError(problems)
    return records


def _record(index: int, obj: _Object, filename: str, problems: list[Problem]) -> Record | None:
    before = len(problems)

    def problem(key: str, message: str, item: int | None = None) -> None:
        where = f"[{index}].{key}" + (f"[{item}]" if item is not None else "")
        problems.append(Problem(filename, None, where, message))

    for key in obj.repeated:
        problem(key, f"duplicate key {key!r}")
    for key in REQUIRED_KEYS:
        if key not in obj:
            problem(key, f"missing required key {key!r}")
    for key, kind in KEYS.items():
        if key not in obj:
            continue
        value = obj[key]
        if _type_ok(kind, value):
            continue
        if kind == "strings" and isinstance(value, list):
            for j, item in enumerate(value):
                if not isinstance(item, str):
                    problem(key, f"expected a string, found {_json_type(item)}", j)
        else:
            expected = "a whole number, 0 or more" if kind == "int" else _EXPECTED[kind]
            problem(key, f"expected {expected}, found {_json_type(value)}")
    ports: dict[str, tuple[PortRange, ...]] = {}
    for key in ("tcpPorts", "udpPorts"):
        if isinstance(obj.get(key), str):
            try:
                ports[key] = parse_ports(obj[key])
            except ValueError as err:
                problem(key, str(err))
    if isinstance(obj.get("category"), str) and obj["category"] not in CATEGORIES:
        problem("category", f"unknown category {obj['category']!r}; expected one of {', '.join(CATEGORIES)}")
    if isinstance(obj.get("serviceArea"), str) and not re.match(ID_PATTERN, area_id(obj["serviceArea"])):
        problem(
            "serviceArea",
            f"{obj['serviceArea']!r} does not give a service area id (letters, digits and '-', at most 63 characters)",
        )
    if len(problems) > before:
        return None
    return Record(
        index=index,
        id=obj["id"],
        service_area=obj["serviceArea"],
        display_name=obj["serviceAreaDisplayName"],
        express_route=obj["expressRoute"],
        category=obj["category"],
        required=obj["required"],
        urls=tuple(obj.get("urls", ())),
        ips=tuple(obj.get("ips", ())),
        tcp_ports=ports.get("tcpPorts", ()),
        udp_ports=ports.get("udpPorts", ()),
        notes=obj.get("notes") or None,
        unknown_keys=tuple(k for k in obj if k not in KEYS),
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 60 else "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
