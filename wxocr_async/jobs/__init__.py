"""Batch jobs as building blocks: what ``wxocr batch`` is made of, for jobs of your own on
any engine (Ray, Dask, Celery, Spark, ``multiprocessing``, Kubernetes).

- Inputs: :func:`input_lister` lists a DIR | GLOB | MANIFEST lazily, as :class:`Input`;
  :class:`Shard` and :func:`shard_of` split them by a stable hash; :func:`pending` keeps
  those still to do (a shard's, not already ok, not the results file).
- Results: :func:`result_line` is one input's JSON line; :class:`ResultsFile` appends
  lines, one writer at a time; :func:`finished_inputs` reads back the inputs already
  ``ok`` (and cuts off a torn last line), which is what a resume skips.
- :class:`Tally` counts outcomes (``ok``, ``error``, ``not_attempted``);
  :func:`line_status` reads a line's.
- :func:`recognise_many`: one synchronous call from code that is not async, on a client
  made once per process from a :class:`~wxocr_async.config.ClientConfig`.
"""

from .inputs import (
    JOB_INDEX_VARIABLE,
    MAX_MANIFEST_LINE,
    Input,
    Shard,
    input_lister,
    pending,
    shard_of,
)
from .many import close_clients, recognise_many
from .results import MAX_RESULT_LINE, ResultsFile, finished_inputs, result_line
from .tally import Tally, line_status

__all__ = [
    "JOB_INDEX_VARIABLE",
    "MAX_MANIFEST_LINE",
    "MAX_RESULT_LINE",
    "Input",
    "ResultsFile",
    "Shard",
    "Tally",
    "close_clients",
    "finished_inputs",
    "input_lister",
    "line_status",
    "pending",
    "recognise_many",
    "result_line",
    "shard_of",
]
