"""The ``perfusion`` command line: a thin shell over the library (README.md, Command line).

``run``, ``plan``, ``sweep``, ``validate``, ``info``, ``render`` and ``cases``. User errors (any
:class:`~perfusion.errors.PerfusionError`) print one paragraph and exit 1; ``--debug``
shows the traceback instead. Progress goes to stderr through logging.

This module holds the :func:`main` group and registers the commands; each command group
lives in its own module (:mod:`.run_commands`, :mod:`.sweep_command`,
:mod:`.render_command`, :mod:`.plan_command`, :mod:`.info_commands`) and what they share in :mod:`.options`.
"""
from __future__ import annotations

import click

from .. import DISTRIBUTION
from .info_commands import cases, info
from .plan_command import plan
from .render_command import render
from .run_commands import run, validate
from .sweep_command import sweep


@click.group()
@click.version_option(package_name=DISTRIBUTION)
def main():
    """GPU-accelerated 3D tissue perfusion and drug transport for intra-arterial infusion."""


for _command in (run, plan, render, sweep, validate, info, cases):
    main.add_command(_command)
