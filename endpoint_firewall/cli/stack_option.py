"""``--stack`` and ``--project``, the same on every command: the stack named, else ``$EPFW_STACK``, else ``dev``;
the project named, else the nearest folder with a ``Pulumi.yaml`` from the working folder up."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

STACK_ENV = "EPFW_STACK"
DEFAULT_STACK = "dev"


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack",
        default=os.environ.get(STACK_ENV) or DEFAULT_STACK,
        metavar="NAME",
        help=f"stack name: its settings are <stackConfigDir>/Pulumi.<NAME>.yaml (default: "
        f"${STACK_ENV}, else {DEFAULT_STACK})",
    )
    parser.add_argument(
        "--project",
        type=Path,
        default=None,
        metavar="DIR",
        help="project folder (default: the nearest folder with a Pulumi.yaml, from the working folder up)",
    )
