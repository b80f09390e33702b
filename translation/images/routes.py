"""HTTP routes of image translation: translate an uploaded image, search by content across domains,
and fetch a stored image by id (to look at search results).

Uploads are multipart files. Something that is not an image is 415; an image of the wrong size 422;
a body over the service's limit 413 (checked before it is read); bad fields 422.
"""
from __future__ import annotations

import base64

import numpy as np
from fastapi import FastAPI, File, Form, UploadFile
from fastapi.responses import Response

from pipeline.service import BadRequest, ServeConfig, ServedModel, check_range
from translation.images.data import ImageError, decode_image, encode_png
from translation.images.plots import tile_grid


def add_image_routes(app: FastAPI, translator, cfg: ServeConfig, lock) -> None:
    """`translator()` returns the loaded translation.images.serve.Translator (or raises BadRequest 503)."""

    async def read_image(upload: UploadFile, field: str, size: int):
        data = await upload.read()
        if len(data) > cfg.max_body_bytes:
            raise BadRequest(f"{field}: upload over {cfg.max_body_bytes} bytes", 413)
        name = f"{field} ({upload.filename or 'upload'})"
        try:
            return decode_image(data, name, size, resize=False)
        except ImageError as e:
            status = 422 if "expected" in str(e) else 415
            raise BadRequest(str(e), status) from None

    @app.post("/translate", summary="Translate an image: n diverse outputs, or one in a reference's attribute")
    async def translate(image: UploadFile = File(...), direction: str = Form("a2b"), n: int = Form(4),
                        seed: int = Form(0), reference: UploadFile | None = File(None),
                        format: str = Form("json")):
        tr = translator()
        check_range(n, 1, cfg.max_outputs, "n")
        if direction not in ("a2b", "b2a"):
            raise BadRequest(f"direction: must be 'a2b' or 'b2a', got {direction!r}")
        if format not in ("json", "png"):
            raise BadRequest(f"format: must be 'json' or 'png', got {format!r}")
        x = await read_image(image, "image", tr.size)
        ref = await read_image(reference, "reference", tr.size) if reference is not None else None
        with lock:
            out = tr.translate(x, direction, n=n, seed=seed, reference=ref)
        if format == "png":  # one strip: the input, then the outputs
            return Response(encode_png(tile_grid(np.concatenate([x[None], out])[None])), media_type="image/png")
        return {"direction": direction, "n": len(out), "attribute": "reference" if ref is not None else "random",
                "images": [base64.b64encode(encode_png(o)).decode() for o in out]}

    @app.post("/search", summary="Images of the other domain with the same content (FAISS on content codes)")
    async def search(image: UploadFile = File(...), domain: str = Form("a"), k: int = Form(10)):
        tr = translator()
        check_range(k, 1, cfg.max_k, "k")
        if domain not in ("a", "b"):
            raise BadRequest(f"domain: must be 'a' or 'b' (the domain of the query image), got {domain!r}")
        x = await read_image(image, "image", tr.size)
        with lock:
            results = tr.search(x, domain, k)
        return {"domain": domain, "k": k, "results": results}

    @app.get("/images/{domain}/{idx}", summary="A stored training image (PNG), e.g. a search result")
    def stored(domain: str, idx: int):
        tr = translator()
        if domain not in ("a", "b"):
            raise BadRequest(f"domain: must be 'a' or 'b', got {domain!r}", 404)
        try:
            return Response(encode_png(tr.stored_image(domain, idx)), media_type="image/png")
        except KeyError as e:
            raise BadRequest(str(e.args[0]), 404) from None


def images_service(load) -> ServedModel:
    """Image translation as a served model; `load()` returns a Translator."""
    return ServedModel("translator", load, add_image_routes)
