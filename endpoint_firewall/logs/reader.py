"""Which log format a file is in, and its records, one at a time; bad lines counted with file and line.

A source is a name (for messages) and its lines. The first line that is not blank decides the format:

* a JSON object on one line: JSON lines (AWS's S3 objects and CloudWatch events, Azure's storage blobs, Log
  Analytics rows saved one per line, one CloudWatch answer per line);
* ``[`` or a JSON object over several lines: one JSON document, whose records are read item by item
  (:mod:`.json_stream`): a CloudWatch Logs answer (``events``, ``logEvents``), Logs Insights' ``results``, Azure's
  ``records``, a Log Analytics result (a list of rows, or ``tables`` with ``columns`` and ``rows``);
* ``<ISO time> {...}``: the lines of a CloudWatch Logs export task to S3;
* a CSV header: a Log Analytics export (``TimeGenerated``, ``SourceIp``, ...) or a Logs Insights export
  (``@timestamp``, ``@message``).

Anything else fails naming what was expected; records of the other cloud fail naming the option to use. Within a
file, a line that is not JSON or not a record is counted and reported (``FILE:LINE: reason``), never a traceback.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from . import aws_records, azure_records
from .json_stream import ArrayStream, StreamError
from .records import LogFormatError, Record

Source = tuple[str, Iterable[str]]  # (name shown in messages, its lines)

SHOWN_BAD_LINES = 20
_EXPORT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[0-9:.]+Z? (?=\{)")  # CloudWatch export task: "<time> <message>"
_ARRAY_KEY = re.compile(r'"(events|logEvents|results|records|tables)"\s*:\s*\[')
_COLUMNS = re.compile(r'"columns"\s*:\s*')
_ROWS = re.compile(r'"rows"\s*:\s*\[')
_CSV_MARKERS = ("TimeGenerated", "@message", "SourceIp")

EXPECTED = {
    "aws": "AWS Network Firewall logs: JSON lines {firewall_name, availability_zone, event_timestamp, event} (files, "
    "gzip'd S3 objects), a CloudWatch Logs export (lines '<time> {...}', or the JSON of `aws logs get-log-events`/"
    "`filter-log-events`), or a Logs Insights export (CSV or JSON with @message)",
    "azure": "Azure Firewall structured logs: JSON lines {time, resourceId, category, properties} of the categories "
    "AZFWApplicationRule, AZFWNetworkRule, AZFWDnsQuery, AZFWFqdnResolveFailure (a storage account's PT1H.json "
    "blobs, or {records: [...]}), or a Log Analytics export (JSON or CSV with TimeGenerated, SourceIp, ...)",
}
OTHER_CLOUD = {"aws": "azure", "azure": "aws"}


@dataclass
class ReadStats:
    """What reading found besides records: bad lines (the first few with file and line), records that say nothing
    here (by type or category), and files read."""

    bad_lines: int = 0
    shown: list[str] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)
    files: int = 0

    def bad(self, name: str, line: int, reason: str) -> None:
        self.bad_lines += 1
        if len(self.shown) < SHOWN_BAD_LINES:
            self.shown.append(f"{name}:{line}: {reason}")


def read(sources: Iterable[Source], cloud: str, stats: ReadStats) -> Iterator[Record]:
    """Every record of every source, in order."""
    for name, lines in sources:
        stats.files += 1
        yield from _FileReader(name, cloud, stats).read(iter(lines))


class _FileReader:
    def __init__(self, name: str, cloud: str, stats: ReadStats):
        self.name, self.cloud, self.stats = name, cloud, stats
        self.known = False  # a record of this cloud was seen: from now on, an unknown line is a bad line

    # --- formats -----------------------------------------------------------------------------------------

    def read(self, lines: Iterator[str]) -> Iterator[Record]:
        number = 0
        for line in lines:
            number += 1
            if number == 1:
                line = line.lstrip("\ufeff")
            if line.strip():
                break
        else:
            return  # an empty file
        head = line.lstrip()
        rest = chain([line], lines)
        if head.startswith("["):
            yield from self._document(rest, number, top_level_array=True)
        elif head.startswith("{"):
            try:
                json.loads(line)
            except ValueError:
                yield from self._document(rest, number, top_level_array=False)
            else:
                yield from self._json_lines(rest, number)
        elif _EXPORT_LINE.match(head):
            yield from self._json_lines((_EXPORT_LINE.sub("", text, count=1) for text in rest), number)
        elif any(marker in head for marker in _CSV_MARKERS):
            yield from self._csv(rest, number)
        else:
            raise self._unknown(number)

    def _json_lines(self, lines: Iterable[str], first: int) -> Iterator[Record]:
        loads, records = json.loads, self._records  # the hot loop: one call per line
        for number, line in enumerate(lines, start=first):
            try:
                data = loads(line)
            except ValueError as err:
                if line.strip():
                    reason = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
                    self.stats.bad(self.name, number, f"not JSON ({reason})")
                continue
            yield from records(data, number)

    def _document(self, lines: Iterable[str], first: int, top_level_array: bool) -> Iterator[Record]:
        stream = ArrayStream(iter(lines), first)
        try:
            if top_level_array:
                stream.seek(re.compile(r"\["))
                items = stream.items()
            elif not stream.seek(_ARRAY_KEY):
                raise self._unknown(first)
            elif stream.last_key == "tables":
                items = _table_rows(stream)
            else:
                items = stream.items()
            for number, item in items:
                yield from self._records(item, number)
        except StreamError as err:
            self.stats.bad(self.name, err.line, f"{err}; the rest of the file is not read")

    def _csv(self, lines: Iterable[str], first: int) -> Iterator[Record]:
        reader = csv.DictReader(lines)
        if reader.fieldnames is None:
            return
        reader.fieldnames = [_column(n) for n in reader.fieldnames]
        try:
            for row in reader:
                yield from self._records(row, first - 1 + reader.line_num)
        except csv.Error as err:
            self.stats.bad(self.name, first - 1 + reader.line_num, f"not CSV ({err}); the rest of the file is not read")

    # --- records -----------------------------------------------------------------------------------------

    def _records(self, data: Any, number: int) -> list[Record]:
        try:
            found = self._aws(data, number) if self.cloud == "aws" else self._azure(data, number)
        except LogFormatError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            self.stats.bad(self.name, number, f"not a record: {err}")
            return []
        if found is None:
            return []
        self.known = True
        return found

    def _aws(self, data: Any, number: int) -> list[Record] | None:
        if isinstance(data, str):  # a message (CloudWatch)
            data = json.loads(data)
        if aws_records.is_firewall_record(data):
            one = aws_records.record(data)
            if one is None:
                self.stats.ignored[f"event_type {data['event'].get('event_type')}"] += 1
                return []
            return [one]
        message = aws_records.message_of(data) or _insights_message(data)
        if message is not None:
            return self._aws(message, number)
        events = aws_records.messages(data)
        if events is None and isinstance(data, dict) and isinstance(data.get("results"), list):
            events = data["results"]  # Logs Insights (GetQueryResults) on one line
        if events is not None:
            return [r for item in events for r in (self._aws(item, number) or [])]
        self._unrecognised(data, number)
        return None

    def _azure(self, data: Any, number: int) -> list[Record] | None:
        if azure_records.is_resource_log(data):
            category = str(data["category"])
            kind = azure_records.KINDS.get(category)
            if kind is None:
                self.stats.ignored[
                    f"category {category}" + (" (legacy msg text)" if category in azure_records.LEGACY else "")
                ] += 1
                return []
            return [azure_records.record(kind, data["properties"], data.get("time"))]
        if isinstance(data, dict) and isinstance(data.get("records"), list):
            return [r for item in data["records"] for r in (self._azure(item, number) or [])]
        if isinstance(data, dict) and isinstance(data.get("tables"), list) and data["tables"]:
            table = data["tables"][0]
            names = [_column(str(c.get("name"))) for c in table.get("columns", [])]
            return [
                r
                for row in table.get("rows", [])
                for r in (self._azure(dict(zip(names, row, strict=False)), number) or [])
            ]
        if isinstance(data, dict) and ("TimeGenerated" in data or "SourceIp" in data):
            kind = azure_records.kind_of_row(data)
            if kind is None:
                self.stats.ignored[f"table {data.get('Type') or 'unknown'}"] += 1
                return []
            return [azure_records.record(kind, data, data.get("TimeGenerated"))]
        self._unrecognised(data, number)
        return None

    def _unrecognised(self, data: Any, number: int) -> None:
        """Records of the other cloud, or a first record of no known shape, fail the run; a later one is a bad line."""
        other = OTHER_CLOUD[self.cloud]
        if _looks_like(other, data):
            raise LogFormatError(
                f"{self.name}:{number}: these are {_CLOUD_NAMES[other]} records: use --cloud {other} "
                "(one cloud's logs per run)"
            )
        if not self.known:
            raise self._unknown(number)
        keys = ", ".join(sorted(data)[:6]) if isinstance(data, dict) else type(data).__name__
        self.stats.bad(self.name, number, f"not a record of this log (found {keys})")

    def _unknown(self, number: int) -> LogFormatError:
        return LogFormatError(f"{self.name}:{number}: unknown log format; expected {EXPECTED[self.cloud]}")


_CLOUD_NAMES = {"aws": "AWS Network Firewall", "azure": "Azure Firewall"}


def _looks_like(cloud: str, data: Any) -> bool:
    if cloud == "aws":
        return aws_records.is_firewall_record(data)
    return isinstance(data, dict) and (azure_records.is_resource_log(data) or "TimeGenerated" in data)


def _table_rows(stream: ArrayStream) -> Iterator[tuple[int, dict[str, Any]]]:
    """The rows of a Log Analytics REST answer (``tables[0]``: ``columns`` [{name, type}], ``rows`` [[...]])."""
    if not stream.seek(_COLUMNS):
        raise StreamError(1, "a Log Analytics answer without columns")
    names = [_column(str(c.get("name"))) if isinstance(c, dict) else str(c) for c in stream.value()]
    if not stream.seek(_ROWS):
        raise StreamError(1, "a Log Analytics answer without rows")
    for number, row in stream.items():
        yield number, dict(zip(names, row, strict=False)) if isinstance(row, list) else row


def _insights_message(data: Any) -> str | None:
    """A Logs Insights result row (botocore ``ResultField``: ``[{"field": "@message", "value": ...}, ...]``)."""
    if isinstance(data, list):
        for cell in data:
            if isinstance(cell, dict) and cell.get("field") == "@message" and isinstance(cell.get("value"), str):
                return cell["value"]
    return None


def _column(name: str) -> str:
    """A CSV header as the column it names: the portal writes ``TimeGenerated [UTC]``."""
    return name.strip().lstrip("\ufeff").removesuffix(" [UTC]")
