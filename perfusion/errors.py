"""Exceptions raised by perfusion.

Every user-facing error is a subclass of :class:`PerfusionError`; the command line turns
them into a one-paragraph message and exit code 1 (traceback only with ``--debug``).
Messages say what was wrong *and* how to fix it.
"""


class PerfusionError(Exception):
    """Base class of the errors a user can cause and fix."""


class CaseError(PerfusionError):
    """A case file (or an override) is invalid: names the file, the dotted key and the fix."""


class GeometryError(PerfusionError):
    """The geometry (phantom or image) cannot be turned into a valid domain."""


class BackendUnavailableError(PerfusionError):
    """A requested array backend (e.g. CuPy on a machine without a GPU) cannot be used."""


class ConvergenceError(PerfusionError):
    """An iterative solver did not reach its tolerance; says what to change."""


class ResultsError(PerfusionError):
    """Results cannot be written or read (exists, incomplete, wrong layout)."""


class RenderingError(PerfusionError):
    """Pictures cannot be made here (missing extra, no OpenGL); says what to install or set."""


class InvariantError(PerfusionError):
    """A physical invariant of a run (conservation, bounds, mass balance) failed its check.

    The message names each failed invariant with its value, tolerance, likely cause and what
    to change; ``checks`` holds the failed records as in ``metrics.json``.
    """

    def __init__(self, message: str, checks: dict | None = None):
        super().__init__(message)
        self.checks = checks or {}
