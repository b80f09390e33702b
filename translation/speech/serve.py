"""The served text–speech model: g2p, p2g, spelling → clips and clip → spellings over FAISS indexes.

index_text_speech stores two inner-product indexes of unit content codes: `speech.faiss` (every stored
clip) and `text.faiss` (the spellings of those clips, coded through G2P). Ids are clip numbers in
the catalogue order of `catalogue()` and word numbers in `words.json`. Speech → spelling search goes
through the front-end of translation.speech.hearing: `spellings.json` (the searchable spellings, any
word list, with their pronunciations and the scoring weights), `spelling_codes.npy` and the confusion
channel `confusion.npz` (stage fit_confusion's, copied so that the folder is the whole search).
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import torch

from pipeline.atomic import write_json
from pipeline.errors import NotFound
from pipeline.indexes import VectorIndex
from translation.speech.confusion import ConfusionChannel
from translation.speech.config import FrontEndConfig
from translation.speech.hearing import FrontEnd, SpellingIndex
from translation.speech.lexicon import PHONES, check_phonemes, check_word, cmudict_path, read_lexicon
from translation.speech.audio import log_mel, read_audio, trim_silence, wav_bytes
from translation.speech.data import ClipSet, TextSpeechData
from translation.speech.metrics import g2p_nbest, g2p_words, p2g_phonemes
from translation.speech.checkpoints import load_acoustic, load_channel
from translation.speech.train import phoneme_codes, speech_codes
from translation.speech import artifacts

CATALOGUE = ("test", "paired", "unpaired")   # the clip sets a search can return


def catalogue(data: TextSpeechData) -> ClipSet:
    return ClipSet.concat([data.clips[s] for s in CATALOGUE if s in data.clips])


def build_indexes(channel, acoustic, clips: ClipSet, factory: str, device):
    """(speech index, text index, words, text codes): the codes let the caller query one with the other."""
    audio, _ = speech_codes(acoustic, clips, device)
    words = sorted(set(clips.words))
    text = phoneme_codes(acoustic, g2p_words(channel, words, device), device)
    return (VectorIndex.build(audio, np.arange(len(clips)), factory, "ip"),
            VectorIndex.build(text, np.arange(len(words)), factory, "ip"), words, text)


@functools.cache
def cmudict_pronunciations() -> dict[str, tuple[str, ...]]:
    return {e.word: e.phonemes for e in read_lexicon(cmudict_path())}


def build_spellings(channel, acoustic, words, front: FrontEndConfig, device, lexicon: dict | None = None) -> SpellingIndex:
    """The searchable spellings: CMUdict's pronunciation (the data's lexicon first) where a word has
    one, else the channel's G2P n-best; the learned codes of each first pronunciation."""
    dictionary = cmudict_pronunciations() | {w: e.phonemes for w, e in (lexicon or {}).items()}
    return SpellingIndex.build(words, dictionary, lambda ws, n: g2p_nbest(channel, ws, n, device), front.g2p_variants,
                               lambda prons: phoneme_codes(acoustic, [list(p) for p in prons], device))


def save_indexes(folder, speech: VectorIndex, text: VectorIndex, words: list) -> None:
    folder = Path(folder)
    speech.save(folder / "speech.faiss")
    text.save(folder / "text.faiss")
    write_json(folder / "words.json", words)


