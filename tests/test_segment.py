"""The search's segmenter and simplifier: jieba's cut and dictionary, zhconv's conversion, in a
web worker's memory budget."""

import random
import subprocess
import sys
from pathlib import Path

import pytest

from proposals import search, segment
from proposals.simplified import simplified

ROOT = Path(__file__).resolve().parent.parent
LETTER_069 = (ROOT / "demo" / "fixtures" / "reply-letter-069.txt").read_text(encoding="utf-8")
ODD = [
    "关于加快创建国家级高新区的建议",
    "Ａｂｃ１２３ abc123 x-y 3.5% c# B超 é 㐀㐁 〇 ok 高新區 pp灰",
    "梁平区营商环境 网格化管理 一网通办 退役军人事务局 第069号",
    "推进明月山绿色发展示范带建设，补齐农村公路短板。",
]


@pytest.fixture(scope="module")
def ours():
    """A segmenter of jieba's dictionary alone (the process's may have the units' names)."""
    return segment.Segmenter.from_file()


@pytest.fixture(scope="module")
def jieba_tokenizer():
    jieba = pytest.importorskip("jieba")
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def mixed_texts(n):
    # Characters whose strings CPython hashes alike ('pp' and '灰', U+7070), other scripts,
    # digits and the ones jieba's runs keep (+#&._%-).
    alphabet = "pqpp灰灱a1é高新区创建国家级养老服务营商环境社区的是了第号+#&._%-〇㐀 "
    rng = random.Random(69)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(n)]


def test_it_cuts_as_jieba_does(ours, jieba_tokenizer):
    assert ours.total == jieba_tokenizer.total
    texts = [*ODD, LETTER_069, *map(search.fold, [*ODD, LETTER_069]), *mixed_texts(3000)]
    for text in texts:
        assert list(ours.cut(text)) == list(jieba_tokenizer.cut(text, HMM=False)), text
        assert list(ours.cut_for_search(text)) == list(
            jieba_tokenizer.cut_for_search(text, HMM=False)
        ), text


def test_it_holds_every_word_of_jiebas_dictionary(ours, jieba_tokenizer):
    words = {w: f for w, f in jieba_tokenizer.FREQ.items() if f}
    assert len(words) == 349_045
    assert all(ours.frequency(w) == f for w, f in words.items())
    # The prefixes jieba keeps beside them are no words.
    assert all(ours.frequency(w) == 0 for w, f in jieba_tokenizer.FREQ.items() if not f)
    assert ours.frequency("pp") == 0 and ours.frequency("灰") == 2873


UNITS = [
    "重庆市梁平区经济和信息化委员会",
    "区经济信息委",
    "重庆梁平工业园区管理委员会",
    "区科技局",
    "重庆市梁平区退役军人事务局",
    "区大数据发展局",
    "明月山绿色发展示范带",
    "AT&T梁平分公司",
    "5g基站",
    "c++学会",
    "4s",  # no word, but the beginning of one (4s店): jieba weighs it 0 when adding
    "梁平岿区",  # 岿 too
    "㐀㐁",
    "高新区",
]


def test_added_words_weigh_as_the_search_made_them_weigh_with_jieba():
    jieba = pytest.importorskip("jieba")
    theirs = jieba.Tokenizer()
    ours = segment.Segmenter.from_file()
    ours.set_added(set(UNITS))
    for word in sorted(UNITS):  # what search.py did with the global tokenizer
        theirs.add_word(word)
        theirs.suggest_freq(word, tune=True)
    assert ours.total == theirs.total
    assert [ours.frequency(w) for w in UNITS] == [theirs.FREQ[w] for w in UNITS]
    parts = ["4s", "岿", "AA", "pp", "灰", "岿区", "qq"]
    assert [ours._jieba_frequency(p) for p in parts] == [theirs.FREQ.get(p, 1) for p in parts]
    for text in [*ODD, LETTER_069, "重庆市梁平区科学技术局和区科技局", *mixed_texts(500)]:
        assert list(ours.cut_for_search(text)) == list(theirs.cut_for_search(text, HMM=False)), text


def test_added_words_are_cut_whole_and_taken_back():
    ours = segment.Segmenter([("推进", 5000), ("明月", 50), ("山", 900), ("高新区", 270)])
    total = ours.total
    ours.set_added({"明月山绿色发展示范带", "高新区"})
    assert "明月山绿色发展示范带" in list(ours.cut("推进明月山绿色发展示范带建设"))
    ours.set_added({"高新区"})
    assert "明月山绿色发展示范带" not in list(ours.cut("推进明月山绿色发展示范带建设"))
    ours.set_added(set())
    assert (ours.total, ours.frequency("高新区")) == (total, 270)


def test_the_table_holds_what_it_was_made_for_and_refuses_more():
    ours = segment.Segmenter(capacity=4000)
    words = [f"词{i}" for i in range(5000)]
    for i, word in enumerate(words):
        ours.add(word, i * 300 + 1)  # up to 1,499,701: beyond 20 bits too
    assert [ours.frequency(w) for w in words] == [i * 300 + 1 for i in range(5000)]
    assert ours.frequency("词5000") == 0
    with pytest.raises(ValueError):
        for i in range(5000, 10_000):
            ours.add(f"词{i}", 1)


def test_a_worker_loads_both_in_little_memory_without_importing_jieba_or_zhconv():
    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc")
    # A fresh process: its RSS before and after its first cut.
    code = (
        "import re, sys\n"
        "rss = lambda: int(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read())[1])\n"
        "import django.db.models\n"
        "from proposals import segment, simplified\n"
        "before = rss()\n"
        "text = simplified.simplified('關於加快創建國家級高新區的建議')\n"
        "list(segment.segmenter().cut_for_search(text))\n"
        "modules = {'jieba', 'zhconv', 'pkg_resources'} & set(sys.modules)\n"
        "print(rss() - before, *modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    # jieba's Tokenizer: 81 MiB, its import 9 more; zhconv 7, and 6 for pkg_resources.
    assert int(out[0]) < 20 * 1024 and out[1:] == []


def test_it_simplifies_as_zhconv_does():
    zhconv = pytest.importorskip("zhconv")
    texts = [LETTER_069, *ODD, "乾隆乾燥 後來 頭髮 發展 著作 甚麼 A肝 IP位址 16進位", "", "abc"]
    texts += [zhconv.convert(t, locale) for t in texts for locale in ("zh-tw", "zh-hk")]
    # Strings of zhconv's own phrases and characters, which overlap (乾 乾隆 乾燥 隆…).
    keys = [*zhconv.zhconv.getdict("zh-cn"), *"的是了高新区 abc"]
    rng = random.Random(69)
    texts += ["".join(rng.choice(keys) for _ in range(rng.randint(1, 12))) for _ in range(5000)]
    for text in texts:
        assert simplified(text) == zhconv.convert(text, "zh-cn"), text
    assert search.fold("高新區 ＡＢＣ") == "高新区 abc"
