"""``epfw``: the endpoint-firewall command line. Works with no cloud account and no Pulumi CLI.

Each sub-command lives in its own module ``cli/cmd_<name>.py`` exposing ``register(subparsers)``; the
handler it sets returns the process exit code. Located input errors (``CatalogueError``,
``ConfigError``) print as ``FILE:LINE: field: message`` lines on stderr and exit 1, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys
from collections.abc import Sequence

from ..endpoints.errors import CatalogueError
from ..planning.rules import PlanError
from ..renderers.aws import AwsRenderError
from ..program.stack_config import NoSuchStack
from ..renderers.azure import RenderError as AzureRenderError
from .errors import UserError

COMMANDS = ("validate", "render", "show", "preview", "diff", "check", "import", "catalogue", "verify")


DESCRIPTION = ("epfw: the endpoint-firewall command line. Turns a catalogue of network endpoints into Azure "
               "Firewall and AWS Network Firewall egress rules; works with no cloud account and no Pulumi CLI.")


def _version() -> str:
    try:
        return importlib.metadata.version("endpoint-firewall")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="epfw", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                        help="print the installed version of endpoint-firewall and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of:")
    for name in COMMANDS:
        importlib.import_module(f"{__package__}.cmd_{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CatalogueError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 1
    except (UserError, NoSuchStack, PlanError, AzureRenderError, AwsRenderError) as err:
        print(f"epfw: {err}", file=sys.stderr)
        return 1



if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
