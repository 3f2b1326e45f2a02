"""``epfw``: the endpoint-firewall command line. Works with no cloud account and no Pulumi CLI.

Each sub-command lives in its own module ``cli/cmd_<name>.py`` exposing ``register(subparsers)``; the
handler it sets returns the process exit code. Located input errors (``CatalogueError``,
``ConfigError``) print as ``FILE:LINE: field: message`` lines on stderr and exit 1, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..endpoints.errors import CatalogueError
from ..planning.rules import PlanError
from ..renderers.aws import AwsRenderError
from ..renderers.azure import RenderError as AzureRenderError
from .errors import UserError

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
    except CatalogueError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 1
    except (UserError, PlanError, AzureRenderError, AwsRenderError) as err:
        print(f"epfw: {err}", file=sys.stderr)
        return 1



if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
