# mypy: disallow-untyped-calls=False
# (distributed's LocalCluster, Client and as_completed are not annotated)
"""Dask: ``recognise_many`` over chunks of inputs on a ``LocalCluster`` (or any Dask
cluster); the driver writes the lines (``pip install 'dask[distributed]'``).

    export WXOCR_APPID=wx... WXOCR_SECRET=... WXOCR_REDIS_URL=redis://redis:6379/0
    python examples/dask_job.py idcard scans/ --out results.jsonl --workers 3

Each worker process builds one client from the config (its credentials read from the
worker's ``WXOCR_*`` environment) and reuses it for every chunk; the token and the daily
quota are shared through Redis. Run it again on the same ``--out`` to resume.
"""

from __future__ import annotations

import argparse
from collections import Counter

from dask.distributed import Client, LocalCluster, as_completed

from wxocr_async import ClientConfig
from wxocr_async.batch import resolve_endpoint
from wxocr_async.jobs import (
    ResultsFile,
    finished_inputs,
    input_lister,
    line_status,
    pending,
    recognise_many,
)


def run(
    client: Client, endpoint: str, source: str, out: str, config: ClientConfig, chunk: int = 16
) -> Counter[str]:
    """Recognise ``source`` (DIR | GLOB | MANIFEST) into ``out``, less the inputs already
    ok there; the statuses counted."""
    wire = resolve_endpoint(endpoint).name  # a wire or a method name
    done = finished_inputs(out, wire)
    inputs = list(pending(input_lister(source)(), done, out=out))  # Input(key, target)
    chunks = [inputs[i : i + chunk] for i in range(0, len(inputs), chunk)]
    endpoints = [wire] * len(chunks)  # recognise_many(endpoint, items, config)
    futures = client.map(recognise_many, endpoints, chunks, config=config, pure=False)
    statuses: Counter[str] = Counter()
    results = ResultsFile(out)
    try:
        for future in as_completed(futures):
            for line in future.result():
                results.append(line)
                statuses[line_status(line)] += 1
    finally:
        results.close()
    return statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="wxocr batch on Dask")
    parser.add_argument("endpoint")
    parser.add_argument("source", help="DIR | GLOB | MANIFEST")
    parser.add_argument("--out", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--daily-quota", type=int)
    args = parser.parse_args(argv)

    config = ClientConfig(daily_quota=args.daily_quota)  # WXOCR_*: each worker's own
    with (
        LocalCluster(n_workers=args.workers, threads_per_worker=1) as cluster,
        Client(cluster) as client,
    ):
        statuses = run(client, args.endpoint, args.source, args.out, config)
    print(dict(statuses))
    return 0 if set(statuses) <= {"ok"} else 1


if __name__ == "__main__":
    raise SystemExit(main())
