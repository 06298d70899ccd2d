"""Dual naming: both conventions, both ways, lossless, unknown fields kept (property-based)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wxocr_async as wx
from wxocr_async.endpoints import ENDPOINTS
from wxocr_async.naming import (
    ENVELOPE_KEYS,
    Naming,
    camel_to_snake,
    camelize,
    detect_naming,
    snake_to_camel,
)

from .conftest import all_sample_cases, load_sample

# -- strategies: replies as WeChat could send them -----------------------------------------

text = st.text(max_size=12)
number = st.integers(min_value=-(2**31), max_value=2**31)
price = st.one_of(
    st.integers(0, 10_000), st.floats(0, 10_000, allow_nan=False, allow_infinity=False)
)
# unknown keys are lower snake_case on the wire
snake_key = st.from_regex(r"[a-z][a-z0-9]{0,5}(_[a-z][a-z0-9]{0,4}){0,2}", fullmatch=True)
json_scalar = st.one_of(st.none(), st.booleans(), number, text)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(snake_key, inner, max_size=3)
    ),
    max_leaves=6,
)


def obj(known: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A reply object: any subset of the known fields, plus unknown snake_case fields."""
    unknown = st.dictionaries(
        snake_key.filter(lambda k: k not in known and k not in ENVELOPE_KEYS),
        json_value,
        max_size=2,
    )
    return st.fixed_dictionaries({}, optional=known).flatmap(
        lambda d: unknown.map(lambda extra: {**extra, **d})
    )


point = obj({"x": number, "y": number})
corners = obj({k: point for k in ("left_top", "right_top", "right_bottom", "left_bottom")})
position = obj({"pos": corners})
size = obj({"w": number, "h": number})
menu_content = obj({"menu_items": st.lists(obj({"name": text, "price": price}), max_size=3)})

REPLIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "idcard": obj(
        {
            k: text
            for k in (
                "type",
                "name",
                "id",
                "addr",
                "gender",
                "nationality",
                "valid_date",
                "birth",
                "authority",
            )
        }
        | {"card_property": number}
    ),
    "bankcard": obj({"number": text, "id": text}),
    "driving": obj(
        {
            k: text
            for k in (
                "plate_num",
                "vehicle_type",
                "owner",
                "addr",
                "use_character",
                "model",
                "vin",
                "engine_num",
                "register_date",
                "issue_date",
                "plate_num_b",
                "record",
                "passengers_num",
                "total_quality",
                "prepare_quality",
                "overall_size",
            )
        }
        | {"card_position_front": position, "card_position_back": position, "img_size": size}
    ),
    "drivinglicense": obj(
        {
            k: text
            for k in (
                "id_num",
                "name",
                "sex",
                "nationality",
                "address",
                "birth_date",
                "issue_date",
                "car_class",
                "valid_from",
                "valid_to",
                "official_seal",
            )
        }
    ),
    "bizlicense": obj(
        {
            k: text
            for k in (
                "reg_num",
                "serial",
                "legal_representative",
                "enterprise_name",
                "type_of_organization",
                "address",
                "type_of_enterprise",
                "business_scope",
                "registered_capital",
                "paid_in_capital",
                "valid_period",
                "registered_date",
            )
        }
        | {"cert_position": position, "img_size": size}
    ),
    "comm": obj(
        {"items": st.lists(obj({"text": text, "pos": corners}), max_size=3), "img_size": size}
    ),
    "platenum": obj({"number": text}),
    "menu": obj({"content": st.one_of(menu_content, menu_content.map(json.dumps))}),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_round_trips_in_both_namings(endpoint: wx.Endpoint[Any], data: st.DataObject) -> None:
    reply = data.draw(REPLIES[endpoint.name])
    model = endpoint.result_type.from_dict({"errcode": 0, "errmsg": "ok", **reply})
    snake = model.to_dict()
    camel = model.to_dict(naming="camel")
    assert endpoint.result_type.from_dict(snake, naming="snake") == model
    assert endpoint.result_type.from_dict(camel, naming="camel") == model
    assert endpoint.result_type.from_dict(camel) == model  # the naming recognised from keys
    # the snake form is the reply as sent (less the envelope; menu content decoded) ...
    expected = dict(reply)
    if isinstance(expected.get("content"), str):
        expected["content"] = json.loads(expected["content"])
    if endpoint.name == "bankcard" and "number" not in reply and reply.get("id") is not None:
        assert model.number == reply["id"]  # filled from id, not written back out
    assert snake == expected
    # ... and the camel form is exactly wx-server-sdk's mechanical conversion of it
    assert camel == camelize(expected)


