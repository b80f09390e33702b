"""Augmentation of training clips on the fly, so the acoustic encoder hears more than its synthesizers'
exact sound: speed perturbation (resampling, which moves tempo and pitch together, as Kaldi's),
pitch shift (a phase-vocoder time stretch, then resampling: pitch moves, length stays), gain,
reverberation by a synthetic room impulse response, additive noise at a random signal-to-noise
ratio, and SpecAugment's time and frequency masks on the log-mel frames. Each is a param and off at
0; every draw comes from the caller's generator.

Resampling runs at rates rounded to 100 Hz: torchaudio's polyphase filter has as many phases as
16000 / gcd(16000, rate), so an arbitrary rate costs seconds a clip and a round one a millisecond;
the factor actually applied is the rounded rate's.
"""
from __future__ import annotations


import numpy as np
import torch
import torchaudio.functional as F

from translation.speech.audio import SAMPLE_RATE, log_mel
from translation.speech.config import CONDITIONS, AugmentConfig


def uniform(gen: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=gen))


def round_rate(rate: float) -> int:
    """A sample rate rounded to 100 Hz (cheap to resample to from 16 kHz, see above)."""
    return max(100, int(round(rate / 100.0)) * 100)


def perturb_speed(wave: np.ndarray, factor: float) -> np.ndarray:
    """Played about `factor` times as fast: resampled to SAMPLE_RATE / factor (rounded to 100 Hz) and
    read at SAMPLE_RATE."""
    new_rate = round_rate(SAMPLE_RATE / factor)
    return F.resample(torch.from_numpy(np.ascontiguousarray(wave, np.float32)), SAMPLE_RATE, new_rate).numpy()


N_FFT, HOP = 512, 128


def shift_pitch(wave: np.ndarray, semitones: float) -> np.ndarray:
    """Pitch moved by about `semitones` (the factor of a rate rounded to 100 Hz), length kept: the
    clip is first stretched in time by the factor (phase vocoder), then sped up by it (resampling)."""
    new_rate = round_rate(SAMPLE_RATE / 2 ** (semitones / 12))
    if new_rate == SAMPLE_RATE:
        return wave
    factor = SAMPLE_RATE / new_rate
    x = torch.from_numpy(np.ascontiguousarray(wave, np.float32))
    window = torch.hann_window(N_FFT)
    spec = torch.stft(x, N_FFT, HOP, window=window, return_complex=True)
    advance = torch.linspace(0, np.pi * HOP, spec.shape[0])[:, None]
    stretched = F.phase_vocoder(spec, 1 / factor, advance)
    longer = torch.istft(stretched, N_FFT, HOP, window=window, length=int(round(len(wave) * factor)))
    return F.resample(longer, SAMPLE_RATE, new_rate)[: len(wave)].numpy()


def room_impulse(rt60: float, gen: torch.Generator, drr_db: float = 5.0, seconds: float | None = None) -> np.ndarray:
    """A synthetic room impulse response: the direct path, then Gaussian noise whose amplitude falls
    60 dB in rt60 seconds (exp(-6.9 t / rt60)), the tail's energy drr_db below the direct path's;
    unit energy. (Measured: a tail of fixed per-sample scale, 17 dB above the direct path at
    rt60 0.5 s, made every reverberated clip a far room and cost clean speech, docs/results/speech_augment.json.)"""
    n = int((seconds or rt60) * SAMPLE_RATE)
    t = np.arange(1, n) / SAMPLE_RATE
    tail = torch.randn(n - 1, generator=gen).numpy() * np.exp(-6.9 * t / rt60)
    tail *= np.sqrt(10 ** (-drr_db / 10) / max(float(np.sum(tail ** 2)), 1e-12))
    rir = np.r_[1.0, tail]
    return (rir / np.sqrt(np.sum(rir ** 2))).astype(np.float32)


