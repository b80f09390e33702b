"""HTTP routes of the text–speech model: g2p, p2g, spelling → clips, audio (wav upload) → spellings,
and a stored clip as wav.

Bad words (non-letters, empty, too long) and unknown phonemes are 422; an upload that is not a PCM
wav is 415; audio longer than the model accepts or a body over the service's limit is 413.
"""
from __future__ import annotations

from fastapi import FastAPI, File, Form, Query, UploadFile
from fastapi.responses import Response

from pipeline.service import BadRequest, ServeConfig, ServedModel, check_range
from translation.speech.audio import SpeechError
from translation.speech.lexicon import LexiconError


def add_speech_routes(app: FastAPI, speech_text, cfg: ServeConfig, lock) -> None:
    """`speech_text()` returns the loaded translation.speech.serve.SpeechText (or raises 503)."""

    def check_k(k: int) -> int:
        return check_range(k, 1, cfg.max_k, "k")

    def lexical(fn, *args):
        try:
            with lock:
                return fn(*args)
        except LexiconError as e:
            raise BadRequest(str(e)) from None

    @app.get("/g2p", summary="Phonemes (ARPAbet, no stress) of a spelling")
    def g2p(word: str = Query(..., description="letters a-z, 1-15 of them")):
        st = speech_text()
        return {"word": word.strip().lower(), "phonemes": lexical(st.g2p, word)}

    @app.get("/p2g", summary="The spelling of a phoneme string (space-separated ARPAbet)")
    def p2g(phonemes: str = Query(..., description="e.g. 'HH AH L OW'")):
        st = speech_text()
        symbols = phonemes.split()
        if len(symbols) > 30:
            raise BadRequest(f"phonemes: at most 30, got {len(symbols)}")
        return {"phonemes": [p.upper() for p in symbols], "word": lexical(st.p2g, symbols)}

    @app.get("/speech/search", summary="Stored clips that say a spelling (FAISS on content codes)")
    def search_speech(word: str = Query(...), k: int = Query(10)):
        st = speech_text()
        return lexical(st.search_speech, word, check_k(k))

    @app.post("/text/search", summary="Spellings of what an uploaded wav clip says")
    async def search_text(audio: UploadFile = File(...), k: int = Form(10)):
        st = speech_text()
        check_k(k)
        data = await audio.read()
        if len(data) > cfg.max_body_bytes:
            raise BadRequest(f"audio: upload over {cfg.max_body_bytes} bytes", 413)
        try:
            with lock:
                return st.search_text(data, k, f"audio ({audio.filename or 'upload'})")
        except SpeechError as e:
            raise BadRequest(str(e), 413 if "allowed" in str(e) else 415) from None

    @app.get("/clips/{clip}", summary="A stored clip (wav), e.g. a search result")
    def clip(clip: int):
        st = speech_text()
        try:
            return Response(st.clip_wav(clip), media_type="audio/wav")
        except KeyError as e:
            raise BadRequest(str(e.args[0]), 404) from None


def speech_service(load) -> ServedModel:
    """Text–speech as a served model; `load()` returns a SpeechText."""
    return ServedModel("speech_text", load, add_speech_routes)
