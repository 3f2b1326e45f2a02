"""Errors the command line reports in one line, without a traceback."""

from ..endpoints.errors import EpfwError


class UserError(EpfwError):
    """A problem with the command's arguments or environment."""
