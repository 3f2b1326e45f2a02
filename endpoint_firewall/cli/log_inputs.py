"""The files ``epfw logs explain`` reads: files, folders (every file under them, in name order), ``-`` for stdin;
gzip'd files (AWS's S3 objects, a CloudWatch export) recognised by their first bytes, whatever their name. Each
is opened only when the reader gets to it and read line by line."""

from __future__ import annotations

import gzip
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import cast

from ..logs.reader import Source
from .errors import UserError

GZIP_MAGIC = b"\x1f\x8b"


def sources(paths: list[str], problems: list[tuple[str, int, str]]) -> list[Source]:
    """One source per file; missing paths are refused before anything is read. A file that cannot be read to its
    end (a truncated gzip object, a file that went away) stops there, and ``problems`` says where."""
    files: list[Path | None] = []  # None: stdin
    for text in paths:
        if text == "-":
            files.append(None)
            continue
        path = Path(text)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise UserError(f"{text}: the folder holds no files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UserError(f"{text}: no such file or folder")
    return [("<stdin>" if f is None else str(f), _lines(f, problems)) for f in files]


def _lines(path: Path | None, problems: list[tuple[str, int, str]]) -> Iterator[str]:
    raw = sys.stdin.buffer if path is None else open(path, "rb")  # closed below
    try:
        buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(cast(io.RawIOBase, raw))
        if buffered.peek(2)[:2] == GZIP_MAGIC:
            stream: io.IOBase = gzip.GzipFile(fileobj=buffered)
        else:
            stream = buffered
        number = 0  # lines read
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")  # type: ignore[type-var]
        try:
            for line in text:
                number += 1
                yield line
        except (OSError, EOFError) as err:  # a truncated or corrupt gzip object
            problems.append((str(path or "<stdin>"), number + 1, f"cannot read further ({err}); the rest is not read"))
    finally:
        if path is not None:
            raw.close()
