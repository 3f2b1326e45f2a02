"""``epfw catalogue diff OLD NEW [--format text|json]``: what changed between two catalogues.

OLD and NEW are each a catalogue file or a folder of ``.yaml``/``.yml`` files (not searched recursively).
Both load through the same loader as every other command, so bad input is refused with located errors.
The exit status is 0 whether or not there are differences.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..catalogue_tools.diff import diff_catalogues
from ..endpoints.errors import CatalogueError, Problem
from ..endpoints.loader import Catalogue, load_catalogue
from .errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "catalogue", help="work with catalogue files (diff)", description="Work with catalogue files."
    )
    actions = parser.add_subparsers(dest="catalogue_action", required=True, metavar="ACTION")
    diff = actions.add_parser(
        "diff",
        help="list entries added, removed and changed between two catalogues",
        description="List the entries (and service areas and sources) added, removed and changed between "
        "two catalogues; for a changed entry, the fields that changed, and for destinations and "
        "services the values added and removed. Exit status 0 either way.",
    )
    diff.add_argument("old", type=Path, metavar="OLD", help="catalogue file or folder of .yaml files")
    diff.add_argument("new", type=Path, metavar="NEW", help="catalogue file or folder of .yaml files")
    diff.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    diff.set_defaults(handler=run_diff)


def catalogue_files(path: Path) -> list[Path]:
    """``path`` itself, or the ``.yaml``/``.yml`` files of a folder, sorted."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise UserError(f"{path}: no .yaml or .yml files in this folder")
        return files
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    return [path]


def _load_both(old: Path, new: Path) -> tuple[Catalogue, Catalogue]:
    files = catalogue_files(old), catalogue_files(new)
    loaded: list[Catalogue] = []
    problems: list[Problem] = []
    for group in files:
        try:
            loaded.append(load_catalogue(group))
        except CatalogueError as err:
            problems.extend(err.problems)
    if problems:
        raise CatalogueError(problems)  # both sides' problems at once
    return loaded[0], loaded[1]


def run_diff(args: argparse.Namespace) -> int:
    old, new = _load_both(args.old, args.new)
    diff = diff_catalogues(old, new)
    if args.format == "json":
        data = {"old": [str(f) for f in old.files], "new": [str(f) for f in new.files], **diff.to_json()}
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(diff.to_text(), end="")
    return 0
