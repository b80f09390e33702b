"""The HTTP service (FastAPI): health, recommendations, similar items; OpenAPI at /docs.

Every bad request gets a 4xx JSON body {"error": "..."} that says what is wrong: unknown ids are
404, malformed or out-of-range fields 422, an oversized body 413; nothing reaches a 500.
"""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr

from pipeline.config import rule


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = field(default=8000, metadata=rule(ge=1, le=65535))
    max_k: int = field(default=1000, metadata=rule(ge=1))
    max_history: int = field(default=2000, metadata=rule(ge=1))
    max_batch: int = field(default=256, metadata=rule(ge=1))
    max_body_bytes: int = field(default=1_000_000, metadata=rule(ge=1024))
    max_outputs: int = field(default=32, metadata=rule(ge=1))   # translations per request


class BadRequest(ValueError):
    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


class RecommendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: StrictStr | None = None
    history: list[StrictStr] | None = None
    k: StrictInt = 10
    concept_weights: list[StrictFloat | StrictInt] | None = None
    exclude_seen: StrictBool = True


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requests: list[RecommendRequest]


def _error(status: int, message: str, detail=None) -> JSONResponse:
    body = {"error": message}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(status_code=status, content=body)


def _describe_validation(exc: RequestValidationError) -> tuple[str, list]:
    details = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        details.append(f"{where}: {e.get('msg')}")
    return "; ".join(details) or "invalid request", details


def create_app(load_recommender=None, cfg: ServeConfig = ServeConfig(), load_translator=None,
               load_speech_text=None) -> FastAPI:
    """Each loader returns a served model (recsys.serving.Recommender, translation.serving.Translator,
    translation.text_speech_serving.SpeechText); models are loaded once, on start-up. A model whose
    loader is None is not served."""
    loaders = {name: f for name, f in (("recommender", load_recommender), ("translator", load_translator),
                                       ("speech_text", load_speech_text)) if f}
    state = {name: None for name in loaders}
    errors = {name: "starting" for name in loaders}
    lock = threading.Lock()

    def load():
        for name, loader in loaders.items():
            try:
                state[name], errors[name] = loader(), None
            except Exception as e:  # reported by /readyz; the service stays up to say why
                errors[name] = f"{type(e).__name__}: {e}"

    @contextlib.asynccontextmanager
    async def lifespan(_):
        load()
        yield

    app = FastAPI(title="mdr", version="0.1.0", lifespan=lifespan,
                  description="Disentangled representations served: MacridVAE recommendations, "
                              "DRIT image translation and content search, text–speech G2P/P2G and retrieval.")

    def served(name: str):
        if name not in state:
            raise BadRequest(f"the {name} is not served by this instance", 404)
        if state[name] is None:
            raise BadRequest(f"not ready: {name}: {errors[name]}", 503)
        return state[name]

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > cfg.max_body_bytes):
            return _error(413, f"request body over {cfg.max_body_bytes} bytes")
        try:
            return await call_next(request)
        except Exception as e:  # last resort: still JSON, still says what happened
            return _error(500, f"internal error: {type(e).__name__}: {e}")

    @app.exception_handler(RequestValidationError)
    async def on_validation(_, exc: RequestValidationError):
        message, details = _describe_validation(exc)
        return _error(422, message, details)

    @app.exception_handler(BadRequest)
    async def on_bad(_, exc: BadRequest):
        return _error(exc.status, str(exc))

    def recommender():
        return served("recommender")

    def check_k(k: int, where: str = "k") -> int:
        if not 1 <= k <= cfg.max_k:
            raise BadRequest(f"{where}: must be between 1 and {cfg.max_k}, got {k}")
        return k

    def answer(req: RecommendRequest, where: str = "") -> dict:
        rec = recommender()
        check_k(req.k, f"{where}k")
        if (req.user is None) == (req.history is None):
            raise BadRequest(f"{where}give exactly one of 'user' or 'history'")
        if req.user is not None:
            try:
                history = rec.user_history(req.user)
            except KeyError as e:
                raise BadRequest(f"{where}user: {e}", 404) from None
        else:
            if not req.history:
                raise BadRequest(f"{where}history: must hold at least one item id")
            if len(req.history) > cfg.max_history:
                raise BadRequest(f"{where}history: {len(req.history)} items, at most {cfg.max_history}", 413)
            try:
                history = rec.columns(req.history)
            except KeyError as e:
                raise BadRequest(f"{where}history: {e}", 404) from None
        weights = req.concept_weights
        if weights is not None:
            try:
                rec.check_weights(weights)
            except ValueError as e:
                raise BadRequest(f"{where}{e}") from None
        with lock:  # torch modules are not re-entrant across threads
            cols, scores = rec.recommend(history, req.k, weights, req.exclude_seen)
        return {"user": req.user, "k": req.k, "items": rec.describe(cols, scores)}

    @app.get("/livez", summary="The process is up")
    def livez():
        return {"status": "ok"}

    @app.get("/readyz", summary="Every served model and its indexes are loaded")
    def readyz():
        failed = {name: e for name, e in errors.items() if e is not None}
        if failed:
            return _error(503, "not ready: " + "; ".join(f"{n}: {e}" for n, e in failed.items()))
        body = {"status": "ready", "models": list(state)}
        if "recommender" in state:
            body |= {"items": state["recommender"].data.n_items, "concepts": state["recommender"].concepts}
        return body

    @app.post("/recommend", summary="Top-k for a known user or a history of item ids (fold-in)")
    def recommend(req: RecommendRequest):
        return answer(req)

    @app.get("/users/{user}/recommendations", summary="Top-k for a known user")
    def user_recommendations(user: str, k: int = Query(10)):
        return answer(RecommendRequest(user=user, k=k))

    @app.post("/recommend/batch", summary="Several recommendation requests at once")
    def recommend_batch(batch: BatchRequest):
        if not batch.requests:
            raise BadRequest("requests: must hold at least one request")
        if len(batch.requests) > cfg.max_batch:
            raise BadRequest(f"requests: {len(batch.requests)} requests, at most {cfg.max_batch}", 413)
        return {"results": [answer(r, f"requests[{i}].") for i, r in enumerate(batch.requests)]}

    @app.get("/items/{item}/similar", summary="Items nearest by embedding cosine")
    def similar(item: str, k: int = Query(10)):
        rec = recommender()
        check_k(k)
        try:
            (col,) = rec.columns([item])
        except KeyError as e:
            raise BadRequest(f"item: {e}", 404) from None
        with lock:
            cols, scores = rec.similar_items(col, k)
        return {"item": item, "k": k, "items": rec.describe(cols, scores)}

    @app.get("/concepts", summary="Learned concepts: sizes and their most common known categories")
    def concepts():
        rec = recommender()
        out = []
        for c in range(rec.concepts):
            members = (rec.item_concept == c)
            cats = rec.data.item_category[members]
            cats = cats[cats >= 0]
            top = []
            if len(cats):
                counts = sorted(((int((cats == j).sum()), j) for j in set(cats.tolist())), reverse=True)[:3]
                top = [{"category": rec.data.category_names[j], "items": n} for n, j in counts]
            out.append({"concept": c, "items": int(members.sum()), "top_categories": top})
        return {"concepts": out}

    if "translator" in loaders:
        from pipeline.translation_routes import add_translation_routes

        add_translation_routes(app, lambda: served("translator"), cfg, lock)
    if "speech_text" in loaders:
        from pipeline.text_speech_routes import add_text_speech_routes

        add_text_speech_routes(app, lambda: served("speech_text"), cfg, lock)
    return app
