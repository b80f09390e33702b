"""Sequence models over symbol ids: an attention encoder–decoder and a symbol language model.

Sequences are padded id tensors (B, L) ending in <eos>, <pad>=0 after it (translation.speech.lexicon.Vocab).
Both models give per-sequence log-likelihoods (summed over symbols), and decode greedily or by
sampling in batches, so the noisy channel can score and dream whole words.
"""
from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import nn

from translation.speech.lexicon import Vocab
from translation.speech.config import Seq2SeqConfig


def pad_batch(seqs: list[list[int]], device=None) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    out = torch.zeros(len(seqs), width, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return out.to(device) if device is not None else out


def by_length(fn, chunks: int, *seqs: torch.Tensor) -> torch.Tensor:
    """fn(*seqs) → (B,) per-row values, computed on `chunks` groups of rows of similar length, each
    group's padded id tensors trimmed to its own longest row. For an fn whose rows do not depend on
    the padding (every model here), the values are the same with less padding to run through: a random
    batch of words is padded to its longest (~15 symbols against a mean of ~8)."""
    if chunks <= 1 or len(seqs[0]) < 2 * chunks:
        return fn(*seqs)
    lengths = [(s != Vocab.PAD).sum(1) for s in seqs]
    order = torch.stack(lengths).sum(0).argsort()
    parts = [fn(*(s[idx, : int(n[idx].max())] for s, n in zip(seqs, lengths))) for idx in order.chunk(chunks)]
    return torch.cat(parts)[order.argsort()]


def length_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """(B, width) True at the first lengths[b] positions of each row."""
    return torch.arange(width, device=lengths.device)[None, :] < lengths[:, None]


def reverse_within(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each row of x (B, L, ...) with its first lengths[b] elements reversed, the padding left in place."""
    b, width = x.shape[:2]
    t = torch.arange(width, device=x.device).unsqueeze(0)
    idx = torch.where(t < lengths.unsqueeze(1), lengths.unsqueeze(1) - 1 - t, t)
    flat = (idx + width * torch.arange(b, device=x.device).unsqueeze(1)).reshape(-1)
    return x.reshape(b * width, *x.shape[2:]).index_select(0, flat).view_as(x)


class BiGRU(nn.Module):
    """A bidirectional GRU over padded batches whose states do not depend on the padding: the backward
    direction reads each sequence reversed within its own length, so it starts at the sequence's last
    element rather than at the batch's last padding (nn.GRU(bidirectional=True) does the latter, so
    a word encoded alone and in a batch would differ)."""

    def __init__(self, n_in: int, hidden: int):
        super().__init__()
        self.fwd = nn.GRU(n_in, hidden, batch_first=True)
        self.bwd = nn.GRU(n_in, hidden, batch_first=True)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """States (B, L, 2·hidden) of inputs x (B, L, n_in) of `lengths`, zero at the padding."""
        back = reverse_within(self.bwd(reverse_within(x, lengths))[0], lengths)
        return torch.cat([self.fwd(x)[0], back], dim=-1) * length_mask(lengths, x.shape[1]).unsqueeze(-1)


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
    """BiGRU encoder, GRU decoder with dot-product (Luong) attention over the encoder states.

    The attention context enters the output layer, not the recurrence (no input feeding), so the
    decoder's states depend on the previous symbols alone: teacher forcing runs the decoder as one
    GRU over all steps and attends for all steps at once; decoding runs the same functions a step
    at a time.
    """

    def __init__(self, n_in: int, n_out: int, cfg: Seq2SeqConfig):
        super().__init__()
        self.cfg, self.n_out = cfg, n_out
        self.src_embed = nn.Embedding(n_in, cfg.embed, padding_idx=Vocab.PAD)
        self.encoder = BiGRU(cfg.embed, cfg.hidden)
        self.bridge = nn.Linear(2 * cfg.hidden, cfg.hidden)
        self.keys = nn.Linear(2 * cfg.hidden, cfg.hidden, bias=False)
        self.tgt_embed = nn.Embedding(n_out, cfg.embed, padding_idx=Vocab.PAD)
        self.decoder = nn.GRU(cfg.embed, cfg.hidden, batch_first=True)
        self.out = nn.Linear(3 * cfg.hidden, n_out)
        self.drop = nn.Dropout(cfg.dropout)

    def encode(self, x: torch.Tensor):
        """Attention memory (states, keys, a (B, 1, S) score bias that is -inf at padding) and the
        decoder's initial state (1, B, H)."""
        mask = x != Vocab.PAD
        states = self.encoder(self.drop(self.src_embed(x)), mask.sum(1))
        mean = states.sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        bias = torch.zeros(mask.shape, device=x.device).masked_fill(~mask, float("-inf")).unsqueeze(1)
        return (states, self.keys(states), bias), torch.tanh(self.bridge(mean)).unsqueeze(0)

    def _logits(self, hs: torch.Tensor, memory) -> torch.Tensor:
        """Logits (B, T, n_out) of decoder states hs (B, T, H): attend, then the output layer."""
        states, keys, bias = memory
        weights = torch.baddbmm(bias, hs, keys.transpose(1, 2)).softmax(dim=-1)   # (B, T, S)
        return self.out(self.drop(torch.cat([hs, torch.bmm(weights, states)], dim=-1)))

    def _run(self, prev: torch.Tensor, h: torch.Tensor, memory):
        """Decoder over previous symbols prev (B, T) from state h: logits (B, T, n_out), last state."""
        hs, h = self.decoder(self.drop(self.tgt_embed(prev)), h)
        return self._logits(hs, memory), h

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (B, L_y, n_out)."""
        memory, h = self.encode(x)
        return self._run(with_bos(y), h, memory)[0]

    def nll(self, x: torch.Tensor, y: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """(B,) -log p(y|x); with a temperature, of the tempered distribution that decode samples from."""
        logits = self(x, y)
        return sequence_nll(logits if temperature == 1.0 else logits / temperature, y)

    @torch.no_grad()
    def decode(self, x: torch.Tensor, sample: bool = False, temperature: float = 1.0,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Greedy (or sampled) outputs (B, ≤max_len), padded after <eos>."""
        memory, h = self.encode(x)
        prev = torch.full((x.shape[0],), Vocab.BOS, dtype=torch.long, device=x.device)
        out, done = [], torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        for _ in range(self.cfg.max_len):
            logits, h = self._run(prev.unsqueeze(1), h, memory)
            logits = logits[:, 0]
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
        memory, h = self.encode(x)
        memory = tuple(t.repeat_interleave(k, 0) for t in memory)
        h = h.repeat_interleave(k, 1)
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
            logits, h = self._run(prev.unsqueeze(1), h, memory)
            logp = torch.where(done.unsqueeze(1), finished, logits[:, 0].log_softmax(dim=-1) + never)  # as nll
            total = (score.reshape(-1, 1) + logp).reshape(b, -1)          # (B, k·V)
            score, flat = total.topk(k, dim=1)
            parent = (flat // self.n_out + first_beam).reshape(-1)
            prev = (flat % self.n_out).reshape(-1)
            h = h[:, parent]
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
