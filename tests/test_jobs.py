"""``wx.ClientConfig`` across process boundaries, and ``wx.jobs.recognise_many`` from code
that is not async: in this process, and in a spawn ``multiprocessing.Pool`` sharing one
token and one daily quota through a real redis-server (Ray, Dask and Celery are in
tests/test_distributed.py)."""

from __future__ import annotations

import asyncio
import copy
import json
import multiprocessing
import os
import pickle
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
import redis

import wxocr_async as wx
from wxocr_async.emulator import WeChatEmulator, sample_image
from wxocr_async.jobs import finished_inputs, recognise_many

from .test_cli import make_images

SECRET = "a-secret-that-never-shows-0123"
TOKEN = "a-token-that-never-shows-4567"


@pytest.fixture(autouse=True)
def closed_clients() -> Iterator[None]:
    """Each test's recognise_many clients closed after it (their emulator goes away)."""
    yield
    wx.jobs.close_clients()


# -- ClientConfig ------------------------------------------------------------------------


def full_config() -> wx.ClientConfig:
    return wx.ClientConfig(
        appid="wx0123456789abcdef",
        secret=SECRET,
        token=TOKEN,
        base_url="http://127.0.0.1:9",
        redis_url="redis://:hunter2-redis@redis.example:6379/0",
        daily_quota=20,
        timeout=12.5,
        concurrency=4,
        local_workers=2,
        local_threads=1,
        naming="camel",
    )


@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps], ids=["pickle", "cloudpickle"])
def test_a_config_round_trips(dumps: Any) -> None:
    config = full_config()
    again = pickle.loads(dumps(config))
    assert again == config and hash(again) == hash(config)
    assert {config: 1}[again] == 1  # hashable: a dict key, as a per-process cache needs


def test_a_configs_repr_hides_its_secrets() -> None:
    shown = repr(full_config())
    for secret in (SECRET, TOKEN, "hunter2"):
        assert secret not in shown
    assert "wx0123456789abcdef" in shown and "redis.example:6379" in shown
    assert "daily_quota=20" in shown


def test_from_env_reads_the_variables_and_overrides_win() -> None:
    env = {
        "WXOCR_APPID": "wxaaaa",
        "WXOCR_SECRET": SECRET,
        "WXOCR_BASE_URL": "http://127.0.0.1:9",
        "WXOCR_REDIS_URL": "redis://127.0.0.1:1/0",
        "UNRELATED": "x",
    }
    config = wx.ClientConfig.from_env(env, daily_quota=5, appid="wxbbbb")
    assert (config.appid, config.secret, config.base_url) == (
        "wxbbbb",
        SECRET,
        env["WXOCR_BASE_URL"],
    )
    assert (config.redis_url, config.daily_quota, config.token) == (env["WXOCR_REDIS_URL"], 5, None)


