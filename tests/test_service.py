"""The service over real HTTP: uvicorn on a free port, httpx as the client."""
import httpx
import pytest

from pipeline.service import ServeConfig, create_app
from recsys.routes import recsys_service

pytestmark = pytest.mark.slow   # runs stages, clusters, servers or a browser: left out of the inner loop


@pytest.fixture(scope="module")
def service(served_recommender, serve_app):
    rec = served_recommender
    server, thread, url = serve_app(create_app([recsys_service(lambda: rec)], ServeConfig(max_k=50, max_history=30, max_batch=4,
                                                                      max_body_bytes=4096)))
    with httpx.Client(base_url=url, timeout=10) as client:
        yield client, rec
    server.should_exit = True
    thread.join(5)


def test_health_and_openapi(service):
    client, rec = service
    assert client.get("/livez").json() == {"status": "ok"}
    assert client.get("/readyz").json()["items"] == rec.data.n_items
    assert "/recommend" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200


def test_known_user_and_history(service, tiny_data):
    client, rec = service
    user = str(tiny_data.user_ids["train"][0])
    r = client.post("/recommend", json={"user": user, "k": 5})
    assert r.status_code == 200
    items = [i["item"] for i in r.json()["items"]]
    seen = {str(tiny_data.item_ids[c]) for c in rec.user_history(user)}
    assert len(items) == 5 and not set(items) & seen
    assert client.get(f"/users/{user}/recommendations", params={"k": 5}).json()["items"] == r.json()["items"]
    history = [str(i) for i in tiny_data.item_ids[:3]]
    r = client.post("/recommend", json={"history": history, "k": 7})
    assert r.status_code == 200 and not {i["item"] for i in r.json()["items"]} & set(history)


def test_concept_weights_steer(service, tiny_data):
    client, rec = service
    user = str(tiny_data.user_ids["train"][1])
    plain = client.post("/recommend", json={"user": user, "k": 20}).json()["items"]
    shares = []
    for concept in range(rec.concepts):
        only = [0.0] * rec.concepts
        only[concept] = 1.0
        r = client.post("/recommend", json={"user": user, "k": 20, "concept_weights": only})
        assert r.status_code == 200
        steered = r.json()["items"]
        # only concept `concept` counts: its items gain a large share over the unsteered list
        share = sum(i["concept"] == concept for i in steered) / len(steered)
        assert share >= sum(i["concept"] == concept for i in plain) / len(plain) + 0.25
        shares.append(share)
    assert sum(shares) / len(shares) >= 0.5  # and on average they make up most of it


def test_batch_and_similar(service, tiny_data):
    client, _ = service
    users = [str(u) for u in tiny_data.user_ids["test"][:3]]
    r = client.post("/recommend/batch", json={"requests": [{"user": u, "k": 3} for u in users]})
    assert r.status_code == 200 and [x["user"] for x in r.json()["results"]] == users
    item = str(tiny_data.item_ids[0])
    r = client.get(f"/items/{item}/similar", params={"k": 4})
    assert r.status_code == 200 and len(r.json()["items"]) == 4 and item not in [i["item"] for i in r.json()["items"]]
    concepts = client.get("/concepts").json()["concepts"]
    assert [c["concept"] for c in concepts] == [0, 1, 2, 3]
    assert sum(c["items"] for c in concepts) == tiny_data.n_items


def test_items_and_concepts_read_as_titles_and_categories(service, tiny_raw, tiny_data):
    client, _ = service
    r = client.post("/recommend", json={"user": str(tiny_data.user_ids["test"][0]), "k": 5}).json()
    for i in r["items"]:
        assert i["title"] == tiny_raw.item_titles[i["item"]] and i["categories"] == tiny_raw.item_categories[i["item"]]
    for c in client.get("/concepts").json()["concepts"]:
        cats = [g["category"] for g in c["top_categories"]]
        if cats:
            assert c["label"] == " · ".join(cats[:2])
        else:   # nothing over-represented: named by its best-known titles
            assert c["label"].startswith("Film ")
        for g in c["top_categories"]:     # over-represented: a larger share of the concept than of all items
            assert g["share"] > g["share_all"]
        assert all(i["title"] == tiny_raw.item_titles[i["item"]] for i in c["top_items"])
    # the synthetic generator's planted categories are what the concepts are named by
    known = {g for cats in tiny_raw.item_categories.values() for g in cats}
    labelled = [c for c in client.get("/concepts").json()["concepts"] if c["top_categories"]]
    assert labelled and all(set(c["label"].split(" · ")) <= known for c in labelled)


