"""Text–speech over real HTTP: g2p, p2g, retrieval both ways, clips; every bad input → 4xx JSON."""
import io
import wave

import httpx
import numpy as np
import pytest

from pipeline.service import ServeConfig, create_app
from translation.speech.routes import speech_service
from translation.speech.lexicon import PHONEMES

pytestmark = pytest.mark.slow   # runs stages, clusters, servers or a browser: left out of the inner loop


@pytest.fixture(scope="module")
def service(served_speech, serve_app):
    st = served_speech
    server, thread, url = serve_app(create_app([speech_service(lambda: st)], ServeConfig(max_body_bytes=200_000)))
    with httpx.Client(base_url=url, timeout=20) as client:
        yield client, st
    server.should_exit = True
    thread.join(5)


def test_ready_and_documented(service):
    client, _ = service
    assert client.get("/readyz").json()["models"] == ["speech_text"]
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/g2p", "/p2g", "/speech/search", "/text/search", "/clips/{clip}"} <= set(paths)


def test_g2p_and_p2g_match_the_model(service):
    client, st = service
    r = client.get("/g2p", params={"word": " Hello "})
    assert r.status_code == 200 and r.json() == {"word": "hello", "phonemes": st.g2p("hello")}
    r = client.get("/p2g", params={"phonemes": "hh ah0 l ow1"})
    assert r.status_code == 200 and r.json()["word"] == st.p2g(["HH", "AH", "L", "OW"])


def test_search_both_ways_and_fetch_a_clip(service, tiny_text_speech):
    client, st = service
    r = client.get("/speech/search", params={"word": "hello", "k": 3})
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 3 and all({"clip", "word", "voice", "score"} <= set(x) for x in results)
    assert [x["score"] for x in results] == sorted((x["score"] for x in results), reverse=True)
    wav = client.get(f"/clips/{results[0]['clip']}")
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    r = client.post("/text/search", files={"audio": ("c.wav", wav.content, "audio/wav")}, data={"k": "4"})
    assert r.status_code == 200 and len(r.json()["results"]) == 4
    direct = st.search_text(wav.content, 4)   # the same search outside the service (one thread, not the worker's)
    assert {k: v for k, v in r.json().items() if k != "results"} == {k: v for k, v in direct.items() if k != "results"}
    assert [x["word"] for x in r.json()["results"]] == [x["word"] for x in direct["results"]]
    assert [x["score"] for x in r.json()["results"]] == pytest.approx([x["score"] for x in direct["results"]], abs=1e-5)
    assert r.json()["results"][0]["word"] in st.words
    assert isinstance(r.json()["heard"], list) and set(r.json()["heard"]) <= set(PHONEMES)


def test_new_spellings_join_a_running_search_through_g2p(service, tiny_text_speech):
    client, st = service
    before = st.front
    try:
        r = client.post("/text/words", json={"words": ["Zorblaxian", "quuxify", tiny_text_speech.clips["test"].words[0]]})
        assert r.status_code == 200, r.text
        assert r.json() == {"added": ["quuxify", "zorblaxian"], "spellings": len(before.index.words) + 2}
        index = st.front.index
        assert index.sources[index.position["zorblaxian"]] == "g2p"
        assert all(index.prons[index.position[w]] == before.index.prons[before.index.position[w]] for w in before.index.words)
        assert client.post("/text/words", json={"words": ["quuxify"]}).json()["added"] == []
        wav = client.get("/clips/0").content
        assert client.post("/text/search", files={"audio": ("c.wav", wav, "audio/wav")}, data={"k": "3"}).status_code == 200
    finally:
        st.front = before


def _wav(seconds, rate=16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.sin(np.arange(int(seconds * rate)) / 5) * 8000).astype(np.int16).tobytes())
    return buf.getvalue()


def _encoded(fmt: str, seconds: float = 0.5, rate: int = 22050) -> bytes:
    import soundfile

    buf = io.BytesIO()
    soundfile.write(buf, (np.sin(np.arange(int(seconds * rate)) / 5) * 0.3).astype(np.float32), rate, format=fmt)
    return buf.getvalue()


