"""The noisy-channel model of spellings and phoneme strings (Mariooryad et al., arXiv 2212.03232).

Two generative stories share two attention seq2seq networks:
  A: p(g) p(ph | g)  — text prior × channel G2P; its recognizer q(g | ph) is the P2G network.
  B: p(ph) p(g | ph) — phoneme prior × channel P2G; its recognizer q(ph | g) is the G2P network.
Training (all losses are per-word negative log-likelihoods, averaged over the batch):
  supervised  paired words: -log G2P(ph|g) - log P2G(g|ph)
  prior       unpaired data: -log p(g) and -log p(ph) (character / phoneme LMs)
  wake        unpaired ph: g ~ q(g|ph), maximise the ELBO's channel term log p(ph|g)
              (and symmetrically for unpaired spellings through story B)
  sleep       dream g ~ p(g), ph ~ p(ph|g); fit q(g|ph) to the dream: the KL-encoder loss
              E_p[-log q(g|ph)] = KL(p(g|ph) || q(g|ph)) + const (and symmetrically)
Categorical latent sequences have no reparameterization, so q is trained by the sleep phase
rather than through the ELBO (the paper's choice).
Decoding (transduce) re-ranks one network's n-best with the other story's joint: both stories vote.
"""
from __future__ import annotations


import torch
from torch import nn

from translation.speech.lexicon import GRAPHEMES, PHONES
from translation.speech.seq2seq import Seq2Seq, SymbolLM, by_length
from translation.speech.config import ChannelLossWeights, DecodeConfig, Seq2SeqConfig


