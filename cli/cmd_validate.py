"""``epfw validate [FILE...]``: check catalogue files; print a one-line summary or located errors.

With no FILE: the shipped catalogue, then the archived one (``endpoints/catalogue/archive/``) as a catalogue of
its own (its ids and areas overlap the current ones), one summary line each."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..endpoints.errors import CatalogueError
from ..endpoints.loader import archived_catalogue_files, load_catalogue
from ..endpoints.stats import summarise


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="validate catalogue files (default: the shipped catalogue)")
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.files:
        print(summarise(load_catalogue(args.files)))
        return 0
    problems, lines = [], []
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