def reverberate(wave: np.ndarray, rt60: float, gen: torch.Generator, drr_db: float = 5.0) -> np.ndarray:
    """The clip in a room of reverberation time rt60: convolved with room_impulse, cut to the clip's
    length plus its tail, at the clip's RMS."""
    wet = F.fftconvolve(torch.from_numpy(np.ascontiguousarray(wave, np.float32)),
                        torch.from_numpy(room_impulse(rt60, gen, drr_db))).numpy()
    rms = np.sqrt(max(float(np.mean(wave ** 2)), 1e-12))
    return (wet * rms / np.sqrt(max(float(np.mean(wet ** 2)), 1e-12))).astype(np.float32)


def add_noise(wave: np.ndarray, snr_db: float, gen: torch.Generator) -> np.ndarray:
    """White noise scaled so that 10·log10(signal power / noise power) = snr_db."""
    noise = torch.randn(len(wave), generator=gen).numpy()
    power = max(float(np.mean(wave ** 2)), 1e-12)
    return (wave + noise * np.sqrt(power / 10 ** (snr_db / 10) / np.mean(noise ** 2))).astype(np.float32)


def mask(mel: np.ndarray, axis: int, masks: int, width: int, gen: torch.Generator) -> np.ndarray:
    """SpecAugment: `masks` spans of up to `width` along `axis` set to the clip's mean."""
    out = mel.copy()
    size = mel.shape[axis]
    for _ in range(masks):
        w = int(torch.randint(0, min(width, size) + 1, (), generator=gen))
        start = int(torch.randint(0, size - w + 1, (), generator=gen))
        index = [slice(None)] * mel.ndim
        index[axis] = slice(start, start + w)
        out[tuple(index)] = mel.mean()
    return out


def augmented_features(wave: np.ndarray, features: np.ndarray, cfg: AugmentConfig, gen: torch.Generator) -> np.ndarray:
    """A clip's log-mel frames under one draw of every augmentation `cfg` turns on (`features`, the
    stored frames, stand unchanged for the waveform when no waveform augmentation is on)."""
    if cfg.on_waveform:
        if cfg.speed:
            wave = perturb_speed(wave, uniform(gen, 1 - cfg.speed, 1 + cfg.speed))
        if cfg.pitch:
            wave = shift_pitch(wave, uniform(gen, -cfg.pitch, cfg.pitch))
        if cfg.gain_db:
            wave = wave * 10 ** (uniform(gen, -cfg.gain_db, cfg.gain_db) / 20)
        if cfg.reverb and float(torch.rand((), generator=gen)) < cfg.reverb:
            wave = reverberate(wave, uniform(gen, *cfg.rt60), gen, uniform(gen, *cfg.drr_db))
        if cfg.noise and float(torch.rand((), generator=gen)) < cfg.noise:
            wave = add_noise(wave, uniform(gen, *cfg.snr_db), gen)
        features = log_mel(wave, features.shape[1])
    features = mask(features, 0, cfg.time_masks, cfg.time_width, gen)
    return mask(features, 1, cfg.freq_masks, cfg.freq_width, gen)


REVERB_RT60, REVERB_DRR_DB = 0.5, 5.0


def telephone(wave: np.ndarray) -> np.ndarray:
    """Down to 8 kHz, band-passed to 300–3,400 Hz, and back to 16 kHz (what the recognizers take)."""
    x = torch.from_numpy(np.ascontiguousarray(wave, np.float32))
    narrow = F.resample(x, SAMPLE_RATE, 8000)
    narrow = F.highpass_biquad(F.lowpass_biquad(narrow, 8000, 3400.0), 8000, 300.0)
    return F.resample(narrow, 8000, SAMPLE_RATE).numpy().astype(np.float32)


def degrade(wave: np.ndarray, condition: str, gen: torch.Generator) -> np.ndarray:
    """The clip as heard under one of CONDITIONS."""
    if condition == "clean":
        return wave
    if condition == "phone":
        return telephone(wave)
    if condition in ("noise20", "noise10"):
        return add_noise(wave, float(condition[5:]), gen)
    if condition == "reverb":
        return reverberate(wave, REVERB_RT60, gen, REVERB_DRR_DB)
    raise ValueError(f"condition {condition!r}: one of {', '.join(CONDITIONS)}")
