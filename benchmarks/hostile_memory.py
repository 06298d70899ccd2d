"""Peak RSS of one call against a hostile reply, against a normal reply (the baseline),
each case in a fresh process: a 200 MB body, an endless chunked stream, gzip and
deflate bombs (512 MB of zeros each). The client reads at most MAX_REPLY_BYTES.

    .venv/bin/python benchmarks/hostile_memory.py
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ("baseline", "200MB", "endless-chunked", "gzip-bomb", "deflate-bomb")


async def one_call(case: str) -> str:
    import wxocr_async as wx
    from tests.hostile import RawHttpServer, bomb, http_reply, reply, stream

    ok = json.dumps({"errcode": 0, "errmsg": "ok", "type": "Front", "pad": "x" * 4000}).encode()
    json_head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    scenarios = {
        "baseline": reply(http_reply("200 OK", {"Content-Type": "application/json"}, ok)),
        "200MB": stream(json_head + b"Content-Length: 209715200\r\n\r\n", b"{" * 65536),
        "endless-chunked": stream(
            json_head + b"Transfer-Encoding: chunked\r\n\r\n", b" " * 65536, chunked=True
        ),
    }
    for kind in ("gzip", "deflate"):
        headers = {"Content-Type": "application/json", "Content-Encoding": kind}
        scenarios[f"{kind}-bomb"] = reply(http_reply("200 OK", headers, bomb(kind)))
    async with (
        RawHttpServer(scenarios[case]) as server,
        wx.OcrClient(token="benchmark-token", base_url=server.url, retry=wx.NO_RETRY) as ocr,
    ):
        try:
            await ocr.idcard(b"\x89PNG\r\n\x1a\n" + bytes(1000), timeout=None)
            return "ok"
        except wx.WxOcrError as exc:
            return type(exc).__name__


def child(case: str) -> None:
    from tests.hostile import bomb

    for kind in ("gzip", "deflate"):
        bomb(kind)  # built before measuring: the server's payload, not the client's cost
    outcome = asyncio.run(one_call(case))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"case": case, "outcome": outcome, "peak_mb": round(peak_mb, 1)}))


def main() -> None:
    rows = []
    for case in CASES:
        out = subprocess.run(
            [sys.executable, __file__, "--child", case],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        rows.append(json.loads(out.stdout))
    base = rows[0]["peak_mb"]
    print(f"{'case':<18}{'outcome':<14}{'peak RSS MB':>12}{'vs baseline':>13}")
    for row in rows:
        delta = row["peak_mb"] - base
        print(f"{row['case']:<18}{row['outcome']:<14}{row['peak_mb']:>12.1f}{delta:>+12.1f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        sys.path.insert(0, str(ROOT))
        child(sys.argv[2])
    else:
        main()
