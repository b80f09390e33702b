"""schemathesis hooks: how to make the files the schema's uploads declare (image/png, image/jpeg, and
the audio upload's bytes: wav, FLAC or Ogg), so that schema-valid requests carry real files of those kinds,
of any size, mode, sample rate and channel count. Loaded through SCHEMATHESIS_HOOKS by tests/test_contract.py."""
import io
import wave

import numpy as np
import schemathesis
from hypothesis import strategies as st
from PIL import Image


def image_bytes(width: int, height: int, mode: str, seed: int, fmt: str) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buf, format=fmt)
    return buf.getvalue()


MAX_FILE = 150_000   # under the body limit of the served config (413 is documented for bodies over it)


def wav_bytes(rate: int, channels: int, width: int, seconds: float, amplitude: float, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    n = max(1, min(int(rate * seconds), MAX_FILE // (channels * width)))
    t = np.arange(n) / rate
    signal = amplitude * np.sin(2 * np.pi * rng.uniform(80, 4000) * t) + amplitude * 0.1 * rng.standard_normal(n)
    signal = np.clip(np.repeat(signal[:, None], channels, axis=1), -1, 1)
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}[width]
    pcm = (signal * 127 + 128) if width == 1 else signal * np.iinfo(dtype).max
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(pcm.astype(dtype).tobytes())
    return buf.getvalue()


sizes, seeds = st.integers(1, 80), st.integers(0, 2**32 - 1)
for media_type, fmt in (("image/png", "PNG"), ("image/jpeg", "JPEG")):
    modes = st.sampled_from(["RGB", "L", "P", "RGBA"] if fmt == "PNG" else ["RGB", "L"])
    schemathesis.openapi.media_type(media_type, st.builds(image_bytes, sizes, sizes, modes, seeds, st.just(fmt)))
def encoded_audio(fmt: str, rate: int, channels: int, seconds: float, amplitude: float, seed: int) -> bytes:
    import soundfile

    rng = np.random.default_rng(seed)
    n = max(1, int(rate * seconds))
    signal = amplitude * np.sin(2 * np.pi * rng.uniform(80, 4000) * np.arange(n) / rate)
    buf = io.BytesIO()
    soundfile.write(buf, np.repeat(signal[:, None], channels, axis=1).astype(np.float32), rate, format=fmt)
    return buf.getvalue()


# The audio upload is declared application/octet-stream (the service reads the bytes, whatever the
# part's type says): here that means a real wav, FLAC or Ogg file of any rate and channel count.
compressed = st.builds(encoded_audio, st.sampled_from(["FLAC", "OGG"]), st.sampled_from([8000, 16000, 22050, 44100, 48000]),
                       st.integers(1, 2), st.floats(0.05, 1.0), st.sampled_from([0.0, 0.01, 0.5, 1.0]), seeds)
pcm = st.builds(wav_bytes, st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000]), st.integers(1, 2),
                st.sampled_from([1, 2, 4]), st.floats(0.01, 1.0), st.sampled_from([0.0, 0.01, 0.5, 1.0]), seeds)
schemathesis.openapi.media_type("application/octet-stream", st.one_of(pcm, compressed))
