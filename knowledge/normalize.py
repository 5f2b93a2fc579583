"""Text normalisation for retrieval: t2s, width, case, punctuation, fillers, numerals."""
from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from typing import Mapping

_LOGGER = logging.getLogger(__name__)

MAX_INPUT_CHARS = 2000
"""Only this many leading characters of any input are looked at (keeps huge messages cheap)."""

# Filler phrases removed anywhere (longest first when compiled). Kept conservative: every entry
# is something residents say around a question, never the content of a government service.
_FILLERS = (
    "我想咨询一下", "我想咨询下", "我想问一下", "我想问下", "我想问问", "我想了解一下", "我想了解下",
    "想咨询一下", "想问一下", "想问下", "想问问", "想了解一下", "麻烦问一下", "麻烦问下", "请问一下",
    "咨询一下", "问一下", "请问", "我想知道", "想知道", "你好", "您好", "你们好", "老师好", "谢谢你",
    "谢谢您", "谢谢", "麻烦了", "麻烦您", "不好意思", "打扰一下", "打扰了", "那个", "这个", "就是",
    "然后", "的话", "嗯", "呃", "额呃", "哎", "唉", "噢", "哦",
)
# Particles dropped only at the end of a clause (啊 also mid-clause: it never starts a content word).
_FINAL_PARTICLES = "啊呀吧呢嘛哈啦哟"

_FILLER_RE = re.compile(
    "|".join(re.escape(f) for f in sorted(_FILLERS, key=len, reverse=True)).replace(
        "这个|", "这个(?!月)|").replace("那个|", "那个(?!月)|")
)
_FINAL_RE = re.compile(f"[{_FINAL_PARTICLES}]+(?=[^\\w]|$)|啊")
_CLAUSE_SPLIT_RE = re.compile(r"[，,。.!！?？;；:：\n\r\t、…~～]+|(?<=\s)\s+")
_KEEP_RE = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")

# Numerals ------------------------------------------------------------------------------------
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
# Measure words / units after which a Chinese numeral is a quantity (longest first).
_UNITS = (
    "个工作日", "个自然日", "个月", "工作日", "周岁", "小时", "分钟", "平方米", "平米", "公里", "公斤",
    "年级", "号线", "个", "年", "岁", "天", "日", "月", "元", "块", "周", "次", "号", "人", "倍",
    "项", "份", "张", "级", "套", "辆", "条", "款", "类", "种", "名", "米", "斤", "页", "代", "孩",
    "胎", "万", "亿", "位", "户", "间", "层", "期", "批", "轮", "星期",
)
# Fixed words whose numerals are not quantities.
_PROTECTED = (
    "一网通办", "一网通", "一次性", "一站式", "一件事", "一卡通", "一窗", "一码通", "一证通", "一体化",
    "一把手", "一线", "一户一", "一人一", "一事一", "一案一", "一门式", "一次办", "一日游", "一条龙",
    "三农", "五险一金", "六一", "五一", "十一", "一带一路", "二手", "三甲", "四险",
)
_NO_CONVERT_BEFORE = "统唯同单万逐专之不某"
_NUM_RE = re.compile(
    "([零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千万]*)(?=" + "|".join(map(re.escape, _UNITS)) + ")"
)
_PURE_DIGITS_RE = re.compile("[零〇一二三四五六七八九]{3,}")
_YAO_DIGITS_RE = re.compile("[零〇幺一二三四五六七八九]{3,}")
"""Digit strings as numbers are read aloud, 1 as 幺 (幺二三四五); converted before any unit
word after them is considered, so 幺二三四五号 is not split up."""
_PROTECTED_RE = re.compile("|".join(map(re.escape, sorted(_PROTECTED, key=len, reverse=True))))


def cn_to_int(text: str) -> int | None:
    """Parse a Chinese numeral such as 六十, 一百二十, 两万五千, 二零二六 into an int.

    Args:
        text: Only numeral characters.

    Returns:
        The value, or None if the text is not a well-formed numeral.
    """
    if not text:
        return None
    if all(c in _DIGITS for c in text):
        if len(text) == 1:
            return _DIGITS[text]
        if "两" in text or (len(text) == 2 and not {"零", "〇"} & set(text)):
            return None  # 三四天 is a range, not 34; 二零 (year fragment) is fine
        return int("".join(str(_DIGITS[c]) for c in text))
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _DIGITS:
            if digit is not None and _DIGITS[ch] != 0:
                return None  # two digits in a row inside a positional numeral (三四十)
            digit = _DIGITS[ch] if _DIGITS[ch] != 0 else None
        elif ch in _SMALL_UNITS:
            section += (1 if digit is None else digit) * _SMALL_UNITS[ch]
            digit = None
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)


