"""Every speech engine setup installs speaks: 16 kHz mono float clips of a word's length that are not
silent, from phonemes (training) and from a spelling (evaluation queries); bad voices are named."""
import numpy as np
import pytest

from translation.speech.audio import SpeechError
from translation.speech.engines import check_voice, festival_voices, flite_voices, parse_voice, speak

GARDEN = ("G", "AA1", "R", "D", "AH0", "N")
VOICES = ["en-us+m1", "espeak:en-gb-scotland", "festival:kal_diphone", "festival:ked_diphone",
          "festival:cmu_us_slt_arctic_hts", "flite:rms", "flite:awb"]


def test_setup_installed_the_projects_festival_and_flite_voices():
    assert {"kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts"} <= set(festival_voices())
    assert {"rms", "awb"} <= set(flite_voices())


@pytest.mark.parametrize("voice", VOICES)
def test_each_engine_speaks_a_word_from_its_spelling_and_phonemes(voice):
    jobs = [(voice, "spelling", "garden")] + ([] if voice.endswith("_hts") else [(voice, "phonemes", GARDEN)])
    for (_, kind, _), clip in zip(jobs, speak(jobs)):
        assert clip.dtype == np.float32 and clip.ndim == 1, kind       # read_wav resampled it to 16 kHz mono
        assert 0.3 < len(clip) / 16000 < 2.0, kind
        assert np.sqrt(np.mean(clip ** 2)) > 0.01, kind


def test_festival_speaks_many_jobs_in_order_and_quotes_spellings():
    words = ["window", "apple", 'say"x', "garden"]
    clips = speak([("festival:kal_diphone", "spelling", w) for w in words])
    assert len(clips) == 4 and all(np.sqrt(np.mean(c ** 2)) > 0.01 for c in clips)
    again = speak([("festival:kal_diphone", "spelling", "garden")])[0]
    assert np.array_equal(clips[3], again)                         # the order follows the jobs


def test_bad_voices_and_jobs_are_named():
    assert parse_voice("en-us+f2") == ("espeak", "en-us+f2")
    with pytest.raises(SpeechError, match="'say:x': expected engine:voice"):
        check_voice("say:x")
    with pytest.raises(SpeechError, match="festival has no voice 'nope'"):
        check_voice("festival:nope")
    with pytest.raises(SpeechError, match="flite has no voice 'nope'"):   # flite itself would speak kal's
        check_voice("flite:nope")
    with pytest.raises(SpeechError, match="HTS voices speak spellings only"):
        speak([("festival:cmu_us_slt_arctic_hts", "phonemes", GARDEN)])
    with pytest.raises(SpeechError, match="unknown phoneme 'QQ'"):
        speak([("festival:kal_diphone", "phonemes", ("QQ",))])


def test_one_speaker_in_two_roles_is_refused_whatever_the_voices_are_named():
    from pipeline.config import ConfigError
    from translation.speech.data import PrepareTextSpeech
    from translation.speech.engines import shared_speakers, speaker

    assert speaker("festival:cmu_us_slt_arctic_hts") == speaker("flite:slt") == "slt"
    assert speaker("festival:kal_diphone") == speaker("flite:kal16") == "kal"
    assert speaker("en-us+m1") == speaker("en-gb+m1") != speaker("en-us+m2")
    assert shared_speakers(["flite:slt", "en-us+m1"], ["festival:cmu_us_slt_arctic_hts"]) == {
        "slt": ["flite:slt", "festival:cmu_us_slt_arctic_hts"]}
    roles = dict(train_voices=["en-us+m1", "en-us+f2"], dev_voices=["en-gb+m3"], test_voices=["en-us+m7"])
    PrepareTextSpeech(**roles).check()
    with pytest.raises(ConfigError, match="test_voices: speaker slt is heard in train_voices too"):
        PrepareTextSpeech(**roles | {"train_voices": ["en-us+m1", "flite:slt"],
                                     "test_voices": ["festival:cmu_us_slt_arctic_hts"]}).check()
    with pytest.raises(ConfigError, match="test_voices: speaker espeak\\+m1 is heard in train_voices too"):
        PrepareTextSpeech(**roles | {"test_voices": ["en-gb+m1"]}).check()
    with pytest.raises(ConfigError, match="dev_voices: speaker kal is heard in train_voices too"):
        PrepareTextSpeech(**roles | {"train_voices": ["en-us+m1", "festival:kal_diphone"], "dev_voices": ["flite:kal16"]}).check()
    with pytest.raises(ConfigError, match="test_voices: speaker espeak\\+m3 is heard in dev_voices too"):
        PrepareTextSpeech(**roles | {"test_voices": ["en-us+m3"]}).check()
    with pytest.raises(SpeechError, match="not in translation.speech.engines.VOICES"):
        speaker("festival:someone_else")


def test_the_default_roles_share_no_speaker_and_hold_a_synthesizer_family_out():
    """Both for the config's defaults and for params.yaml (what the pipeline and the benches run)."""
    import yaml

    from translation.speech.data import ROLES, PrepareTextSpeech
    from translation.speech.engines import family, shared_speakers, unseen_families

    params = yaml.safe_load(open("params.yaml"))["prepare_text_speech"]
    for roles in ({key: getattr(PrepareTextSpeech(), key) for key in ROLES}, {key: params[key] for key in ROLES}):
        assert shared_speakers(*roles.values()) == {}
        assert unseen_families(roles["test_voices"], roles["train_voices"], roles["dev_voices"]) == ["parametric"]
        assert {family(v) for v in roles["dev_voices"]} - {"formant"}, "dev has a voice of another family than espeak-ng's"
    assert unseen_families(["flite:rms", "en-us+m7"], ["en-us+m1"], ["festival:kal_diphone"]) == ["parametric"]
    assert unseen_families(["flite:rms"], ["en-us+m1"], ["festival:cmu_us_slt_arctic_hts"]) == []