@pytest.mark.parametrize("method, path, body, status, words", [
    ("post", "/recommend", {"user": "nobody"}, 404, "user: unknown user 'nobody'"),
    ("post", "/recommend", {"history": ["i99999"], "strict": True}, 404, "unknown item(s) ['i99999'] (strict)"),
    ("post", "/recommend", {"history": []}, 422, "history: List should have at least 1 item"),
    ("post", "/recommend", {"history": ["x"] * 31}, 422, "history: List should have at most 30 items"),
    ("post", "/recommend", {}, 422, "history: Field required"),
    ("post", "/recommend", {"user": "u", "history": ["a"]}, 422, "history: Extra inputs are not permitted"),
    ("post", "/recommend", {"user": "USER", "k": 0}, 422, "k: Input should be greater than or equal to 1"),
    ("post", "/recommend", {"user": "USER", "k": 51}, 422, "k: Input should be less than or equal to 50"),
    ("post", "/recommend", {"user": "USER", "k": "ten"}, 422, "k: Input should be a valid integer"),
    ("post", "/recommend", {"user": "USER", "k": 2.5}, 422, "k: Input should be a valid integer"),
    ("post", "/recommend", {"user": 12}, 422, "user: Input should be a valid string"),
    ("post", "/recommend", {"user": "USER", "colour": 1}, 422, "colour: Extra inputs are not permitted"),
    ("post", "/recommend", {"user": "USER", "concept_weights": [1, 2]}, 422, "concept_weights: need 4 values"),
    ("post", "/recommend", {"user": "USER", "concept_weights": [0, 0, 0, 0]}, 422, "not all 0"),
    ("post", "/recommend", {"user": "USER", "concept_weights": [-1, 1, 1, 1]}, 422, "greater than or equal to 0"),
    ("post", "/recommend", {"user": "USER", "concept_weights": ["1", 1, 1, 1]}, 422, "valid number"),
    ("post", "/recommend", "not json", 422, "JSON"),
    ("post", "/recommend", [1, 2], 422, "valid dictionary"),
    ("post", "/recommend/batch", {"requests": []}, 422, "requests: List should have at least 1 item"),
    ("post", "/recommend/batch", {"requests": [{"user": "USER"}] * 5}, 422, "requests: List should have at most 4"),
    ("post", "/recommend/batch", {"requests": [{"user": "USER"}, {"user": "ghost"}]}, 404, "requests[1].user: unknown user"),
    ("get", "/items/nope/similar", None, 404, "unknown item(s) ['nope']"),
    ("get", "/items/ITEM/similar?k=-3", None, 422, "k: Input should be greater than or equal to 1"),
    ("get", "/users/USER/recommendations?k=abc", None, 422, "k: Input should be a valid integer"),
    ("get", "/users/ghost/recommendations", None, 404, "unknown user"),
    ("post", "/recommend", {"history": ["i" * 5000]}, 413, "request body over 4096 bytes"),
])
def test_bad_requests_get_a_4xx_json_error(service, tiny_data, method, path, body, status, words):
    client, _ = service
    user, item = str(tiny_data.user_ids["train"][0]), str(tiny_data.item_ids[0])
    path = path.replace("USER", user).replace("ITEM", item)
    if isinstance(body, dict):
        body = {k: v.replace("USER", user) if isinstance(v, str) else v for k, v in body.items()}
        if "requests" in body:
            body["requests"] = [{"user": user if r["user"] == "USER" else r["user"]} for r in body["requests"]]
    if method == "get":
        r = client.get(path)
    elif isinstance(body, str):
        r = client.post(path, content=body, headers={"content-type": "application/json"})
    else:
        r = client.post(path, json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["error"] and r.json()["detail"]


def test_unknown_history_items_are_left_out_and_listed(service, tiny_data):
    client, rec = service
    known = [str(i) for i in tiny_data.item_ids[:3]]
    plain = client.post("/recommend", json={"history": known, "k": 5}).json()
    mixed = client.post("/recommend", json={"history": known + ["ghost", "i99999"], "k": 5}).json()
    assert mixed["ignored"] == ["ghost", "i99999"] and mixed["source"] == "model"
    assert mixed["items"] == plain["items"] and plain["ignored"] == []
    # nothing known: what a new user gets, the most popular items, marked as such
    cold = client.post("/recommend", json={"history": ["ghost"], "k": 5}).json()
    assert cold["source"] == "most_popular" and cold["ignored"] == ["ghost"]
    counts = [float(c) for c in sorted(rec.popularity, reverse=True)[:5]]
    assert [i["score"] for i in cold["items"]] == counts
    r = client.post("/recommend", json={"history": known + ["ghost"], "strict": True})
    assert r.status_code == 404 and "ghost" in r.json()["error"]


def test_a_service_whose_artifacts_fail_to_load_says_why(tmp_path, serve_app):
    def broken():
        raise FileNotFoundError(f"{tmp_path}: no index manifest (run index_recsys)")

    server, thread, url = serve_app(create_app([recsys_service(broken)]))
    try:
        assert httpx.get(url + "/livez").status_code == 200
        r = httpx.get(url + "/readyz")
        assert r.status_code == 503 and "no index manifest" in r.json()["error"]
        r = httpx.post(url + "/recommend", json={"user": "u"})
        assert r.status_code == 503 and "not ready" in r.json()["error"]
    finally:
        server.should_exit = True
        thread.join(5)


def test_concurrent_requests_are_batched_and_answered_as_alone(service, tiny_data):
    from concurrent.futures import ThreadPoolExecutor

    client, rec = service
    users = [str(u) for u in tiny_data.user_ids["train"][:32]]
    alone = {u: client.post("/recommend", json={"user": u, "k": 5}).json() for u in users}
    with ThreadPoolExecutor(16) as pool:
        together = list(pool.map(lambda u: httpx.post(f"{client.base_url}/recommend",
                                                      json={"user": u, "k": 5}, timeout=30).json(), users))
    for u, got in zip(users, together):   # the same lists; scores equal up to a batched matmul's rounding
        want = alone[u]
        assert [i["item"] for i in got["items"]] == [i["item"] for i in want["items"]]
        assert [i["score"] for i in got["items"]] == pytest.approx([i["score"] for i in want["items"]], abs=1e-4)


def test_a_chunked_body_over_the_limit_gets_413_before_it_is_parsed(service):
    client, _ = service
    sent = []

    def chunks():                      # no Content-Length: httpx sends it chunked
        for _ in range(40):
            sent.append(1)
            yield b'{"history": [' + b'"i00001",' * 100
    r = client.post("/recommend", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "request body over 4096 bytes" in r.json()["error"]
    assert r.request.headers.get("transfer-encoding") == "chunked"
    small = client.post("/recommend", content=iter([b'{"history": ["nope"], ', b'"k": 3}']),
                        headers={"content-type": "application/json"})
    assert small.status_code == 200, small.text            # a chunked body under the limit is read whole


@pytest.mark.parametrize("method, path, allow", [
    ("OPTIONS", "/recommend", "POST"), ("GET", "/recommend", "POST"), ("DELETE", "/concepts", "GET"),
    ("PUT", "/users/u1/recommendations", "GET"),
])
def test_another_method_on_an_api_path_gets_405_with_its_allow(service, method, path, allow):
    client, _ = service
    r = client.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == allow, (r.status_code, r.headers.get("allow"))
    assert path in r.json()["error"]
