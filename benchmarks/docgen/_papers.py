"""Licences and pages: 行驶证, 驾驶证, 营业执照, printed text (menus are in _menus)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from PIL import Image

from . import _fakes as fk
from ._cards import long_address
from ._draw import (
    INK,
    Canvas,
    Drawn,
    emblem,
    frame,
    guilloche,
    lines_since,
    photo_box,
    qr_block,
    seal,
    text_width,
    wrap,
)

LICENCE = (1300, 886)  # 88 x 60 mm
LABEL = (60, 60, 60)

VEHICLE_TYPES = (
    "小型普通客车",
    "小型轿车",
    "小型越野客车",
    "中型普通货车",
    "重型半挂牵引车",
    "轻型厢式货车",
)
USES = ("非营运", "非营运", "非营运", "营运", "出租客运", "预约出租客运", "货运")
MAKES = (
    ("大众汽车牌", "SVW7"),
    ("丰田牌", "TV7"),
    ("本田牌", "HG7"),
    ("别克牌", "SGM7"),
    ("比亚迪牌", "BYD7"),
    ("吉利牌", "MR7"),
    ("长城牌", "CC6"),
    ("东风牌", "DFL1"),
)


def _model(rng: random.Random) -> str:
    make, code = rng.choice(MAKES)
    tail = "".join(rng.choice("0123456789") for _ in range(3)) + "".join(
        rng.choice("ABCDEFGHJKLMNPRSTUVWXY") for _ in range(rng.randint(1, 3))
    )
    return make + code + tail


def _licence_base(rng: random.Random, title: str, subtitle: str) -> Canvas:
    c = Canvas(LICENCE, (236, 240, 232))
    guilloche(c, rng, (214, 224, 210), count=24)
    frame(c, (120, 140, 120), 18, 3)
    c.text((c.w / 2, 88), title, 52, (20, 20, 20), anchor="ms", tracking=6, bold=True)
    c.text((c.w / 2, 128), subtitle, 20, (80, 90, 80), anchor="ms")
    return c


def driving(rng: random.Random, layout: str = "standard") -> Drawn:
    """行驶证; "wrapped_address" prints 住址 over two lines, the second under the first."""
    city, district, _ = fk.place(rng)
    number, _ = fk.plate(rng, city)
    owner = fk.name(rng, rng.choice("男女"))
    if rng.random() < 0.2:
        owner = f"{city.name.removesuffix('市')}{rng.choice(fk.ESTATES)}物流有限公司"
    wrapped = layout == "wrapped_address"
    if wrapped:
        addr = long_address(rng, city, district, 36, LICENCE[0] - 260 - 60, range(2, 3))
    else:
        addr = fk.address(rng, city, district)
    register = fk.date_between(rng, dt.date(2008, 1, 1), dt.date(2025, 6, 30))
    issue = register if rng.random() < 0.7 else fk.date_between(rng, register, dt.date(2025, 9, 30))
    truth = {
        "plate_num": number,
        "vehicle_type": rng.choice(VEHICLE_TYPES),
        "owner": owner,
        "addr": addr,
        "use_character": rng.choice(USES),
        "model": _model(rng),
        "vin": fk.vin(rng),
        "engine_num": "".join(
            rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.randint(7, 10))
        ),
        "register_date": f"{register:%Y-%m-%d}",
        "issue_date": f"{issue:%Y-%m-%d}",
    }
    c = _licence_base(
        rng, "中华人民共和国机动车行驶证", "Vehicle License of the People's Republic of China"
    )
    lab, val = 28, 36
    xl, xv, xr, xrv = 60, 260, 680, 850
    rows: list[tuple[tuple[str, str], tuple[str, str] | None]] = [
        (("号牌号码", truth["plate_num"]), ("车辆类型", truth["vehicle_type"])),
        (("所有人", owner), None),
        (("住址", addr), None),
        (("使用性质", truth["use_character"]), ("品牌型号", truth["model"])),
        (("车辆识别代号", truth["vin"]), None),
        (("发动机号码", truth["engine_num"]), None),
        (("注册日期", truth["register_date"]), ("发证日期", truth["issue_date"])),
    ]
    y: float = 230
    address_lines: list[dict[str, Any]] = []
    for left, right in rows:
        c.text((xl, y), left[0], lab, LABEL)
        first_line = len(c.lines)
        if wrapped and left[0] == "住址":
            y = c.paragraph((xv, y), left[1], val, c.w - xv - 60, leading=1.3)
        else:
            size = val if text_width(left[1], val) < c.w - xv - 60 else 30
            c.text((xv, y), left[1], size)
        if left[0] == "住址":
            address_lines = lines_since(c, first_line)
        if right:
            c.text((xr, y), right[0], lab, LABEL)
            c.text((xrv, y), right[1], val)
        y += 88
    seal(
        c,
        (150, 720),
        100,
        f"{city.province}{city.name.removeprefix(city.province)}公安局交通警察支队",
        rng,
    )
    return c.image, truth, {"address_lines": address_lines, "drawn": list(c.lines)}


CAR_CLASSES = ("C1", "C1", "C1", "C2", "C2", "B2", "A1", "A2", "C1E", "B1")


DL_VALUE, DL_ADDRESS_WIDTH = 36, 690


def drivinglicense(rng: random.Random, layout: str = "standard") -> Drawn:
    """驾驶证; "wrapped_address" prints 住址 over two or three lines."""
    sex = rng.choice(("男", "女"))
    person = fk.name(rng, sex)
    city, district, region = fk.place(rng)
    birth = fk.date_between(rng, dt.date(1955, 1, 1), dt.date(2005, 12, 31))
    first = fk.date_between(rng, fk.add_years(birth, 18), dt.date(2025, 6, 30))
    renewals = rng.randint(0, 2)
    start = fk.add_years(first, 6 * min(renewals, 1) + 10 * max(renewals - 1, 0))
    if start > dt.date(2025, 9, 1):
        start = first
    end = fk.add_years(start, 6 if start == first else 10)
    truth = {
        "id_num": fk.id_number(rng, region, birth, sex),
        "name": person,
        "sex": sex,
        "nationality": "中国",
        "address": (
            long_address(rng, city, district, DL_VALUE, DL_ADDRESS_WIDTH, range(2, 4))
            if layout == "wrapped_address"
            else fk.address(rng, city, district)
        ),
        "birth_date": f"{birth:%Y-%m-%d}",
        "issue_date": f"{first:%Y-%m-%d}",
        "car_class": rng.choice(CAR_CLASSES),
        "valid_from": f"{start:%Y-%m-%d}",
        "valid_to": f"{end:%Y-%m-%d}",
    }
    c = _licence_base(
        rng, "中华人民共和国机动车驾驶证", "Driving License of the People's Republic of China"
    )
    lab, val = 28, DL_VALUE
    xl, xv = 60, 250
    c.text((xl, 220), "证号", lab, LABEL)
    c.text((xv, 220), truth["id_num"], 40, tracking=4)
    c.text((xl, 305), "姓名", lab, LABEL)
    c.text((xv, 305), person, val)
    c.text((540, 305), "性别", lab, LABEL)
    c.text((620, 305), sex, val)
    c.text((720, 305), "国籍", lab, LABEL)
    c.text((800, 305), "中国", val)
    c.text((xl, 390), "住址", lab, LABEL)
    first_line = len(c.lines)
    last = c.paragraph((xv, 390), truth["address"], val, DL_ADDRESS_WIDTH, leading=1.35)
    address_lines = lines_since(c, first_line)
    y = max(last + 85, 475)
    for label, value in (
        ("出生日期", truth["birth_date"]),
        ("初次领证日期", truth["issue_date"]),
        ("准驾车型", truth["car_class"]),
    ):
        c.text((xl, y), label, lab, LABEL)
        c.text((xv, y), value, val)
        y += 80
    c.text((xl, y), "有效期限", lab, LABEL)
    c.text((xv, y), f"{truth['valid_from']} 至 {truth['valid_to']}", val)
    photo_box(c, (990, 330, 1230, 640))
    seal(
        c,
        (150, 530),
        95,
        f"{city.province}{city.name.removeprefix(city.province)}公安局交通警察支队",
        rng,
    )
    return c.image, truth, {"address_lines": address_lines}


ENTERPRISE_TYPES = (
    "有限责任公司(自然人投资或控股)",
    "有限责任公司(自然人独资)",
    "股份有限公司(非上市)",
    "有限责任公司(法人独资)",
    "个人独资企业",
)
TRADES = (
    "科技",
    "信息技术",
    "贸易",
    "餐饮管理",
    "文化传媒",
    "建筑工程",
    "物流",
    "电子商务",
    "教育咨询",
)
BRANDS = ("华信", "博远", "恒达", "众诚", "鑫源", "瑞丰", "中科", "天择", "聚力", "启明", "海纳")
SCOPES = (
    "技术开发、技术咨询、技术服务",
    "计算机软硬件及辅助设备销售",
    "信息系统集成服务",
    "数据处理和存储支持服务",
    "企业管理咨询",
    "组织文化艺术交流活动",
    "广告设计、制作、代理",
    "会议及展览服务",
    "日用百货销售",
    "普通货物仓储服务(不含危险化学品等需许可审批的项目)",
    "国内货物运输代理",
    "餐饮服务(依法须经批准的项目，经相关部门批准后方可开展经营活动)",
    "教育咨询服务(不含涉许可审批的教育培训活动)",
    "建筑材料销售",
    "五金产品零售",
    "互联网销售(除销售需要许可的商品)",
)
CAPITALS = (10, 30, 50, 100, 200, 300, 500, 800, 1000, 1200, 2000, 5000)


WECHAT_PUNCTUATION = str.maketrans({"（": "(", "）": ")", "，": ","})


BIZ_VALUE, BIZ_ADDRESS_WIDTH = 28, 500


def bizlicense(rng: random.Random, layout: str = "standard") -> Drawn:
    """营业执照 (副本); "wrapped_address" prints 住所 over two or three lines."""
    city, district, region = fk.place(rng)
    founded = fk.date_between(rng, dt.date(2000, 1, 1), dt.date(2025, 6, 30))
    until = fk.add_years(founded, rng.choice((10, 20, 30))) - dt.timedelta(days=1)
    period = f"{founded:%Y年%m月%d日}至" + (
        "长期" if rng.random() < 0.6 else f"{until:%Y年%m月%d日}"
    )
    wan = rng.choice(CAPITALS)
    scope = "；".join(rng.sample(SCOPES, rng.randint(4, 8))) + "。"
    firm = f"{city.name.removesuffix('市')}{rng.choice(BRANDS)}{rng.choice(TRADES)}有限公司"
    truth = {
        "reg_num": fk.uscc(rng, region),
        "enterprise_name": firm,
        "type_of_enterprise": rng.choice(ENTERPRISE_TYPES),
        "legal_representative": fk.name(rng, rng.choice("男女")),
        "address": (
            long_address(rng, city, district, BIZ_VALUE, BIZ_ADDRESS_WIDTH, range(2, 4))
            if layout == "wrapped_address"
            else fk.address(rng, city, district)
        ),
        # WeChat answers ASCII brackets and commas inside values (its own example:
        # "中型餐馆(不含凉菜、不含裱花蛋糕,不含生食海产品)。"), whatever the print
        "business_scope": scope.translate(WECHAT_PUNCTUATION),
        "registered_capital": f"{wan}万",
        "registered_date": f"{founded:%Y年%m月%d日}",
        "valid_period": period,
    }
    c = Canvas((1600, 1130), (250, 247, 238))
    guilloche(c, rng, (240, 232, 215), count=20)
    frame(c, (190, 150, 90), 24, 6)
    frame(c, (190, 150, 90), 40, 2)
    emblem(c, (c.w / 2, 130), 62)
    c.text((c.w / 2, 290), "营业执照", 96, (30, 30, 30), anchor="ms", tracking=40, bold=True)
    c.text((c.w / 2, 340), "(副本)", 30, (30, 30, 30), anchor="ms")
    c.text((110, 150), "统一社会信用代码", 26, INK)
    c.text((110, 196), truth["reg_num"], 32, INK, tracking=2)
    qr_block(c, rng, (1330, 90, 1480, 240))
    size, lead = BIZ_VALUE, 1.5
    y0, step = 440, 66
    _field(c, (110, y0), "名称", truth["enterprise_name"], size, 560, lead)
    _field(c, (110, y0 + step), "类型", truth["type_of_enterprise"], size, 560, lead)
    _field(c, (110, y0 + 2 * step), "法定代表人", truth["legal_representative"], size, 560, lead)
    _field(c, (110, y0 + 3 * step), "经营范围", scope, size, 480, lead)
    capital = rng.choice(
        (f"{wan}万元", f"人民币{wan}万元", fk.capital_words(wan), f"人民币{fk.capital_words(wan)}")
    )
    _field(c, (860, y0), "注册资本", capital, size, 500, lead)
    _field(c, (860, y0 + step), "成立日期", truth["registered_date"], size, 500, lead)
    last = _field(c, (860, y0 + 2 * step), "营业期限", period, size, 500, lead)
    y = max(y0 + 3 * step, last + step)
    first_line = len(c.lines) + 1  # after the label
    _field(c, (860, y), "住所", truth["address"], size, BIZ_ADDRESS_WIDTH, lead)
    address_lines = lines_since(c, first_line)
    c.text((1050, 960), "登记机关", 30, INK)
    issued = fk.date_between(rng, founded, dt.date(2025, 9, 30))
    c.text((1150, 1030), f"{issued:%Y年%m月%d日}", 30, INK)
    seal(c, (1240, 985), 105, f"{city.name}{district}市场监督管理局", rng)
    return c.image, truth, {"address_lines": address_lines}


def _field(
    c: Canvas, xy: tuple[float, float], label: str, value: str, size: int, width: int, lead: float
) -> float:
    """A label spread over 5 characters' width, its value wrapped to the right of it."""
    x, y = xy
    span = text_width("法定代表人", size)
    tracking = (span - text_width(label, size)) / max(len(label) - 1, 1)
    c.text((x, y), label, size, INK, tracking=tracking, bold=True)
    return c.paragraph((x + span + 30, y), value, size, width, lead)


