"""CMU PocketSphinx as a source of phonetic evidence: an acoustic model trained on real human speech,
shipped in its wheel (pinned in requirements.txt) with a dictionary and a phone language model.

Two decoders over the same acoustic model:
- PhoneRecognizer: phone-loop decoding under the bundled phone LM ("allphone"), what was heard as a
  string of ARPAbet phonemes whatever the word; mdr's noisy channel scores spellings against it.
- WordRecognizer: one word of a given vocabulary (a JSGF grammar over it) with given pronunciations;
  its n-best words. With PocketSphinx's own dictionary it is the peer the bench compares against.
Both take float32 16 kHz mono audio, and hear it through a floor of white noise at COMFORT_NOISE_DB
below the clip's power (`comfort_noise`): PocketSphinx's model was trained on recordings that have a
noise floor, and synthetic clips, whose silences are digital zeros, throw its feature front-end off
(on dev voices, clean, its word decoding found nothing for 13 % of the clips; see COMFORT_NOISE_DB).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from translation.speech.audio import SpeechError
from translation.speech.lexicon import PHONEMES, check_phonemes, check_word

NBEST_HYPOTHESES = 200   # n-best entries read per clip (many repeat a word with other silences)
# Chosen on the dev voices (160 clips of 40 words, session 9): the word decoder's Recall@10 without a
# floor / at 40 / 30 / 25 / 20 dB: clean 0.506 / 0.731 / 0.738 / 0.731 / 0.725, telephone band
# 0.356 / 0.594 / 0.656 / 0.669 / 0.656; under 20 dB noise (a floor already) 0.787 with or without.
COMFORT_NOISE_DB = 30.0


def pocketsphinx():
    try:
        import pocketsphinx
    except ImportError as e:   # pragma: no cover - setup.sh installs it
        raise SpeechError("pocketsphinx is not installed: run scripts/setup.sh") from e
    return pocketsphinx


def model_dir() -> Path:
    return Path(pocketsphinx().get_model_path()) / "en-us"


def pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(np.asarray(audio, np.float32), -1, 1) * 32767).astype("<i2").tobytes()


def sphinx_dictionary() -> dict[str, list[tuple[str, ...]]]:
    """PocketSphinx's own pronunciation dictionary: word → its pronunciations (alternates in order)."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for line in (model_dir() / "cmudict-en-us.dict").read_text(encoding="utf-8").splitlines():
        head, *phones = line.split()
        word = head.split("(", 1)[0]
        if phones and all(p in PHONEMES for p in phones):
            out.setdefault(word, []).append(tuple(phones))
    return out


def comfort_noise(audio: np.ndarray, snr_db: float | None = COMFORT_NOISE_DB) -> np.ndarray:
    """The clip with white noise snr_db below its mean power (None: unchanged). The noise is drawn
    from a fixed seed, so a clip is always heard the same way."""
    audio = np.asarray(audio, np.float32)
    if snr_db is None or not len(audio):
        return audio
    power = max(float(np.mean(audio.astype(np.float64) ** 2)), 1e-10)
    noise = np.random.default_rng(0).standard_normal(len(audio))
    return (audio + noise * np.sqrt(power / 10 ** (snr_db / 10))).astype(np.float32)


def _decode(decoder, audio: np.ndarray, snr_db: float | None):
    """One utterance, heard as a fresh decoder would: the feature front-end (its live cepstral mean)
    is reset first, so that what a clip is heard as does not depend on the clips before it."""
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(pcm16(comfort_noise(audio, snr_db)), full_utt=True)
    decoder.end_utt()


class PhoneRecognizer:
    """What was heard, as ARPAbet phonemes (silences and fillers dropped)."""

    def __init__(self, comfort_db: float | None = COMFORT_NOISE_DB):
        self.comfort_db = comfort_db
        ps = pocketsphinx()
        self.decoder = ps.Decoder(hmm=str(model_dir() / "en-us"), allphone=str(model_dir() / "en-us-phone.lm.bin"),
                                  loglevel="FATAL", lw=2.0, beam=1e-20, pbeam=1e-20)

    def hear(self, audio: np.ndarray) -> list[str]:
        _decode(self.decoder, audio, self.comfort_db)
        return [s.word for s in self.decoder.seg() or [] if s.word in PHONEMES]   # nothing heard: no segments


