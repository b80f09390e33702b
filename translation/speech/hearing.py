"""Speech → spelling search: what a recognizer trained on real speech heard, scored against every
spelling's pronunciations through mdr's noisy channels.

For a clip, three pieces of evidence (Evidence):
- heard: PocketSphinx's phone-loop transcript (recognizer.PhoneRecognizer);
- nbest: PocketSphinx's n-best words when it decodes one word of the index with the index's own
  pronunciations (recognizer.WordRecognizer): constrained decoding;
- code: mdr's learned content code of the clip (acoustic.AcousticEncoder), when one is given.
A spelling w is scored as a noisy channel, through its pronunciations r (a dictionary's where the
word has one, else mdr's G2P n-best):
    score(w) = channel · max_r log p(heard | r) + recognizer · log-rank prior of w in nbest
               + code · cos(code, code of w's first pronunciation)
with p(heard | r) the acoustic confusion channel (translation.speech.confusion) estimated on training
voices. FAISS proposes candidates — pronunciations whose phone n-grams are nearest the heard
string's, the nearest learned codes — with the recognizer's n-best; the exact score ranks them.
The weights are chosen on dev voices (bench.speech_retrieval) and set in params.yaml.
"""
from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.atomic import write_bytes, write_json
from pipeline.indexes import VectorIndex
from translation.speech.confusion import INDEX, N, ConfusionChannel
from translation.speech.config import FrontEndConfig
from translation.speech.lexicon import LexiconError, check_phonemes, check_word

BOUNDARY = N                       # the word edge in phone bigrams
NGRAM_DIM = N + (N + 1) ** 2       # unigrams, then bigrams with edges


def ngram_vectors(prons: list) -> np.ndarray:
    """Unit vectors of phone unigram and bigram counts (word edges included), one row per pronunciation."""
    out = np.zeros((len(prons), NGRAM_DIM), np.float32)
    for row, pron in enumerate(prons):
        seq = [BOUNDARY] + [INDEX[p] for p in pron] + [BOUNDARY]
        for p in seq[1:-1]:
            out[row, p] += 1
        for a, b in zip(seq, seq[1:]):
            out[row, N + a * (N + 1) + b] += 1
        out[row] /= max(np.linalg.norm(out[row]), 1e-6)
    return out


@dataclass
class Evidence:
    heard: list[str]
    nbest: list[str]
    code: np.ndarray | None = None


class SpellingIndex:
    """The searchable spellings: each word's pronunciations and where they came from ('dictionary' or
    'g2p'), a FAISS index of the pronunciations' phone n-grams and, when given, the learned codes of
    each word's first pronunciation."""

    def __init__(self, words: list[str], prons: list[list[tuple[str, ...]]], sources: list[str],
                 codes: np.ndarray | None = None):
        if not words:
            raise ValueError("a spelling index needs at least one word")
        self.words, self.prons, self.sources, self.codes = list(words), prons, sources, codes
        self.position = {w: i for i, w in enumerate(self.words)}
        flat = [(i, p) for i, ps in enumerate(prons) for p in ps]
        self.pron_word = np.array([i for i, _ in flat])
        self.flat_prons = [p for _, p in flat]
        self.ngrams = VectorIndex.build(ngram_vectors(self.flat_prons), np.arange(len(flat)), "Flat", "ip")
        self.code_index = (VectorIndex.build(codes, np.arange(len(words)), "Flat", "ip")
                           if codes is not None else None)

    @classmethod
    def build(cls, words, dictionary: dict[str, tuple[str, ...]], g2p_nbest, variants: int = 1,
              code_of=None) -> SpellingIndex:
        """words: any spellings (checked); dictionary: word → pronunciation where one is known;
        g2p_nbest(words, n) → each word's n best G2P pronunciations, for the rest (and, with
        variants > 1, as extra variants of none); code_of(first pronunciations) → unit codes, optional."""
        words = sorted({check_word(w) for w in words})
        missing = [w for w in words if w not in dictionary]
        guessed = dict(zip(missing, g2p_nbest(missing, variants))) if missing else {}
        prons, sources = [], []
        for w in words:
            if w in dictionary:
                prons.append([tuple(check_phonemes(dictionary[w], w))])
                sources.append("dictionary")
            else:
                prons.append([p for p in guessed[w] if p][:variants] or [("AH",)])
                sources.append("g2p")
        codes = code_of([p[0] for p in prons]) if code_of is not None else None
        return cls(words, prons, sources, codes)

    def merged(self, other: SpellingIndex) -> SpellingIndex:
        """This index and `other`'s words (other's entry wins for a word both hold)."""
        keep = [i for i, w in enumerate(self.words) if w not in other.position]
        entries = sorted([(self.words[i], self.prons[i], self.sources[i], None if self.codes is None else self.codes[i])
                          for i in keep] + [(w, p, s, None if other.codes is None else other.codes[j])
                                            for j, (w, p, s) in enumerate(zip(other.words, other.prons, other.sources))],
                         key=lambda e: e[0])
        codes = None if self.codes is None or other.codes is None else np.stack([e[3] for e in entries])
        return SpellingIndex([e[0] for e in entries], [e[1] for e in entries], [e[2] for e in entries], codes)

    def pronunciations(self) -> dict[str, list[tuple[str, ...]]]:
        return dict(zip(self.words, self.prons))

    def candidates(self, ev: Evidence, k: int) -> np.ndarray:
        """Word positions FAISS proposes for the evidence, with the recognizer's n-best."""
        found = []
        if ev.heard:
            _, rows = self.ngrams.search(ngram_vectors([ev.heard]), min(k, len(self.flat_prons)))
            found.extend(self.pron_word[r] for r in rows[0] if r >= 0)
        if ev.code is not None and self.code_index is not None:
            _, rows = self.code_index.search(ev.code[None].astype(np.float32), min(k, len(self.words)))
            found.extend(r for r in rows[0] if r >= 0)
        found.extend(self.position[w] for w in ev.nbest if w in self.position)
        return np.array(sorted(set(int(f) for f in found)), dtype=np.int64)

    def features(self, ev: Evidence, positions: np.ndarray, confusion: ConfusionChannel, nbest: int) -> np.ndarray:
        """(C, 3): the channel, recognizer and code evidence of each candidate word."""
        out = np.zeros((len(positions), 3))
        if not len(positions):
            return out
        prons = [(j, p) for j, i in enumerate(positions) for p in self.prons[i]]
        logp = confusion.log_prob(ev.heard, [p for _, p in prons])
        best = np.full(len(positions), -np.inf)
        np.maximum.at(best, np.array([j for j, _ in prons]), logp)
        out[:, 0] = best
        rank = {w: r for r, w in enumerate(ev.nbest)}
        out[:, 1] = [-np.log1p(rank.get(self.words[i], nbest + 1)) for i in positions]
        if ev.code is not None and self.codes is not None:
            out[:, 2] = self.codes[positions] @ ev.code
        return out

    def save(self, folder: str | Path, front_end: FrontEndConfig) -> None:
        """spellings.json (words, pronunciations, their sources, the scoring weights) and the codes."""
        folder = Path(folder)
        if self.codes is not None:
            buf = io.BytesIO()
            np.save(buf, self.codes)
            write_bytes(folder / "spelling_codes.npy", buf.getvalue())
        write_json(folder / "spellings.json", {"words": self.words, "sources": self.sources, "front_end": asdict(front_end),
                                               "pronunciations": [[" ".join(p) for p in ps] for ps in self.prons]})

    @classmethod
    def load(cls, folder: str | Path) -> tuple[SpellingIndex, FrontEndConfig]:
        folder = Path(folder)
        raw = json.loads((folder / "spellings.json").read_text())
        codes = np.load(folder / "spelling_codes.npy") if (folder / "spelling_codes.npy").exists() else None
        index = cls(raw["words"], [[tuple(p.split()) for p in ps] for ps in raw["pronunciations"]], raw["sources"], codes)
        return index, FrontEndConfig(**raw["front_end"])


