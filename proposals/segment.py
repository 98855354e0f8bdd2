"""Chinese word segmentation for search: jieba's cut, with its whole dictionary in 6 MiB.

The cut is jieba's (0.42.1) without its HMM, which search never used: a DAG of the dictionary
words at each position, the most probable route through it by the words' frequencies, runs of
single ASCII letters and digits joined; search mode adds the two- and three-character
dictionary words inside every longer word. The dictionary is jieba's `dict.txt`, read from the
installed package. `tests/test_segment.py` checks that the tokens are jieba's, with the added
words too: the search entries written before stay valid.

Why not jieba's `Tokenizer`: memory, in every web worker (the goal: 150 MB a worker). It keeps
the 349,046 words and all their prefixes as a dict of 498,113 str keys: `initialize()` takes a
process from 10 to 91 MiB; `import jieba` costs 9 MiB more (`pkg_resources`, which its
`_compat` imports, and the HMM's tables). Measured instead (VmRSS after loading):

- jieba's own advice, a smaller dictionary (its README's `dict.txt.small`, 109,750 words, is
  not in the package): `dict.txt` without its words below frequency 4 (159,318 of frequency
  3, the floor it gives phrases, and 40,502 rarer), in a dict without prefixes: 149,226 words,
  18 MiB — and other tokens (营商 → 营 / 商, which match nearly any letter, unless a list of
  the domain's words keeps them), so every index to rewrite;
- the whole dictionary in a hash table without str objects: a slot is one 64-bit integer
  (`table`: the top 43 bits of the word's hash, whose bottom bits chose the slot, and its
  frequency), and jieba's prefixes are a bit each in a bitmap (`beginnings`, 1 MiB); with
  the lengths of the words that start with each character (`lengths`) that gives jieba's
  DAG, and the same tokens. 2^19 slots: 6.4 MiB, and cutting as fast as jieba's (2^20 slots
  without the bitmap: 9.5 MiB, 1.4 times as long; 2^19 without: 2.3 times). A word is taken
  to be there when those 43 bits are found near its slot: a string that is no word is taken
  for one about once in 10^12 lookups. This module does that.

`VERSION` names the cut: stored tokens depend on it (a new one means `reindex_search`).
"""

import importlib.util
import re
import threading
from array import array
from math import log
from pathlib import Path

VERSION = "jieba-0.42.1"

# jieba's: the runs it cuts (everything else goes one character at a time), and what it joins.
HAN = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)")
SKIP = re.compile("(\r\n|\\s)")
ENG = re.compile("[a-zA-Z0-9]")


def jieba_dictionary():
    """The installed jieba's dict.txt, found without importing jieba."""
    spec = importlib.util.find_spec("jieba")
    return Path(spec.submodule_search_locations[0]) / "dict.txt"


# A slot of the table is one 64-bit integer: the top 43 bits of the word's hash (the bottom
# ones chose where it is), a bit saying the slot is taken, and the frequency (20 bits; larger
# ones, which jieba's dictionary has none of, in `large`).
FREQUENCY_BITS = 20
TAKEN = 1 << FREQUENCY_BITS
FULL = TAKEN - 1
HASH_SHIFT = FREQUENCY_BITS + 1
BITS64 = (1 << 64) - 1
# A bit for each beginning of a word (jieba's prefixes), at 23 bits of its hash: where none
# is, no longer word starts either, and the walk stops, as jieba's does. 490,000 beginnings
# set 6 % of the 2^23 bits, so a string that begins no word looks like one that does 6
# times in 100: the table is then asked, and says no.
BEGINNING_BITS = 23
BEGINNING_MASK = (1 << BEGINNING_BITS) - 1


def _hash(word):
    # str's hash is SipHash of its bytes in memory, which are the same for 'pp' (one byte a
    # character) and '灰' (U+7070, two bytes): strings hashed alike that way differ in length,
    # and the length in the high bits tells them apart.
    return (hash(word) ^ ((len(word) & 127) << 56)) & BITS64


