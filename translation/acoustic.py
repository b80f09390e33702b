"""Speech into the phoneme-content space, with a separate voice code.

- Content path: utterance-normalised log-mel → convolutions → BiGRU frames. A CTC head reads the
  phonemes from the frames; the pooled frames give the content code, pulled towards the code of the
  clip's phoneme string (PhonemeEncoder) by a symmetric InfoNCE loss, so spelling → G2P → phoneme
  code and audio land in one space.
- Voice path: raw log-mel → convolutions → mean and std over time → the voice code.
- Reconstruction: a decoder rebuilds the log-mel frames from the phoneme posteriors (content only)
  plus the voice code, so what the posteriors cannot say about the sound (the voice) must go
  through the voice code.
- A voice classifier behind gradient reversal removes what is left of the voice from the content code.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.config import rule
from translation.lexicon import PHONES, Vocab


@dataclass(frozen=True)
class AcousticConfig:
    n_mels: int = field(default=40, metadata=rule(ge=8))
    hidden: int = field(default=128, metadata=rule(ge=8))
    code: int = field(default=128, metadata=rule(ge=4))      # content code (shared with phoneme strings)
    voice: int = field(default=16, metadata=rule(ge=2))      # voice code
    temperature: float = field(default=0.1, metadata=rule(gt=0))   # InfoNCE
    w_ctc: float = field(default=1.0, metadata=rule(ge=0))
    w_match: float = field(default=1.0, metadata=rule(ge=0))
    w_recon: float = field(default=1.0, metadata=rule(ge=0))
    w_voice_adv: float = field(default=0.3, metadata=rule(ge=0))


def frame_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    return torch.arange(width, device=lengths.device)[None, :] < lengths[:, None]


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).float()
    return (x * m).sum(1) / m.sum(1).clamp(min=1)


def normalise_utterance(mel: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-utterance mean/variance normalisation of each mel bin (removes much of the voice)."""
    mean = masked_mean(mel, mask)
    var = masked_mean((mel - mean[:, None]) ** 2, mask)
    return (mel - mean[:, None]) / (var[:, None] + 1e-5).sqrt() * mask.unsqueeze(-1)


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class PhonemeEncoder(nn.Module):
    """A phoneme string → unit content code."""

    def __init__(self, cfg: AcousticConfig):
        super().__init__()
        self.embed = nn.Embedding(len(PHONES), cfg.hidden, padding_idx=Vocab.PAD)
        self.rnn = nn.GRU(cfg.hidden, cfg.hidden, batch_first=True, bidirectional=True)
        self.proj = nn.Linear(2 * cfg.hidden, cfg.code)

    def forward(self, ph: torch.Tensor) -> torch.Tensor:
        mask = (ph != Vocab.PAD) & (ph != Vocab.EOS)
        states, _ = self.rnn(self.embed(ph))
        return F.normalize(self.proj(masked_mean(states, mask)), dim=-1)


class AcousticEncoder(nn.Module):
    def __init__(self, cfg: AcousticConfig, n_voices: int):
        super().__init__()
        self.cfg, h = cfg, cfg.hidden
        self.front = nn.Sequential(nn.Conv1d(cfg.n_mels, h, 5, padding=2), nn.ReLU(),
                                   nn.Conv1d(h, h, 5, stride=2, padding=2), nn.ReLU())
        self.rnn = nn.GRU(h, h, batch_first=True, bidirectional=True)
        self.ctc_head = nn.Linear(2 * h, len(PHONES))      # index 0 (<pad>) doubles as the CTC blank
        self.content_proj = nn.Linear(2 * h, cfg.code)
        self.voice_net = nn.Sequential(nn.Conv1d(cfg.n_mels, h, 5, padding=2), nn.ReLU(),
                                       nn.Conv1d(h, h, 5, padding=2), nn.ReLU())
        self.voice_proj = nn.Linear(2 * h, cfg.voice)
        self.decoder = nn.Sequential(nn.Conv1d(len(PHONES) + cfg.voice, h, 5, padding=2), nn.ReLU(),
                                     nn.Conv1d(h, 2 * cfg.n_mels, 5, padding=2))
        self.voice_critic = nn.Sequential(nn.Linear(cfg.code, h), nn.ReLU(), nn.Linear(h, max(n_voices, 1)))
        self.phonemes = PhonemeEncoder(cfg)

    def frames(self, mel: torch.Tensor, lengths: torch.Tensor):
        """(B, T', 2h) content frames at half the frame rate, their mask."""
        mask = frame_mask(lengths, mel.shape[1])
        x = self.front(normalise_utterance(mel, mask).transpose(1, 2)).transpose(1, 2)
        out_len = (lengths + 1) // 2
        states, _ = self.rnn(x)
        return states, frame_mask(out_len, states.shape[1]), out_len

    def content(self, mel: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        states, mask, _ = self.frames(mel, lengths)
        return F.normalize(self.content_proj(masked_mean(states, mask)), dim=-1)

    def voice(self, mel: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = frame_mask(lengths, mel.shape[1])
        x = self.voice_net(mel.transpose(1, 2)).transpose(1, 2)
        mean = masked_mean(x, mask)
        std = (masked_mean((x - mean[:, None]) ** 2, mask) + 1e-5).sqrt()
        return self.voice_proj(torch.cat([mean, std], dim=-1))

    def forward(self, mel, lengths, ph, voice_ids) -> dict:
        """Named losses of a batch of clips (mel (B,T,n_mels), lengths (B,)) with their phoneme ids."""
        cfg = self.cfg
        states, mask, out_len = self.frames(mel, lengths)
        log_probs = self.ctc_head(states).log_softmax(-1)
        ph_len = ((ph != Vocab.PAD) & (ph != Vocab.EOS)).sum(1)
        targets = ph.masked_fill(ph == Vocab.EOS, Vocab.PAD)
        ctc = F.ctc_loss(log_probs.transpose(0, 1), targets, out_len, ph_len, blank=Vocab.PAD,
                         reduction="mean", zero_infinity=True)
        audio_code = F.normalize(self.content_proj(masked_mean(states, mask)), dim=-1)
        text_code = self.phonemes(ph)
        sim = audio_code @ text_code.T / cfg.temperature
        labels = torch.arange(len(sim), device=sim.device)
        match = (F.cross_entropy(sim, labels) + F.cross_entropy(sim.T, labels)) / 2
        voice = self.voice(mel, lengths)
        posteriors = log_probs.exp() * mask.unsqueeze(-1)
        dec_in = torch.cat([posteriors, voice[:, None].expand(-1, posteriors.shape[1], -1)], dim=-1)
        recon = self.decoder(dec_in.transpose(1, 2)).transpose(1, 2)           # (B, T', 2·n_mels)
        recon = recon.reshape(recon.shape[0], -1, cfg.n_mels)[:, : mel.shape[1]]  # back to T frames
        fmask = frame_mask(lengths, mel.shape[1])[:, : recon.shape[1]]
        recon_l1 = ((recon - mel[:, : recon.shape[1]]).abs().mean(-1) * fmask).sum() / fmask.sum()
        voice_adv = F.cross_entropy(self.voice_critic(GradReverse.apply(audio_code)), voice_ids)
        loss = cfg.w_ctc * ctc + cfg.w_match * match + cfg.w_recon * recon_l1 + cfg.w_voice_adv * voice_adv
        return {"ctc": ctc, "match": match, "recon": recon_l1, "voice_adv": voice_adv, "loss": loss}
