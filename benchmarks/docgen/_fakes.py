"""Random, plausible and fake content: people, places, numbers with valid check digits."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from wxocr_async.local.checks import id_check_char, uscc_check_char, vin_check_char


@dataclass(frozen=True)
class City:
    """A city with its province, plate prefix and districts (name, 6-digit region code)."""

    province: str
    abbr: str
    name: str
    letter: str
    districts: tuple[tuple[str, str], ...]


CITIES: tuple[City, ...] = (
    City(
        "北京市",
        "京",
        "北京市",
        "A",
        (("东城区", "110101"), ("朝阳区", "110105"), ("海淀区", "110108")),
    ),
    City(
        "上海市",
        "沪",
        "上海市",
        "A",
        (("黄浦区", "310101"), ("徐汇区", "310104"), ("浦东新区", "310115")),
    ),
    City("天津市", "津", "天津市", "A", (("和平区", "120101"), ("河西区", "120103"))),
    City("重庆市", "渝", "重庆市", "A", (("渝中区", "500103"), ("江北区", "500105"))),
    City("广东省", "粤", "广州市", "A", (("天河区", "440106"), ("越秀区", "440104"))),
    City("广东省", "粤", "深圳市", "B", (("南山区", "440305"), ("福田区", "440304"))),
    City("浙江省", "浙", "杭州市", "A", (("西湖区", "330106"), ("上城区", "330102"))),
    City("浙江省", "浙", "宁波市", "B", (("鄞州区", "330212"),)),
    City("江苏省", "苏", "南京市", "A", (("玄武区", "320102"), ("鼓楼区", "320106"))),
    City("江苏省", "苏", "苏州市", "E", (("姑苏区", "320508"),)),
    City("四川省", "川", "成都市", "A", (("武侯区", "510107"), ("锦江区", "510104"))),
    City("湖北省", "鄂", "武汉市", "A", (("江汉区", "420103"), ("洪山区", "420111"))),
    City("山东省", "鲁", "济南市", "A", (("历下区", "370102"),)),
    City("山东省", "鲁", "青岛市", "B", (("市南区", "370202"),)),
    City("陕西省", "陕", "西安市", "A", (("雁塔区", "610113"), ("碑林区", "610103"))),
    City("河南省", "豫", "郑州市", "A", (("金水区", "410105"), ("二七区", "410103"))),
    City("湖南省", "湘", "长沙市", "A", (("岳麓区", "430104"), ("芙蓉区", "430102"))),
    City("福建省", "闽", "厦门市", "D", (("思明区", "350203"),)),
    City("辽宁省", "辽", "沈阳市", "A", (("和平区", "210102"),)),
    City("安徽省", "皖", "合肥市", "A", (("蜀山区", "340104"),)),
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
)
DOUBLE_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "慕容")
MALE_CHARS = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国志文斌博晨轩峰亮成德"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀燕玲丹萍红婷雪琳晶妍茜颖倩洁琪梅莉兰月欣怡佳慧淑"
SHARED_CHARS = "子一嘉思雨春海天晓家安新泽梓"
MINORITIES = ("回", "满", "壮", "蒙古", "维吾尔", "藏", "苗", "土家", "彝", "朝鲜")
ROADS = (
    "建国路",
    "人民路",
    "解放路",
    "中山路",
    "和平街",
    "长江路",
    "科技园路",
    "学府路",
    "文化路",
    "新华街",
    "朝阳北路",
    "滨河大道",
    "东风路",
    "青年路",
    "金融街",
    "花园路",
    "光明大道",
    "幸福路",
)
ESTATES = ("阳光", "锦绣", "翠苑", "金色", "华府", "碧水", "幸福", "东方", "海棠", "紫荆", "万科")


def name(rng: random.Random, gender: str) -> str:
    surname = rng.choice(DOUBLE_SURNAMES) if rng.random() < 0.03 else rng.choice(SURNAMES)
    pool = (MALE_CHARS if gender == "男" else FEMALE_CHARS) + SHARED_CHARS
    return surname + "".join(rng.choice(pool) for _ in range(rng.choice((1, 2, 2, 2))))


def nationality(rng: random.Random) -> str:
    return "汉" if rng.random() < 0.85 else rng.choice(MINORITIES)


def place(rng: random.Random) -> tuple[City, str, str]:
    """A city, one of its districts and that district's region code."""
    city = rng.choice(CITIES)
    district, code = rng.choice(city.districts)
    return city, district, code


