"""Traditional → simplified Chinese, as `zhconv.convert(text, "zh-cn")` converts, from zhconv's
own table but without importing zhconv.

Search folds every text and query with it (proposals/search.py). zhconv itself, in every web
worker, loads all eight of its conversions (35,000 entries, of which zh-cn uses two) and imports
`pkg_resources` to find its file: 6 MiB for that import alone (measured: VmRSS), which nothing
else in the app imports. Here: the two tables zh-cn uses, read from the installed zhconv's
`zhcdict.json`, and zhconv's longest-match conversion. `tests/test_segment.py` checks that the
result is zhconv's.
"""

import importlib.util
import json
import threading
from pathlib import Path

_table = None
_loading = threading.Lock()


def zhconv_dictionary():
    """The installed zhconv's zhcdict.json, found without importing zhconv."""
    spec = importlib.util.find_spec("zhconv")
    return Path(spec.submodule_search_locations[0]) / "zhcdict.json"


def _part(text, name):
    # One conversion of the file's object, without building the other seven.
    start = text.index(":", text.index(f'"{name}"')) + 1
    while text[start] in " \r\n\t":
        start += 1
    return json.JSONDecoder().raw_decode(text, start)[0]


def _load():
    text = zhconv_dictionary().read_text(encoding="utf-8")
    conversions = _part(text, "zh2Hans")
    conversions.update(_part(text, "zh2CN"))  # zhconv's getdict("zh-cn")
    # Without the 3,801 characters converted to themselves (a phrase converted to itself
    # stays: 乾隆 keeps 乾 from becoming 干).
    conversions = {k: v for k, v in conversions.items() if len(k) > 1 or k != v}
    # The phrases' beginnings, but not the 8,500 characters' (zhconv keeps both, 13,000).
    beginnings = frozenset(k[:n] for k in conversions for n in range(2, len(k)))
    starts = frozenset(k[0] for k in conversions if len(k) > 1)
    return conversions, beginnings, starts


def table():
    global _table
    if _table is None:
        with _loading:
            if _table is None:
                _table = _load()
    return _table


def simplified(text):
    """The text in simplified characters (zhconv.convert(text, "zh-cn"))."""
    if text.isascii():
        return text
    conversions, beginnings, starts = table()
    out = []
    pos, n = 0, len(text)
    while pos < n:
        # zhconv's conversion: the longest phrase of the table starting here (乾隆 stays, 乾燥
        # → 干燥), else the character's conversion, else the character.
        char = text[pos]
        found, end = conversions.get(char, char), pos + 1
        if char in starts:
            stop = pos + 2
            while stop <= n:
                part = text[pos:stop]
                if part in conversions:
                    found, end = conversions[part], stop
                elif part not in beginnings:
                    break
                stop += 1
        out.append(found)
        pos = end
    return "".join(out)
