"""``epfw validate [FILE|FOLDER...]``: check catalogue files; print a one-line summary or located errors.

With no FILE: the shipped catalogue, then the archived one (``endpoint_firewall/endpoints/catalogue/archive/``) as a catalogue of
its own (its ids and areas overlap the current ones), one summary line each."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..endpoints.errors import CatalogueError, Problem
from ..endpoints.loader import archived_catalogue_files, load_catalogue
from ..endpoints.stats import summarise
from .cmd_catalogue import catalogue_files


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="validate catalogue files (default: the shipped catalogue)")
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="catalogue files, or folders whose .yaml/.yml files (not those of sub-folders) are "
        "loaded (default: the shipped catalogue)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.files:
        # folders stand for their files; a file (even a missing one) goes to the loader, which reports it located
        found = {f.resolve(): f for path in args.files for f in (catalogue_files(path) if path.is_dir() else [path])}
        print(summarise(load_catalogue(list(found.values()))))
        return 0
    problems: list[Problem] = []
    lines: list[str] = []
    for label, files in (("", None), (" (archive)", archived_catalogue_files())):
        if files == []:
            continue
        try:
            lines.append(summarise(load_catalogue(files)) + label)
        except CatalogueError as err:
            problems.extend(err.problems)
    if problems:
        raise CatalogueError(problems)
    print("\n".join(lines))
    return 0
