"""Translation over real HTTP: translate uploads, search by content, and every bad upload → 4xx JSON."""
import base64
import io

import httpx
import numpy as np
import pytest
from PIL import Image

from pipeline.service import ServeConfig, create_app
from translation.images.routes import images_service
from translation.images.data import encode_png

pytestmark = pytest.mark.slow   # runs stages, clusters, servers or a browser: left out of the inner loop


@pytest.fixture(scope="module")
def service(served_translator, serve_app):
    tr = served_translator
    server, thread, url = serve_app(create_app([images_service(lambda: tr)],
                                               ServeConfig(max_body_bytes=20_000, max_outputs=6)))
    with httpx.Client(base_url=url, timeout=10) as client:
        yield client, tr
    server.should_exit = True
    thread.join(5)


def _file(image, name="x.png"):
    return (name, encode_png(image), "image/png")


def test_ready_and_documented(service):
    client, _ = service
    assert client.get("/readyz").json()["models"] == ["translator"]
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/translate", "/search", "/images/{domain}/{idx}"} <= set(paths)
    r = client.post("/recommend", json={"user": "u", "k": 3})  # recsys not served here: says so
    assert r.status_code == 404 and "is not served by this instance" in r.json()["error"]


def test_translate_n_outputs_seeded_and_like_the_api(service, tiny_images):
    client, tr = service
    x = tiny_images.splits["a_test"].images[0]
    r = client.post("/translate", files={"image": _file(x)}, data={"n": "3", "seed": "4"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["n"] == 3 and body["attribute"] == "random"
    outs = [np.asarray(Image.open(io.BytesIO(base64.b64decode(s)))) for s in body["images"]]
    assert np.array_equal(np.stack(outs), tr.translate(x, "a2b", n=3, seed=4))
    again = client.post("/translate", files={"image": _file(x)}, data={"n": "3", "seed": "4"}).json()
    assert again["images"] == body["images"]
    ref = tiny_images.splits["b_test"].images[0]
    r = client.post("/translate", files={"image": _file(x), "reference": _file(ref, "ref.png")})
    assert r.status_code == 200 and r.json()["attribute"] == "reference" and r.json()["n"] == 1
    r = client.post("/translate", files={"image": _file(ref)}, data={"direction": "b2a", "format": "png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"


def test_search_finds_the_other_domain(service, tiny_images):
    client, tr = service
    x = tiny_images.splits["b_test"].images[0]
    r = client.post("/search", files={"image": _file(x)}, data={"domain": "b", "k": "5"})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == 5 and all(hit["domain"] == "a" for hit in results)
    assert [h["id"] for h in results] == [h["id"] for h in tr.search(x, "b", 5)]
    img = client.get(f"/images/a/{results[0]['id']}")
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"


@pytest.mark.parametrize("files, data, status, words", [
    ({"image": ("x.txt", b"hello, not an image", "text/plain")}, {}, 415, "not a readable image"),
    ({"image": ("e.png", b"", "image/png")}, {}, 422, "image: empty upload"),
    ("big", {}, 413, "over 20000 bytes"),
    ("ok", {"n": "0"}, 422, "n: Input should be greater than or equal to 1"),
    ("ok", {"n": "99"}, 422, "n: Input should be less than or equal to 6"),
    ("ok", {"seed": "-1"}, 422, "seed"),
    ("ok", {"n": "three"}, 422, "n"),
    ("ok", {"direction": "sideways"}, 422, "direction"),
    ("ok", {"format": "gif"}, 422, "format"),
    ({}, {}, 422, "image"),
])
def test_bad_uploads_get_a_clear_4xx(service, files, data, status, words):
    client, _ = service
    rng = np.random.default_rng(0)
    if files == "small":
        files = {"image": _file(np.zeros((20, 20, 3), np.uint8))}
    elif files == "big":
        files = {"image": _file(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8))}
    elif files == "ok":
        files = {"image": _file(np.zeros((32, 32, 3), np.uint8))}
    r = client.post("/translate", files=files or None, data=data)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]


def test_bad_search_and_image_requests(service):
    client, _ = service
    ok = {"image": _file(np.zeros((32, 32, 3), np.uint8))}
    assert client.post("/search", files=ok, data={"domain": "c"}).status_code == 422
    assert client.post("/search", files=ok, data={"k": "0"}).status_code == 422
    r = client.get("/images/a/999999")
    assert r.status_code == 404 and "no image 999999" in r.json()["error"]
    assert client.get("/images/q/0").status_code == 422
    assert client.get("/images/a/-1").status_code == 422


def test_an_upload_of_another_size_is_resized(service):
    client, tr = service
    r = client.post("/translate", files={"image": _file(np.full((20, 48, 3), 200, np.uint8))}, data={"n": "2"})
    assert r.status_code == 200, r.text
    out = [np.asarray(Image.open(io.BytesIO(base64.b64decode(s)))) for s in r.json()["images"]]
    assert [o.shape for o in out] == [(tr.size, tr.size, 3)] * 2
    assert client.get("/images/a/minus").status_code == 422


def test_an_empty_upload_is_refused_by_the_schema_and_the_service(service):
    client, _ = service
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    uploads = [prop for name, body in schema.items() if name.startswith("Body_")
               for prop in body["properties"].values() if prop.get("format") == "binary"
               or prop.get("contentMediaType") == "application/octet-stream"]
    assert uploads and all(p.get("minLength") == 1 for p in uploads)
    r = client.post("/search", files={"image": ("empty.png", b"", "image/png")}, data={"domain": "a"})
    assert r.status_code == 422 and "image: empty upload" in r.json()["error"]
