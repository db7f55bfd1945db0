"""What every ``perfusion`` command shares: logging, user-error handling and common options.

:func:`with_debug` gives a command its ``--debug`` flag, sets up logging to stderr and turns
any :class:`~perfusion.errors.PerfusionError` into one red paragraph and exit code 1 (the
traceback instead with ``--debug``). :data:`backend_option` and :data:`quiet_option` are the
options that ``run`` and ``sweep`` both take.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import sys

import click

from ..errors import PerfusionError

backend_option = click.option("--backend", type=click.Choice(["auto", "numpy", "cupy"]),
                              help="Array backend.")
quiet_option = click.option("--quiet", is_flag=True, help="Only warnings and the summary.")


def configure_logging(debug: bool, quiet: bool = False) -> None:
    """Send the ``perfusion`` loggers to stderr: DEBUG with ``--debug``, WARNING with ``--quiet``."""
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s" if debug else "%(message)s"))
    root = logging.getLogger("perfusion")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


@contextlib.contextmanager
def user_errors(debug: bool):
    """Turn our exceptions into a short message and exit code 1 (traceback with --debug)."""
    try:
        yield
    except PerfusionError as exc:
        if debug:
            raise
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)


def with_debug(function):
    """Add ``--debug`` to a command, configure logging and report user errors (see above)."""
    @click.option("--debug", is_flag=True, help="Show debug logging and full tracebacks.")
    @functools.wraps(function)
    def wrapper(*args, debug: bool, **kwargs):
        configure_logging(debug, kwargs.get("quiet", False))
        with user_errors(debug):
            return function(*args, **kwargs)
    return wrapper
