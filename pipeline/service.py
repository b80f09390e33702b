"""The HTTP service frame (FastAPI): health, errors, limits and the contract; the models bring their routes.

A model is served through a `ServedModel`: a loader (run once, on start-up), a function that adds
its routes to the app, what it adds to /readyz, and the facts of the loaded model its OpenAPI
schema states (e.g. how many concept weights a request takes). Routes reach the loaded model
through a getter that raises NotReady (503) until it has loaded, and run inference on their
model's own `ModelWorker` thread, which merges concurrent requests into one model call; one
model's requests never queue behind another's. A heavy model's worker runs at a lower OS priority,
and a short GIL switch interval keeps Python-heavy decoding from stalling the event loop.

Every error is one JSON shape, documented for every route that can answer it:
{"error": "what is wrong", "detail": ["one line per problem"]} — 404 unknown id, 405 another method
on an API path (with the path's own Allow), 413 over a limit (the body's bytes are counted as they
arrive, chunked or not, before anything parses them), 415 not a file of an accepted kind, 422
malformed, out of range or an empty upload, 503 not loaded. The status comes from the exception's
type (pipeline.errors), never from its words. Nothing reaches a 500.
"""
from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.batching import ModelWorker
from pipeline.config import rule
from pipeline.errors import NotReady, RequestError, TooLarge


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = field(default=8000, metadata=rule(ge=1, le=65535))
    max_k: int = field(default=1000, metadata=rule(ge=1))
    max_history: int = field(default=2000, metadata=rule(ge=1))
    max_batch: int = field(default=256, metadata=rule(ge=1))
    max_body_bytes: int = field(default=1_000_000, metadata=rule(ge=1024))
    max_outputs: int = field(default=32, metadata=rule(ge=1))   # translations per request
    micro_batch: int = field(default=64, metadata=rule(ge=1))   # concurrent requests merged per model call (1 = off)
    torch_threads: int = field(default=1, metadata=rule(ge=1))  # intra-op threads shared by the model workers
    heavy_nice: int = field(default=10, metadata=rule(ge=0, le=19))  # OS priority of heavy models' workers
    switch_interval_ms: float = field(default=1.0, metadata=rule(gt=0))  # how long a thread may hold the GIL


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer of the service."""
    error: str
    detail: list[str]


ERRORS = {400: "A body that cannot be parsed as its media type (JSON, multipart)",
          404: "An id the served model does not know, or a path this instance does not serve",
          413: "A body, file or clip over the service's limit",
          415: "An upload that is not a file of an accepted kind",
          422: "A malformed or out-of-range field",
          503: "The model behind the route is not loaded (see /readyz)"}


ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def error_responses(*statuses: int) -> dict:
    """The `responses=` of a route that can answer these statuses, each with the one error body."""
    return {s: {"description": ERRORS[s], "content": ERROR_CONTENT} for s in statuses}


def binary_response(media_type: str, description: str, json_model: type[BaseModel] | None = None) -> dict:
    """A 200 response of `media_type` bytes (and JSON of `json_model` when the route can answer both)."""
    response = {"description": description, "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}
    return {200: response | ({"model": json_model} if json_model is not None else {})}


def JsonInt(**bounds) -> Any:
    """An integer as JSON Schema means it: 3 or 3.0, never "3" or true (pydantic's lax int takes those,
    its strict int refuses 3.0); `bounds` are Field's (ge=, le=)."""
    def integral(value):
        if isinstance(value, (str, bool)) or (isinstance(value, float) and not value.is_integer()):
            raise PydanticCustomError("int_type", "Input should be a valid integer")
        return value
    return Annotated[int, Field(**bounds), BeforeValidator(integral)]  # in this order, or the bounds leave the schema


async def no_empty_form_fields(request: Request) -> None:
    """A dependency of multipart routes: FastAPI reads an empty form value as "use the default", which
    the schema does not allow; say so instead."""
    form = await request.form()   # parsed once: Starlette keeps it for the route's own fields
    declared = {p.alias for p in request.scope["route"].dependant.body_params}
    empty = sorted({key for key, value in form.multi_items() if value == "" and key in declared})
    if empty:
        raise RequestError(f"{', '.join(empty)}: empty value (leave a field out to use its default)")


