"""``epfw diff OLD_DIR NEW_DIR [--format table|markdown|json] [--exit-code]``: rule-level diff of two render folders."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..preview.resource_diff import diff, render_dir_records
from .cmd_show import read_render_dir
from .diff_format import add_format_argument, emit


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("diff", help="rule-level diff of two render folders")
    parser.add_argument("old", type=Path, metavar="OLD_DIR", help="the earlier render folder")
    parser.add_argument("new", type=Path, metavar="NEW_DIR", help="the later render folder")
    add_format_argument(parser)
    parser.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 1 when there are changes and 0 when there are none, as git diff --exit-code",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    for folder in (args.old, args.new):
        read_render_dir(folder)  # refuses a folder that is not a render
    changes = diff(render_dir_records(args.old), render_dir_records(args.new))
    emit(changes, args.format, f"Rule changes {args.old} -> {args.new}")
    return 1 if args.exit_code and changes else 0
