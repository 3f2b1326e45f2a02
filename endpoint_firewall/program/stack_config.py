"""Moved to :mod:`endpoint_firewall.config.stack_config` (the renderers' layer); this name stays importable."""

from ..config.stack_config import *  # noqa: F403