def _convert_numerals(text: str) -> str:
    spans: dict[str, list[tuple[int, int]]] = {}

    def protected(m: re.Match, start: int, end: int) -> bool:
        """Whether ``start:end`` of the string ``m`` scans touches a protected word (each pass
        scans a text the passes before it have changed, so spans are found in that text)."""
        if m.string not in spans:
            spans[m.string] = [p.span() for p in _PROTECTED_RE.finditer(m.string)]
        return any(s < end and start < e for s, e in spans[m.string])

    def repl(m: re.Match) -> str:
        run, start = m.group(1), m.start(1)
        if protected(m, start, m.end(1) + 1):
            return run
        if run == "一" and start > 0 and m.string[start - 1] in _NO_CONVERT_BEFORE:
            return run
        if run.endswith("万") and len(run) > 1:  # 两万元 -> 2万元 (keep the magnitude word)
            value = cn_to_int(run[:-1])
            return run if value is None else f"{value}万"
        if run == "万":
            return run
        value = cn_to_int(run)
        return run if value is None else str(value)

    def digits(m: re.Match) -> str:  # one digit per character: 零幺零 keeps its leading 0
        return m.group(0) if protected(m, *m.span()) else "".join(
            "1" if c == "幺" else str(_DIGITS[c]) for c in m.group(0))

    text = _YAO_DIGITS_RE.sub(lambda m: digits(m) if "幺" in m.group(0) else m.group(0), text)
    text = _NUM_RE.sub(repl, text)
    return _PURE_DIGITS_RE.sub(digits, text)


@lru_cache(maxsize=1)
def _converter():
    import opencc  # imported lazily: the C++ extension is not needed by importers of this module

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese characters to Simplified (OpenCC t2s)."""
    return _converter().convert(text) if text else text


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFKC", text[:MAX_INPUT_CHARS]).lower()
    return to_simplified(text)


def _clean(text: str) -> str:
    text = _FILLER_RE.sub("", text)
    text = _FINAL_RE.sub("", text)
    text = _convert_numerals(text)
    return _KEEP_RE.sub("", text)


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Normalise a question or document text for matching.

    Applies, in order: cap at ``MAX_INPUT_CHARS``, NFKC (full-width to half-width), lower case,
    OpenCC Traditional to Simplified, filler-word removal, Chinese numerals to Arabic where they
    are quantities, and removal of everything but CJK characters, Latin letters and digits.

    Args:
        text: Raw text.

    Returns:
        The normalised text (may be empty).
    """
    if not text:
        return ""
    return _clean(_prepare(text))


def split_clauses(text: str) -> list[str]:
    """Split raw text into normalised clauses at punctuation (empty clauses dropped).

    Args:
        text: Raw text.

    Returns:
        Normalised clauses in their original order.
    """
    if not text:
        return []
    parts = _CLAUSE_SPLIT_RE.split(_prepare(text))
    return [c for c in (_clean(p) for p in parts) if c]


# Terms (synonyms) and clause weighting ---------------------------------------------------------
QUESTION_CUES = ("怎么", "如何", "怎样", "咋", "吗", "哪", "什么", "啥", "多少", "几", "能否", "可否",
                 "是否", "能不能", "可不可以", "有没有", "是不是", "办理", "申请", "需要", "要求",
                 "流程", "材料", "条件", "手续", "多久", "时间", "费用")
_CUE_RE = re.compile("|".join(map(re.escape, QUESTION_CUES)))


