"""The replies the emulator gives: WeChat's own documented examples, verbatim.

Sources: the official OCR pages (see shared/API.md §2); comments in the official
JSON (which make it invalid JSON) are dropped, values are kept as published.
"""

from __future__ import annotations

import json

# re-exported: they lived here before the surface was shared
from ..surface.wire import ERRMSGS as ERRMSGS
from ..surface.wire import Reply as Reply


def _pos(
    lt: tuple[int, int], rt: tuple[int, int], rb: tuple[int, int], lb: tuple[int, int]
) -> Reply:
    return {
        "left_top": {"x": lt[0], "y": lt[1]},
        "right_top": {"x": rt[0], "y": rt[1]},
        "right_bottom": {"x": rb[0], "y": rb[1]},
        "left_bottom": {"x": lb[0], "y": lb[1]},
    }


IDCARD_FRONT: Reply = {
    "errcode": 0,
    "errmsg": "ok",
    "type": "Front",
    "name": "张三",
    "id": "123456789012345678",
    "addr": "广东省广州市XXX",
    "gender": "男",
    "nationality": "汉",
}

IDCARD_BACK: Reply = {
    "errcode": 0,
    "errmsg": "ok",
    "type": "Back",
    "valid_date": "20171025-20271025",
}

BANKCARD: Reply = {"errcode": 0, "errmsg": "ok", "number": "622213XXXXXXXXX"}

VEHICLE_LICENSE: Reply = {
    "errcode": 0,
    "errmsg": "ok",
    "plate_num": "粤xxxxx",
    "vehicle_type": "小型普通客车",
    "owner": "东莞市xxxxx机械厂",
    "addr": "广东省东莞市xxxxx号",
    "use_character": "非营运",
    "model": "江淮牌HFCxxxxxxx",
    "vin": "LJ166xxxxxxxx51",
    "engine_num": "J3xxxxx3",
    "register_date": "2018-07-06",
    "issue_date": "2018-07-01",
    "plate_num_b": "粤xxxxx",
    "record": "441xxxxxx3",
    "passengers_num": "7人",
    "total_quality": "2700kg",
    "prepare_quality": "1995kg",
    "overall_size": "4582x1795x1458mm",
    "card_position_front": {"pos": _pos((119, 2925), (1435, 2887), (1435, 3793), (119, 3831))},
    "card_position_back": {"pos": _pos((1523, 2849), (2898, 2887), (2927, 3831), (1523, 3831))},
    "img_size": {"w": 3120, "h": 4208},
}

DRIVER_LICENSE: Reply = {
    "errcode": 0,
    "errmsg": "ok",
    "id_num": "660601xxxxxxxx1234",
    "name": "张三",
    "sex": "男",
    "nationality": "中国",
    "address": "广东省东莞市xxxxx号",
    "birth_date": "1990-12-21",
    "issue_date": "2012-12-21",
    "car_class": "C1",
    "valid_from": "2018-07-06",
    "valid_to": "2020-07-01",
    "official_seal": "xx市公安局公安交通管理局",
}

BUSINESS_LICENSE: Reply = {
    "errcode": 0,
    "errmsg": "ok",
    "reg_num": "123123",
    "serial": "123123",
    "legal_representative": "张三",
    "enterprise_name": "XX饮食店",
    "type_of_organization": "个人经营",
    "address": "XX市XX区XX路XX号",
    "type_of_enterprise": "xxx",
    "business_scope": "中型餐馆(不含凉菜、不含裱花蛋糕,不含生食海产品)。",
    "registered_capital": "200万",
    "paid_in_capital": "200万",
    "valid_period": "2019年1月1日",
    "registered_date": "2018年1月1日",
    "cert_position": {"pos": _pos((155, 191), (725, 157), (743, 512), (164, 525))},
    "img_size": {"w": 966, "h": 728},
}

PRINTED_TEXT: Reply = {
    "errcode": 0,
    "errmsg": "ok",
    "items": [
        {"text": "腾讯", "pos": _pos((575, 519), (744, 519), (744, 532), (573, 532))},
        {"text": "微信团队", "pos": _pos((670, 516), (762, 517), (762, 532), (670, 531))},
    ],
    "img_size": {"w": 1280, "h": 720},
}

PLATE_NUMBER: Reply = {"errcode": 0, "errmsg": "ok", "number": "粤A123456"}

MENU_ITEMS: list[tuple[str, float]] = [
    ("酱鸭", 48.0),
    ("龙虾", 80.0),
    ("芝麻鸭块", 48.0),
    ("皮皮虾", 70.0),
    ("特色辣鸭脚", 46.0),
    ("花甲", 30.0),
    ("小鸭翅", 46.0),
    ("鸭肠", 40.0),
    ("微辣大鸭脚", 43.0),
    ("八宝", 10.0),
    ("大鸭翅", 43.0),
    ("千叶豆腐", 10.0),
    ("鸭脖", 35.0),
    ("毛豆", 15.0),
    ("鸭锁骨", 35.0),
    ("螺丝", 15.0),
    ("特色蟹脚", 55.0),
    ("藕片", 15.0),
    ("鱿鱼须", 70.0),
    ("腐竹", 15.0),
    ("鸭下巴", 70.0),
    ("鸭头", 5.0),
    ("无骨鸭脚", 70.0),
    ("辣椒酱", 10.0),
    ("鸭舌", 138.0),
    ("花生米", 5.0),
    ("鸭胗", 55.0),
    ("萝卜干", 12.0),
    ("牛肉串", 65.0),
    ("盐菜", 12.0),
]

#: the official example sends ``content`` as a JSON-encoded string
MENU: Reply = {
    "errcode": 0,
    "errmsg": "ok",
    "content": json.dumps(
        {"menu_items": [{"name": n, "price": p} for n, p in MENU_ITEMS]}, ensure_ascii=False
    ),
}

#: endpoint name -> the reply it gives for an image it has no scripted reply for
DEFAULT_REPLIES: dict[str, Reply] = {
    "idcard": IDCARD_FRONT,
    "bankcard": BANKCARD,
    "driving": VEHICLE_LICENSE,
    "drivinglicense": DRIVER_LICENSE,
    "bizlicense": BUSINESS_LICENSE,
    "comm": PRINTED_TEXT,
    "platenum": PLATE_NUMBER,
    "menu": MENU,
}

#: shipped sample image -> the reply the emulator recognises it as
SAMPLE_REPLIES: dict[str, Reply] = {
    "idcard_front.png": IDCARD_FRONT,
    "idcard_back.png": IDCARD_BACK,
    "bankcard.png": BANKCARD,
    "vehicle_license.png": VEHICLE_LICENSE,
    "driver_license.png": DRIVER_LICENSE,
    "business_license.png": BUSINESS_LICENSE,
    "printed_text.png": PRINTED_TEXT,
    "plate_number.png": PLATE_NUMBER,
    "menu.png": MENU,
}

#: the endpoint each shipped sample belongs to: only there is it recognised
SAMPLE_ENDPOINTS: dict[str, str] = {
    "idcard_front.png": "idcard",
    "idcard_back.png": "idcard",
    "bankcard.png": "bankcard",
    "vehicle_license.png": "driving",
    "driver_license.png": "drivinglicense",
    "business_license.png": "bizlicense",
    "printed_text.png": "comm",
    "plate_number.png": "platenum",
    "menu.png": "menu",
}