async def read_upload(upload, field: str, limit: int) -> bytes:
    """An uploaded file's bytes: an empty file is a 422 (the schema says minLength 1), one over `limit`
    bytes a 413, each naming the field."""
    data = await upload.read()
    if not data:
        raise RequestError(f"{field}: empty upload ({upload.filename or 'no file name'})")
    if len(data) > limit:
        raise TooLarge(f"{field}: upload over {limit} bytes")
    return data


class BodyLimit:
    """ASGI middleware: a request whose body passes `limit` bytes gets a 413 before any route parses it.
    The declared Content-Length is checked first; then the bytes are counted as they arrive, so a
    chunked body (no Content-Length) is held to the same limit. The counted body is replayed to the app."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self.refuse(scope, receive, send)
        received, size = [], 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                return await self.refuse(scope, receive, send)
            if not message.get("more_body"):
                break

        async def replay():
            return received.pop(0) if received else await receive()

        await self.app(scope, replay, send)

    async def refuse(self, scope, receive, send):
        await error_response(413, f"request body over {self.limit} bytes")(scope, receive, send)


def allowed_methods(routes, scope) -> set[str] | None:
    """The methods of the API routes whose path matches the request's when none matches its method too
    (→ 405 with this Allow); None when one matches whole or none matches the path."""
    from starlette.routing import Match

    partial = set()
    for route in routes:
        if isinstance(route, APIRoute):
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return None
            if match == Match.PARTIAL:
                partial |= route.methods
    return partial or None


@dataclass(frozen=True)
class ServedModel:
    name: str                                   # as /readyz lists it, e.g. "recommender"
    load: Callable[[], Any]                     # run once, on start-up
    # add_routes(app, model, cfg, worker): `model()` returns the loaded model or raises NotReady
    add_routes: Callable[[FastAPI, Callable[[], Any], ServeConfig, ModelWorker], None]
    ready_info: Callable[[Any], dict] = lambda _: {}           # extra /readyz fields of the loaded model
    refine_openapi: Callable[[Any, dict], None] = lambda *_: None  # state the loaded model's facts in the schema
    heavy: bool = False   # requests cost 10-100x a light model's: its worker yields the CPU to theirs
    panel: Path | None = None   # a folder with panel.html and panel.js: the model's panel of the web page


def error_response(status: int, message: str, detail: list[str] | None = None, headers=None) -> JSONResponse:
    body = ErrorBody(error=message, detail=detail if detail is not None else [message])
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


PATTERN_HINTS: dict[str, str] = {}   # pattern → what it allows, in words (the regex itself reads badly)


def hint_pattern(pattern: str, allowed: str) -> str:
    """`pattern`, registered so that a mismatch says "must be <allowed>" instead of quoting the regex."""
    PATTERN_HINTS[pattern] = allowed
    return pattern


def _describe_validation(exc: RequestValidationError) -> tuple[str, list[str]]:
    details = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        allowed = PATTERN_HINTS.get((e.get("ctx") or {}).get("pattern"))
        message = f"{e.get('input')!r} is not {allowed}" if allowed else e.get("msg")
        details.append(f"{where}: {message}")
    return "; ".join(details) or "invalid request", details or ["invalid request"]


def _error_schemas(schema: dict) -> None:
    """ErrorBody in the components; FastAPI's own 422 list out (every 422 here is an ErrorBody)."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["ErrorBody"] = ErrorBody.model_json_schema()


def _upload_schemas(schema: dict) -> None:
    """An optional upload is absent or a file: a multipart part is never null, so `anyOf [file, null]`
    (pydantic's spelling of `UploadFile | None`) becomes the file schema itself; and no upload is empty."""
    for name, body in schema.get("components", {}).get("schemas", {}).items():
        if not name.startswith("Body_"):
            continue
        for key, prop in body.get("properties", {}).items():
            options = prop.get("anyOf", [])
            files = [o for o in options if o.get("contentMediaType") == "application/octet-stream"
                     or o.get("format") == "binary"]
            if files and len(options) == 2 and {"type": "null"} in options:
                body["properties"][key] = prop = {k: v for k, v in prop.items() if k != "anyOf"} | files[0]
            if prop.get("contentMediaType") == "application/octet-stream" or prop.get("format") == "binary":
                prop["minLength"] = 1   # an empty upload is refused (read_upload), and the schema says so


