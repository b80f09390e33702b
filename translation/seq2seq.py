"""Sequence models over symbol ids: an attention encoder–decoder and a symbol language model.

Sequences are padded id tensors (B, L) ending in <eos>, <pad>=0 after it (translation.lexicon.Vocab).
Both models give per-sequence log-likelihoods (summed over symbols), and decode greedily or by
sampling in batches, so the noisy channel can score and dream whole words.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.config import rule
from translation.lexicon import Vocab


@dataclass(frozen=True)
class Seq2SeqConfig:
    embed: int = field(default=64, metadata=rule(ge=4))
    hidden: int = field(default=192, metadata=rule(ge=8))
    dropout: float = field(default=0.1, metadata=rule(ge=0, lt=1))
    max_len: int = field(default=20, metadata=rule(ge=2))   # decoding stops here (symbols incl. <eos>)
    beam: int = field(default=8, metadata=rule(ge=1))       # n-best size of decoding; 1 = greedy
    rerank: float = field(default=1.0, metadata=rule(ge=0))  # weight of the other story in re-ranking (NoisyChannel)


def pad_batch(seqs: list[list[int]], device=None) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    out = torch.zeros(len(seqs), width, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return out.to(device) if device is not None else out


def with_bos(y: torch.Tensor) -> torch.Tensor:
    """Decoder inputs: <bos> then y without its last column."""
    bos = torch.full((y.shape[0], 1), Vocab.BOS, dtype=y.dtype, device=y.device)
    return torch.cat([bos, y[:, :-1]], dim=1)


def sequence_nll(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(B,) negative log-likelihood of each padded target sequence."""
    nll = F.cross_entropy(logits.transpose(1, 2), y, reduction="none", ignore_index=Vocab.PAD)
    return nll.sum(dim=1)


def trim_after_eos(ids: torch.Tensor) -> torch.Tensor:
    """Zero (pad) everything after the first <eos> of each row; rows without <eos> end with one."""
    ids = ids.clone()
    ids[:, -1] = torch.where(ids[:, -1] == Vocab.PAD, ids[:, -1], torch.full_like(ids[:, -1], Vocab.EOS))
    seen = (ids == Vocab.EOS).long().cumsum(dim=1)
    after = (seen - (ids == Vocab.EOS).long()) > 0
    ids[after] = Vocab.PAD
    return ids


