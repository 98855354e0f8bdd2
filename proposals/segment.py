"""Chinese word segmentation for search: jieba's Tokenizer, with its dictionary in 7 MiB.

The cut is jieba's (0.42.1), without its HMM, which search never used: `SearchTokenizer` is a
`jieba.Tokenizer` whose `cut`, `cut_for_search`, `add_word` and `suggest_freq` are jieba's
own. What differs is where its dictionary is kept. jieba keeps the 349,046 words of its
`dict.txt` and all their prefixes as a dict of 498,113 str keys (`Tokenizer.FREQ`):
`initialize()` takes a process from 10 to 91 MiB, in every web worker, against a goal of
150 MB a worker; and `import jieba` loads `pkg_resources` (6 MiB), which its `_compat` uses
only to open its own files. Measured (VmRSS after loading):

- jieba's own advice, a smaller dictionary (its README's `dict.txt.small`, 109,750 words, is
  not in the package): `dict.txt` without its words below frequency 4 (159,318 of frequency
  3, the floor it gives phrases, and 40,502 rarer): 149,226 words, 26 MiB with their
  prefixes — and other tokens (营商 → 营 / 商, which match nearly any letter), so every
  index to rewrite;
- the whole dictionary in a hash table without str objects (`WordTable`): a slot is one
  64-bit integer (the top 43 bits of the word's hash, whose bottom bits chose the slot, and
  its frequency), and jieba's prefixes are a bit each in a bitmap (`beginnings`, 1 MiB). 2^19
  slots: 6.4 MiB, the same tokens. A word is taken to be there when those 43 bits are found
  near its slot: a string that is no word is taken for one about once in 10^12 lookups. This
  module does that: `Frequencies` is the table as jieba's code reads it (`FREQ`), and
  `SearchTokenizer.get_DAG` finds the words at each position by the lengths of the words that
  begin with its character, stopping where the bitmap says no word begins, as jieba's walk
  does (cutting takes about 1.5 times as long as with jieba's dict; a query is a few words,
  text is cut when it is indexed).

`tests/test_segment.py` checks that the tokens are jieba's, with the added words too.
`VERSION` names the cut: stored tokens depend on it (a new one means `reindex_search`).
"""

import importlib.util
import re
import sys
from array import array
from pathlib import Path

VERSION = "jieba-0.42.1"

# jieba's: what begins a run of ASCII letters and digits.
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


class WordTable:
    """{word: frequency} pairs kept as hashes (`add`, `frequency`), with what jieba's walk
    needs of its prefixes (`begins`, `lengths`)."""

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
        # The prefixes of the words starting with an ASCII letter or digit (AT&T, B超, c++):
        # jieba keeps them all in its dictionary, where they weigh 0 in `suggest_freq`.
        self.letter_prefixes = set()
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

    def begins(self, word):
        """Whether some word begins so (jieba's prefixes), by the bitmap: a string that
        begins no word is taken for one 6 times in 100."""
        bit = _hash(word) >> 24 & BEGINNING_MASK
        return bool(self.beginnings[bit >> 3] >> (bit & 7) & 1)


class Frequencies:
    """jieba's `Tokenizer.FREQ` — {word: frequency}, 0 for the beginning of a word — over a
    `WordTable`, for jieba's own code to read and write: `frag in FREQ` and `FREQ[frag]`
    (`get_DAG`'s walk), `FREQ.get(word)` (`calc`, `cut_for_search`, `suggest_freq`),
    `FREQ[word] = freq` (`add_word`).

    A string the bitmap takes for the beginning of a word is "in" it with frequency 0: that
    lets jieba's walk take one step more, and finds no other word (a word's beginnings are
    all in), so the cut is jieba's. `suggest_freq` asks for what `cut` gives: words, single
    characters and runs of ASCII letters and digits, whose answers are exact.
    """

    def __init__(self, table):
        self.table = table

    def __contains__(self, word):
        if len(word) == 1:
            return word in self.table.lengths
        return bool(self.table.frequency(word)) or self.table.begins(word)

    def __getitem__(self, word):
        return self.table.frequency(word)

    def get(self, word, default=None):
        freq = self.table.frequency(word)
        if freq:
            return freq
        if len(word) == 1:
            return 0 if word in self.table.lengths else default
        if ENG.match(word):
            return 0 if word in self.table.letter_prefixes else default
        return 0 if self.table.begins(word) else default

    def __setitem__(self, word, freq):
        self.table._store(word, freq)

    def __len__(self):
        return self.table.used


def _import_jieba():
    """jieba, without the `pkg_resources` its `_compat` imports only to open its own files
    (6 MiB of every worker, and a deprecation warning); without it jieba opens them itself."""
    if "pkg_resources" in sys.modules:
        import jieba
    else:
        sys.modules["pkg_resources"] = None  # `import pkg_resources` raises ImportError
        try:
            import jieba
        finally:
            del sys.modules["pkg_resources"]
    jieba.setLogLevel(60)
    return jieba


jieba = _import_jieba()


class SearchTokenizer(jieba.Tokenizer):
    """jieba's Tokenizer — its `cut`, `cut_for_search`, `add_word`, `suggest_freq` — with its
    dictionary in a `WordTable` (`Frequencies`) instead of a dict of str."""

    def __init__(self, table=None):
        super().__init__()
        self._table = table
        self.added = {}  # word added by `set_added` → (its frequency before, what it added)

    def initialize(self, dictionary=None):
        with self.lock:
            if self.initialized:
                return
            table = self._table or WordTable.from_file()
            self.FREQ, self.total = Frequencies(table), table.total
            self.initialized = True

    def frequency(self, word):
        self.check_initialized()
        return self.FREQ.table.frequency(word)

    def get_DAG(self, sentence):  # noqa: N802 — jieba's name
        """jieba's DAG (at each position, where the words starting there end), found by the
        lengths of the words that begin with its character instead of a walk through their
        prefixes: the same DAG in a third of the lookups (cutting is twice as slow without)."""
        self.check_initialized()
        table = self.FREQ.table
        lengths, beginnings, frequency = table.lengths, table.beginnings, table.frequency
        n = len(sentence)
        dag = {}
        for k in range(n):
            ends = []
            for size in lengths.get(sentence[k], ()):
                end = k + size
                if end > n:
                    break
                word = sentence[k:end]
                if size > 1:
                    # No word begins so: none longer either (jieba's walk stops there too).
                    bit = _hash(word) >> 24 & BEGINNING_MASK
                    if not beginnings[bit >> 3] >> (bit & 7) & 1:
                        break
                if frequency(word):
                    ends.append(end - 1)
            dag[k] = ends or [k]
        return dag

    def set_added(self, added):
        """Make `added` the words cut whole on top of the dictionary (unit names, search
        words), each added as jieba's documentation says: `add_word(word)`, then
        `suggest_freq(word, tune=True)`. Those added before and not in `added` get back the
        frequency they had, and the total what it was (jieba's `del_word` would take a word
        of its dictionary out of it)."""
        self.check_initialized()
        with self.lock:
            for word in set(self.added) - set(added):
                before, weight = self.added.pop(word)
                self.FREQ[word] = before
                self.total -= weight
            for word in sorted(set(added) - set(self.added)):
                before, total = self.frequency(word), self.total
                self.add_word(word)
                self.suggest_freq(word, tune=True)
                self.added[word] = (before, self.total - total)


def _entry(line):
    word, freq = line.split(" ", 2)[:2]
    return word, int(freq)


_tokenizer = SearchTokenizer()


def segmenter():
    """This process's tokenizer; jieba's dictionary is loaded on its first cut (about 0.7 s)."""
    return _tokenizer
