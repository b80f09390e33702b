"""Speech: espeak-ng synthesis from ARPAbet phonemes, wav reading and log-mel features (torchaudio).

espeak-ng accepts phoneme input between ``[[ ]]`` in its own mnemonics; we map the 39 ARPAbet
phonemes (CMUdict stress kept for natural prosody) and separate them with ``|`` so that e.g. T+SH
is not read as the affricate CH.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import wave

import numpy as np

from pipeline.errors import UnsupportedMedia
from translation.speech.lexicon import PHONEMES, strip_stress

SAMPLE_RATE = 16000
ESPEAK_VOWELS = {"AA": "A:", "AE": "a", "AO": "O:", "AW": "aU", "AY": "aI", "EH": "E", "EY": "eI",
                 "IH": "I", "IY": "i:", "OW": "oU", "OY": "OI", "UH": "U", "UW": "u:"}
ESPEAK_CONSONANTS = {"B": "b", "CH": "tS", "D": "d", "DH": "D", "F": "f", "G": "g", "HH": "h", "JH": "dZ",
                     "K": "k", "L": "l", "M": "m", "N": "n", "NG": "N", "P": "p", "R": "r", "S": "s", "SH": "S",
                     "T": "t", "TH": "T", "V": "v", "W": "w", "Y": "j", "Z": "z", "ZH": "Z"}
# AH and ER depend on stress: unstressed AH is schwa, unstressed ER is the r-coloured schwa
ESPEAK_STRESS_DEPENDENT = {"AH": ("@", "V"), "ER": ("3", "3:")}


class SpeechError(UnsupportedMedia):
    """Audio that cannot be made or used: no espeak-ng, an unknown phoneme, an unreadable wav."""


class ClipTooLong(SpeechError):
    """A clip longer than the model accepts."""
    status = 413


def espeak_phoneme(phoneme: str) -> str:
    """One ARPAbet phoneme (stress digit optional) → espeak-ng mnemonic with its stress mark."""
    base, digit = strip_stress(phoneme), phoneme[len(strip_stress(phoneme)):]
    if base not in PHONEMES:
        raise SpeechError(f"unknown phoneme {phoneme!r} (known: {' '.join(PHONEMES)})")
    if base in ESPEAK_CONSONANTS:
        return ESPEAK_CONSONANTS[base]
    stressed = digit in ("1", "2")
    sound = ESPEAK_STRESS_DEPENDENT[base][stressed] if base in ESPEAK_STRESS_DEPENDENT else ESPEAK_VOWELS[base]
    return {"1": "'", "2": ","}.get(digit, "") + sound


def espeak_input(phonemes) -> str:
    return "[[" + "|".join(espeak_phoneme(p) for p in phonemes) + "]]"


def debian_binary(name: str) -> str:
    """The path of a program that scripts/setup.sh installs from Debian, or a SpeechError naming it."""
    path = shutil.which(name)
    if path is None:
        raise SpeechError(f"{name} not found on PATH: run scripts/setup.sh (it installs the Debian packages)")
    return path


def espeak_binary() -> str:
    return debian_binary("espeak-ng")


def synthesize(phonemes, voice: str, speed: int = 160) -> np.ndarray:
    """Speak an ARPAbet phoneme string with an espeak-ng voice; float32 mono at 16 kHz."""
    cmd = [espeak_binary(), "-v", voice, "-s", str(speed), "--stdout", espeak_input(phonemes)]
    done = subprocess.run(cmd, capture_output=True, timeout=30)
    if done.returncode != 0 or not done.stdout:
        raise SpeechError(f"espeak-ng failed for voice {voice!r}: {done.stderr.decode(errors='replace')[:200]}")
    return read_wav(done.stdout, f"espeak-ng output for {' '.join(phonemes)}")


def read_wav(data: bytes, name: str, max_seconds: float | None = None) -> np.ndarray:
    """PCM wav bytes → float32 mono at 16 kHz; anything else raises SpeechError naming `name`."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            rate, width, channels, n = w.getframerate(), w.getsampwidth(), w.getnchannels(), w.getnframes()
            raw = w.readframes(n)
    except (wave.Error, EOFError) as e:
        raise SpeechError(f"{name}: not a readable PCM wav file ({e})") from None
    if width not in (1, 2, 4) or channels < 1 or rate <= 0:
        raise SpeechError(f"{name}: unsupported wav format ({width * 8}-bit, {channels} channels)")
    if n == 0:
        raise SpeechError(f"{name}: the wav file holds no audio")
    if max_seconds is not None and n / rate > max_seconds:
        raise ClipTooLong(f"{name}: {n / rate:.1f} s of audio, more than the {max_seconds:g} s allowed")
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}[width]
    audio = np.frombuffer(raw[: len(raw) - len(raw) % (width * channels)], dtype=dtype).astype(np.float32)
    audio = (audio - 128) / 128 if width == 1 else audio / float(np.iinfo(dtype).max)
    audio = audio.reshape(-1, channels).mean(axis=1)
    return resample(audio, rate)


