"""Speech into the phoneme-content space, with a separate voice code.

- Content path: utterance-normalised log-mel (optionally liftered: only its first `cepstra` cepstral
  coefficients kept, so the spectral envelope stays and the pitch harmonics go) → convolutions → BiGRU frames → a CTC head over the
  phonemes. The content code of a clip is the phoneme code (PhonemeEncoder) of its greedy CTC
  transcript, so it is a function of a discrete phoneme string: what the voice changes in the sound
  cannot reach it except through recognition errors. Spelling → G2P → phoneme code and audio →
  CTC → phoneme code land in one space.
- The phoneme code is trained to be robust to both kinds of errors: a symmetric InfoNCE loss pulls
  the code of each clip's true phoneme string towards the codes of its CTC transcript (the recognizer's
  errors) and of a randomly corrupted copy (substitutions, deletions, insertions: G2P-like errors).
- Voice path: raw log-mel → convolutions → mean and std over time → the voice code.
- Reconstruction: a decoder rebuilds the log-mel frames from the phoneme posteriors (content only)
  plus the voice code, so what the posteriors cannot say about the sound (the voice) must go
  through the voice code.
"""
from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import nn

from translation.speech.lexicon import PHONES, Vocab
from translation.speech.seq2seq import BiGRU, length_mask, pad_batch
from translation.speech.config import AcousticConfig


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).float()
    return (x * m).sum(1) / m.sum(1).clamp(min=1)