def read_word_list(path: str | Path, limit: int = 100_000) -> list[str]:
    """The spellings of a text file, one a line (blank lines and # comments skipped); a bad line
    raises LexiconError naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such word list")
    words = []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            words.append(check_word(text))
        except LexiconError as e:
            raise LexiconError(f"{path}:{n}: {e}") from None
        if len(words) > limit:
            raise LexiconError(f"{path}: more than {limit} spellings")
    if not words:
        raise LexiconError(f"{path}: no spellings (one a line)")
    return sorted(set(words))


def rank(index: SpellingIndex, ev: Evidence, confusion: ConfusionChannel, cfg: FrontEndConfig,
         k: int) -> list[tuple[str, float]]:
    """The k best spellings for the evidence, with their scores."""
    positions = index.candidates(ev, cfg.candidates)
    if not len(positions):
        return []
    score = index.features(ev, positions, confusion, cfg.nbest) @ cfg.weights()
    order = np.argsort(-score, kind="stable")[:k]
    return [(index.words[positions[o]], float(score[o])) for o in order]


def content_code(acoustic, audio: np.ndarray) -> np.ndarray:
    """mdr's learned content code of one clip (unit length, the space of the spellings' codes)."""
    import torch

    from translation.speech.audio import log_mel

    mel = torch.from_numpy(log_mel(audio, acoustic.cfg.n_mels))[None]
    with torch.no_grad():
        return acoustic.content(mel, torch.tensor([mel.shape[1]]))[0].numpy()


class FrontEnd:
    """Speech → spellings for one index: PocketSphinx's two decoders, the confusion channel and,
    optionally, mdr's acoustic encoder (the code evidence)."""

    def __init__(self, index: SpellingIndex, confusion: ConfusionChannel, cfg: FrontEndConfig, acoustic=None):
        from translation.speech.recognizer import PhoneRecognizer, WordRecognizer

        self.index, self.confusion, self.cfg, self.acoustic = index, confusion, cfg, acoustic
        self.phones = PhoneRecognizer()
        self.words = WordRecognizer(index.pronunciations())

    def code(self, audio: np.ndarray) -> np.ndarray | None:
        if self.acoustic is None or self.index.codes is None:
            return None
        return content_code(self.acoustic, audio)

    def evidence(self, audio: np.ndarray) -> Evidence:
        return Evidence(self.phones.hear(audio), self.words.nbest(audio, self.cfg.nbest), self.code(audio))

    def search(self, audio: np.ndarray, k: int) -> tuple[Evidence, list[tuple[str, float]]]:
        ev = self.evidence(audio)
        return ev, rank(self.index, ev, self.confusion, self.cfg, k)
