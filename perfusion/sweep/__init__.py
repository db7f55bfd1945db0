"""Sweeps and ensembles: many members of one base case, on Dask (local or SLURM).

``load_sweep`` reads (:mod:`.spec`) and expands (:mod:`.members`) a sweep file, ``run_sweep``
runs what is not done yet and writes ``summary.csv`` (:mod:`.runner`), ``write_job_array``
writes a SLURM job array for sites that prefer plain batch jobs (:mod:`.slurm`). Dask,
dask-jobqueue and SALib are imported only when used (``pip install perfusion-ia[sweep]``).
"""
from .members import Member, Sweep, load_sweep
from .runner import SweepResult, run_sweep, summarize
from .slurm import write_job_array
from .spec import SweepError

__all__ = ["Member", "Sweep", "SweepError", "SweepResult", "load_sweep", "run_sweep",
           "summarize", "write_job_array"]