class Seq2Seq(nn.Module):
    """BiGRU encoder, GRU decoder with dot-product (Luong) attention over the encoder states."""

    def __init__(self, n_in: int, n_out: int, cfg: Seq2SeqConfig):
        super().__init__()
        self.cfg, self.n_out = cfg, n_out
        self.src_embed = nn.Embedding(n_in, cfg.embed, padding_idx=Vocab.PAD)
        self.encoder = nn.GRU(cfg.embed, cfg.hidden, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * cfg.hidden, cfg.hidden)
        self.keys = nn.Linear(2 * cfg.hidden, cfg.hidden, bias=False)
        self.tgt_embed = nn.Embedding(n_out, cfg.embed, padding_idx=Vocab.PAD)
        self.decoder = nn.GRUCell(cfg.embed + 2 * cfg.hidden, cfg.hidden)
        self.out = nn.Linear(3 * cfg.hidden, n_out)
        self.drop = nn.Dropout(cfg.dropout)

    def encode(self, x: torch.Tensor):
        mask = x != Vocab.PAD
        states, _ = self.encoder(self.drop(self.src_embed(x)))
        states = states * mask.unsqueeze(-1)
        mean = states.sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        # attention memory: states, keys and a (B, S, 1) score bias that is -inf at padding
        bias = torch.zeros(mask.shape, device=x.device).masked_fill(~mask, float("-inf")).unsqueeze(2)
        return states, self.keys(states), bias, torch.tanh(self.bridge(mean))

    def _advance(self, emb: torch.Tensor, h, context, memory):
        """One decoder step from an embedded previous symbol: the new state and attention context."""
        states, keys, bias = memory
        h = self.decoder(torch.cat([emb, context], dim=-1), h)
        scores = torch.baddbmm(bias, keys, h.unsqueeze(2)).squeeze(2)
        return h, torch.bmm(scores.softmax(dim=-1).unsqueeze(1), states).squeeze(1)

    def _logits(self, h: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        return self.out(self.drop(torch.cat([h, context], dim=-1)))

    def _step(self, prev: torch.Tensor, h, context, memory):
        h, context = self._advance(self.drop(self.tgt_embed(prev)), h, context, memory)
        return self._logits(h, context), h, context

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (B, L_y, n_out). Only the recurrence runs step by step: the input
        embeddings and the output layer see all steps at once (the same functions as _step)."""
        states, keys, bias, h = self.encode(x)
        context = torch.zeros(x.shape[0], states.shape[-1], device=x.device)
        inputs, hs, contexts = self.drop(self.tgt_embed(with_bos(y))), [], []
        for t in range(y.shape[1]):
            h, context = self._advance(inputs[:, t], h, context, (states, keys, bias))
            hs.append(h)
            contexts.append(context)
        return self._logits(torch.stack(hs, dim=1), torch.stack(contexts, dim=1))

    def nll(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return sequence_nll(self(x, y), y)

    @torch.no_grad()
    def decode(self, x: torch.Tensor, sample: bool = False, temperature: float = 1.0,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Greedy (or sampled) outputs (B, ≤max_len), padded after <eos>."""
        states, keys, bias, h = self.encode(x)
        context = torch.zeros(x.shape[0], states.shape[-1], device=x.device)
        prev = torch.full((x.shape[0],), Vocab.BOS, dtype=torch.long, device=x.device)
        out, done = [], torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        for _ in range(self.cfg.max_len):
            logits, h, context = self._step(prev, h, context, (states, keys, bias))
            logits[:, : Vocab.EOS] = float("-inf")            # never emit <pad> or <bos>
            prev = pick(logits, sample, temperature, generator)
            out.append(prev)
            done |= prev == Vocab.EOS
            if bool(done.all()):
                break
        return trim_after_eos(torch.stack(out, dim=1))

    @torch.no_grad()
    def beam(self, x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The k best outputs of each input by beam search: ids (B, k, ≤max_len) padded after <eos>,
        and their log-probabilities (B, k), best first."""
        b = x.shape[0]
        states, keys, bias, h = self.encode(x)
        memory = tuple(t.repeat_interleave(k, 0) for t in (states, keys, bias))
        h = h.repeat_interleave(k, 0)
        context = torch.zeros(b * k, states.shape[-1], device=x.device)
        prev = torch.full((b * k,), Vocab.BOS, dtype=torch.long, device=x.device)
        score = torch.full((b, k), float("-inf"), device=x.device)
        score[:, 0] = 0.0                                     # one live beam at the start
        done = torch.zeros(b * k, dtype=torch.bool, device=x.device)
        out = torch.zeros(b * k, 0, dtype=torch.long, device=x.device)
        never = torch.zeros(self.n_out, device=x.device)
        never[: Vocab.EOS] = float("-inf")                    # never emit <pad> or <bos> ...
        finished = torch.full((self.n_out,), float("-inf"), device=x.device)
        finished[Vocab.PAD] = 0.0                             # ... but a finished beam extends only by <pad>, free
        first_beam = (torch.arange(b, device=x.device) * k).unsqueeze(1)
        for _ in range(self.cfg.max_len):
            logits, h, context = self._step(prev, h, context, memory)
            logp = torch.where(done.unsqueeze(1), finished, logits.log_softmax(dim=-1) + never)  # as nll
            total = (score.reshape(-1, 1) + logp).reshape(b, -1)          # (B, k·V)
            score, flat = total.topk(k, dim=1)
            parent = (flat // self.n_out + first_beam).reshape(-1)
            prev = (flat % self.n_out).reshape(-1)
            h, context = h[parent], context[parent]
            done = done[parent] | (prev == Vocab.EOS) | (prev == Vocab.PAD)
            out = torch.cat([out[parent], prev.unsqueeze(1)], dim=1)
            if bool(done.all()):
                break
        return trim_after_eos(out).reshape(b, k, -1), score


def pick(logits: torch.Tensor, sample: bool, temperature: float, generator) -> torch.Tensor:
    if not sample:
        return logits.argmax(dim=-1)
    probs = (logits / temperature).softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


class SymbolLM(nn.Module):
    """A GRU language model over symbols: the prior p(text) (or p(phonemes)) of the noisy channel."""

    def __init__(self, n: int, cfg: Seq2SeqConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(n, cfg.embed, padding_idx=Vocab.PAD)
        self.rnn = nn.GRU(cfg.embed, cfg.hidden, batch_first=True)
        self.out = nn.Linear(cfg.hidden, n)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        states, _ = self.rnn(self.embed(with_bos(y)))
        return self.out(states)

    def nll(self, y: torch.Tensor) -> torch.Tensor:
        return sequence_nll(self(y), y)

    @torch.no_grad()
    def sample(self, n: int, device=None, temperature: float = 1.0, generator=None) -> torch.Tensor:
        prev = torch.full((n,), Vocab.BOS, dtype=torch.long, device=device)
        h, out = None, []
        for _ in range(self.cfg.max_len):
            states, h = self.rnn(self.embed(prev).unsqueeze(1), h)
            logits = self.out(states[:, 0])
            logits[:, : Vocab.EOS] = float("-inf")
            if not out:
                logits[:, Vocab.EOS] = float("-inf")          # no empty sequences
            prev = pick(logits, True, temperature, generator)
            out.append(prev)
        return trim_after_eos(torch.stack(out, dim=1))
