"""``epfw``: the endpoint-firewall command line. Works with no cloud account and no Pulumi CLI.

Each sub-command lives in its own module ``cli/cmd_<name>.py`` exposing ``register(subparsers)``; the
handler it sets returns the process exit code. Errors derive from ``EpfwError`` (``endpoints/errors.py``):
located input errors (``CatalogueError``, ``ConfigError``) print as ``FILE:LINE: field: message`` lines on
stderr, the others (``UserError``, ``PlanError``, the renderers' errors) as one ``epfw: ...`` line; exit 1,
never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..endpoints.errors import EpfwError

COMMANDS = ("validate", "render", "show", "preview", "diff", "check", "import", "catalogue")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="epfw", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__package__}.cmd_{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except EpfwError as err:
        for line in err.report():
            print(line, file=sys.stderr)
        return 1



if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