def test_camel_form_is_wx_server_sdks() -> None:
    lic = wx.VehicleLicenseResult.from_dict(load_sample("driving/doc_example"))
    camel = lic.to_dict("camel")
    assert camel["cardPositionFront"]["pos"]["leftTop"] == {"x": 119, "y": 2925}
    assert camel["plateNumB"] == "粤xxxxx" and camel["imgSize"] == {"w": 3120, "h": 4208}
    assert "errCode" not in camel and "errcode" not in lic.to_dict()
    card = wx.IdCardResult.from_dict(load_sample("idcard/back"))
    assert card.to_dict(naming="camel") == {"type": "Back", "validDate": "20171025-20271025"}


def test_from_dict_accepts_a_cloud_result_with_its_envelope() -> None:
    cloud = {
        "errCode": 0,
        "errMsg": "openapi.ocr.idcard:ok",
        "type": "Back",
        "validDate": "2007-2027",
    }
    card = wx.IdCardResult.from_dict(cloud)
    assert card == wx.IdCardResult(type="Back", valid_date="2007-2027")
    assert card.extras == {}


def test_unknown_fields_camel_both_ways_nested_too() -> None:
    reply = {
        "items": [{"text": "t", "pos": {"left_top": {"x": 1, "y": 2, "z_index": 3}}}],
        "img_size": {"w": 1, "h": 2},
        "extra_info": {"risk_type": "copy"},
    }
    result = wx.PrintedTextResult.from_dict(reply)
    assert result.extras == {"extra_info": {"risk_type": "copy"}}
    assert result.items is not None and result.items[0].pos is not None
    assert result.items[0].pos.left_top == wx.Point(x=1, y=2, extras={"z_index": 3})
    camel = result.to_dict("camel")
    assert camel["extraInfo"] == {"riskType": "copy"}
    assert camel["items"][0]["pos"]["leftTop"]["zIndex"] == 3
    assert detect_naming(camel, wx.PrintedTextResult) == "camel"  # found in nested keys
    assert wx.PrintedTextResult.from_dict(camel) == result


@pytest.mark.parametrize("case", all_sample_cases())
def test_every_recorded_sample_round_trips(case: str) -> None:
    from wxocr_async.endpoints import BY_NAME

    cls = BY_NAME[case.split("/")[0]].result_type
    model = cls.from_dict(load_sample(case))
    for naming in ("snake", "camel"):
        assert cls.from_dict(model.to_dict(naming), naming=naming) == model


@pytest.mark.parametrize(
    ("snake", "camel"),
    [
        ("valid_date", "validDate"),
        ("card_position_front", "cardPositionFront"),
        ("plate_num_b", "plateNumB"),
        ("img_size", "imgSize"),
        ("type", "type"),
        ("type_of_organization", "typeOfOrganization"),
        ("a_1", "a_1"),
    ],
)
def test_mechanical_rule(snake: str, camel: str) -> None:
    assert snake_to_camel(snake) == camel
    assert camel_to_snake(camel) == snake