class WordRecognizer:
    """One word of `pronunciations` (word → one or more phoneme tuples), decoded by PocketSphinx."""

    def __init__(self, pronunciations: dict[str, list[tuple[str, ...]]], comfort_db: float | None = COMFORT_NOISE_DB):
        if not pronunciations:
            raise SpeechError("WordRecognizer: an empty vocabulary")
        self.comfort_db = comfort_db
        ps = pocketsphinx()
        with tempfile.TemporaryDirectory(prefix="mdr-sphinx-") as tmp:
            lines = []
            for word, prons in sorted(pronunciations.items()):
                check_word(word)
                for n, pron in enumerate(dict.fromkeys(prons), 1):
                    lines.append(f"{word}{'' if n == 1 else f'({n})'} {' '.join(check_phonemes(pron, word))}")
            (Path(tmp) / "vocab.dict").write_text("\n".join(lines) + "\n")
            grammar = "#JSGF V1.0;\ngrammar vocab;\npublic <word> = " + " | ".join(sorted(pronunciations)) + ";\n"
            (Path(tmp) / "vocab.gram").write_text(grammar)
            self.decoder = ps.Decoder(hmm=str(model_dir() / "en-us"), dict=str(Path(tmp) / "vocab.dict"),
                                      jsgf=str(Path(tmp) / "vocab.gram"), loglevel="FATAL")
        self.words = sorted(pronunciations)

    def nbest(self, audio: np.ndarray, n: int = 10) -> list[str]:
        """Up to n distinct words, best first (empty when nothing was recognized)."""
        _decode(self.decoder, audio, self.comfort_db)
        out: dict[str, None] = {}
        for i, hyp in enumerate(self.decoder.nbest() or []):
            if hyp is None or i >= NBEST_HYPOTHESES or len(out) >= n:
                break
            word = hyp.hypstr.strip()
            if word and " " not in word:
                out.setdefault(word)
        best = self.decoder.hyp()
        if not out and best is not None and best.hypstr.strip():
            out[best.hypstr.strip()] = None
        return list(out)


def hear_plan(plan: list[tuple[np.ndarray, str]], seed: int) -> list[list[str]]:
    """Phone-loop transcripts of (clip, condition) pairs, each clip degraded as its condition says
    (translation.speech.augment.degrade; draws from `seed`). A Dask task: its own recognizer."""
    import torch

    from translation.speech.augment import degrade

    recognizer, gen = PhoneRecognizer(), torch.Generator().manual_seed(seed)
    return [recognizer.hear(degrade(clip, condition, gen)) for clip, condition in plan]


def hear_clips(clips, conditions=("clean",), in_turn: bool = False, seed: int = 0, client=None, chunk: int = 200,
               progress=None) -> list[tuple[int, list[str]]]:
    """(clip number, phone-loop transcript) of the clips of a ClipSet as heard under `conditions`:
    every clip under each condition (condition-major), or with `in_turn` one condition a clip, clip i
    under conditions[i mod n]. In chunks of `chunk` clips, on the Dask `client`'s workers when given
    (chunk k draws its noise from seed + k); progress(done) after each chunk."""
    n = len(conditions)
    plan = ([(i, conditions[i % n]) for i in range(len(clips))] if in_turn
            else [(i, c) for c in conditions for i in range(len(clips))])
    chunks = [plan[k: k + chunk] for k in range(0, len(plan), chunk)]
    work = [[(clips.waveform(i), c) for i, c in part] for part in chunks]
    if client is not None:
        futures = client.map(hear_plan, work, [seed + k for k in range(len(work))], pure=False)
        results = (f.result() for f in futures)
    else:
        results = (hear_plan(part, seed + k) for k, part in enumerate(work))
    out = []
    for part, heard in zip(chunks, results):
        out.extend((i, h) for (i, _), h in zip(part, heard))
        if progress:
            progress(len(out))
    return out
