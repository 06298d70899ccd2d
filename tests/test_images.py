"""Bad input gets a clear error before anything is sent."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import os
import threading
from pathlib import Path
from typing import IO, Any, cast

import pytest

import wxocr_async as wx
from wxocr_async.emulator import WeChatEmulator, card_png, noise_png
from wxocr_async.images import MAX_SHRINK_INPUT_BYTES, check_image, sniff_image_type

IMAGE = card_png("inputs")


async def test_neither_image_nor_url(ocr: wx.OcrClient, emulator: WeChatEmulator) -> None:
    with pytest.raises(ValueError, match="exactly one of"):
        await ocr.idcard()
    assert emulator.stats.total_ocr_calls == 0 and emulator.stats.token_fetches == 0


async def test_both_image_and_url(
    ocr: wx.OcrClient, emulator: WeChatEmulator, tmp_path: Path
) -> None:
    missing = tmp_path / "never-read.png"  # refused before the file is even looked at
    with pytest.raises(wx.InvalidInput, match="not both"):
        await ocr.bankcard(missing, img_url="https://example.com/a.png")
    assert emulator.stats.total_ocr_calls == 0


async def test_wrong_path(ocr: wx.OcrClient, tmp_path: Path) -> None:
    with pytest.raises(wx.InvalidInput, match=r"not found: .*nope\.png") as info:
        await ocr.idcard(tmp_path / "nope.png")
    assert isinstance(info.value.__cause__, FileNotFoundError)
    with pytest.raises(wx.InvalidInput, match="is a directory"):
        await ocr.idcard(tmp_path)


async def test_empty_file(ocr: wx.OcrClient, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(wx.InvalidInput, match="is empty"):
        await ocr.idcard(empty)
    with pytest.raises(wx.InvalidInput, match="image data is empty"):
        await ocr.idcard(b"")


async def test_non_image_file(ocr: wx.OcrClient, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(wx.InvalidInput, match="not an image WeChat can read"):
        await ocr.idcard(text)


async def test_text_mode_file_object(ocr: wx.OcrClient) -> None:
    with pytest.raises(wx.InvalidInput, match="binary mode"):
        await ocr.idcard(io.StringIO("text"))  # type: ignore[arg-type]


async def test_wrong_type(ocr: wx.OcrClient) -> None:
    with pytest.raises(wx.InvalidInput, match="not int"):
        await ocr.idcard(12)  # type: ignore[arg-type]


async def test_two_megabytes_or_more_is_refused_before_sending(
    ocr: wx.OcrClient, emulator: WeChatEmulator, tmp_path: Path
) -> None:
    big = noise_png(wx.MAX_IMAGE_BYTES + 10)
    assert len(big) >= wx.MAX_IMAGE_BYTES
    path = tmp_path / "big.png"
    path.write_bytes(big)
    for image in (big, path):
        with pytest.raises(wx.ImageTooLarge, match="under 2 MB") as info:
            await ocr.idcard(image)
        assert info.value.errcode == wx.errors.ERRCODE_IMAGE_TOO_LARGE
        assert f"is {len(big)} bytes;" in str(info.value)  # the size, where it is known
    just_under = noise_png(wx.MAX_IMAGE_BYTES - 4096)
    assert len(just_under) < wx.MAX_IMAGE_BYTES
    assert (await ocr.idcard(just_under)).type == "Front"
    assert emulator.stats.total_ocr_calls == 1


async def test_exactly_two_megabytes_is_refused() -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(wx.MAX_IMAGE_BYTES - 8)
    with pytest.raises(wx.ImageTooLarge):
        check_image(data, None, "image data")
    check_image(data[:-1], None, "image data")


async def test_bad_img_url(ocr: wx.OcrClient) -> None:
    with pytest.raises(wx.InvalidInput, match="http"):
        await ocr.idcard(img_url="ftp://example.com/a.png")
    with pytest.raises(wx.InvalidInput, match="non-empty"):
        await ocr.idcard(img_url="  ")


async def test_emulator_refuses_oversized_upload_itself(emulator: WeChatEmulator) -> None:
    """The emulator enforces the limit too, for clients that do not."""
    import aiohttp

    big = noise_png(wx.MAX_IMAGE_BYTES + 10)

    async def post() -> Any:
        form = aiohttp.FormData()
        form.add_field("img", io.BytesIO(big), filename="big.png", content_type="image/png")
        url = f"{emulator.base_url}/cv/ocr/comm"
        async with aiohttp.ClientSession() as session, session.post(url, data=form) as resp:
            return await resp.json(content_type=None)

    assert (await post())["errcode"] == 41001  # no token: refused before the image is read
    emulator.require_token = False
    assert (await post())["errcode"] == 101002


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"GIF89a", "image/gif"),
        (b"BM", "image/bmp"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
        (b"II*\x00", "image/tiff"),
        (b"\0\0\0\x18ftypheic", "image/heic"),
    ],
)
def test_sniffing(head: bytes, mime: str) -> None:
    sniffed = sniff_image_type(head + b"\0" * 16)
    assert sniffed is not None and sniffed[0] == mime
    assert sniff_image_type(b"%PDF-1.4") is None


def test_unsafe_filenames_are_replaced() -> None:
    png = card_png("x")
    assert check_image(png, 'a"b.png', "x").filename == "image.png"
    assert check_image(png, "身份证.png", "x").filename == "image.png"
    assert check_image(png, "/some/dir/front.png", "x").filename == "front.png"


# -- no read may hang or grow without bound ----------------------------------------------

GUARD = 30


async def test_a_fifo_is_refused_without_waiting_for_a_writer(
    ocr: wx.OcrClient, emulator: WeChatEmulator, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    try:
        with pytest.raises(wx.InvalidInput, match="FIFO"):
            async with asyncio.timeout(GUARD):  # opening it plainly would block forever
                await ocr.idcard(fifo)
    finally:
        _release_readers(fifo)  # so that a regression fails here instead of hanging
    assert emulator.stats.total_ocr_calls == 0


def _release_readers(fifo: Path) -> None:
    """Unblock a thread stuck opening ``fifo`` for reading, if there is one."""
    with contextlib.suppress(OSError):  # ENXIO: nobody has it open for reading, as it should be
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null"])
async def test_a_device_path_is_refused(ocr: wx.OcrClient, path: str) -> None:
    with pytest.raises(wx.InvalidInput, match="a device"):
        async with asyncio.timeout(GUARD):
            await ocr.idcard(path)


async def test_a_path_with_a_nul_byte_is_refused(ocr: wx.OcrClient) -> None:
    with pytest.raises(wx.InvalidInput, match="NUL"):
        await ocr.idcard("front\0.png")


async def test_dev_zero_as_a_file_object_is_too_large_not_a_memory_error(
    ocr: wx.OcrClient,
) -> None:
    with open("/dev/zero", "rb") as endless:  # noqa: ASYNC230 - the client reads it off the loop
        with pytest.raises(wx.ImageTooLarge, match="file object is 2 MB or more; "):
            async with asyncio.timeout(GUARD):
                await ocr.idcard(endless)
        assert endless.tell() <= wx.MAX_IMAGE_BYTES + 1


class CountingReader(io.RawIOBase):
    """An endless binary stream that hands out at most ``chunk`` bytes a read (short
    reads) and records what it gave and on which thread it was read."""

    def __init__(self, data: bytes = b"", chunk: int = 7919) -> None:
        self.data, self.chunk, self.given, self.threads = data, chunk, 0, set[int]()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self.threads.add(threading.get_ident())
        if self.data:
            piece = self.data[self.given : self.given + min(self.chunk, len(buffer))]
        else:
            piece = b"\xff" * min(self.chunk, len(buffer))
        buffer[: len(piece)] = piece
        self.given += len(piece)
        return len(piece)


async def test_a_file_object_is_read_off_the_loop_with_short_reads(ocr: wx.OcrClient) -> None:
    source = CountingReader(IMAGE)
    card = await ocr.idcard(cast(IO[bytes], source))
    assert card.type == "Front" and source.given == len(IMAGE)
    assert threading.get_ident() not in source.threads  # never on the event loop's thread


async def test_an_endless_file_object_is_read_no_further_than_the_cap(ocr: wx.OcrClient) -> None:
    source = CountingReader()
    with pytest.raises(wx.ImageTooLarge):
        await ocr.idcard(cast(IO[bytes], source))
    assert source.given <= wx.MAX_IMAGE_BYTES + 1


async def test_a_closed_file_object_is_invalid_input(ocr: wx.OcrClient) -> None:
    closed = io.BytesIO(IMAGE)
    closed.close()
    with pytest.raises(wx.InvalidInput, match="cannot be read") as info:
        await ocr.idcard(closed)
    assert isinstance(info.value.__cause__, ValueError)


class FailingReader(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise OSError(errno.EIO, "Input/output error")


async def test_an_os_error_while_reading_is_invalid_input(ocr: wx.OcrClient) -> None:
    with pytest.raises(wx.InvalidInput, match="Input/output error") as info:
        await ocr.idcard(cast(IO[bytes], FailingReader()))
    assert isinstance(info.value.__cause__, OSError)


async def test_shrinking_reads_are_capped_too(emulator: WeChatEmulator) -> None:
    async with wx.OcrClient(
        emulator.appid, emulator.secret, base_url=emulator.base_url, shrink_images=True
    ) as ocr:
        source = CountingReader()
        with pytest.raises(wx.ImageTooLarge, match="is more than 64 MB; shrink_images reads"):
            await ocr.idcard(cast(IO[bytes], source))
    assert source.given <= MAX_SHRINK_INPUT_BYTES + 1


class SizelessReader:
    """A file-like object whose read() takes no size: it cannot be read boundedly."""

    def read(self) -> bytes:
        return IMAGE


class BrokenReader(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise RuntimeError("the storage backend went away")


@pytest.mark.parametrize(
    ("source", "cause", "message"),
    [
        (SizelessReader(), TypeError, "read\\(size\\)"),
        (BrokenReader(), RuntimeError, "the storage backend went away"),
    ],
    ids=["read-without-size", "read-raises"],
)
async def test_any_failure_of_a_file_object_is_invalid_input(
    ocr: wx.OcrClient, emulator: WeChatEmulator, source: object, cause: type, message: str
) -> None:
    with pytest.raises(wx.InvalidInput, match=message) as info:
        await ocr.idcard(cast(IO[bytes], source))
    assert isinstance(info.value.__cause__, cause)
    assert emulator.stats.total_ocr_calls == 0
