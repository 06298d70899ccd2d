"""The pure core: request building and reply decoding, no sockets."""

from __future__ import annotations

import pytest

import wxocr_async as wx
from wxocr_async.emulator import card_png
from wxocr_async.endpoints import BY_CLOUD_NAME, BY_NAME, IDCARD, MENU
from wxocr_async.images import check_image
from wxocr_async.protocol import build_ocr_request, compose_url, decode_reply, multipart_body

from .conftest import all_sample_cases, load_sample

IMAGE = check_image(card_png("protocol"), "front.png", "image data")


def test_multipart_body_is_well_formed() -> None:
    parts, content_type = multipart_body("img", IMAGE)
    assert parts[1] is IMAGE.data  # the image itself is not copied
    body = b"".join(parts)
    boundary = content_type.split("boundary=")[1]
    assert body.startswith(f"--{boundary}\r\n".encode())
    assert b'Content-Disposition: form-data; name="img"; filename="front.png"\r\n' in body
    assert (
        b"Content-Type: image/png\r\n\r\n" + IMAGE.data + f"\r\n--{boundary}--\r\n".encode() in body
    )


def test_url_request_has_no_body() -> None:
    req = build_ocr_request(IDCARD, image=None, img_url="https://a.example/x y.png?q=1&r=2")
    assert req.body == () and req.content_type is None
    assert req.query == "img_url=https%3A%2F%2Fa.example%2Fx%20y.png%3Fq%3D1%26r%3D2"


def test_compose_url() -> None:
    assert compose_url("http://h", "cv/ocr/menu", "", None) == "http://h/cv/ocr/menu"
    assert (
        compose_url("http://h", "p", "a=1", ("access_token", "t/+"))
        == "http://h/p?a=1&access_token=t%2F%2B"
    )


@pytest.mark.parametrize("case", all_sample_cases())
def test_every_sample_decodes(case: str) -> None:
    import json

    payload = decode_reply(200, "application/json", json.dumps(load_sample(case)).encode(), "x")
    assert payload == load_sample(case)


def test_errcode_forms() -> None:
    assert decode_reply(200, "", b'{"errcode": "0", "errmsg": "ok"}', "x")["errmsg"] == "ok"
    assert decode_reply(200, "", b'{"number": "1"}', "x") == {"number": "1"}
    with pytest.raises(wx.CertificateNotFound):
        decode_reply(200, "", b'{"errcode": "101001", "errmsg": "certificate not found"}', "x")
    with pytest.raises(wx.BadResponse, match="not an integer"):
        decode_reply(200, "", b'{"errcode": "zero"}', "x")
    with pytest.raises(wx.BadResponse, match="not JSON"):
        decode_reply(200, "", b"\xff\xfe", "x")


def test_endpoints_table() -> None:
    assert len(BY_NAME) == 8
    assert BY_CLOUD_NAME["vehicleLicense"] is BY_CLOUD_NAME["drivingLicense"] is BY_NAME["driving"]
    assert MENU.cloud_names == () and BY_NAME["platenum"].cloud_names == ()
