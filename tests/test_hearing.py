"""The speech front-end: PocketSphinx's decoders, the confusion channel, the spelling index and the
listening conditions (translation/speech/{recognizer,confusion,hearing,augment}.py)."""
import numpy as np
import pytest
import torch

from translation.speech.augment import CONDITIONS, degrade
from translation.speech.config import FrontEndConfig
from translation.speech.confusion import INDEX, ConfusionChannel
from translation.speech.engines import speak
from translation.speech.hearing import Evidence, SpellingIndex, ngram_vectors, rank, read_word_list
from translation.speech.lexicon import PHONEMES, LexiconError
from translation.speech.recognizer import COMFORT_NOISE_DB, PhoneRecognizer, WordRecognizer, comfort_noise, sphinx_dictionary

VOCAB = {"hello": ("HH", "AH", "L", "OW"), "window": ("W", "IH", "N", "D", "OW"), "garden": ("G", "AA", "R", "D", "AH", "N"),
         "seven": ("S", "EH", "V", "AH", "N"), "yellow": ("Y", "EH", "L", "OW"), "market": ("M", "AA", "R", "K", "AH", "T")}


def _pair_score(channel: ConfusionChannel, said, heard) -> float:
    """log p(heard | said) of one pair, summed along the alignment `align` chooses."""
    sub, dele, ins, stay = channel.costs()
    total = 0.0
    for i, j in channel.align(said, heard):
        if i is None:
            total += ins[INDEX[heard[j]]]
        else:
            total += stay + (dele[INDEX[said[i]]] if j is None else sub[INDEX[said[i]], INDEX[heard[j]]])
    return total


def test_the_batched_channel_scores_what_the_alignment_of_each_pair_scores():
    rng = np.random.default_rng(0)
    channel = ConfusionChannel.uniform()
    said = [tuple(rng.choice(PHONEMES, rng.integers(1, 7))) for _ in range(30)]
    heard = list(rng.choice(PHONEMES, 4))
    batched = channel.log_prob(heard, said)
    assert batched == pytest.approx([_pair_score(channel, s, heard) for s in said])
    exact = channel.log_prob(["K", "AE", "T"], [("K", "AE", "T"), ("B", "AE", "T"), ("K", "AE", "T", "S")])
    assert exact[0] > exact[1] and exact[0] > exact[2]


def test_hard_em_recovers_a_planted_confusion_and_deletions(tmp_path):
    rng = np.random.default_rng(1)
    symbols = ["K", "AE", "T", "S", "B", "D", "IY"]
    pairs = []
    for _ in range(400):
        said = tuple(rng.choice(symbols, 5))
        heard = [("D" if p == "T" else p) for p in said if rng.random() > 0.1]   # T heard as D, 10 % deleted
        pairs.append((said, heard))
    channel = ConfusionChannel.fit(pairs)
    p = np.exp(channel.log_sub)
    assert p[INDEX["T"], INDEX["D"]] > 0.7 and p[INDEX["T"], INDEX["T"]] < 0.05
    assert 0.05 < p[INDEX["K"], -1] < 0.2
    assert channel.p_ins < 0.02
    (tmp_path / "confusion.npz").write_bytes(channel.to_bytes())
    restored = ConfusionChannel.load(tmp_path / "confusion.npz")
    assert np.array_equal(restored.log_sub, channel.log_sub) and restored.p_ins == channel.p_ins


def test_a_file_that_is_not_a_confusion_channel_is_named(tmp_path):
    bad = tmp_path / "c.npz"
    np.savez(bad, sub=np.zeros((3, 4)), ins=np.zeros(3), p_ins=np.array(0.1))
    with pytest.raises(ValueError, match="c.npz"):
        ConfusionChannel.load(bad)
    with pytest.raises(FileNotFoundError, match="fit_confusion"):
        ConfusionChannel.load(tmp_path / "missing.npz")


@pytest.fixture(scope="module")
def spoken():
    """Each vocabulary word spoken from its spelling by espeak-ng and by flite."""
    words = sorted(VOCAB)
    return words, speak([("en-us+m3", "spelling", w) for w in words] + [("flite:rms", "spelling", w) for w in words])


def test_pocketsphinx_decodes_words_of_a_small_vocabulary_and_hears_phonemes(spoken):
    words, clips = spoken
    recognizer = WordRecognizer({w: [p] for w, p in VOCAB.items()})
    firsts = [recognizer.nbest(c, 3)[:1] for c in clips]
    assert sum(f == [w] for f, w in zip(firsts, words + words)) >= 9   # of 12: real-speech models hear synthesizers
    heard = PhoneRecognizer().hear(clips[0])
    assert heard and set(heard) <= set(PHONEMES)
    assert sphinx_dictionary()["hello"][0] in (("HH", "AH", "L", "OW"), ("HH", "EH", "L", "OW"))


