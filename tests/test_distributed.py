"""Past one machine: Ray (wxocr_async.ray), Dask (examples/dask_job.py) and Celery
(examples/celery_app.py, a real worker subprocess), each with redis-server and the
emulator: one token and one daily quota for every worker, and a rerun is the resume."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wxocr_async import ClientConfig
from wxocr_async.emulator import WeChatEmulator
from wxocr_async.jobs import ResultsFile
from wxocr_async.local import model_available, sample_photo

from .conftest import ROOT
from .test_cli import cli, digest, make_images, read_results

try:
    import celery  # noqa: F401
    import distributed
    import ray
    import ray.data
except ImportError:
    if os.environ.get("WXOCR_TEST_DISTRIBUTED"):  # set by .ci/distributed, which installs them
        pytest.fail("ray, dask or celery is missing: .ci/distributed installs them")
    pytest.skip(
        "ray[data], dask[distributed] or celery[redis] is not installed", allow_module_level=True
    )

from examples import celery_app, dask_job
from wxocr_async.ray import read_inputs, recognise, write_results

# Ray's and Dask's own deprecations, raised inside them, are not this suite's errors
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:distributed.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:dask.*"),
    # a rerun with nothing left: fewer inputs than actors, Ray says (harmless)
    pytest.mark.filterwarnings("ignore:The minimum number of concurrent actors:UserWarning"),
]

#: a hang guard, not a timing assertion
HANG_GUARD = 240
INPUTS = 30
QUOTA = 20


@pytest.fixture(scope="module", autouse=True)
def ray_cluster() -> Iterator[None]:
    """A local Ray cluster of 2 CPUs for the module; its workers import this checkout."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield
    finally:
        ray.shutdown()


def new_appid() -> str:
    return f"wx{uuid.uuid4().hex[:16]}"  # Redis keys of this test's own


def wechat_config(emu: WeChatEmulator, redis_url: str) -> ClientConfig:
    return ClientConfig(
        engine="wechat",
        appid=emu.appid,
        secret=emu.secret,
        base_url=emu.base_url,
        redis_url=redis_url,
        daily_quota=QUOTA,
    )


def forget_todays_quota(redis_url: str, appid: str) -> None:
    """The next day, as far as the quota goes: its counter in Redis deleted."""
    import redis

    with redis.Redis.from_url(redis_url) as r:
        keys = list(r.scan_iter(f"*quota:{appid}:*"))
        assert keys
        r.delete(*keys)


async def in_thread(fn: Callable[[], Any]) -> Any:
    """``fn`` in a thread (the emulator answers on this loop meanwhile), hang-guarded."""
    async with asyncio.timeout(HANG_GUARD):
        return await asyncio.to_thread(fn)


def ray_run(src: Path, out: Path, config: ClientConfig, actors: int) -> Counter[str]:
    ds = recognise(
        read_inputs(str(src), out=str(out)),
        "idcard",
        config,
        actors=actors,
        cpus_per_actor=2 / actors,
        batch_size=4,
    )
    tally = write_results(ds, str(out))
    return Counter(ok=tally.ok, error=tally.error, not_attempted=tally.not_attempted)


def dask_run(src: Path, out: Path, config: ClientConfig, cluster: Any) -> Counter[str]:
    make_client: Any = distributed.Client  # not annotated
    with make_client(cluster) as client:
        return dask_job.run(client, "idcard", str(src), str(out), config, chunk=5)


def ok_once_each(out: Path, src: Path) -> None:
    records = read_results(out)
    ok = Counter(r["path"] for r in records if r["status"] == "ok")
    assert set(ok) == {str(p) for p in src.iterdir()} and set(ok.values()) == {1}


async def quota_then_resume(
    redis_url: str, tmp_path: Path, run: Callable[[Path, Path, ClientConfig], Counter[str]]
) -> None:
    """3 workers, 30 inputs, a quota of 20 shared through Redis: 1 token, 20 calls, 20 ok
    and 10 not attempted; the next day (the counter deleted) a rerun does the 10 left."""
    src = tmp_path / "imgs"
    make_images(src, INPUTS)
    out = tmp_path / "results.jsonl"
    async with WeChatEmulator(appid=new_appid(), latency=0.01) as emu:
        config = wechat_config(emu, redis_url)
        first = await in_thread(lambda: run(src, out, config))
        assert emu.stats.token_fetches == 1
        assert emu.stats.ocr_calls["idcard"] == QUOTA
        assert +first == Counter(ok=QUOTA, not_attempted=INPUTS - QUOTA)
        statuses = Counter(r["status"] for r in read_results(out))
        assert statuses == {"ok": QUOTA, "not_attempted": INPUTS - QUOTA}
        forget_todays_quota(redis_url, emu.appid)
        second = await in_thread(lambda: run(src, out, config))
        assert +second == Counter(ok=INPUTS - QUOTA)
        assert emu.stats.ocr_calls["idcard"] == INPUTS  # nothing billed twice
        assert emu.stats.token_fetches == 1
    ok_once_each(out, src)


# -- Ray ----------------------------------------------------------------------------------


async def test_ray_three_actors_share_token_and_quota(redis_url: str, tmp_path: Path) -> None:
    await quota_then_resume(redis_url, tmp_path, lambda s, o, c: ray_run(s, o, c, actors=3))