ACCEPTED = "PCM wav, FLAC or Ogg (Vorbis, Opus)"


def read_audio(data: bytes, name: str, max_seconds: float | None = None) -> np.ndarray:
    """A recording as people make them → float32 mono at 16 kHz: PCM wav at any rate and channel count
    (through read_wav, as the training audio), FLAC or Ogg (through libsndfile, the soundfile wheel's)."""
    if data[:4] == b"RIFF":
        return read_wav(data, name, max_seconds)
    import soundfile

    try:
        info = soundfile.info(io.BytesIO(data))
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError):
        raise SpeechError(f"{name}: not a readable audio file ({ACCEPTED})") from None
    if info.format not in ("FLAC", "OGG"):
        raise SpeechError(f"{name}: {info.format_info} is not accepted ({ACCEPTED})")
    if info.frames <= 0 or info.samplerate <= 0:
        raise SpeechError(f"{name}: the file holds no audio")
    if max_seconds is not None and info.frames / info.samplerate > max_seconds:
        raise ClipTooLong(f"{name}: {info.frames / info.samplerate:.1f} s of audio, more than the {max_seconds:g} s allowed")
    try:
        audio, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as e:
        raise SpeechError(f"{name}: not a readable audio file ({e})") from None
    if len(audio) == 0:
        raise SpeechError(f"{name}: the file holds no audio")
    return resample(audio.mean(axis=1), rate)


def resample(audio: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE:
        return audio.astype(np.float32)
    import torch
    import torchaudio.functional as F

    return F.resample(torch.from_numpy(audio), rate, SAMPLE_RATE).numpy().astype(np.float32)


def wav_bytes(audio: np.ndarray) -> bytes:
    """float mono 16 kHz → 16-bit PCM wav bytes."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())
    return buf.getvalue()


def trim_silence(audio: np.ndarray, threshold: float = 0.01, pad: int = 800) -> np.ndarray:
    """Cut leading and trailing samples quieter than `threshold` (keeping `pad` samples each side)."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if len(loud) == 0:
        return audio
    return audio[max(0, loud[0] - pad): loud[-1] + pad]


_MEL = {}
N_FFT = 400   # 25 ms at 16 kHz


def log_mel(audio: np.ndarray, n_mels: int = 40) -> np.ndarray:
    """(T, n_mels) float32 log-mel frames: 25 ms windows every 10 ms (torchaudio MelSpectrogram)."""
    import torch
    import torchaudio

    if n_mels not in _MEL:
        _MEL[n_mels] = torchaudio.transforms.MelSpectrogram(SAMPLE_RATE, n_fft=N_FFT, hop_length=160, n_mels=n_mels)
    if len(audio) < N_FFT:  # shorter than one window (the centred STFT reflects N_FFT/2 samples each side)
        audio = np.pad(audio, (0, N_FFT - len(audio)))
    spec = _MEL[n_mels](torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)))
    return torch.log(spec + 1e-6).T.numpy().astype(np.float32)
