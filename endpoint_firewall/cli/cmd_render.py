"""``epfw render [--stack NAME] [--project DIR] [--catalogue FILE...] [--cloud azure|aws] [--quiet] --out DIR``.

Writes exactly what a stack deploys (see :mod:`..program.render` for which folders it may replace)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from ..program.render import find_project_dir, refuse_unsafe_out, render_stack, write_atomically
from .errors import UserError
from .stack_option import add_stack_arguments
from .tables import print_prose, print_render


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("render", help="render a stack's rules to files (no cloud account needed)")
    add_stack_arguments(parser)
    parser.add_argument(
        "--catalogue",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="render these catalogue files in full, with the stack's other settings",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="output folder: new, empty, or an earlier render (replaced as a whole)"
    )
    parser.add_argument(
        "--cloud",
        choices=("azure", "aws"),
        default=None,
        help="render this cloud only (default: every cloud the stack configures)",
    )
    parser.add_argument("--quiet", action="store_true", help="print no table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    project = (args.project or find_project_dir()).resolve()
    refuse_unsafe_out(args.out, (project,))  # before the work: what is in the way, at once
    files = render_stack(args.stack, project, args.catalogue, args.cloud).files()
    try:
        write_atomically(files, args.out, (project,))
    except OSError as err:
        raise UserError(f"--out {args.out}: cannot write the render ({err.strerror or err})") from None
    if not args.quiet:
        print_render(files, folder=str(args.out))
        print_prose(Console(), f"wrote {len(files)} files to {args.out}")
    return 0
