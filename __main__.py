"""Pulumi entry point: `pulumi up --stack dev` deploys stacks/Pulumi.dev.yaml. See README."""

from pathlib import Path

from endpoint_firewall.program.program import run

run(Path(__file__).resolve().parent)