class TermMap:
    """Colloquial variant -> standard term replacement (applied to queries and documents alike).

    Standards also match themselves, and alternatives are tried longest first, so a standard that
    contains its variant (公积金 -> 住房公积金) is never expanded twice.
    """

    def __init__(self, terms: Mapping[str, str] | None = None):
        pairs: dict[str, str] = {}
        for variant, standard in (terms or {}).items():
            v, s = normalize(variant or ""), normalize(standard or "")
            if v and s and v != s:
                pairs[v] = s
        self.pairs = pairs
        alts = sorted(set(pairs) | set(pairs.values()), key=len, reverse=True)
        self._re = re.compile("|".join(map(re.escape, alts))) if alts else None

    def apply(self, text: str) -> str:
        """Replace every variant in normalised ``text`` by its standard term."""
        if not self._re or not text:
            return text
        return self._re.sub(lambda m: self.pairs.get(m.group(0), m.group(0)), text)

    def words(self) -> set[str]:
        """All variants and standards (user-dictionary words)."""
        return set(self.pairs) | set(self.pairs.values())

    def changed_words(self, other: "TermMap") -> set[str]:
        """Variants and standards whose mapping differs between ``self`` and ``other``."""
        out: set[str] = set()
        for v in set(self.pairs) | set(other.pairs):
            a, b = self.pairs.get(v), other.pairs.get(v)
            if a != b:
                out.update(x for x in (v, a, b) if x)
        return out


def clause_weights(clauses: list[str], long_chars: int = 24, context_weight: float = 0.5,
                   window: int = 12) -> tuple[list[str], list[float]]:
    """Weight the clauses of a long query so personal context does not drown the question.

    Short queries keep weight 1 everywhere. In a long query, clauses holding a question cue
    (怎么, 如何, 吗, 材料 ...) keep 1 and the others get ``context_weight``. An unpunctuated long
    query (speech) is split ``window`` characters before its first cue.

    Args:
        clauses: Normalised clauses.
        long_chars: Queries up to this many characters are not weighted.
        context_weight: Weight of context clauses.
        window: Characters before the first cue that still belong to the question.

    Returns:
        (clauses, weights), the clauses possibly re-split.
    """
    if sum(map(len, clauses)) <= long_chars:
        return clauses, [1.0] * len(clauses)
    if len(clauses) == 1:
        text = clauses[0]
        m = _CUE_RE.search(text)
        cut = max(0, m.start() - window) if m else 0
        if cut <= 0:
            return clauses, [1.0]
        return [text[:cut], text[cut:]], [context_weight, 1.0]
    flags = [bool(_CUE_RE.search(c)) for c in clauses]
    if not any(flags):
        return clauses, [1.0] * len(clauses)
    return clauses, [1.0 if f else context_weight for f in flags]


# Question types: what kind of information is asked (bit i = _QTYPE_CUES[i]).
_QTYPE_CUES = (
    ("多少钱", "费用", "收费", "收取", "要钱", "付费", "价格", "价钱", "工本费", "免费", "花钱", "报名费",
     "起步价", "运价", "交钱", "违约金"),                                          # cost
    ("多久", "多长时间", "期限", "几天", "几个月", "几年", "时限", "时效", "有效期", "截止", "最晚",
     "多少天", "多少年"),                                                          # duration
    ("什么时候", "何时", "几点", "哪天", "时间"),                                   # when
    ("比例", "额度", "上限", "最高", "最多", "最低", "标准", "多少"),                  # amount
    ("流程", "手续", "步骤", "程序", "操作", "怎么办理", "如何办理", "怎么申请", "如何申请", "怎么补",
     "补办", "怎么弄"),                                                            # procedure
    ("材料", "资料", "证件", "带什么", "提交"),                                      # materials
    ("哪里", "哪儿", "在哪", "地址", "地点", "去哪", "哪个部门", "找谁", "窗口"),         # where/who
    ("什么是", "什么叫", "是什么", "定义", "指什么", "含义", "概念"),                     # definition
    ("条件", "资格", "要求", "符合"),                                                # eligibility
    ("电话", "热线", "联系方式"),                                                    # contact
    ("为什么", "为啥", "原因"),                                                      # reason
)
_QTYPE_RES = [re.compile("|".join(map(re.escape, cues))) for cues in _QTYPE_CUES]


def question_types(text: str) -> int:
    """Bit mask of the kinds of information a normalised question asks for (cost, duration,
    time, amount, procedure, materials, place, definition, eligibility, contact, reason).

    Args:
        text: Normalised text.

    Returns:
        The mask (0 when no cue is found).
    """
    mask = 0
    for bit, rx in enumerate(_QTYPE_RES):
        if rx.search(text):
            mask |= 1 << bit
    return mask