def test_the_index_takes_dictionary_pronunciations_and_asks_g2p_for_the_rest():
    asked = []

    def g2p(words, n):
        asked.append((list(words), n))
        return [[("Z", "UW"), ("Z", "OW")] for _ in words]

    index = SpellingIndex.build(["Hello", "zorblax", "window"], {"hello": VOCAB["hello"], "window": VOCAB["window"]}, g2p, 2)
    assert asked == [(["zorblax"], 2)]
    assert index.sources == ["dictionary", "dictionary", "g2p"] and index.words == ["hello", "window", "zorblax"]
    assert index.prons[2] == [("Z", "UW"), ("Z", "OW")]
    # heard exactly one pronunciation: FAISS proposes its word, the channel ranks it first
    ev = Evidence(list(VOCAB["window"]), [])
    assert index.words[index.candidates(ev, 2)[0]] in ("window", "hello")
    top = rank(index, ev, ConfusionChannel.uniform(), FrontEndConfig(candidates=3), 3)
    assert top[0][0] == "window" and [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    # the recognizer's n-best is proposed and counts when its weight is on
    ev = Evidence(["Z", "UW"], ["hello"])
    assert rank(index, ev, ConfusionChannel.uniform(), FrontEndConfig(channel=0.0, recognizer=1.0), 1)[0][0] == "hello"


def test_phone_ngram_vectors_are_unit_and_tell_orders_apart():
    v = ngram_vectors([("K", "AE", "T"), ("T", "AE", "K")])
    assert np.linalg.norm(v, axis=1) == pytest.approx([1, 1])
    assert v[0] @ v[1] < 0.7


def test_a_word_list_is_read_one_spelling_a_line_and_a_bad_line_is_named(tmp_path):
    good = tmp_path / "words.txt"
    good.write_text("Hello\n\n# a comment\nzorblax\nhello\n")
    assert read_word_list(good) == ["hello", "zorblax"]
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\nrock'n'roll\n")
    with pytest.raises(LexiconError, match=r"bad.txt:2"):
        read_word_list(bad)
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(LexiconError, match="no spellings"):
        read_word_list(tmp_path / "empty.txt")
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_word_list(tmp_path / "nope.txt")


def test_listening_conditions_do_what_they_say():
    gen = torch.Generator().manual_seed(0)
    t = np.arange(16000) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 5000 * t) + 0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    phone = degrade(tone, "phone", gen)
    spectrum, before = np.abs(np.fft.rfft(phone[:16000])), np.abs(np.fft.rfft(tone))
    assert spectrum[5000] < 0.05 * before[5000] and spectrum[1000] > 0.5 * before[1000]
    noisy = degrade(tone, "noise10", gen)
    snr = 10 * np.log10(np.mean(tone ** 2) / np.mean((noisy - tone) ** 2))
    assert snr == pytest.approx(10, abs=0.5)
    assert len(degrade(tone, "reverb", gen)) > len(tone) and degrade(tone, "clean", gen) is tone
    assert set(CONDITIONS) == {"clean", "phone", "noise20", "noise10", "reverb"}
    with pytest.raises(ValueError, match="'radio'"):
        degrade(tone, "radio", gen)


def test_training_clips_are_heard_under_each_condition_or_one_in_turn_alike_on_dask(tiny_text_speech, dask):
    from translation.speech.recognizer import hear_clips

    clips = tiny_text_speech.clips["paired"]
    each = hear_clips(clips, ["clean", "noise10"], chunk=7)
    assert [i for i, _ in each] == list(range(len(clips))) * 2
    assert hear_clips(clips, ["clean", "noise10"], chunk=7, client=dask) == each   # the same draws on the workers
    turn = hear_clips(clips, ["clean", "noise10"], in_turn=True, chunk=7)
    assert [i for i, _ in turn] == list(range(len(clips)))
    assert [h for _, h in turn][::2] == [h for _, h in each][: len(clips)][::2]   # the clean ones are the same


def test_a_clip_is_heard_the_same_whatever_was_heard_before(spoken):
    words, clips = spoken
    phones, vocab = PhoneRecognizer(), WordRecognizer({w: [p] for w, p in VOCAB.items()})
    first = (phones.hear(clips[0]), vocab.nbest(clips[0], 5))
    for clip in clips[1:]:
        phones.hear(clip)
        vocab.nbest(clip, 5)
    assert (phones.hear(clips[0]), vocab.nbest(clips[0], 5)) == first
    assert (PhoneRecognizer().hear(clips[0]), WordRecognizer({w: [p] for w, p in VOCAB.items()}).nbest(clips[0], 5)) == first


def test_the_noise_floor_sits_its_snr_below_the_clip_and_is_drawn_the_same_every_time():
    rng = np.random.default_rng(3)
    clip = (0.3 * np.sin(np.arange(16000) / 7.0) * (np.arange(16000) > 4000)).astype(np.float32)   # digital silence first
    before = clip.copy()
    heard = comfort_noise(clip)
    assert np.array_equal(clip, before) and heard.dtype == np.float32 and heard.shape == clip.shape
    noise = heard - clip
    snr = 10 * np.log10(np.mean(clip.astype(np.float64) ** 2) / np.mean(noise.astype(np.float64) ** 2))
    assert snr == pytest.approx(COMFORT_NOISE_DB, abs=0.2)
    assert np.all(noise[:4000] != 0)                         # the silence now has a floor
    assert np.array_equal(comfort_noise(clip), heard)        # a clip is heard the same way every time
    assert np.array_equal(comfort_noise(clip, None), clip)
    assert np.array_equal(comfort_noise(np.zeros(0, np.float32)), np.zeros(0, np.float32))
    quiet = comfort_noise(rng.normal(0, 1e-3, 800).astype(np.float32), 10.0)
    assert np.isfinite(quiet).all()


def test_a_clip_too_short_or_silent_to_hear_gives_nothing_not_an_error():
    phones, vocab = PhoneRecognizer(), WordRecognizer({w: [p] for w, p in VOCAB.items()})
    for clip in (np.zeros(160, np.float32), np.zeros(16000, np.float32), np.full(80, 0.5, np.float32)):
        assert set(phones.hear(clip)) <= set(PHONEMES)
        assert set(vocab.nbest(clip, 3)) <= set(VOCAB)