def test_none_credentials_are_read_where_it_is_built() -> None:
    config = wx.ClientConfig(daily_quota=3)  # travels without a secret
    assert config.appid is None and config.secret is None
    here = config.resolved(
        {"WXOCR_APPID": "wxcccc", "WXOCR_SECRET": SECRET, "WXOCR_BASE_URL": "http://x.test"}
    )
    assert (here.engine, here.appid, here.secret, here.daily_quota) == (
        "wechat",
        "wxcccc",
        SECRET,
        3,
    )
    with pytest.raises(wx.InvalidInput, match="WXOCR_SECRET is set but WXOCR_APPID is not"):
        config.resolved({"WXOCR_SECRET": SECRET})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"engine": "cloud"}, "engine must be"),
        ({"naming": "kebab"}, "naming must be"),
        ({"daily_quota": "20"}, "daily_quota must be int"),
        ({"timeout": True}, "timeout must be"),
        ({"secret": 123}, "secret must be str"),
    ],
)
def test_bad_config_values_are_refused_when_made(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(wx.InvalidInput, match=message):
        wx.ClientConfig(**fields)


async def test_an_ocrclient_refuses_to_be_pickled_or_copied(emulator: WeChatEmulator) -> None:
    async with wx.OcrClient(emulator.appid, emulator.secret, base_url=emulator.base_url) as ocr:
        for send in (pickle.dumps, cloudpickle.dumps, copy.copy):
            with pytest.raises(TypeError, match="ClientConfig"):
                send(ocr)


# -- recognise_many in this process ------------------------------------------------------


async def test_recognise_many_keeps_the_order_and_one_client(
    emulator: WeChatEmulator, tmp_path: Path
) -> None:
    config = wx.ClientConfig(
        appid=emulator.appid, secret=emulator.secret, base_url=emulator.base_url
    )
    front = sample_image("idcard_front.png")
    items: list[object] = [str(front), front.read_bytes(), str(tmp_path / "gone.png"), front]
    lines = await asyncio.to_thread(recognise_many, "idcard", items, config, naming="camel")
    records = [json.loads(line) for line in lines]
    assert [r["path"] for r in records] == [
        str(front),
        "#1",
        str(tmp_path / "gone.png"),
        str(front),
    ]
    assert [r["status"] for r in records] == ["ok", "ok", "error", "ok"]
    assert {r["endpoint"] for r in records} == {"idcard"}
    assert records[0]["result"]["type"] == "Front"
    # again, from another thread: the same client (one token fetch in all)
    more = await asyncio.to_thread(recognise_many, "vehicle-license", [str(front)], config)
    assert json.loads(more[0])["endpoint"] == "driving"
    assert emulator.stats.token_fetches == 1
    assert emulator.stats.ocr_calls == {"idcard": 3, "driving": 1}


# -- a spawn multiprocessing.Pool ------------------------------------------------------


def _set_environment(variables: dict[str, str]) -> None:
    """A pool worker's start: its own environment (where a secret would come from)."""
    os.environ.update(variables)


def _recognise_chunk(chunk: list[str], config: wx.ClientConfig) -> list[bytes]:
    return recognise_many("idcard", chunk, config, concurrency=2)


async def test_three_pool_workers_share_one_token_and_the_quota(
    redis_url: str, tmp_path: Path
) -> None:
    paths = [str(p) for p in make_images(tmp_path / "imgs", 30)]
    chunks = [paths[i::6] for i in range(6)]  # 6 tasks over 3 processes
    out = tmp_path / "results.jsonl"
    appid = f"wx{uuid.uuid4().hex[:16]}"  # quota keys of this test's own
    async with WeChatEmulator(appid=appid, latency=0.01) as emu:
        # the secret comes from each worker's own environment, not with the config
        config = wx.ClientConfig(
            appid=appid, base_url=emu.base_url, redis_url=redis_url, daily_quota=20
        )
        assert emu.secret not in repr(config) and config.secret is None
        spawn = multiprocessing.get_context("spawn")

        def run(todo: list[list[str]]) -> list[bytes]:
            with spawn.Pool(3, _set_environment, ({"WXOCR_SECRET": emu.secret},)) as pool:
                done = pool.starmap(_recognise_chunk, [(c, config) for c in todo])
            return [line for lines in done for line in lines]

        with wx.jobs.ResultsFile(str(out)) as results:
            for line in await asyncio.to_thread(run, chunks):
                results.append(line)
        records = [json.loads(line) for line in out.read_bytes().splitlines()]
        assert Counter(r["status"] for r in records) == {"ok": 20, "not_attempted": 10}
        assert emu.stats.token_fetches == 1  # one fetch for three processes, through Redis
        assert emu.stats.ocr_calls["idcard"] == 20
        # the next day: the quota key gone, the rerun does the rest and nothing twice
        store = redis.Redis.from_url(redis_url)
        store.delete(*store.keys(f"wxocr_async:quota:{appid}:*"))
        store.close()
        left = sorted(set(paths) - finished_inputs(str(out), "idcard"))
        assert len(left) == 10
        with wx.jobs.ResultsFile(str(out)) as results:
            for line in await asyncio.to_thread(run, [left[i::3] for i in range(3)]):
                results.append(line)
        assert emu.stats.ocr_calls["idcard"] == 30
    assert finished_inputs(str(out), "idcard") == set(paths)
    assert all(emu.secret not in line for line in out.read_text().splitlines())
