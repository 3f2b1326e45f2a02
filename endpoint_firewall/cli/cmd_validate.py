"""``epfw validate [FILE...]``: check catalogue files; print a one-line summary or located errors."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..endpoints.loader import load_catalogue
from ..endpoints.stats import summarise


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("validate", help="validate catalogue files (default: the shipped catalogue)")
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    catalogue = load_catalogue(args.files or None)
    print(summarise(catalogue))
    return 0
