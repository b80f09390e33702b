"""The HTTP service frame (FastAPI): health, errors and request limits; the models bring their routes.

A model is served through a `ServedModel`: a loader (run once, on start-up), a function that adds
its routes to the app, and what it adds to /readyz. Routes reach the loaded model through a getter
that answers 503 while it is not ready, and hold their model's own lock around inference, so
requests for one model never queue behind another's.

Every bad request gets a 4xx JSON body {"error": "..."} that says what is wrong: unknown ids are
404, malformed or out-of-range fields 422, an oversized body 413; nothing reaches a 500.
"""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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


def check_range(value: int, low: int, high: int, where: str) -> int:
    """`value` itself, or a 422 that names the field and the allowed range."""
    if not low <= value <= high:
        raise BadRequest(f"{where}: must be between {low} and {high}, got {value}")
    return value


# add_routes(app, model, cfg, lock): `model()` returns the loaded model or raises BadRequest 503.
AddRoutes = Callable[[FastAPI, Callable[[], Any], ServeConfig, threading.Lock], None]


@dataclass(frozen=True)
class ServedModel:
    name: str                                   # as /readyz lists it, e.g. "recommender"
    load: Callable[[], Any]                     # run once, on start-up
    add_routes: AddRoutes
    ready_info: Callable[[Any], dict] = lambda _: {}   # extra /readyz fields of the loaded model


def error_response(status: int, message: str, detail=None) -> JSONResponse:
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


def create_app(models: list[ServedModel], cfg: ServeConfig = ServeConfig()) -> FastAPI:
    """The app serving `models`; each is loaded once, on start-up, and a failed load is reported by
    /readyz (the service stays up to say why)."""
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise ValueError(f"served models must have distinct names, got {names}")
    state = {m.name: None for m in models}
    errors = {m.name: "starting" for m in models}

    @contextlib.asynccontextmanager
    async def lifespan(_):
        for m in models:
            try:
                state[m.name], errors[m.name] = m.load(), None
            except Exception as e:  # reported by /readyz
                errors[m.name] = f"{type(e).__name__}: {e}"
        yield

    app = FastAPI(title="mdr", version="0.1.0", lifespan=lifespan,
                  description="Disentangled representations served: MacridVAE recommendations, "
                              "DRIT image translation and content search, text–speech G2P/P2G and retrieval.")

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > cfg.max_body_bytes):
            return error_response(413, f"request body over {cfg.max_body_bytes} bytes")
        try:
            return await call_next(request)
        except Exception as e:  # last resort: still JSON, still says what happened
            return error_response(500, f"internal error: {type(e).__name__}: {e}")

    @app.exception_handler(RequestValidationError)
    async def on_validation(_, exc: RequestValidationError):
        message, details = _describe_validation(exc)
        return error_response(422, message, details)

    @app.exception_handler(BadRequest)
    async def on_bad(_, exc: BadRequest):
        return error_response(exc.status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return error_response(404, f"{request.url.path} is not served by this instance "
                                       f"(served models: {', '.join(names) or 'none'})")
        return error_response(exc.status_code, str(exc.detail))

    @app.get("/livez", summary="The process is up")
    def livez():
        return {"status": "ok"}

    @app.get("/readyz", summary="Every served model and its indexes are loaded")
    def readyz():
        failed = {name: e for name, e in errors.items() if e is not None}
        if failed:
            return error_response(503, "not ready: " + "; ".join(f"{n}: {e}" for n, e in failed.items()))
        body = {"status": "ready", "models": names}
        for m in models:
            body |= m.ready_info(state[m.name])
        return body

    for m in models:
        def served(name=m.name):
            if state[name] is None:
                raise BadRequest(f"not ready: {name}: {errors[name]}", 503)
            return state[name]

        m.add_routes(app, served, cfg, threading.Lock())  # torch modules are not re-entrant across threads
    return app
