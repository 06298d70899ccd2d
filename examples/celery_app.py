"""Celery: a task whose body calls ``recognise_many``, Redis as the broker and the result
backend; :func:`run` submits chunks of paths and writes the lines
(``pip install 'celery[redis]'``).

    export WXOCR_APPID=wx... WXOCR_SECRET=... WXOCR_REDIS_URL=redis://redis:6379/0
    celery -A examples.celery_app worker --concurrency 3       # the workers
    python examples/celery_app.py idcard scans/ --out results.jsonl   # the driver

The task takes JSON: the config's options, not the config (its credentials are read from
each worker's ``WXOCR_*`` environment, never sent through the broker). Each worker process
builds one client and reuses it for every task; the token and the daily quota are shared
through Redis. Run the driver again on the same ``--out`` to resume.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from typing import Any

from celery import Celery

from wxocr_async import ClientConfig
from wxocr_async.batch import resolve_endpoint
from wxocr_async.jobs import (
    Input,
    ResultsFile,
    finished_inputs,
    input_lister,
    line_status,
    pending,
    recognise_many,
)

REDIS = os.environ.get("CELERY_BROKER_URL") or os.environ.get(
    "WXOCR_REDIS_URL", "redis://localhost:6379/0"
)
app = Celery("wxocr_jobs", broker=REDIS, backend=REDIS)
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"])


def recognise_chunk(
    endpoint: str, inputs: list[tuple[str, str]], options: dict[str, Any]
) -> list[str]:
    """One task: the result lines of ``inputs`` ((key, target) pairs: JSON carries no
    objects), as text (nor bytes)."""
    config = ClientConfig(**options)  # None credentials: this worker's WXOCR_* variables
    items = [Input(key, target) for key, target in inputs]
    return [line.decode() for line in recognise_many(endpoint, items, config)]


recognise_task = app.task(name="wxocr.recognise_chunk")(recognise_chunk)


def run(
    endpoint: str, source: str, out: str, options: dict[str, Any], chunk: int = 16
) -> Counter[str]:
    """Submit ``source`` (DIR | GLOB | MANIFEST), less the inputs already ok in ``out``,
    in chunks; append the lines to ``out`` as each chunk comes back; the statuses counted."""
    wire = resolve_endpoint(endpoint).name  # a wire or a method name
    done = finished_inputs(out, wire)
    inputs = [(i.key, i.target) for i in pending(input_lister(source)(), done, out=out)]
    chunks = [inputs[i : i + chunk] for i in range(0, len(inputs), chunk)]
    submitted = [recognise_task.delay(wire, c, options) for c in chunks]
    statuses: Counter[str] = Counter()
    results = ResultsFile(out)
    try:
        for result in submitted:
            for line in result.get(timeout=600):
                results.append(line.encode())
                statuses[line_status(line)] += 1
    finally:
        results.close()
    return statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="wxocr batch on Celery")
    parser.add_argument("endpoint")
    parser.add_argument("source", help="DIR | GLOB | MANIFEST")
    parser.add_argument("--out", required=True)
    parser.add_argument("--daily-quota", type=int)
    args = parser.parse_args(argv)
    statuses = run(args.endpoint, args.source, args.out, {"daily_quota": args.daily_quota})
    print(dict(statuses))
    return 0 if set(statuses) <= {"ok"} else 1


if __name__ == "__main__":
    raise SystemExit(main())
