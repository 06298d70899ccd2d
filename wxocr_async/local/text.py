"""Normalising recognised text: one place for every rule that rewrites what was read.

* :func:`fold_document_text`, applied to every line of a mainland document before its
  extractor sees it (see below);
* :func:`compact` and :func:`spaced`, for matching: spaces dropped (one kept between Latin
  words) and full-width digits, letters and punctuation made ASCII;
* :func:`clean`, for a value as WeChat replies with it.

PP-OCRv6 reads simplified and traditional Chinese alike, and now and then answers a
simplified glyph with its traditional form ("民族漢", "粵B·12345", "號碼"); it also returns
the spaces it sees ("6222 0212 3456", "大众汽车牌 SVW7386GS"). ID cards, bank cards,
licences and plates are mainland documents: their vocabulary (provinces, ethnic groups,
the labels, the words of an address) is printed simplified and without spaces, so on them
those traditional forms are folded and the spaces dropped. Printed text and menus are
returned as printed.
"""

from __future__ import annotations

import re

#: the endpoints whose documents are mainland ones, printed in simplified characters
MAINLAND_DOCUMENTS = frozenset(
    {"idcard", "bankcard", "driving", "drivinglicense", "bizlicense", "platenum"}
)

#: traditional -> simplified, for the vocabulary of those documents: provinces and their
#: abbreviations, ethnic groups, the labels of the cards and licences, common surnames and
#: the common words of addresses and company names. Only forms that are no simplified
#: character of their own (於, 餘 and 乾 are, as surnames or in place names: left alone)
_TRADITIONAL = (
    "滬遼魯蘇贛晉陝閩貴粵寧瓊雲漢滿維爾壯鮮瑤薩東鄉納頗達錫烏別羅溫獨龍倫門諾號碼證發"
    "機關簽車輛駕準統會經營範圍記註冊資額執類稱識動檔質國華區縣鎮樓單內場廣灣臺長駛體"
    "時間齡歲効屆點線專業務際貿術電氣開設計訊網絡諮詢產銷農築軟醫藥療學習園廠頭橋莊陽"
    "陰風鳳鄭劉陳張趙楊黃吳孫馬許鄧馮韓蕭葉鍾譚賈賴錢嚴顧湯龔盧蔣謝韋聶齊喬閻萬衛層壽"
    "興豐寶偉傑強軍紅麗濟蘭廈慶濱團聯銀鐵運輸貨飲飯館與為從個們來員師傳價優儲兒黨藝節"
    "議譯護義舉衆眾組織總紀約級細綜練縫績續纖倉廳廟鄰鄒郵鄺鍋鋼錦鎖鏈鑄鑽閣闊陸陣隊險"
    "隨雙雞離難雜靈韻頂項順須預領頻題顏顯飛餅饅騰驗髮鬥鳥鳴鴻鵬鶴鹽麥齒劃劑勞勢勝協廚"
    "參嘆圖圓堅報塊塗塵墊壓壞夢奪奮婦媽嬰寫實審寬對尋導屬嶺巖幣帥帳幫庫廢異彈徑復徵態"
    "憑應懷戰戶擔據擇擊擴攝數斷昇晝暢曆曉書條極構標樂樣樹橫檢權歐歷歸殘殼氫決沒沖況洶"
    "淨淚淺渦測湧滅滙滾漁漲潔潤澤濕濤灑灘災無煙煉熱爐爭牆狀猶獅獎獲現環畢畫當瘋癥盞盡"
    "監盤睜礦確礎禮禪種稅穀積穩窮競筆簡籃糧係糾紙紡終結給絕絲綁綠綿緊緒編緣縮繩繪繼缽"
    "罰罷聖聞聲職聽肅脅脈腦腳膚臉臨舊艙艦藍蘋處虧蟲蠶衝補製複襯見規視親覺觀訂討訓訪評"
    "詞試詩該認誤說誰課調談請諸講謀讀變讓豬貓貝負財責貧購貸費賀賣賽贈贊趕趨跡踐軌軸載"
    "較輕輔輪轉辦辭這連進遊過違遠適遷選遺邊醜釋針鈕鉛銅銘鋒錄錯鍵鎊鏡鐘鑒閉閒閘閱闆闖"
    "隱雖霧靜韌響頁頓頒頤頸颱飄飽養餵駐騎騙驅驚髒鬆魚鮑鯉鱗鴨鵝麵龜"
)
_SIMPLIFIED = (
    "沪辽鲁苏赣晋陕闽贵粤宁琼云汉满维尔壮鲜瑶萨东乡纳颇达锡乌别罗温独龙伦门诺号码证发"
    "机关签车辆驾准统会经营范围记注册资额执类称识动档质国华区县镇楼单内场广湾台长驶体"
    "时间龄岁效届点线专业务际贸术电气开设计讯网络咨询产销农筑软医药疗学习园厂头桥庄阳"
    "阴风凤郑刘陈张赵杨黄吴孙马许邓冯韩萧叶钟谭贾赖钱严顾汤龚卢蒋谢韦聂齐乔阎万卫层寿"
    "兴丰宝伟杰强军红丽济兰厦庆滨团联银铁运输货饮饭馆与为从个们来员师传价优储儿党艺节"
    "议译护义举众众组织总纪约级细综练缝绩续纤仓厅庙邻邹邮邝锅钢锦锁链铸钻阁阔陆阵队险"
    "随双鸡离难杂灵韵顶项顺须预领频题颜显飞饼馒腾验发斗鸟鸣鸿鹏鹤盐麦齿划剂劳势胜协厨"
    "参叹图圆坚报块涂尘垫压坏梦夺奋妇妈婴写实审宽对寻导属岭岩币帅帐帮库废异弹径复征态"
    "凭应怀战户担据择击扩摄数断升昼畅历晓书条极构标乐样树横检权欧历归残壳氢决没冲况汹"
    "净泪浅涡测涌灭汇滚渔涨洁润泽湿涛洒滩灾无烟炼热炉争墙状犹狮奖获现环毕画当疯症盏尽"
    "监盘睁矿确础礼禅种税谷积稳穷竞笔简篮粮系纠纸纺终结给绝丝绑绿绵紧绪编缘缩绳绘继钵"
    "罚罢圣闻声职听肃胁脉脑脚肤脸临旧舱舰蓝苹处亏虫蚕冲补制复衬见规视亲觉观订讨训访评"
    "词试诗该认误说谁课调谈请诸讲谋读变让猪猫贝负财责贫购贷费贺卖赛赠赞赶趋迹践轨轴载"
    "较轻辅轮转办辞这连进游过违远适迁选遗边丑释针钮铅铜铭锋录错键镑镜钟鉴闭闲闸阅板闯"
    "隐虽雾静韧响页顿颁颐颈台飘饱养喂驻骑骗驱惊脏松鱼鲍鲤鳞鸭鹅面龟"
)
_FOLD = str.maketrans(_TRADITIONAL, _SIMPLIFIED)
#: whitespace between two Latin letters separates words (the English labels of bilingual
#: licences: "Date of Birth"); any other is a gap the recogniser saw between glyphs
_GAP = re.compile(r"(?<![A-Za-z])\s+|\s+(?![A-Za-z])")