def test_naming_is_decided_by_documented_fields_not_capitals() -> None:
    card = wx.IdCardResult.from_dict({"type": "Back", "valid_date": "v", "alreadyCamel": 1})
    assert card.valid_date == "v" and card.extras == {"alreadyCamel": 1}
    assert card.to_dict() == {"type": "Back", "valid_date": "v", "alreadyCamel": 1}
    assert card.to_dict("camel") == {"type": "Back", "validDate": "v", "alreadyCamel": 1}
    cloud = wx.IdCardResult.from_dict({"type": "Back", "validDate": "v", "some_extra": 1})
    assert cloud.valid_date == "v"  # documented camel key: camel, whatever the rest says


def test_the_camel_rule_changes_only_underscore_lowercase() -> None:
    plate = wx.PlateNumberResult.from_dict({"number": "粤A1", "HTTP_code": 7, "x_1": 2})
    assert plate.to_dict() == {"number": "粤A1", "HTTP_code": 7, "x_1": 2}
    assert plate.to_dict("camel") == {"number": "粤A1", "HTTPCode": 7, "x_1": 2}
    assert camelize({"HTTP_code": {"left_top": 1}}) == {"HTTPCode": {"leftTop": 1}}
    back = wx.PlateNumberResult.from_dict(plate.to_dict("camel"), naming="camel")
    assert back.to_dict("camel") == {"number": "粤A1", "HTTPCode": 7, "x_1": 2}  # not hTTPCode


@pytest.mark.parametrize(
    "reply",
    [
        {"type": "Back", "valid_date": "snake", "validDate": "camel"},
        {"type": "Back", "validDate": "camel", "valid_date": "snake"},
    ],
)
def test_when_both_forms_are_there_the_snake_value_wins(reply: dict[str, Any]) -> None:
    card = wx.IdCardResult.from_dict(reply)
    assert card.valid_date == "snake"
    assert card.to_dict("camel")["validDate"] == "snake"
    assert camelize(reply)["validDate"] == "snake"  # the cloud layer's conversion too


@pytest.mark.parametrize("naming", [None, "snake", "camel"])
@pytest.mark.parametrize("camel_first", [True, False])
def test_the_snake_value_wins_in_either_naming(naming: Naming | None, camel_first: bool) -> None:
    # mostly camel keys: recognised as camel, where a documented camel key could win
    pairs = [("validDate", "camel"), ("valid_date", "snake")]
    reply = {"type": "Back", "cardProperty": 1, **dict(pairs if camel_first else pairs[::-1])}
    card = wx.IdCardResult.from_dict(reply, naming=naming)
    assert card.valid_date == "snake"
    as_the_sdk_gives = {"type": "Back", "cardProperty": 1, "validDate": "snake"}
    assert card.to_dict("camel") == camelize(reply) == as_the_sdk_gives


@pytest.mark.parametrize("camel_first", [True, False])
def test_the_snake_value_wins_in_nested_models_and_extras(camel_first: bool) -> None:
    def both(camel: str, snake: str, camel_value: Any, snake_value: Any) -> dict[str, Any]:
        pairs = [(camel, camel_value), (snake, snake_value)]
        return dict(pairs if camel_first else pairs[::-1])

    reply = {
        "items": [{"text": "t", "pos": both("leftTop", "left_top", {"x": 0}, {"x": 1})}],
        **both("imgSize", "img_size", {"w": 0}, {"w": 1}),
        "extraInfo": both("riskType", "risk_type", "camel", "snake"),
    }
    text = wx.PrintedTextResult.from_dict(reply, naming="camel")
    assert text.items is not None and text.items[0].pos is not None
    assert text.items[0].pos.left_top == wx.Point(x=1)
    assert text.img_size == wx.ImageSize(w=1)
    assert text.extras == {"extra_info": {"risk_type": "snake"}}
    assert text.to_dict("camel") == camelize(reply)


def test_bad_naming_argument() -> None:
    with pytest.raises(ValueError, match="'snake' or 'camel'"):
        wx.IdCardResult().to_dict("kebab")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'snake' or 'camel'"):
        wx.IdCardResult.from_dict({}, naming="Camel")  # type: ignore[arg-type]
