"""Pulumi entry point: `pulumi up --stack dev` deploys stacks/Pulumi.dev.yaml. See docs/stacks.md.

The same file is the plugin's entry (PulumiPlugin.yaml, `pulumi package add <repo>`): started by the
plugin host, no engine monitor is configured, and it serves the cross-language components instead.
"""

from pathlib import Path

from pulumi.runtime.settings import get_monitor

if get_monitor() is None:
    from endpoint_firewall.components.provider import main

    main()
else:
    from endpoint_firewall.program.program import run

    run(Path(__file__).resolve().parent)