class Segmenter:
    """jieba's precise (`cut`) and search (`cut_for_search`) modes, without HMM, over
    {word: frequency} pairs kept as hashes (`add`, `frequency`)."""

    # Slots for each word the table is made for: two thirds full. Most strings that are no
    # word never reach it (`beginnings`).
    ROOM = 1.5

    def __init__(self, words=(), capacity=1000):
        self.total = 0
        self.used = 0
        size = 1 << int(self.ROOM * capacity).bit_length()
        self.mask = size - 1
        self.table = array("Q", bytes(8 * size))
        self.beginnings = bytearray(1 << BEGINNING_BITS >> 3)
        self.large = {}  # hash → frequency, for frequencies of FULL and above
        self.lengths = {}  # first character → the lengths of words starting with it
        self._shapes = {}  # one tuple for all the characters with the same lengths
        self.added = {}  # word added by `set_added` → (its frequency before, what it added)
        # The prefixes of the words starting with an ASCII letter or digit (AT&T, B超, c++):
        # jieba keeps them all in its dictionary, where they weigh 0 in `suggested_frequency`.
        self.letter_prefixes = set()
        self.lock = threading.Lock()
        for word, freq in words:
            self.add(word, freq)

    @classmethod
    def from_file(cls, path=None):
        """jieba's dictionary (one `word frequency [tag]` a line), as jieba reads it."""
        path = path or jieba_dictionary()
        with open(path, "rb") as f:
            lines = sum(1 for _ in f)
        with open(path, encoding="utf-8") as f:
            return cls((_entry(line) for line in f), capacity=lines)

    def _slot(self, h):
        # Where the word of hash h is, or the empty slot where it goes.
        table, mask, top = self.table, self.mask, h >> HASH_SHIFT
        i = h & mask
        while table[i] and table[i] >> HASH_SHIFT != top:
            i = (i + 1) & mask
        return i

    def frequency(self, word):
        """The word's frequency; 0 for no word."""
        h = _hash(word)
        found = self.table[self._slot(h)]
        freq = found & FULL
        return self.large[h] if freq == FULL else freq

    def add(self, word, freq):
        """jieba's `add_word`: set the word's frequency (0: no longer a word), and add it to
        the total."""
        self._store(word, freq)
        self.total += freq

    def _store(self, word, freq):
        h = _hash(word)
        i = self._slot(h)
        if not self.table[i]:
            if 10 * (self.used + 1) > 9 * len(self.table):
                raise ValueError("the search dictionary is full")  # 10^5 words added
            self.used += 1
        self.table[i] = (h >> HASH_SHIFT << HASH_SHIFT) | TAKEN | min(freq, FULL)
        if freq >= FULL:
            self.large[h] = freq
        beginnings = self.beginnings
        for n in range(2, len(word) + 1):
            bit = (_hash(word[:n]) if n < len(word) else h) >> 24 & BEGINNING_MASK
            beginnings[bit >> 3] |= 1 << (bit & 7)
        sizes = self.lengths.get(word[0], ())
        if len(word) not in sizes:
            sizes = tuple(sorted((*sizes, len(word))))
            self.lengths[word[0]] = self._shapes.setdefault(sizes, sizes)
        if word[0].isascii() and ENG.match(word):
            self.letter_prefixes.update(word[:n] for n in range(2, len(word) + 1))

    def _route(self, s):
        # route[k]: (log probability of the best cut of s[k:], where its first word ends).
        # `frequency` inlined: this loop is where the time goes.
        n = len(s)
        table, mask, large, lengths = self.table, self.mask, self.large, self.lengths
        beginnings = self.beginnings
        logtotal = log(self.total)
        route = [None] * n + [(0, 0)]
        for k in range(n - 1, -1, -1):
            best = None
            for size in lengths.get(s[k], ()):
                end = k + size
                if end > n:
                    break
                h = (hash(s[k:end]) ^ ((size & 127) << 56)) & BITS64
                if size > 1:
                    bit = h >> 24 & BEGINNING_MASK
                    if not beginnings[bit >> 3] >> (bit & 7) & 1:
                        break  # nothing begins so
                top, i = h >> HASH_SHIFT, h & mask
                while True:
                    found = table[i]
                    if not found or found >> HASH_SHIFT == top:
                        break
                    i = (i + 1) & mask
                freq = found & FULL
                if freq:
                    if freq == FULL:
                        freq = large[h]
                    # jieba's expression and tie-break (the longer word), float for float.
                    candidate = (log(freq) - logtotal + route[end][0], end - 1)
                    if best is None or candidate > best:
                        best = candidate
            route[k] = best or (log(1) - logtotal + route[k + 1][0], k)
        return route

    def _cut_run(self, s):
        route = self._route(s)
        x, n, letters = 0, len(s), ""
        while x < n:
            y = route[x][1] + 1
            word = s[x:y]
            if y - x == 1 and ENG.match(word):
                letters += word
            else:
                if letters:
                    yield letters
                    letters = ""
                yield word
            x = y
        if letters:
            yield letters

    def cut(self, text):
        """The words of the text, in order (jieba.cut(text, HMM=False))."""
        for block in HAN.split(text):
            if not block:
                continue
            if HAN.match(block):
                yield from self._cut_run(block)
            else:
                for piece in SKIP.split(block):
                    if SKIP.match(piece):
                        yield piece
                    else:
                        yield from piece

    def cut_for_search(self, text):
        """Search mode: before each word, the dictionary's two- and three-character words
        inside it (jieba.cut_for_search(text, HMM=False))."""
        frequency = self.frequency
        for word in self.cut(text):
            n = len(word)
            if n > 2:
                for i in range(n - 1):
                    if frequency(word[i : i + 2]):
                        yield word[i : i + 2]
            if n > 3:
                for i in range(n - 2):
                    if frequency(word[i : i + 3]):
                        yield word[i : i + 3]
            yield word

    def _jieba_frequency(self, part):
        # jieba's FREQ.get(part, 1): the word's frequency; 0 for what only begins words (the
        # prefixes it keeps); otherwise 1. A part of a cut that is no word is one character
        # or a run of ASCII letters and digits.
        freq = self.frequency(part)
        if freq:
            return freq
        if len(part) == 1:
            return 0 if part in self.lengths else 1
        return 0 if part in self.letter_prefixes else 1

    def suggested_frequency(self, word):
        """jieba's `suggest_freq(word)`: enough for the word to beat the cut it would get."""
        freq = 1
        for part in self.cut(word):
            freq *= self._jieba_frequency(part) / float(self.total)
        return max(int(freq * self.total) + 1, self._jieba_frequency(word))

    def set_added(self, added):
        """Make `added` the words cut whole on top of the dictionary (unit names, search
        words), each as the search did with jieba: `add_word(word)`, then
        `suggest_freq(word, tune=True)`. Those added before and not in `added` get back the
        frequency they had, and the total what it was."""
        with self.lock:
            for word in set(self.added) - set(added):
                before, weight = self.added.pop(word)
                self._store(word, before)
                self.total -= weight
            for word in sorted(set(added) - set(self.added)):
                before, total = self.frequency(word), self.total
                self.add(word, self.suggested_frequency(word))
                self.add(word, self.suggested_frequency(word))
                self.added[word] = (before, self.total - total)


def _entry(line):
    word, freq = line.split(" ", 2)[:2]
    return word, int(freq)


_segmenter = None
_loading = threading.Lock()


def segmenter():
    """This process's segmenter, jieba's dictionary loaded on first use (1.5 s)."""
    global _segmenter
    if _segmenter is None:
        with _loading:
            if _segmenter is None:
                _segmenter = Segmenter.from_file()
    return _segmenter