def fold_document_text(text: str) -> str:
    """``text`` read on a mainland document: traditional forms of its vocabulary folded,
    and the gaps between glyphs dropped."""
    return _GAP.sub("", fold_forms(text)).strip()


def fold_forms(text: str) -> str:
    """The traditional forms of a mainland document's vocabulary folded, one character for
    one (indices kept)."""
    return text.translate(_FOLD)


_FULL_WIDTH = str.maketrans(
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＳＴＵＶＷＸＹＺ．－：，（）／",
    "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ.-:,()/",
)
_SPACES = re.compile(r"\s+")


def compact(text: str) -> str:
    """Text without spaces and with full-width digits/letters/punctuation made ASCII."""
    return _SPACES.sub("", text).translate(_FULL_WIDTH)


def spaced(text: str) -> str:
    """:func:`compact`, but one space kept between Latin words ("Kung Pao Chicken")."""
    text = _SPACES.sub(" ", text.translate(_FULL_WIDTH)).strip()
    return re.sub(r" (?![A-Za-z0-9])|(?<![A-Za-z0-9.,']) ", "", text)


#: printed full-width punctuation that WeChat replies with in half-width form (the rest,
#: such as "：" and "；", it keeps as printed)
_HALF_WIDTH = str.maketrans({"（": "(", "）": ")", "，": ","})


def clean(text: str) -> str:
    """A value read after its label, as WeChat replies with it: without spaces and the
    colons/punctuation it may start with, its brackets and commas half width."""
    return _SPACES.sub("", text).translate(_HALF_WIDTH).lstrip(":：;；,，.、")