class NoisyChannel(nn.Module):
    def __init__(self, cfg: Seq2SeqConfig, decode: DecodeConfig = DecodeConfig()):
        super().__init__()
        self.cfg, self.decode = cfg, decode
        self.g2p = Seq2Seq(len(GRAPHEMES), len(PHONES), cfg)
        self.p2g = Seq2Seq(len(PHONES), len(GRAPHEMES), cfg)
        self.text_lm = SymbolLM(len(GRAPHEMES), cfg)
        self.phone_lm = SymbolLM(len(PHONES), cfg)

    def _sampled(self, fn, *args, **kw):
        """Draw discrete samples with dropout off (the samples stand for the model, not its noise)."""
        was = self.training
        self.eval()
        try:
            return fn(*args, **kw)
        finally:
            self.train(was)

    def supervised_loss(self, g: torch.Tensor, ph: torch.Tensor) -> dict:
        return {"g2p": self.g2p.nll(g, ph).mean(), "p2g": self.p2g.nll(ph, g).mean()}

    def prior_loss(self, g: torch.Tensor, ph: torch.Tensor, chunks: int = 1) -> dict:
        return {"text_lm": by_length(self.text_lm.nll, chunks, g).mean(),
                "phone_lm": by_length(self.phone_lm.nll, chunks, ph).mean()}

    def wake_loss(self, g: torch.Tensor, ph: torch.Tensor, temperature: float = 1.0, generator=None,
                  samples: int = 1, chunks: int = 1) -> dict:
        """Channel terms of the ELBOs of unpaired phoneme strings (story A) and spellings (story B).

        samples K > 1: reweighted wake-sleep's wake update (Bornschein & Bengio 2015). Each item gets
        K draws from the (tempered) recognizer, and each draw's channel loss is weighted by its
        self-normalized importance weight w_k ∝ p(latent) p(observed | latent) / q_T(latent | observed),
        so the channel learns mostly from the draws the joint model finds plausible.
        chunks: the channel's loss pass runs on that many groups of similar length (by_length).
        """
        return {"wake_phones": self._wake(ph, self.p2g, self.g2p, self.text_lm, temperature, generator, samples, chunks),
                "wake_text": self._wake(g, self.g2p, self.p2g, self.phone_lm, temperature, generator, samples, chunks)}

    def _wake(self, obs, recognizer: Seq2Seq, channel: Seq2Seq, prior: SymbolLM, temperature, generator, k: int,
              chunks: int):
        obs = obs.repeat_interleave(k, 0)
        latent = self._sampled(recognizer.decode, obs, sample=True, temperature=temperature, generator=generator)
        nll = by_length(channel.nll, chunks, latent, obs)                           # -log p(obs | latent)
        if k == 1:
            return nll.mean()
        with torch.no_grad():
            # the channel term reuses the loss pass (with its dropout); prior and q are scored without
            log_w = -nll - self._sampled(prior.nll, latent) + self._sampled(recognizer.nll, obs, latent, temperature)
            w = log_w.view(-1, k).softmax(dim=1).view(-1)
        return (w * nll).sum() / (len(obs) // k)

    def sleep_loss(self, n: int, device=None, temperature: float = 1.0, generator=None) -> dict:
        """KL-encoder losses of both recognizers on pairs dreamed by the model itself."""
        g_d = self._sampled(self.text_lm.sample, n, device, temperature, generator)
        ph_d = self._sampled(self.g2p.decode, g_d, sample=True, temperature=temperature, generator=generator)
        ph_d2 = self._sampled(self.phone_lm.sample, n, device, temperature, generator)
        g_d2 = self._sampled(self.p2g.decode, ph_d2, sample=True, temperature=temperature, generator=generator)
        return {"sleep_p2g": self.p2g.nll(ph_d, g_d).mean(), "sleep_g2p": self.g2p.nll(g_d2, ph_d2).mean()}

    @torch.no_grad()
    def transduce(self, x: torch.Tensor, direction: str) -> torch.Tensor:
        """Best outputs (B, L) of inputs x, direction "g2p" or "p2g" (call in eval mode): the first of
        `ranked`. beam 1: greedy, no re-ranking."""
        if self.decode.beam == 1:
            self._direction(direction)
            return (self.g2p if direction == "g2p" else self.p2g).decode(x)
        return self.ranked(x, direction)[0][:, 0]

    @torch.no_grad()
    def ranked(self, x: torch.Tensor, direction: str, k: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The n-best outputs (B, k, L) of inputs x, best first, and their scores (B, k).

        Noisy-channel decoding with both stories: the direct network's n-best (beam search) are
        re-ranked by log p(y|x) + rerank · log p'(x|y) + rerank_prior · log p'(y), the other story's
        channel and prior (for G2P: log p(g|ph) and log p(ph)). With both weights 1 this is the argmax
        of the product of both stories' joints, since log p(x) is constant over the candidates; a
        prior weight of 1.5 was better on dev (G2P PER 0.174 -> 0.169; `git show 330d71a:docs/benchmarks.md`).
        k: the beam (default: decode.beam).
        """
        self._direction(direction)
        direct, reverse, prior = ((self.g2p, self.p2g, self.phone_lm) if direction == "g2p"
                                  else (self.p2g, self.g2p, self.text_lm))
        k = k or self.decode.beam
        cands, score = direct.beam(x, k)
        if self.decode.rerank > 0 or self.decode.rerank_prior > 0:
            flat = cands.flatten(0, 1)
            other = (-self.decode.rerank * reverse.nll(flat, x.repeat_interleave(k, 0))
                     - self.decode.rerank_prior * prior.nll(flat))
            score = score + other.view(x.shape[0], k)
        order = score.argsort(dim=1, descending=True, stable=True)
        return cands.gather(1, order[..., None].expand_as(cands)), score.gather(1, order)

    @staticmethod
    def _direction(direction: str) -> None:
        if direction not in ("g2p", "p2g"):
            raise ValueError(f"direction: 'g2p' or 'p2g', got {direction!r}")

    def forward(self, paired, unpaired=None, w: ChannelLossWeights = ChannelLossWeights(), generator=None,
                dreams: int | None = None, chunks: int = 1) -> dict:
        """Named losses of one step and their weighted sum under "loss".

        paired: (g, ph) id tensors of paired words; unpaired: (g, ph) of unrelated spellings and
        phoneme strings, or None for the supervised-only model; dreams: pairs dreamed per story for
        the sleep phase (default: as many as the unpaired batch); chunks: the unpaired batch's loss
        passes run on that many groups of similar length (by_length: same losses, less padding).
        """
        losses = self.supervised_loss(*paired)
        total = w.supervised * (losses["g2p"] + losses["p2g"])
        if unpaired is not None:
            losses |= self.prior_loss(*unpaired, chunks=chunks)
            total = total + losses["text_lm"] + losses["phone_lm"]
            if w.wake > 0:
                wake = self.wake_loss(*unpaired, temperature=w.temperature, generator=generator, samples=w.wake_samples,
                                       chunks=chunks)
                losses |= wake
                total = total + w.wake * (wake["wake_phones"] + wake["wake_text"])
            if w.sleep > 0:
                sleep = self.sleep_loss(dreams or unpaired[0].shape[0], unpaired[0].device, w.temperature, generator)
                losses |= sleep
                total = total + w.sleep * (sleep["sleep_p2g"] + sleep["sleep_g2p"])
        losses["loss"] = total
        return losses