SENTENCES = (
    "本通知自发布之日起施行",
    "请各部门认真组织学习并贯彻落实",
    "会议时间定于下周三上午九点",
    "地点在行政楼三楼第二会议室",
    "参会人员请提前十分钟到场签到",
    "如有疑问请联系办公室",
    "根据年度工作计划安排",
    "现将有关事项通知如下",
    "项目验收工作已于本月完成",
    "请于月底前提交书面材料",
    "各单位要高度重视安全生产工作",
    "做好节假日期间的值班安排",
    "报名截止日期为本月二十日",
    "培训内容包括理论学习和实际操作",
    "考核合格者颁发结业证书",
    "欢迎广大师生踊跃参加",
    "产品说明书请妥善保管",
    "使用前请仔细阅读注意事项",
    "本产品适用于家庭及办公场所",
    "保修期内免费维修",
    "客服热线全天二十四小时服务",
    "本次活动最终解释权归主办方所有",
)
ASCII_LINES = (
    "Tel: 0{a}-{b}",
    "Order No. {d}-{a}",
    "Total: {a}.{c} CNY",
    "Email: service{c}@example.com",
    "http://www.example.com/page{c}",
    "Version {c}.{a} Release Notes",
    "Room {a}, Building {c}",
    "Date: {d}",
    "ID: A{b}",
)