def test_flac_and_ogg_uploads_are_heard_like_the_wav(service):
    import soundfile

    client, _ = service
    wav = client.get("/clips/0").content
    audio, rate = soundfile.read(io.BytesIO(wav), dtype="int16")
    answers = {}
    for fmt, mime in (("WAV", "audio/wav"), ("FLAC", "audio/flac"), ("OGG", "audio/ogg")):
        buf = io.BytesIO()
        soundfile.write(buf, audio, rate, format=fmt)
        r = client.post("/text/search", files={"audio": (f"c.{fmt.lower()}", buf.getvalue(), mime)}, data={"k": "5"})
        assert r.status_code == 200, r.text
        answers[fmt] = r.json()
    assert answers["FLAC"] == answers["WAV"]   # lossless: the same samples, the same answer
    assert len(answers["OGG"]["results"]) == 5


@pytest.mark.parametrize("method,path,kwargs,status,needle", [
    ("get", "/g2p", {"params": {"word": "he11o"}}, 422, "'he11o' is not letters a-z (either case), 1 to 15"),
    ("get", "/g2p", {"params": {"word": ""}}, 422, "'' is not letters a-z"),
    ("get", "/g2p", {"params": {"word": "a" * 40}}, 422, "is not letters a-z (either case), 1 to 15 of them"),
    ("get", "/g2p", {}, 422, "word: Field required"),
    ("get", "/p2g", {"params": {"phonemes": "HH QQ"}}, 422, "'HH QQ' is not 1 to 30 ARPAbet symbols"),
    ("get", "/p2g", {"params": {"phonemes": "   "}}, 422, "is not 1 to 30 ARPAbet symbols"),
    ("get", "/p2g", {"params": {"phonemes": "AA " * 31}}, 422, "is not 1 to 30 ARPAbet symbols"),
    ("get", "/speech/search", {"params": {"word": "cat", "k": 0}}, 422, "k: Input should be greater than or equal to 1"),
    ("get", "/speech/search", {"params": {"word": "c4t"}}, 422, "'c4t' is not letters"),
    ("post", "/text/search", {"files": {"audio": ("a.png", b"\x89PNG....", "image/png")}}, 415, "not a readable audio file (PCM wav, FLAC or Ogg"),
    ("post", "/text/search", {"files": {"audio": ("e.wav", b"", "audio/wav")}}, 422, "audio: empty upload"),
    ("post", "/text/search", {"files": {"audio": ("r.wav", b"RIFF" + b"\0" * 40, "audio/wav")}}, 415, "not a readable PCM wav"),
    ("post", "/text/search", {"files": {"audio": ("a.aiff", _encoded("AIFF"), "audio/aiff")}}, 415, "is not accepted"),
    ("post", "/text/search", {"files": {"audio": ("l.flac", _encoded("FLAC", 4.0), "audio/flac")}}, 413, "more than the 3 s"),
    ("post", "/text/search", {"files": {"audio": ("l.wav", _wav(4, 8000), "audio/wav")}}, 413, "more than the 3 s"),
    ("post", "/text/search", {"files": {"audio": ("h.wav", _wav(7), "audio/wav")}}, 413, "over 200000 bytes"),
    ("post", "/text/search", {}, 422, "audio"),
    ("post", "/text/words", {"json": {"words": []}}, 422, "words"),
    ("post", "/text/words", {"json": {"words": ["rock'n'roll"]}}, 422, "is not letters"),
    ("post", "/text/words", {"json": {"words": ["a"] * 1001}}, 422, "at most 1000"),
    ("post", "/text/words", {"json": {"word": "cat"}}, 422, "words"),
    ("get", "/clips/99999", {}, 404, "no such clip"),
    ("get", "/clips/abc", {}, 422, "clip"),
])
def test_bad_inputs_get_a_4xx_that_says_what(service, method, path, kwargs, status, needle):
    client, _ = service
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == status, r.text
    assert needle in r.text