def address(rng: random.Random, city: City, district: str) -> str:
    """A full address, province to room: 17-32 characters."""
    head = city.name if city.province == city.name else city.province + city.name
    road = rng.choice(ROADS) + f"{rng.randint(1, 399)}号"
    form = rng.randrange(3)
    if form == 0:
        rest = f"{rng.choice(ESTATES)}小区{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元"
        rest += f"{rng.randint(1, 32)}{rng.randint(1, 4):02d}室"
    elif form == 1:
        rest = f"{rng.randint(1, 20)}号楼{rng.randint(1, 32)}{rng.randint(1, 8):02d}"
    else:
        rest = f"{rng.choice(ESTATES)}花园{rng.randint(1, 12)}幢{rng.randint(101, 2806)}房"
    return head + district + road + rest


def date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def id_number(rng: random.Random, region: str, birth: dt.date, gender: str) -> str:
    """An 18-character resident ID number with a valid GB 11643 check character."""
    seq = rng.randrange(0, 1000)
    if (seq % 2 == 1) != (gender == "男"):
        seq = (seq + 1) % 1000
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


BANKS: tuple[tuple[str, str, tuple[str, ...], tuple[int, ...]], ...] = (
    ("中国工商银行", "ICBC", ("622202", "621226", "622208"), (19,)),
    ("中国建设银行", "China Construction Bank", ("621700", "622700", "436742"), (19, 16)),
    ("中国农业银行", "Agricultural Bank of China", ("622848", "622845", "103"), (19,)),
    ("中国银行", "BANK OF CHINA", ("621661", "621785", "456351"), (19, 16)),
    ("招商银行", "China Merchants Bank", ("622588", "621483", "410062"), (16,)),
    ("交通银行", "BANK OF COMMUNICATIONS", ("622260", "622262"), (17, 19)),
    ("中国邮政储蓄银行", "Postal Savings Bank of China", ("621799", "622188"), (19,)),
)


def luhn_number(rng: random.Random, prefix: str, length: int) -> str:
    """A ``length``-digit number starting with ``prefix`` whose last digit is the Luhn check."""
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O
DIGITS = "0123456789"


def plate(rng: random.Random, city: City | None = None) -> tuple[str, str]:
    """A plate number without the separator dot, and its colour (blue, yellow or green)."""
    city = city or rng.choice(CITIES)
    head = city.abbr + city.letter
    colour = rng.choices(("blue", "yellow", "green"), (6, 2, 3))[0]
    if colour == "green":
        return head + rng.choice("DF") + "".join(rng.choice(DIGITS) for _ in range(5)), colour
    tail = [rng.choice(DIGITS) for _ in range(5)]
    for spot in rng.sample(range(5), rng.choice((0, 0, 1, 1, 2))):
        tail[spot] = rng.choice(PLATE_LETTERS)
    return head + "".join(tail), colour


VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def vin(rng: random.Random) -> str:
    """A 17-character VIN with a valid check character in position 9."""
    wmi = rng.choice(("LSV", "LFV", "LVS", "LGB", "LHG", "LBV", "LVG", "LZW"))
    chars = list(wmi + "".join(rng.choice(VIN_CHARS) for _ in range(14)))
    chars[8] = "0"
    check = vin_check_char("".join(chars))
    assert check is not None
    chars[8] = check
    return "".join(chars)


_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc(rng: random.Random, region: str) -> str:
    """An 18-character unified social credit code with valid GB 11714 and GB 32100 checks."""
    body = "".join(rng.choice(_USCC[:10] * 2 + _USCC[10:]) for _ in range(8))
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    org_check = {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))
    first17 = "91" + region + body + org_check
    check = uscc_check_char(first17)
    assert check is not None
    return first17 + check


_CN_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_CN_UNITS = ("", "拾", "佰", "仟")


def capital_words(wan: int) -> str:
    """``wan`` (1-9999) ten-thousands in financial numerals: 300 -> 叁佰万元整."""
    out = ""
    digits = f"{wan}"
    for i, c in enumerate(digits):
        unit = _CN_UNITS[len(digits) - 1 - i]
        if c != "0":
            out += _CN_DIGITS[int(c)] + unit
        elif not out.endswith("零") and any(d != "0" for d in digits[i:]):
            out += "零"
    return out + "万元整"