def _comm_line(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.2:
        fmt = rng.choice(ASCII_LINES)
        return fmt.format(
            a=rng.randint(10, 999),
            b=rng.randint(1000000, 99999999),
            c=rng.randint(1, 99),
            d=f"{rng.randint(2015, 2025)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
        )
    parts = rng.sample(SENTENCES, rng.randint(1, 2))
    line = "，".join(parts) + rng.choice(("。", "。", "；", ""))
    if r < 0.35:
        line = f"{rng.randint(1, 9)}. " + line
    elif r < 0.45:
        line += f"（{rng.randint(2015, 2025)}年{rng.randint(1, 12)}月）"
    return line


def comm(rng: random.Random) -> tuple[Image.Image, dict[str, Any]]:
    c = Canvas((1240, 1754), rng.choice(((255, 255, 255), (250, 250, 246), (246, 246, 240))))
    size = rng.choice((30, 32, 34, 36, 40))
    margin = rng.randint(90, 150)
    lines = [rng.choice(("通知", "说明", "会议纪要", "产品说明", "Notice 公告"))]
    count = rng.randint(8, 20)
    while len(lines) < count:
        for part in wrap(_comm_line(rng), size, c.w - 2 * margin):
            if len(part.strip()) > 1:  # no line of a lone punctuation mark
                lines.append(part.strip())
    lines = lines[:count]
    step = min(size * rng.uniform(1.7, 2.3), (c.h - 300) / len(lines))
    c.text((c.w / 2, 180), lines[0], size + 14, anchor="ms", bold=True)
    for i, line in enumerate(lines[1:]):
        c.text((margin, 180 + size * 2.5 + i * step), line, size)
    items = [{"text": t, "pos": _pos(box)} for t, box in c.lines]
    return c.image, {"items": items, "img_size": {"w": c.w, "h": c.h}}


def _pos(box: tuple[int, int, int, int]) -> dict[str, dict[str, int]]:
    x0, y0, x1, y1 = box
    return {
        "left_top": {"x": x0, "y": y0},
        "right_top": {"x": x1, "y": y0},
        "right_bottom": {"x": x1, "y": y1},
        "left_bottom": {"x": x0, "y": y1},
    }
