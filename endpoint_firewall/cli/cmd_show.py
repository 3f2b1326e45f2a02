"""``epfw show DIR [--details]``: print the tables of a render folder; ``--details``: every widened, not expressible
and skipped item with its reason, instead of one line per kind."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..program.render import RENDER_MARKER
from .errors import UserError
from .tables import print_render


def read_render_dir(folder: Path) -> dict[str, str]:
    if not (folder / "summary.json").exists():
        raise UserError(f"{folder}: not a render folder (no summary.json); run epfw render first")
    files = {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != RENDER_MARKER
    }
    try:
        json.loads(files["summary.json"])
    except json.JSONDecodeError as err:
        raise UserError(f"{folder / 'summary.json'}:{err.lineno}: not valid JSON ({err.msg}); render again") from None
    return files


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("show", help="print the tables of a render folder")
    parser.add_argument("folder", type=Path, metavar="DIR", help="a folder epfw render wrote")
    parser.add_argument(
        "--details",
        action="store_true",
        help="list every widened, not expressible and skipped item with its reason (default: one line per kind)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print_render(read_render_dir(args.folder), folder=str(args.folder), details=args.details)
    return 0