class SpeechText:
    def __init__(self, channel, acoustic, clips: ClipSet, speech: VectorIndex, text: VectorIndex, words: list,
                 max_seconds: float = 5.0):
        self.channel, self.acoustic, self.clips = channel, acoustic, clips
        self.speech_index, self.text_index, self.words = speech, text, words
        self.max_seconds, self.device = max_seconds, torch.device("cpu")
        self.front: FrontEnd | None = None

    @classmethod
    def load(cls, data_dir=artifacts.DATA, model_dir=artifacts.MODELS, index_dir=artifacts.INDEX):
        channel, _ = load_channel(Path(model_dir) / artifacts.CHANNEL.name)
        acoustic, _ = load_acoustic(Path(model_dir) / artifacts.ACOUSTIC.name)
        index_dir = Path(index_dir)
        words = json.loads((index_dir / "words.json").read_text())
        out = cls(channel, acoustic, catalogue(TextSpeechData.load(data_dir)),
                  VectorIndex.load(index_dir / "speech.faiss"), VectorIndex.load(index_dir / "text.faiss"), words)
        if (index_dir / "spellings.json").exists():
            spellings, front = SpellingIndex.load(index_dir)
            out.front = FrontEnd(spellings, ConfusionChannel.load(index_dir / "confusion.npz"), front, acoustic)
        return out

    def _front_end(self) -> FrontEnd:
        if self.front is None:
            raise NotFound("this index has no speech front-end (spellings.json): re-run `dvc repro index_text_speech`")
        return self.front

    def use_spellings(self, words: list[str]) -> None:
        """Search `words` (any spellings) from now on, scored as the index's front-end scores."""
        front = self._front_end()
        spellings = build_spellings(self.channel, self.acoustic, words, front.cfg, self.device)
        self.front = FrontEnd(spellings, front.confusion, front.cfg, self.acoustic)

    def add_spellings(self, words: list[str]) -> dict:
        """Add spellings to those speech search returns, for this process (the index on disk stays);
        the spellings already there keep their pronunciations."""
        front = self._front_end()
        added = sorted({check_word(w) for w in words} - set(front.index.words))
        if added:
            new = build_spellings(self.channel, self.acoustic, added, front.cfg, self.device)
            self.front = FrontEnd(front.index.merged(new), front.confusion, front.cfg, self.acoustic)
        return {"added": added, "spellings": len(self.front.index.words)}

    def g2p(self, word: str) -> list[str]:
        return g2p_words(self.channel, [check_word(word)], self.device)[0]

    def p2g(self, phonemes: list[str]) -> str:
        return p2g_phonemes(self.channel, [list(check_phonemes(phonemes))], self.device)[0]

    def search_speech(self, word: str, k: int) -> dict:
        """Clips that say `word` (its spelling → G2P → content code → nearest clip codes)."""
        word = check_word(word)
        phonemes = self.g2p(word)
        code = phoneme_codes(self.acoustic, [phonemes], self.device)
        scores, ids = self.speech_index.search(code, k)
        return {"word": word, "phonemes": phonemes,
                "results": [{"clip": int(i), "word": self.clips.words[i], "voice": self.clips.voices[i],
                             "score": float(s)} for s, i in zip(scores[0], ids[0]) if i >= 0]}

    def search_text(self, wav: bytes, k: int, name: str = "audio") -> dict:
        """Spellings of what the clip says: through the front-end (what PocketSphinx heard, scored
        against every spelling's pronunciations) where the index has one; else the spellings whose
        code is nearest the clip's content code (the code of what the CTC head heard)."""
        audio = trim_silence(read_audio(wav, name, self.max_seconds))
        if self.front is not None:
            evidence, ranked = self.front.search(audio, k)
            return {"seconds": round(len(audio) / 16000, 3), "heard": evidence.heard,
                    "results": [{"word": w, "score": s} for w, s in ranked]}
        mel = torch.from_numpy(log_mel(audio, self.acoustic.cfg.n_mels))[None]
        with torch.no_grad():
            heard = PHONES.decode(self.acoustic.transcribe(mel, torch.tensor([mel.shape[1]]))[0])
        scores, ids = self.text_index.search(phoneme_codes(self.acoustic, [heard], self.device), k)
        return {"seconds": round(len(audio) / 16000, 3), "heard": heard,
                "results": [{"word": self.words[i], "score": float(s)} for s, i in zip(scores[0], ids[0]) if i >= 0]}

    def clip_wav(self, clip: int) -> bytes:
        if not 0 <= clip < len(self.clips):
            raise NotFound(f"clip {clip}: no such clip (0..{len(self.clips) - 1})")
        return wav_bytes(self.clips.waveform(clip))
