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
import importlib.metadata
import os
import sys
from collections.abc import Sequence

from ..endpoints.errors import EpfwError

COMMANDS = ("validate", "render", "show", "preview", "diff", "check", "import", "catalogue", "verify", "logs")


DESCRIPTION = (
    "epfw: the endpoint-firewall command line. Turns a catalogue of network endpoints into Azure "
    "Firewall and AWS Network Firewall egress rules; works with no cloud account and no Pulumi CLI."
)


SIGPIPE_EXIT = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left


def _version() -> str:
    try:
        return importlib.metadata.version("endpoint-firewall")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="epfw", description=DESCRIPTION)
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {_version()}",
        help="print the installed version of endpoint-firewall and exit",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of:")
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
    except BrokenPipeError:  # `epfw ... | head`: the reader left; no traceback (Python docs, "Note on SIGPIPE")
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush must not fail again
        return SIGPIPE_EXIT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
