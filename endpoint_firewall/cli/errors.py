"""Errors the command line reports in one line, without a traceback."""


class UserError(Exception):
    """A problem with the command's arguments or environment."""
