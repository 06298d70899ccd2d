"""Ray: ``wxocr batch`` on a Ray cluster, with Ray Data (``pip install 'wxocr_async[ray]'``).

    export WXOCR_APPID=wx... WXOCR_SECRET=... WXOCR_REDIS_URL=redis://redis:6379/0
    python examples/ray_job.py idcard scans/ --out results.jsonl --actors 4

Each actor builds its own client from the config (credentials from its environment, as
the ``WXOCR_*`` variables); the token and the daily quota are shared through Redis. Run
it again on the same ``--out`` to resume: the inputs already ok are skipped.
"""

from __future__ import annotations

import argparse

import ray

from wxocr_async import ClientConfig
from wxocr_async.ray import read_inputs, recognise, write_results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="wxocr batch on a Ray cluster")
    parser.add_argument("endpoint")
    parser.add_argument("source", help="DIR | GLOB | MANIFEST")
    parser.add_argument("--out", required=True)
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--daily-quota", type=int)
    args = parser.parse_args(argv)

    ray.init()  # RAY_ADDRESS: a cluster's; else a local one
    config = ClientConfig.from_env(daily_quota=args.daily_quota)
    ds = read_inputs(args.source, out=args.out)
    ds = recognise(ds, args.endpoint, config, actors=args.actors)
    tally = write_results(ds, args.out)
    print(f"{tally.ok} ok, {tally.error} error, {tally.not_attempted} not attempted")
    return 0 if tally.ok == tally.total else 1


if __name__ == "__main__":
    raise SystemExit(main())
