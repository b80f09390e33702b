"""HTTP routes of image translation: translate an uploaded image, search by content across domains,
and fetch a stored image by id (to look at search results).

Uploads are multipart files of any size the body limit allows, resized to the model's size.
Something that is not a readable image is 415; a body over the service's limit 413 (checked
before it is read); bad fields 422.
"""
# no `from __future__ import annotations`: FastAPI reads the annotations of routes defined in a function
import asyncio
import base64
import pathlib
from typing import Annotated, Literal

import numpy as np
from fastapi import Depends, FastAPI, File, Form, Path, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from pipeline.service import (ServeConfig, ServedModel, binary_response, error_responses, no_empty_form_fields,
                              read_upload)
from translation.images.data import decode_image, encode_png, tile_grid

PANEL = pathlib.Path(__file__).parent / "web"   # its panel of the page at / (panel.html, panel.js)

IMAGE_TYPES = "image/png, image/jpeg, image/gif, image/bmp, image/webp"   # what PIL reads
SEED_MAX = 2**31 - 1


class Translation(BaseModel):
    direction: Literal["a2b", "b2a"]
    n: int
    attribute: Literal["reference", "random"]
    images: list[str] = Field(description="base64 PNGs, one per output")


class SearchHit(BaseModel):
    domain: Literal["a", "b"]
    id: int = Field(description="GET /images/{domain}/{id} shows it")
    score: float
    label: str | None


class SearchResults(BaseModel):
    domain: Literal["a", "b"]
    k: int
    results: list[SearchHit]


def upload_encoding(*fields: str) -> dict:
    """openapi_extra: the upload fields' media types."""
    return {"requestBody": {"content": {"multipart/form-data": {
        "encoding": {f: {"contentType": IMAGE_TYPES} for f in fields}}}}}


def add_image_routes(app: FastAPI, translator, cfg: ServeConfig, worker) -> None:
    """`translator()` returns the loaded translation.images.serve.Translator (or raises NotReady)."""

    async def read_image(upload: UploadFile, field: str, size: int):
        data = await read_upload(upload, field, cfg.max_body_bytes)
        return decode_image(data, f"{field} ({upload.filename or 'upload'})", size, resize=True)

    @app.post("/translate", summary="Translate an image: n diverse outputs, or one in a reference's attribute",
              responses=binary_response("image/png", "JSON of base64 PNGs, or with format=png one strip: "
                                        "the input, then the outputs", Translation) | error_responses(415),
              dependencies=[Depends(no_empty_form_fields)], openapi_extra=upload_encoding("image", "reference"))
    async def translate(image: UploadFile = File(...),
                        direction: Literal["a2b", "b2a"] = Form("a2b"),
                        n: int = Form(4, ge=1, le=cfg.max_outputs),
                        seed: int = Form(0, ge=0, le=SEED_MAX),
                        reference: UploadFile | None = File(None, description="an image of the target domain "
                                                                              "whose attribute to use"),
                        format: Literal["json", "png"] = Form("json")):
        tr = translator()
        x = await read_image(image, "image", tr.size)
        ref = await read_image(reference, "reference", tr.size) if reference is not None else None
        out = await asyncio.wrap_future(worker.call(tr.translate, x, direction, n, seed, ref))
        if format == "png":
            return Response(encode_png(tile_grid(np.concatenate([x[None], out])[None])), media_type="image/png")
        return Translation(direction=direction, n=len(out), attribute="reference" if ref is not None else "random",
                           images=[base64.b64encode(encode_png(o)).decode() for o in out])

    @app.post("/search", summary="Images of the other domain with the same content (FAISS on content codes)",
              response_model=SearchResults, responses=error_responses(415),
              dependencies=[Depends(no_empty_form_fields)], openapi_extra=upload_encoding("image"))
    async def search(image: UploadFile = File(...),
                     domain: Literal["a", "b"] = Form("a", description="the domain of the query image"),
                     k: int = Form(10, ge=1, le=cfg.max_k)):
        tr = translator()
        x = await read_image(image, "image", tr.size)
        results = await asyncio.wrap_future(worker.call(tr.search, x, domain, k))
        return {"domain": domain, "k": k, "results": results}

    @app.get("/images/{domain}/{idx}", summary="A stored training image (PNG), e.g. a search result",
             response_class=Response, responses=binary_response("image/png", "the image") | error_responses(404))
    def stored(domain: Literal["a", "b"], idx: Annotated[int, Path(ge=0)]):
        return Response(encode_png(translator().stored_image(domain, idx)), media_type="image/png")


def images_service(load) -> ServedModel:
    """Image translation as a served model; `load()` returns a Translator."""
    return ServedModel("translator", load, add_image_routes, heavy=True, panel=PANEL)
