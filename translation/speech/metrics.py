"""Measures of the text–speech model (DESIGN.md): G2P PER/WER, P2G letter error rate/WER,
cross-modal retrieval Recall@k in both directions and linear voice probes on both speech codes."""
from __future__ import annotations

import numpy as np
import torch

from translation.speech.lexicon import GRAPHEMES, PHONES
from translation.speech.seq2seq import pad_batch


def edit_distance(a, b) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def error_rates(hyps, refs) -> tuple[float, float]:
    """(symbol error rate = total edits / total reference symbols, word error rate)."""
    edits = sum(edit_distance(h, r) for h, r in zip(hyps, refs))
    symbols = sum(len(r) for r in refs)
    wrong = sum(tuple(h) != tuple(r) for h, r in zip(hyps, refs))
    return edits / max(symbols, 1), wrong / max(len(refs), 1)


@torch.inference_mode()
def transduce(model, direction: str, seqs, device, batch: int = 256) -> list[list[str]]:
    """Decoding of symbol sequences by a NoisyChannel, direction "g2p" or "p2g"."""
    src_vocab, tgt_vocab = (GRAPHEMES, PHONES) if direction == "g2p" else (PHONES, GRAPHEMES)
    was = model.training
    model.eval()
    out = []
    for i in range(0, len(seqs), batch):
        x = pad_batch([src_vocab.encode(s) for s in seqs[i: i + batch]], device)
        out.extend(tgt_vocab.decode(row) for row in model.transduce(x, direction).tolist())
    model.train(was)
    return out


def g2p_words(model, words, device) -> list[list[str]]:
    return transduce(model, "g2p", [list(w) for w in words], device)


@torch.inference_mode()
def g2p_nbest(model, words, n: int, device, batch: int = 256) -> list[list[tuple[str, ...]]]:
    """Each word's n best distinct pronunciations under the channel's decoding (NoisyChannel.ranked),
    best first; empty outputs are dropped."""
    was = model.training
    model.eval()
    out = []
    for i in range(0, len(words), batch):
        x = pad_batch([GRAPHEMES.encode(list(w)) for w in words[i: i + batch]], device)
        cands, _ = model.ranked(x, "g2p", max(n, model.decode.beam))
        for row in cands.tolist():
            prons = dict.fromkeys(tuple(PHONES.decode(ids)) for ids in row)
            out.append([p for p in prons if p][:n])
    model.train(was)
    return out


def p2g_phonemes(model, phonemes, device) -> list[str]:
    return ["".join(s) for s in transduce(model, "p2g", [list(p) for p in phonemes], device)]


def channel_metrics(model, words, phonemes, device) -> dict:
    per, g2p_wer = error_rates(g2p_words(model, words, device), [list(p) for p in phonemes])
    ler, p2g_wer = error_rates(p2g_phonemes(model, phonemes, device), list(words))
    return {"g2p_per": per, "g2p_wer": g2p_wer, "p2g_ler": ler, "p2g_wer": p2g_wer}


def recall_at(sim: np.ndarray, k: int) -> float:
    """Query i's correct item is item i; fraction of queries with it among their top k. Items tied
    with the correct one rank ahead of it (codes that cannot tell items apart find nothing)."""
    return recall_rows(sim, np.arange(len(sim)), k)


def recall_rows(sim: np.ndarray, rows: np.ndarray, k: int) -> float:
    """recall_at for the queries `rows` only (query i's correct item is still item i), each searching
    every item."""
    if len(rows) == 0:
        return float("nan")
    target = sim[rows, rows][:, None]
    rank = (sim[rows] >= target).sum(axis=1) - 1    # ties rank ahead
    return float((rank < k).mean())
