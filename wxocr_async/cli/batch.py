"""``wxocr batch``: a directory, glob or manifest through one endpoint, into JSONL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import attrs

from ..client import OcrClient
from ..endpoints import lookup, names_text
from ..errors import ERRCODE_LOCAL_QUOTA, InvalidInput, QuotaExceeded, WxOcrError
from ..jobs import (
    Input,
    ResultsFile,
    Shard,
    Tally,
    finished_inputs,
    input_lister,
    pending,
    result_line,
)
from ..naming import Naming
from .config import check_store, client_from_env, client_options
from .errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TEMPFAIL,
    CommandError,
    UsageError,
    describe,
    quota_reset_text,
    say,
    shown_name,
)
from .parser import MODE_COMMANDS
from .progress import PLAIN_INTERVAL, Progress, describe_tally, make_progress
from .signals import on_termination

#: seconds the first Ctrl-C (or SIGTERM) lets the calls in flight finish and be recorded
DRAIN_TIMEOUT = 30.0


@attrs.frozen
class BatchJob:
    """Everything ``wxocr batch`` was asked to do."""

    #: the wire name
    endpoint: str
    #: the DIR|GLOB|MANIFEST as given
    source: str
    list_inputs: Callable[[], Iterator[Input]]
    out: str
    concurrency: int
    resume: bool
    shard: Shard | None
    naming: Naming
    mode: Any = None


class Interrupt:
    """The first SIGINT/SIGTERM stops taking inputs (the calls in flight finish and are
    recorded); a second one cancels them."""

    def __init__(self, main: asyncio.Task[Any]) -> None:
        self.stopping = asyncio.Event()
        self.signal: int | None = None
        self._main = main

    def __call__(self, signum: int) -> None:
        if self.signal is None:
            self.signal = signum
            self.stopping.set()
            asyncio.get_running_loop().call_later(DRAIN_TIMEOUT, self._main.cancel)
            say("wxocr: interrupted: finishing the calls in flight (again to stop now)")
        else:
            self._main.cancel()


def check_inputs(job: BatchJob) -> None:
    """List the whole source once (a bad manifest line, a folder that cannot be listed:
    refused now) and refuse one that lists nothing, before any file is made or call sent."""
    if sum(1 for _ in job.list_inputs()) == 0:
        raise CommandError(f"no inputs matched {shown_name(job.source)}")


def plan(job: BatchJob) -> tuple[set[str], int]:
    """The inputs already ``ok`` (with ``--resume``), and how many are left to do."""
    if not job.resume:
        with contextlib.suppress(FileNotFoundError), open(job.out, "rb") as f:
            if f.read(1):
                raise CommandError(
                    f"{job.out} already holds results: --resume continues it "
                    "(inputs already ok are skipped), or choose another --out"
                )
    try:
        done = finished_inputs(job.out, job.endpoint) if job.resume else set()
    except InvalidInput as exc:  # a file of another endpoint: the command line is wrong
        raise UsageError(exc.errmsg) from None
    total = sum(1 for _ in _selected(job, done))
    return done, total


def _selected(job: BatchJob, done: set[str]) -> Iterator[Input]:
    return pending(job.list_inputs(), done, shard=job.shard, out=job.out)


async def run(job: BatchJob, ocr: OcrClient, progress: Progress, results: ResultsFile) -> int:
    """Run the job into ``results`` (open and locked); the exit status: 0 all ok, 1 some
    not ok, 75 the daily quota ran out with inputs left, 130 interrupted."""
    done, total = await asyncio.to_thread(plan, job)
    if done:
        say(f"wxocr: --resume: {len(done)} inputs already ok, skipped")
    main = asyncio.current_task()
    assert main is not None
    interrupt = Interrupt(main)
    tally = Tally(total)
    keys: dict[int, str] = {}  # index -> key, for the calls in flight only
    spent: QuotaExceeded | None = None

    async def feed() -> AsyncIterator[str]:
        for index, item in enumerate(_selected(job, done)):
            if interrupt.stopping.is_set():
                return
            keys[index] = item.key
            yield item.target

    async def tick() -> None:  # progress even while no call finishes
        while True:
            await asyncio.sleep(min(1.0, progress.interval))
            progress.update(tally)

    ticker = asyncio.ensure_future(tick())
    try:
        with on_termination(interrupt):
            batch = ocr.batch(job.endpoint, feed(), concurrency=job.concurrency, mode=job.mode)
            async with contextlib.aclosing(batch) as outcomes:
                async for outcome in outcomes:
                    key = keys.pop(outcome.index)
                    results.append(result_line(key, outcome, job.naming, job.endpoint))
                    tally.count(outcome.status)
                    progress.update(tally)
                    if isinstance(outcome.error, QuotaExceeded) and spent is None:
                        spent = outcome.error
                    elif outcome.status == "error" and tally.error <= 3:
                        assert outcome.error is not None
                        message = describe(outcome.error, ocr.base_url)
                        say(f"wxocr: {shown_name(key)}: {message}")
    except asyncio.CancelledError:
        if interrupt.signal is None:
            raise
    finally:
        ticker.cancel()
        progress.close(tally)
    _summary(job, tally, spent, interrupt.signal)
    if interrupt.signal is not None:
        return EXIT_INTERRUPTED
    if tally.ok == tally.total:
        return EXIT_OK
    return EXIT_TEMPFAIL if spent is not None else EXIT_FAILED


def _summary(job: BatchJob, tally: Tally, spent: WxOcrError | None, signum: int | None) -> None:
    lines = [
        f"wxocr: {tally.ok} ok, {tally.error} error, {tally.not_attempted} not attempted "
        f"in {tally.elapsed():.1f} s ({tally.rate():.1f}/s); results in {job.out}"
    ]
    if spent is not None:
        whose = "--daily-quota" if spent.errcode == ERRCODE_LOCAL_QUOTA else "WeChat's"
        lines.append(
            f"wxocr: the daily quota ran out ({whose}); it resets at {quota_reset_text()}: "
            "run again with --resume then"
        )
    if signum is not None:
        left = tally.total - tally.done
        lines.append(
            f"wxocr: stopped by {signal.Signals(signum).name} with {left} inputs not started: "
            "run again with --resume to continue"
        )
    elif tally.error:
        lines.append("wxocr: --resume tries the inputs that failed again")
    say("\n".join(lines))


def batch_job(args: argparse.Namespace) -> BatchJob:
    """The :class:`~wxocr_async.cli.batch.BatchJob` the command line asks for (usage
    errors refused here, before anything is read or sent)."""
    endpoint = lookup(args.endpoint)
    if endpoint is None:
        raise UsageError(f"unknown endpoint {args.endpoint!r}; one of: {names_text()}")
    if args.mode is not None and not endpoint.takes_mode:
        raise UsageError(
            f"{args.endpoint} takes no --mode (only {', '.join(sorted(MODE_COMMANDS))} do)"
        )
    shard = None
    try:
        if args.shard:
            shard = Shard.parse(args.shard)
        elif args.shards:
            shard = Shard.from_job_index(args.shards, os.environ)
    except InvalidInput as exc:
        raise UsageError(exc.errmsg) from None
    out = args.out
    if os.path.exists(out) and os.path.realpath(out) == os.path.realpath(args.source):
        raise UsageError("--out is the source itself: the results go to a file of their own")
    if "{shard}" in out:
        if shard is None:
            raise UsageError("--out has {shard} but there is no --shard or --shards to fill in")
        out = out.replace("{shard}", str(shard.index))
    return BatchJob(
        endpoint=endpoint.name,
        source=args.source,
        list_inputs=input_lister(args.source),
        out=out,
        concurrency=args.concurrency,
        resume=args.resume,
        shard=shard,
        naming=args.naming,
        mode=args.mode,
    )


async def batch_command(args: argparse.Namespace) -> int:
    """``wxocr batch``: the exit status."""
    from ..local.engine import default_workers

    job = batch_job(args)
    await asyncio.to_thread(check_inputs, job)
    options = client_options(args)
    # the batch's own bound is the one that matters; the client's must not be lower
    options["concurrency"] = max(args.concurrency, 1)
    options["daily_quota"] = args.daily_quota
    # offline, every core recognises: one worker process per core
    options["local_workers"] = default_workers()
    ocr, store = client_from_env(store_url=args.store, **options)
    async with ocr:
        await check_store(store)  # now, not once per input
        results = await asyncio.to_thread(ResultsFile, job.out)  # locked: one run per file
        if not results.locked:
            say(
                f"wxocr: {shown_name(job.out)}: this filesystem has no locks: make sure no "
                "other run writes the same results file"
            )
        try:
            if ocr.engine == "local":  # before the bar: the notice, then the models' loading
                say(f"wxocr: loading the models in {options['local_workers']} worker processes...")
                try:
                    await ocr.warm_up()
                except WxOcrError as exc:
                    raise CommandError(exc.errmsg) from None
            progress = make_progress(interval=progress_interval())
            return await run(job, ocr, progress, results)
        finally:
            results.close()


def progress_interval() -> float:
    text = os.environ.get("WXOCR_PROGRESS_INTERVAL")
    try:
        value = float(text) if text else PLAIN_INTERVAL
    except ValueError:
        value = PLAIN_INTERVAL
    return value if 0 < value < float("inf") else PLAIN_INTERVAL


__all__ = ["BatchJob", "batch_command", "batch_job", "describe_tally", "run"]
