"""The served text–speech model: g2p, p2g, spelling → clips and clip → spellings over FAISS indexes.

index_text_speech stores two inner-product indexes of unit content codes: `speech.faiss` (every stored
clip) and `text.faiss` (the spellings of those clips, coded through G2P). Ids are clip numbers in
the catalogue order of `catalogue()` and word numbers in `words.json`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from pipeline.atomic import write_json
from pipeline.errors import NotFound
from pipeline.indexes import VectorIndex
from translation.speech.lexicon import PHONES, check_phonemes, check_word
from translation.speech.audio import log_mel, read_audio, trim_silence, wav_bytes
from translation.speech.data import ClipSet, TextSpeechData
from translation.speech.metrics import g2p_words, p2g_phonemes
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

    @classmethod
    def load(cls, data_dir=artifacts.DATA, model_dir=artifacts.MODELS, index_dir=artifacts.INDEX):
        channel, _ = load_channel(Path(model_dir) / artifacts.CHANNEL.name)
        acoustic, _ = load_acoustic(Path(model_dir) / artifacts.ACOUSTIC.name)
        index_dir = Path(index_dir)
        words = json.loads((index_dir / "words.json").read_text())
        return cls(channel, acoustic, catalogue(TextSpeechData.load(data_dir)),
                   VectorIndex.load(index_dir / "speech.faiss"), VectorIndex.load(index_dir / "text.faiss"), words)

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
        """Spellings whose code is nearest the clip's content code (the code of what the CTC head heard)."""
        audio = trim_silence(read_audio(wav, name, self.max_seconds))
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