def create_app(models: list[ServedModel], cfg: ServeConfig = ServeConfig(), web: Path | None = None) -> FastAPI:
    """The app serving `models`; each is loaded once, on start-up, and a failed load is reported by
    /readyz (the service stays up to say why). `web`, a folder of static files (index.html first), is
    served at / for people."""
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise ValueError(f"served models must have distinct names, got {names}")
    state = {m.name: None for m in models}
    errors = {m.name: "starting" for m in models}
    workers = {m.name: ModelWorker(m.name, cfg.micro_batch, batching=cfg.micro_batch > 1,
                                   nice=cfg.heavy_nice if m.heavy else 0) for m in models}

    @contextlib.asynccontextmanager
    async def lifespan(_):
        import torch

        torch.set_num_threads(cfg.torch_threads)
        sys.setswitchinterval(cfg.switch_interval_ms / 1000)
        for m in models:
            try:
                state[m.name], errors[m.name] = m.load(), None
            except Exception as e:  # reported by /readyz
                errors[m.name] = f"{type(e).__name__}: {e}"
        yield
        for w in workers.values():
            w.close()

    app = FastAPI(title="mdr", version="0.2.0", lifespan=lifespan,
                  description="Disentangled representations served: MacridVAE recommendations, DRIT image "
                              "translation and content search, text–speech G2P/P2G and retrieval. Every error "
                              "is an ErrorBody: {\"error\": str, \"detail\": [str]}.")

    @app.middleware("http")
    async def guard(request: Request, call_next):
        allow = allowed_methods(app.routes, request.scope)
        if allow is not None:   # an API path asked with another method: not the page's static files' 405
            return error_response(405, f"{request.method} {request.url.path}: method not allowed "
                                       f"(allowed: {', '.join(sorted(allow))})", headers={"Allow": ", ".join(sorted(allow))})
        try:
            return await call_next(request)
        except Exception as e:  # last resort: still JSON, still says what happened
            return error_response(500, f"internal error: {type(e).__name__}: {e}")

    app.add_middleware(BodyLimit, limit=cfg.max_body_bytes)   # outermost: counts bytes before anything reads them

    @app.exception_handler(RequestValidationError)
    async def on_validation(_, exc: RequestValidationError):
        message, details = _describe_validation(exc)
        return error_response(422, message, details)

    @app.exception_handler(RequestError)
    async def on_request_error(_, exc: RequestError):
        return error_response(exc.status, str(exc), exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return error_response(404, f"{request.url.path} is not served by this instance "
                                       f"(served models: {', '.join(names) or 'none'})")
        return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.get("/livez", summary="The process is up")
    def livez():
        return {"status": "ok"}

    @app.get("/readyz", summary="Every served model and its indexes are loaded", responses=error_responses(503))
    def readyz():
        failed = {name: e for name, e in errors.items() if e is not None}
        if failed:
            lines = [f"{n}: {e}" for n, e in failed.items()]
            return error_response(503, "not ready: " + "; ".join(lines), lines)
        body = {"status": "ready", "models": names}
        for m in models:
            body |= m.ready_info(state[m.name])
        return body

    for m in models:
        def served(name=m.name):
            if state[name] is None:
                raise NotReady(f"not ready: {name}: {errors[name]}")
            return state[name]

        before = len(app.routes)
        m.add_routes(app, served, cfg, workers[m.name])
        for route in app.routes[before:]:  # every model route can be asked before its model loads
            if isinstance(route, APIRoute):
                route.responses.update(error_responses(503))
                if route.body_field is not None:
                    route.responses.update(error_responses(400, 413))
    for route in app.routes:
        if isinstance(route, APIRoute) and (route.dependant.query_params or route.dependant.path_params
                                            or route.body_field is not None):
            route.responses.setdefault(422, error_responses(422)[422])

    def openapi() -> dict:
        """The schema, with the loaded models' facts; cached once every model has loaded."""
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        _error_schemas(schema)
        _upload_schemas(schema)
        for m in models:
            if state[m.name] is not None:
                m.refine_openapi(state[m.name], schema)
        if all(state[n] is not None for n in names):
            app.openapi_schema = schema
        return schema

    app.openapi = openapi
    if web is not None:  # last: every API route matches first
        for m in models:
            if m.panel is not None:
                app.mount(f"/panels/{m.name}", StaticFiles(directory=m.panel), name=f"panel-{m.name}")
        app.mount("/", StaticFiles(directory=web, html=True), name="web")
    return app
