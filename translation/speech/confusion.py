"""The acoustic confusion channel p(heard | phonemes): how a recognizer's phone string departs from
what was said, by substitutions, deletions and insertions — the noisy channel between pronunciations
and what a front-end hears, as translation.speech.channel's is between spellings and pronunciations.

Generative story, per said phoneme a: it is heard as phoneme b with p(b | a), or not at all with
p(ε | a); before each said phoneme and at the end, extra phonemes are heard with probability
p_ins each, phoneme b with q(b). log p(h | r) is taken on the best alignment (Viterbi), which makes
scoring a weighted edit distance. The tables are estimated by hard EM on pairs (said, heard) from
training voices: align with the current tables (unit costs at first), count, smooth, repeat.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from translation.speech.lexicon import PHONEMES

INDEX = {p: i for i, p in enumerate(PHONEMES)}
N = len(PHONEMES)
EPS = N   # the column of "heard nothing"


def ids(phonemes) -> np.ndarray:
    return np.array([INDEX[p] for p in phonemes], dtype=np.int64)


class ConfusionChannel:
    def __init__(self, sub: np.ndarray, ins: np.ndarray, p_ins: float):
        """sub: (N, N + 1) log p(b | a), last column log p(ε | a); ins: (N,) log q(b); p_ins in (0, 1)."""
        self.log_sub, self.log_q, self.p_ins = sub, ins, float(p_ins)

    @classmethod
    def uniform(cls, keep: float = 0.6) -> ConfusionChannel:
        """A channel that hears the right phoneme with probability `keep`: unit-cost edit distance."""
        sub = np.full((N, N + 1), (1 - keep) / N)
        np.fill_diagonal(sub, keep)
        return cls(np.log(sub), np.full(N, -np.log(N)), 0.1)

    # -- scoring -------------------------------------------------------------------------------------
    def costs(self):
        """Per-operation log-probabilities: substitution table, deletion per said phoneme, insertion
        per heard phoneme, and the 'no insertion here' term every said phoneme pays."""
        return (self.log_sub[:, :N], self.log_sub[:, EPS], np.log(self.p_ins) + self.log_q, np.log1p(-self.p_ins))

    def log_prob(self, heard, candidates: list) -> np.ndarray:
        """log p(heard | r) for every phoneme tuple r of `candidates` (best alignment), shape (C,)."""
        if not candidates:
            return np.zeros(0)
        sub, dele, ins, stay = self.costs()
        h = ids(heard)
        lengths = np.array([len(c) for c in candidates])
        ref = np.zeros((len(candidates), lengths.max()), dtype=np.int64)
        for k, c in enumerate(candidates):
            ref[k, :len(c)] = ids(c)
        m = len(h)
        # row[i][:, j]: best log-prob of the first i said phonemes producing the first j heard ones
        prev = np.concatenate([np.zeros((len(ref), 1)), np.cumsum(ins[h])[None].repeat(len(ref), 0)], axis=1)
        final = np.where(lengths == 0, prev[:, m], -np.inf)
        for i in range(ref.shape[1]):
            a = ref[:, i]
            cur = np.empty_like(prev)
            cur[:, 0] = prev[:, 0] + dele[a] + stay
            if m:
                diag = prev[:, :-1] + sub[a][:, h] + stay            # a heard as h[j]
                down = prev[:, 1:] + dele[a][:, None] + stay         # a not heard
                best = np.maximum(diag, down)
                for j in range(1, m + 1):                            # insertions run along the row
                    cur[:, j] = np.maximum(best[:, j - 1], cur[:, j - 1] + ins[h[j - 1]])
            prev = cur
            final = np.where(lengths == i + 1, prev[:, m], final)
        return final

    # -- estimation ----------------------------------------------------------------------------------
    def align(self, said, heard) -> list[tuple[int | None, int | None]]:
        """The best alignment of one pair as (said index or None, heard index or None) operations."""
        sub, dele, ins, stay = self.costs()
        r, h = ids(said), ids(heard)
        D = np.full((len(r) + 1, len(h) + 1), -np.inf)
        D[0, 0] = 0.0
        for i in range(len(r) + 1):
            for j in range(len(h) + 1):
                if i and j:
                    D[i, j] = max(D[i, j], D[i - 1, j - 1] + sub[r[i - 1], h[j - 1]] + stay)
                if i:
                    D[i, j] = max(D[i, j], D[i - 1, j] + dele[r[i - 1]] + stay)
                if j:
                    D[i, j] = max(D[i, j], D[i, j - 1] + ins[h[j - 1]])
        ops, i, j = [], len(r), len(h)
        while i or j:
            if i and j and np.isclose(D[i, j], D[i - 1, j - 1] + sub[r[i - 1], h[j - 1]] + stay):
                ops.append((i - 1, j - 1)); i, j = i - 1, j - 1
            elif i and np.isclose(D[i, j], D[i - 1, j] + dele[r[i - 1]] + stay):
                ops.append((i - 1, None)); i -= 1
            else:
                ops.append((None, j - 1)); j -= 1
        return ops[::-1]

    @classmethod
    def fit(cls, pairs: list[tuple[tuple, list]], rounds: int = 3, smoothing: float = 0.5) -> ConfusionChannel:
        """Hard EM on (said phonemes, heard phonemes) pairs; add-`smoothing` counts."""
        pairs = [(tuple(s), list(h)) for s, h in pairs if len(s)]
        if not pairs:
            raise ValueError("ConfusionChannel.fit: no (said, heard) pairs")
        channel = cls.uniform()
        for _ in range(rounds):
            sub = np.full((N, N + 1), smoothing)
            q = np.full(N, smoothing)
            inserted = 0
            for said, heard in pairs:
                r, h = ids(said), ids(heard)
                for i, j in channel.align(said, heard):
                    if i is None:
                        q[h[j]] += 1
                        inserted += 1
                    else:
                        sub[r[i], EPS if j is None else h[j]] += 1
            said_total = sum(len(s) for s, _ in pairs)
            channel = cls(np.log(sub / sub.sum(1, keepdims=True)), np.log(q / q.sum()),
                          (inserted + smoothing) / (inserted + said_total + 2 * smoothing))
        return channel

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, sub=self.log_sub, ins=self.log_q, p_ins=np.array(self.p_ins))
        return buf.getvalue()

    @classmethod
    def load(cls, path: str | Path) -> ConfusionChannel:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no confusion channel (run `dvc repro fit_confusion`)")
        with np.load(path) as z:
            sub, ins, p_ins = z["sub"], z["ins"], float(z["p_ins"])
        if sub.shape != (N, N + 1) or ins.shape != (N,) or not 0 < p_ins < 1:
            raise ValueError(f"{path}: not a confusion channel of the {N} phonemes")
        return cls(sub, ins, p_ins)

    def summary(self) -> dict:
        """Readable figures: the share of phonemes heard right, deleted, and the insertion rate."""
        p = np.exp(self.log_sub)
        return {"heard_right": float(np.mean(np.diag(p[:, :N]))), "deleted": float(np.mean(p[:, EPS])),
                "insertion_rate": self.p_ins}
