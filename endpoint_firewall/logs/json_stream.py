"""The items of one array of a JSON document, read piece by piece: a 10 GB export is never held in memory.

A CloudWatch Logs answer (``{"events": [...]}``), an Event Hubs or storage blob of Azure resource logs
(``{"records": [...]}``), a Log Analytics query result (``[{...}, ...]``, or the REST API's
``{"tables": [{"columns": [...], "rows": [[...], ...]}]}``): each is one document whose records sit in one array.
:class:`ArrayStream` finds that array by its key and decodes one item at a time with the C decoder
(``json.JSONDecoder.raw_decode``), keeping only the unread text (at most one item plus one read ahead).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

READ_AHEAD = 1 << 16  # characters read before an item is decoded
ITEM_MAX = 1 << 24  # an item longer than this (16 MB of text) is taken as a broken document
_SPACE = re.compile(r"[\s,]*")


class StreamError(ValueError):
    """The document is not valid JSON where the stream stands: ``line`` says where."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


class ArrayStream:
    """``lines`` (a text, line by line) read as one JSON document, from the line numbered ``first_line``."""

    def __init__(self, lines: Iterator[str], first_line: int = 1):
        self._lines = lines
        self._buf = ""
        self._pos = 0
        self._line = first_line  # the line of self._buf[self._pos]
        self._done = False
        self._decoder = json.JSONDecoder()
        self.last_key: str | None = None  # the first group of the last pattern :meth:`seek` matched

    def _more(self) -> bool:
        if self._done:
            return False
        if self._pos > READ_AHEAD:  # drop what is read, so the buffer never grows with the document
            self._buf, self._pos = self._buf[self._pos :], 0
        parts, size = [], 0
        for line in self._lines:
            parts.append(line)
            size += len(line)
            if size >= READ_AHEAD:
                break
        else:
            self._done = True
        self._buf += "".join(parts)
        return bool(parts)

    def _advance(self, to: int) -> None:
        self._line += self._buf.count("\n", self._pos, to)
        self._pos = to

    def seek(self, pattern: re.Pattern[str]) -> bool:
        """Move past the next match of ``pattern``; False when the document has none."""
        while True:
            match = pattern.search(self._buf, self._pos)
            if match:
                self.last_key = match.group(1) if match.re.groups else None
                self._advance(match.end())
                return True
            keep = max(self._pos, len(self._buf) - 256)  # a key may straddle two reads
            self._advance(keep)
            if not self._more():
                return False

    def value(self) -> Any:
        """The next JSON value (after blanks and commas)."""
        while True:
            self._advance(_SPACE.match(self._buf, self._pos).end())  # type: ignore[union-attr]  # always matches
            try:
                item, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as err:
                if len(self._buf) - self._pos > ITEM_MAX or not self._more():
                    line = self._line + self._buf.count("\n", self._pos, err.pos)
                    raise StreamError(line, f"not valid JSON: {err.msg}") from None
                continue
            self._advance(end)
            return item

    def items(self) -> Iterator[tuple[int, Any]]:
        """Every item of the array the stream stands in (after its ``[``), each with the line it starts on."""
        while True:
            self._advance(_SPACE.match(self._buf, self._pos).end())  # type: ignore[union-attr]
            if self._pos >= len(self._buf) and not self._more():
                raise StreamError(self._line, "the document ends inside an array")
            if self._pos >= len(self._buf):
                continue
            if self._buf[self._pos] == "]":
                self._advance(self._pos + 1)
                return
            line = self._line
            yield line, self.value()
