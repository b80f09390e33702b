"""On-the-fly speech augmentation: each transform does what its param says, draws only from the
given generator, and all-off leaves the stored features untouched."""
import numpy as np
import pytest
import torch

from pipeline.config import ConfigError, from_dict
from translation.speech.audio import SAMPLE_RATE, log_mel
from translation.speech.augment import add_noise, augmented_features, mask, perturb_speed, reverberate, room_impulse, shift_pitch
from translation.speech.config import AugmentConfig


def tone(seconds: float = 0.5, hz: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_noise_is_added_at_the_asked_snr():
    wave = tone()
    noisy = add_noise(wave, 10.0, torch.Generator().manual_seed(0))
    snr = 10 * np.log10(np.mean(wave ** 2) / np.mean((noisy - wave) ** 2))
    assert snr == pytest.approx(10.0, abs=0.01)


def test_speed_perturbation_shortens_or_lengthens_the_clip_and_moves_the_pitch():
    wave = tone()
    fast, slow = perturb_speed(wave, 1.1), perturb_speed(wave, 0.9)
    # the rates are rounded to 100 Hz (14500, 17800), so the factors are within 1 % of the asked ones
    assert len(fast) == pytest.approx(len(wave) / 1.1, rel=0.01) and len(slow) == pytest.approx(len(wave) / 0.9, rel=0.01)
    peak = lambda w: np.argmax(np.abs(np.fft.rfft(w))) * SAMPLE_RATE / len(w)  # noqa: E731
    assert peak(fast) == pytest.approx(220 * 1.1, rel=0.02) and peak(slow) == pytest.approx(220 * 0.9, rel=0.02)


def peak_hz(w: np.ndarray) -> float:
    return np.argmax(np.abs(np.fft.rfft(w))) * SAMPLE_RATE / len(w)


def test_pitch_shift_moves_the_pitch_and_keeps_the_length():
    wave = tone(1.0, 300.0)
    for semitones in (2.0, -3.0):
        out = shift_pitch(wave, semitones)
        assert len(out) == len(wave)
        assert peak_hz(out) == pytest.approx(300 * 2 ** (semitones / 12), rel=0.02)
    assert shift_pitch(wave, 0.0) is wave


def test_reverb_spreads_energy_after_the_clip_at_the_clips_loudness():
    gen = torch.Generator().manual_seed(0)
    rir = room_impulse(0.5, gen, drr_db=3.0)
    assert len(rir) == SAMPLE_RATE // 2 and np.sum(rir ** 2) == pytest.approx(1.0, rel=1e-4)
    assert 10 * np.log10(rir[0] ** 2 / np.sum(rir[1:] ** 2)) == pytest.approx(3.0, abs=1e-3)   # direct-to-reverberant
    # the tail falls 60 dB over rt60: its last tenth is far quieter than its first
    tenth = len(rir) // 10
    assert np.sqrt(np.mean(rir[1:tenth] ** 2)) > 100 * np.sqrt(np.mean(rir[-tenth:] ** 2))
    click = np.zeros(4000, np.float32)
    click[100] = 1.0
    wet = reverberate(click, 0.3, torch.Generator().manual_seed(1), drr_db=0.0)
    assert len(wet) == 4000 + int(0.3 * SAMPLE_RATE) - 1
    assert np.abs(wet[200:2000]).max() > 0.01                       # the room answers after the click
    assert np.sqrt(np.mean(wet ** 2)) == pytest.approx(np.sqrt(np.mean(click ** 2)), rel=1e-4)


def test_masks_cover_spans_no_wider_than_asked():
    mel = np.random.default_rng(0).normal(size=(50, 40)).astype(np.float32)
    out = mask(mel, 0, 2, 5, torch.Generator().manual_seed(1))
    changed_rows = np.flatnonzero((out != mel).any(axis=1))
    assert 0 < len(changed_rows) <= 10 and np.allclose(out[changed_rows], mel.mean())
    out = mask(mel, 1, 1, 6, torch.Generator().manual_seed(2))
    assert len(np.flatnonzero((out != mel).any(axis=0))) <= 6


def test_all_off_leaves_the_stored_features_and_draws_repeat_with_the_generator():
    wave = tone()
    stored = log_mel(wave, 40)
    assert np.array_equal(augmented_features(wave, stored, AugmentConfig(), torch.Generator()), stored)
    cfg = AugmentConfig(speed=0.1, pitch=2.0, gain_db=6.0, reverb=1.0, noise=1.0, time_masks=2, freq_masks=1)
    draw = lambda s: augmented_features(wave, stored, cfg, torch.Generator().manual_seed(s))  # noqa: E731
    assert np.array_equal(draw(3), draw(3)) and not np.array_equal(draw(3), draw(4))
    assert draw(3).shape[1] == 40


def test_a_bad_snr_range_names_the_key():
    with pytest.raises(ConfigError, match="augment.snr_db: must be \\[low, high\\]"):
        from_dict(AugmentConfig, {"snr_db": [30.0, 5.0]}, "train_text_speech.acoustic_train.augment")


def test_the_acoustic_encoder_trains_on_augmented_clips(tiny_text_speech):
    from translation.speech.acoustic import AcousticEncoder
    from translation.speech.config import AcousticConfig
    from translation.speech.data import ClipSet
    from translation.speech.train import fit_acoustic
    from translation.speech.config import AcousticTrainConfig

    clips = ClipSet.concat([tiny_text_speech.clips["paired"], tiny_text_speech.clips["unpaired"]])

    def weights(augment):
        torch.manual_seed(0)
        model = AcousticEncoder(AcousticConfig(hidden=16, code=8, voice=4))
        fit_acoustic(model, clips, tiny_text_speech.phonemes(clips.words),
                     AcousticTrainConfig(steps=2, batch_size=8, log_every=1, augment=augment), 0, "cpu")
        return model.state_dict()

    plain, augmented = weights(AugmentConfig()), weights(AugmentConfig(speed=0.1, noise=1.0, time_masks=1))
    assert any(not torch.equal(plain[k], augmented[k]) for k in plain)
