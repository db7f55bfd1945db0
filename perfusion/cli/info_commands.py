"""``perfusion info`` and ``perfusion cases``: what this machine and this install offer.

``info`` lists the array backends, devices, library versions and which CPU path the
kernels take (compiled or the NumPy reference, and why); ``cases`` lists the
built-in case files (with the external data each needs and where it comes from) or copies
them into a folder to start from.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import click

from ..errors import PerfusionError
from .options import with_debug


@click.command()
@with_debug
def info():
    """Backends, devices and versions on this machine."""
    import platform

    import numpy
    import scipy

    from .. import __version__
    from ..compute.backend import describe_backends

    click.echo(f"perfusion {__version__}, Python {platform.python_version()}, "
               f"NumPy {numpy.__version__}, SciPy {scipy.__version__}")
    for entry in describe_backends():
        click.echo(f"  {entry['backend']:<6} available: {entry['available']:<4} {entry['device']}")
        for key, value in entry.get("details", {}).items():
            click.echo(f"{'':<25}{key}: {value}")
    from ..compute.native import selection

    chosen = selection()
    click.echo(f"  CPU kernels: {chosen.path} ({chosen.reason}); {chosen.threads} threads; "
               f"compiler {chosen.compiler or 'none'}, flags {chosen.flags}")


@click.command()
@click.argument("name", required=False)
@click.option("--copy", "destination", type=click.Path(path_type=Path),
              help="Copy case NAME (or all cases) into this folder.")
@with_debug
def cases(name, destination):
    """List the built-in cases and the external data they need, or copy them with --copy DIR."""
    from ..library.cases import builtin_cases, data_summary, describe

    available = builtin_cases()
    chosen = available if name is None else {name: available.get(name)}
    if name is not None and chosen[name] is None:
        raise PerfusionError(f"no built-in case {name!r}; available: {', '.join(available)}")
    if destination is None:
        for case_name, path in chosen.items():
            click.echo(f"{case_name:<20} {describe(path)}")
            click.echo(f"{'':<20} {data_summary(path)}")
        return
    destination.mkdir(parents=True, exist_ok=True)
    for case_name, path in chosen.items():
        shutil.copy2(path, destination / path.name)
        click.echo(f"copied {case_name} to {destination / path.name}")
