"""HTTP routes of the text–speech model: g2p, p2g, spelling → clips, audio (wav upload) → spellings,
new spellings for that search, and a stored clip as wav.

Words and phoneme strings are checked by the patterns of translation.speech.lexicon, stated in the
schema (422 otherwise); an upload that is not a PCM wav, FLAC or Ogg file is 415; audio longer than the model accepts
or a body over the service's limit is 413.
"""
# no `from __future__ import annotations`: FastAPI reads the annotations of routes defined in a function
import asyncio
import pathlib
from typing import Annotated

from fastapi import Depends, FastAPI, File, Form, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pipeline.service import (ServeConfig, ServedModel, binary_response, error_responses, hint_pattern,
                              no_empty_form_fields, read_upload)
from translation.speech.lexicon import MAX_PHONEMES, MAX_WORD, PHONEMES, PHONEMES_PATTERN, WORD_PATTERN

PANEL = pathlib.Path(__file__).parent / "web"   # its panel of the page at / (panel.html, panel.js)

WORD_RULE = f"letters a-z (either case), 1 to {MAX_WORD} of them"
PHONEMES_RULE = f"1 to {MAX_PHONEMES} ARPAbet symbols separated by spaces, e.g. 'HH AH L OW' (known: {' '.join(PHONEMES)})"
Word = Annotated[str, Query(pattern=hint_pattern(WORD_PATTERN, WORD_RULE), description=WORD_RULE)]


class G2P(BaseModel):
    word: str
    phonemes: list[str]


class P2G(BaseModel):
    phonemes: list[str]
    word: str


class ClipHit(BaseModel):
    clip: int
    word: str
    voice: str
    score: float


class SpeechResults(BaseModel):
    word: str
    phonemes: list[str]
    results: list[ClipHit]


class SpellingHit(BaseModel):
    word: str
    score: float


class TextResults(BaseModel):
    seconds: float
    heard: list[str]
    results: list[SpellingHit]


MAX_NEW_WORDS = 1000   # spellings one request may add


class NewWords(BaseModel):
    model_config = ConfigDict(extra="forbid")
    words: Annotated[list[Annotated[str, StringConstraints(pattern=hint_pattern(WORD_PATTERN, WORD_RULE))]],
                     Field(min_length=1, max_length=MAX_NEW_WORDS, description=f"spellings: {WORD_RULE}")]


class Spellings(BaseModel):
    added: list[str]
    spellings: int


def add_speech_routes(app: FastAPI, speech_text, cfg: ServeConfig, worker) -> None:
    """`speech_text()` returns the loaded translation.speech.serve.SpeechText (or raises NotReady)."""
    K = Annotated[int, Query(ge=1, le=cfg.max_k)]

    @app.get("/g2p", summary="Phonemes (ARPAbet, no stress) of a spelling", response_model=G2P)
    def g2p(word: Word):
        st = speech_text()
        return {"word": word.strip().lower(), "phonemes": worker.call(st.g2p, word).result()}

    @app.get("/p2g", summary="The spelling of a phoneme string (space-separated ARPAbet)", response_model=P2G)
    def p2g(phonemes: Annotated[str, Query(pattern=hint_pattern(PHONEMES_PATTERN, PHONEMES_RULE),
                                           description=PHONEMES_RULE)]):
        st = speech_text()
        symbols = phonemes.split()
        return {"phonemes": [p.upper() for p in symbols], "word": worker.call(st.p2g, symbols).result()}

    @app.get("/speech/search", summary="Stored clips that say a spelling (FAISS on content codes)",
             response_model=SpeechResults)
    def search_speech(word: Word, k: K = 10):
        st = speech_text()
        return worker.call(st.search_speech, word, k).result()

    @app.post("/text/search", summary="Spellings of what an uploaded clip says", response_model=TextResults,
              responses=error_responses(415), dependencies=[Depends(no_empty_form_fields)],
              openapi_extra={"requestBody": {"content": {"multipart/form-data": {
                  "encoding": {"audio": {"contentType": "application/octet-stream"}}}}}})
    async def search_text(audio: UploadFile = File(..., description="PCM wav (any rate and channel count), FLAC or "
                                                                    "Ogg (Vorbis, Opus); silence is trimmed"),
                          k: int = Form(10, ge=1, le=cfg.max_k)):
        st = speech_text()
        data = await read_upload(audio, "audio", cfg.max_body_bytes)
        name = f"audio ({audio.filename or 'upload'})"
        return await asyncio.wrap_future(worker.call(st.search_text, data, k, name))

    @app.post("/text/words", summary="Add spellings that speech search can return (any word: G2P pronounces it)",
              response_model=Spellings, responses=error_responses(404))
    def add_words(body: NewWords):
        st = speech_text()
        return worker.call(st.add_spellings, body.words).result()

    @app.get("/clips/{clip}", summary="A stored clip (wav), e.g. a search result", response_class=Response,
             responses=binary_response("audio/wav", "the clip") | error_responses(404))
    def clip(clip: Annotated[int, Path(ge=0)]):
        return Response(speech_text().clip_wav(clip), media_type="audio/wav")


def speech_service(load) -> ServedModel:
    """Text–speech as a served model; `load()` returns a SpeechText."""
    return ServedModel("speech_text", load, add_speech_routes, heavy=True, panel=PANEL)