def normalise_utterance(mel: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-utterance mean/variance normalisation of each mel bin (removes much of the voice)."""
    mean = masked_mean(mel, mask)
    var = masked_mean((mel - mean[:, None]) ** 2, mask)
    return (mel - mean[:, None]) / (var[:, None] + 1e-5).sqrt() * mask.unsqueeze(-1)


def lifter(mel: torch.Tensor, keep: int) -> torch.Tensor:
    """Each frame's log-mel smoothed across frequency: its orthonormal DCT-II (the cepstrum) with all
    but the first `keep` coefficients zeroed, transformed back. The envelope (formants, what the
    phoneme is) stays; the harmonic ripple of the voice's pitch, a fine structure, goes."""
    n = mel.shape[-1]
    k = torch.arange(n, dtype=mel.dtype, device=mel.device)
    dct = torch.cos(torch.pi / n * (k[None] + 0.5) * k[:, None]) * (2.0 / n) ** 0.5   # (coefficient, band)
    dct[0] /= 2 ** 0.5
    low = dct[:keep]
    return mel @ (low.T @ low)


def masked_convs(layers: nn.Sequential, x: torch.Tensor, lengths: torch.Tensor):
    """Run conv/ReLU `layers` over frames x (B, T, C) of `lengths`, zeroing the padding after every
    convolution (ReLU keeps zeros), so a clip's output does not depend on how far its batch is padded.
    Returns (B, T', C') and lengths."""
    x = x.transpose(1, 2)
    for layer in layers:
        x = layer(x)
        if isinstance(layer, nn.Conv1d):
            (k,), (s,), (p,) = layer.kernel_size, layer.stride, layer.padding
            lengths = (lengths + 2 * p - k) // s + 1
            x = x * length_mask(lengths, x.shape[2]).unsqueeze(1)
    return x.transpose(1, 2), lengths


# ---------------------------------------------------------------- phoneme id sequences
def ctc_greedy(log_probs: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
    """Best path per frame, repeats merged, blanks (<pad>) dropped: phoneme ids without <eos>."""
    ids = log_probs.argmax(-1)
    prev = F.pad(ids[:, :-1], (1, 0), value=Vocab.PAD)
    keep = (ids != Vocab.PAD) & (ids != prev) & mask
    return [row[k].tolist() for row, k in zip(ids, keep)]


def phoneme_ids(ph: torch.Tensor) -> list[list[int]]:
    """A padded (B, L) batch with <eos> → phoneme id lists."""
    return [[i for i in row if i > Vocab.EOS] for row in ph.tolist()]


def id_batch(seqs: list[list[int]], device=None) -> torch.Tensor:
    """Phoneme id lists → a padded batch ending in <eos> (an empty transcript is just <eos>)."""
    return pad_batch([s + [Vocab.EOS] for s in seqs], device)


def corrupt(seqs: list[list[int]], rate: float, generator: torch.Generator | None = None) -> list[list[int]]:
    """Copies with G2P-like errors: each phoneme is substituted with probability rate/2, dropped
    with rate/4, or followed by an inserted random phoneme with rate/4. Never empties a string."""
    out = []
    for s in seqs:
        u = torch.rand(len(s), generator=generator).tolist()
        r = torch.randint(Vocab.EOS + 1, len(PHONES), (len(s),), generator=generator).tolist()
        t = []
        for x, ui, ri in zip(s, u, r):
            if ui < rate / 2:
                t.append(ri)
            elif ui < 3 * rate / 4:
                continue
            elif ui < rate:
                t += [x, ri]
            else:
                t.append(x)
        out.append(t or list(s))
    return out


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE of matching rows of two batches of unit codes."""
    sim = a @ b.T / temperature
    labels = torch.arange(len(sim), device=sim.device)
    return (F.cross_entropy(sim, labels) + F.cross_entropy(sim.T, labels)) / 2


# ---------------------------------------------------------------- encoders
class PhonemeEncoder(nn.Module):
    """A phoneme string → unit content code."""

    def __init__(self, cfg: AcousticConfig):
        super().__init__()
        self.embed = nn.Embedding(len(PHONES), cfg.hidden, padding_idx=Vocab.PAD)
        self.rnn = BiGRU(cfg.hidden, cfg.hidden)
        self.proj = nn.Linear(2 * cfg.hidden, cfg.code)

    def forward(self, ph: torch.Tensor) -> torch.Tensor:
        mask = (ph != Vocab.PAD) & (ph != Vocab.EOS)
        states = self.rnn(self.embed(ph), (ph != Vocab.PAD).sum(1))
        return F.normalize(self.proj(masked_mean(states, mask)), dim=-1)


class AcousticEncoder(nn.Module):
    def __init__(self, cfg: AcousticConfig):
        super().__init__()
        self.cfg, h = cfg, cfg.hidden
        self.front = nn.Sequential(nn.Conv1d(cfg.n_mels, h, 5, padding=2), nn.ReLU(),
                                   nn.Conv1d(h, h, 5, stride=2, padding=2), nn.ReLU())
        self.rnn = BiGRU(h, h)
        self.ctc_head = nn.Linear(2 * h, len(PHONES))      # index 0 (<pad>) doubles as the CTC blank
        self.voice_net = nn.Sequential(nn.Conv1d(cfg.n_mels, h, 5, padding=2), nn.ReLU(),
                                       nn.Conv1d(h, h, 5, padding=2), nn.ReLU())
        self.voice_proj = nn.Linear(2 * h, cfg.voice)
        self.decoder = nn.Sequential(nn.Conv1d(len(PHONES) + cfg.voice, h, 5, padding=2), nn.ReLU(),
                                     nn.Conv1d(h, 2 * cfg.n_mels, 5, padding=2))
        self.phonemes = PhonemeEncoder(cfg)

    def posteriors(self, mel: torch.Tensor, lengths: torch.Tensor):
        """(B, T', n_phones) CTC log-posteriors at half the frame rate, their mask and lengths."""
        mask = length_mask(lengths, mel.shape[1])
        if 0 < self.cfg.cepstra < mel.shape[-1]:
            mel = lifter(mel, self.cfg.cepstra)
        x, out_len = masked_convs(self.front, normalise_utterance(mel, mask), lengths)
        states = self.rnn(x, out_len)
        return self.ctc_head(states).log_softmax(-1), length_mask(out_len, states.shape[1]), out_len

    def transcribe(self, mel: torch.Tensor, lengths: torch.Tensor) -> list[list[int]]:
        """Greedy CTC transcripts: phoneme ids per clip."""
        log_probs, mask, _ = self.posteriors(mel, lengths)
        return ctc_greedy(log_probs, mask)

    def content(self, mel: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.phonemes(id_batch(self.transcribe(mel, lengths), mel.device))

    def voice(self, mel: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x, _ = masked_convs(self.voice_net, mel * length_mask(lengths, mel.shape[1]).unsqueeze(-1), lengths)
        mask = length_mask(lengths, x.shape[1])
        mean = masked_mean(x, mask)
        std = (masked_mean((x - mean[:, None]) ** 2, mask) + 1e-5).sqrt()
        return self.voice_proj(torch.cat([mean, std], dim=-1))

    def forward(self, mel, lengths, ph, generator: torch.Generator | None = None) -> dict:
        """Named losses of a batch of clips (mel (B,T,n_mels), lengths (B,)) with their phoneme ids."""
        cfg = self.cfg
        log_probs, mask, out_len = self.posteriors(mel, lengths)
        ph_len = ((ph != Vocab.PAD) & (ph != Vocab.EOS)).sum(1)
        targets = ph.masked_fill(ph == Vocab.EOS, Vocab.PAD)
        ctc = F.ctc_loss(log_probs.transpose(0, 1), targets, out_len, ph_len, blank=Vocab.PAD,
                         reduction="mean", zero_infinity=True)
        # the phoneme code: true strings against their CTC transcripts and their corrupted copies
        true_code = self.phonemes(ph)
        heard = self.phonemes(id_batch(ctc_greedy(log_probs.detach(), mask), ph.device))
        noisy = self.phonemes(id_batch(corrupt(phoneme_ids(ph), cfg.corrupt, generator), ph.device))
        match = info_nce(true_code, heard, cfg.temperature) + info_nce(true_code, noisy, cfg.temperature)
        voice = self.voice(mel, lengths)
        posteriors = log_probs.exp() * mask.unsqueeze(-1)
        dec_in = torch.cat([posteriors, voice[:, None].expand(-1, posteriors.shape[1], -1)], dim=-1)
        recon = self.decoder(dec_in.transpose(1, 2)).transpose(1, 2)           # (B, T', 2·n_mels)
        recon = recon.reshape(recon.shape[0], -1, cfg.n_mels)[:, : mel.shape[1]]  # back to T frames
        fmask = length_mask(lengths, mel.shape[1])[:, : recon.shape[1]]
        recon_l1 = ((recon - mel[:, : recon.shape[1]]).abs().mean(-1) * fmask).sum() / fmask.sum()
        loss = cfg.w_ctc * ctc + cfg.w_match * match + cfg.w_recon * recon_l1
        return {"ctc": ctc, "match": match, "recon": recon_l1, "loss": loss}
