"""``epfw validate [FILE|FOLDER...]``: check catalogue files; print a one-line summary or located errors."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..endpoints.loader import load_catalogue
from ..endpoints.stats import summarise
from .cmd_catalogue import catalogue_files


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="validate catalogue files (default: the shipped catalogue)")
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE",
                        help="catalogue files, or folders whose .yaml/.yml files (not those of sub-folders) are "
                             "loaded (default: the shipped catalogue)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # folders stand for their files; a file (even a missing one) goes to the loader, which reports it located
    found = {f.resolve(): f for path in args.files for f in (catalogue_files(path) if path.is_dir() else [path])}
    files = list(found.values())
    catalogue = load_catalogue(files or None)
    print(summarise(catalogue))
    return 0