@pytest.mark.skipif(not model_available(), reason="the [local] extra is not installed")
async def test_ray_local_engine_matches_wxocr_batch(tmp_path: Path) -> None:
    from benchmarks.docgen import generate

    src = tmp_path / "docs"
    src.mkdir()
    for i in range(3):
        image, _ = generate("idcard_front", 7_000 + i, "clean")
        image.save(src / f"{i}.jpg", "JPEG", quality=90)
    (src / "photo.jpg").write_bytes(sample_photo().read_bytes())
    config = ClientConfig(engine="local")
    out = tmp_path / "ray.jsonl"

    def run() -> list[dict[str, Any]]:
        ds = recognise(read_inputs(str(src)), "idcard", config, actors=2, batch_size=1)
        rows = ds.take_all()
        results = ResultsFile(str(out))
        for row in rows:
            results.append(row["line"].encode())
        results.close()
        return rows

    rows = await in_thread(run)
    assert {row["threads"] for row in rows} == {1}  # each actor's engine: its 1 CPU
    cli_out = tmp_path / "cli.jsonl"
    done = await cli("batch", "idcard", str(src), "--out", str(cli_out), emu=None)
    assert done.returncode == 0, done.stderr
    by_path = {r["path"]: r for r in read_results(cli_out)}
    ours = {r["path"]: r for r in read_results(out)}
    assert ours == by_path and len(ours) == 4
    assert all(r["status"] == "ok" and r["result"] for r in ours.values())
    assert tally_of(out) == Counter(ok=4)


def tally_of(path: Path) -> Counter[str]:
    return Counter(r["status"] for r in read_results(path))


async def test_ray_actor_killed_mid_run_then_rerun(tmp_path: Path) -> None:
    """An actor's process killed (SIGKILL) by the driver as soon as the first batch is
    back, the run unfinished: Ray restarts it and runs its batches again; a rerun
    finishes whatever is left. One ok line per input; no input sent more than twice."""
    src = tmp_path / "imgs"
    paths = make_images(src, 24)
    images = {digest(p.read_bytes()) for p in paths}
    out = tmp_path / "results.jsonl"
    async with WeChatEmulator(appid=new_appid(), latency=0.2) as emu:
        config = ClientConfig(
            engine="wechat", appid=emu.appid, secret=emu.secret, base_url=emu.base_url
        )
        back_when_killed: list[int] = []

        def first_run() -> None:
            ds = recognise(
                read_inputs(str(src), out=str(out)), "idcard", config, actors=2, batch_size=2
            )
            results = ResultsFile(str(out))
            try:
                for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                    for line in batch["line"]:
                        results.append(line.encode())
                    if not back_when_killed:
                        back_when_killed.append(len(read_results(out)))
                        os.kill(int(batch["pid"][0]), signal.SIGKILL)
            except ray.exceptions.RayError:
                pass  # the run failed: the rerun does the rest
            finally:
                results.close()

        await in_thread(first_run)
        assert back_when_killed and back_when_killed[0] < len(paths)  # killed mid-run

        def rerun() -> Any:
            ds = recognise(read_inputs(str(src), out=str(out)), "idcard", config, actors=2)
            return write_results(ds, str(out))

        tally = await in_thread(rerun)
        assert tally.error == tally.not_attempted == 0
        sent = Counter(seen.part_sha256 for seen in emu.stats.seen)
    ok_once_each(out, src)
    assert set(sent) == images and max(sent.values()) <= 2


# -- Dask ---------------------------------------------------------------------------------


async def test_dask_three_workers_share_token_and_quota(redis_url: str, tmp_path: Path) -> None:
    make_cluster: Any = distributed.LocalCluster  # not annotated
    cluster = await in_thread(
        lambda: make_cluster(
            n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None
        )
    )
    try:
        await quota_then_resume(redis_url, tmp_path, lambda s, o, c: dask_run(s, o, c, cluster))
    finally:
        await in_thread(cluster.close)


# -- Celery -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def celery_worker(env: dict[str, str]) -> AsyncIterator[None]:
    """``celery -A examples.celery_app worker`` of 3 processes; stopped on the way out."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "celery",
        "-A",
        "examples.celery_app",
        "worker",
        "--concurrency",
        "3",
        "--pool",
        "prefork",
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        proc.terminate()
        try:
            async with asyncio.timeout(60):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_celery_three_workers_share_token_and_quota(redis_url: str, tmp_path: Path) -> None:
    src = tmp_path / "imgs"
    make_images(src, INPUTS)
    out = tmp_path / "results.jsonl"
    broker = redis_url.rsplit("/", 1)[0] + "/1"  # the queue apart from the quota keys
    celery_app.app.conf.update(broker_url=broker, result_backend=broker)
    async with WeChatEmulator(appid=new_appid(), latency=0.01) as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WXOCR_")}
        env.update(
            PYTHONPATH=str(ROOT),
            CELERY_BROKER_URL=broker,
            WXOCR_APPID=emu.appid,
            WXOCR_SECRET=emu.secret,
            WXOCR_BASE_URL=emu.base_url,
            WXOCR_REDIS_URL=redis_url,
        )
        options = {"engine": "wechat", "daily_quota": QUOTA}
        async with celery_worker(env):

            def run() -> Counter[str]:
                return celery_app.run("idcard", str(src), str(out), options, chunk=5)

            first = await in_thread(run)
            assert emu.stats.token_fetches == 1
            assert emu.stats.ocr_calls["idcard"] == QUOTA
            assert first == Counter(ok=QUOTA, not_attempted=INPUTS - QUOTA)
            forget_todays_quota(redis_url, emu.appid)
            second = await in_thread(run)
            assert second == Counter(ok=INPUTS - QUOTA)
            assert emu.stats.ocr_calls["idcard"] == INPUTS
            assert emu.stats.token_fetches == 1
    ok_once_each(out, src)
