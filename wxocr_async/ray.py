"""``wxocr batch`` on a Ray cluster, with Ray Data (extra ``[ray]``): three calls.

    from wxocr_async import ClientConfig
    from wxocr_async.ray import read_inputs, recognise, write_results

    ds = read_inputs("scans/", out="results.jsonl")  # less the inputs already ok
    ds = recognise(ds, "idcard", ClientConfig(redis_url="redis://..."), actors=4)
    tally = write_results(ds, "results.jsonl")  # tally.ok, .error, .not_attempted

:func:`read_inputs` lists the inputs on the driver (a rerun on the same ``out`` is the
resume); :func:`recognise` runs a pool of ``actors`` Ray actors, each holding one client
(built from the config in the actor, on an event loop of its own, with its own local
engine whose ONNX Runtime threads are the CPUs Ray gave the actor); :func:`write_results`
appends the lines to ``out`` on the driver as they stream in, in ``wxocr batch``'s
format. The token and the daily quota are shared through Redis (``redis_url``): without
it each actor fetches a token and spends the whole quota of its own.

A dead actor is restarted by Ray and its batches are run again (their calls are made
once more; nothing is written twice: the lines of a batch reach the driver only once it
is done). A run that fails anyway leaves the lines written so far, and running it again
on the same ``out`` does the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import attrs

from .batch import resolve_endpoint
from .config import ClientConfig
from .endpoints import Endpoint
from .errors import InvalidInput
from .jobs import (
    ResultsFile,
    Shard,
    Tally,
    finished_inputs,
    input_lister,
    pending,
    result_line,
)
from .jobs.many import ClientThread
from .naming import Naming

if TYPE_CHECKING:
    from ray.data import Dataset

#: inputs per batch when ``batch_size`` is None: what a dead actor costs at most
DEFAULT_BATCH_SIZE = 16
#: calls in flight in each actor (``config.concurrency`` when set)
DEFAULT_CONCURRENCY = 8


def read_inputs(
    source: str,
    *,
    out: str | os.PathLike[str] | None = None,
    shard: Shard | str | None = None,
    endpoint: str | Endpoint[Any] | None = None,
) -> Dataset:
    """The inputs of ``source`` (a DIR | GLOB | MANIFEST, as ``wxocr batch`` takes), less
    those ``out`` already records as ok (so a rerun on the same ``out`` is the resume)
    and those outside ``shard`` (a :class:`~wxocr_async.jobs.Shard` or ``"K/N"``).

    Columns: ``path`` (the input as given: its result line's ``path``) and ``target``
    (what is sent: a path resolved against the manifest's folder, or the URL). A torn
    last line of ``out`` is cut off. ``out`` holding another endpoint's results than
    ``endpoint`` (when given; else the endpoint its lines name) is refused.
    """
    import ray.data

    lister = input_lister(source)
    if isinstance(shard, str):
        shard = Shard.parse(shard)
    done: set[str] = set()
    if out is not None:
        out = os.fspath(out)
        wanted = resolve_endpoint(endpoint).name if endpoint is not None else None
        done = finished_inputs(out, wanted)
    todo = pending(lister(), done, shard=shard, out=out)
    rows = [{"path": item.key, "target": item.target} for item in todo]
    return ray.data.from_items(rows)


def recognise(
    ds: Dataset,
    endpoint: str | Endpoint[Any],
    config: ClientConfig,
    *,
    actors: int,
    cpus_per_actor: float = 1,
    batch_size: int | None = None,
    naming: Naming = "snake",
) -> Dataset:
    """``ds`` (``path`` and ``target`` columns, from :func:`read_inputs`) recognised with
    ``endpoint`` by a pool of ``actors`` Ray actors of ``cpus_per_actor`` CPUs each (a
    fraction shares a CPU; the local engine then has 1 thread), ``batch_size`` inputs at
    a time (None: :data:`DEFAULT_BATCH_SIZE`).

    Output columns: ``path``, ``status`` (``ok``, ``error``, ``not_attempted``), ``line``
    (the result line as text: :func:`~wxocr_async.jobs.result_line`'s bytes, decoded from
    UTF-8, newline included), and ``threads`` (the actor's local engine's ONNX Runtime
    threads; 0 without a local engine) and ``pid`` (the actor's process).
    """
    import ray.data

    found = resolve_endpoint(endpoint)
    if not isinstance(config, ClientConfig):
        raise InvalidInput(f"config must be a wx.ClientConfig, not {type(config).__name__}")
    if type(actors) is not int or actors < 1:
        raise InvalidInput(f"actors must be a positive integer, not {actors!r}")
    if isinstance(cpus_per_actor, bool) or not isinstance(cpus_per_actor, int | float):
        raise InvalidInput(f"cpus_per_actor must be a number, not {cpus_per_actor!r}")
    if not cpus_per_actor > 0:
        raise InvalidInput(f"cpus_per_actor must be more than 0, not {cpus_per_actor!r}")
    if batch_size is not None and (type(batch_size) is not int or batch_size < 1):
        raise InvalidInput(f"batch_size must be a positive integer or None, not {batch_size!r}")
    if naming not in ("snake", "camel"):
        raise InvalidInput(f"naming must be 'snake' or 'camel', not {naming!r}")
    return ds.map_batches(
        Recogniser,
        fn_constructor_kwargs={"endpoint": found.name, "config": config, "naming": naming},
        batch_size=batch_size or DEFAULT_BATCH_SIZE,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=cpus_per_actor,
    )


def write_results(ds: Dataset, out: str | os.PathLike[str]) -> Tally:
    """Run ``ds`` (from :func:`recognise`) and append its lines to ``out`` on the driver as
    they stream in (one run writes a file at a time: it is locked); the outcomes counted.
    If the run fails, the lines that came in stay written, and the error is raised."""
    results = ResultsFile(os.fspath(out))
    tally = Tally(0)
    try:
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            for line, status in zip(batch["line"], batch["status"], strict=True):
                results.append(line.encode("utf-8") if isinstance(line, str) else bytes(line))
                tally.count(str(status))
    finally:
        results.close()
        tally.total = tally.done
    return tally


def _assigned_threads() -> int:
    """The CPUs Ray gave this actor, as a number of threads (at least 1)."""
    import ray

    context: Any = ray.get_runtime_context()
    cpus = context.get_assigned_resources().get("CPU", 1.0)
    return max(1, int(cpus))


class Recogniser:
    """The callable class of :func:`recognise`'s ``map_batches``: one per actor, holding a
    client (and a started local engine) on an event loop in a thread of its own
    (:class:`~wxocr_async.jobs.many.ClientThread`); each batch is awaited from Ray's
    loop."""

    def __init__(self, endpoint: str, config: ClientConfig, naming: Naming) -> None:
        self._endpoint = resolve_endpoint(endpoint)
        self._naming: Naming = naming
        self.threads = _assigned_threads()
        self._concurrency = config.concurrency or DEFAULT_CONCURRENCY
        config = attrs.evolve(config, local_workers=0, local_threads=self.threads).resolved()
        engine = None
        if config.engine == "local" or config.fallback == "local":
            from .local import LocalEngine

            engine = LocalEngine(workers=0, threads=self.threads)
        self._has_engine = engine is not None
        # the engine started, its models loaded, before the first batch
        self._client = ClientThread(config, local_engine=engine)

    async def __call__(self, batch: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        # an async generator (one batch out per batch in): what Ray Data's async callable
        # classes have taken longest (a plain coroutine is newer)
        import numpy as np

        keys = [str(k) for k in batch["path"]]
        targets = [str(t) for t in batch["target"]]
        future = self._client.submit(self._recognise(keys, targets))
        lines, statuses = await asyncio.wrap_future(future)
        yield {
            "path": np.array(keys, dtype=object),
            "status": np.array(statuses, dtype=object),
            "line": np.array(lines, dtype=object),
            "threads": np.full(len(keys), self.threads if self._has_engine else 0),
            "pid": np.full(len(keys), os.getpid()),
        }

    async def _recognise(self, keys: list[str], targets: list[str]) -> tuple[list[str], list[str]]:
        lines = [""] * len(keys)
        statuses = [""] * len(keys)
        client = self._client.client
        batch = client.batch(self._endpoint, targets, concurrency=self._concurrency)
        async for outcome in batch:
            i = outcome.index
            line = result_line(keys[i], outcome, self._naming, self._endpoint.name)
            lines[i] = line.decode("utf-8")
            statuses[i] = outcome.status
        return lines, statuses

    def __del__(self) -> None:
        thread = getattr(self, "_client", None)
        if thread is not None:
            with contextlib.suppress(Exception):  # an actor going away: nothing to tell
                thread.close()


__all__ = ["DEFAULT_BATCH_SIZE", "Recogniser", "read_inputs", "recognise", "write_results"]
