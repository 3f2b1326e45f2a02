"""``epfw render [--stack NAME] [--catalogue FILE...] --out DIR``: write exactly what a stack deploys."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..program.render import find_project_dir, render_stack, write_atomically
from .tables import print_render


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("render", help="render a stack's rules to files (no cloud account needed)")
    parser.add_argument("--stack", default="dev", help="stack name: stacks/Pulumi.<stack>.yaml (default dev)")
    parser.add_argument("--catalogue", nargs="+", type=Path, metavar="FILE",
                        help="render these catalogue files in full, with the stack's other settings")
    parser.add_argument("--out", type=Path, required=True, help="output folder (replaced as a whole)")
    parser.add_argument("--project", type=Path, default=None, help="project folder (default: the one with Pulumi.yaml)")
    parser.add_argument("--quiet", action="store_true", help="print no table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    project = args.project or find_project_dir()
    result = render_stack(args.stack, project, args.catalogue)
    files = result.files()
    write_atomically(files, args.out)
    if not args.quiet:
        print_render(files)
        print(f"wrote {len(files)} files to {args.out}")
    return 0
