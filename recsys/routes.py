"""HTTP routes of the recommender: top-k for a known user or a history, batches, similar items,
the learned concepts."""
from __future__ import annotations

from fastapi import FastAPI, Query
from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr

from pipeline.service import BadRequest, ServeConfig, ServedModel, check_range


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


def add_recsys_routes(app: FastAPI, recommender, cfg: ServeConfig, lock) -> None:
    """`recommender()` returns the loaded Recommender (or raises BadRequest 503)."""

    def answer(req: RecommendRequest, where: str = "") -> dict:
        rec = recommender()
        check_range(req.k, 1, cfg.max_k, f"{where}k")
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
        with lock:
            cols, scores = rec.recommend(history, req.k, weights, req.exclude_seen)
        return {"user": req.user, "k": req.k, "items": rec.describe(cols, scores)}

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
        check_range(k, 1, cfg.max_k, "k")
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


def recsys_service(load) -> ServedModel:
    """The recommender as a served model; `load()` returns a Recommender."""
    return ServedModel("recommender", load, add_recsys_routes,
                       lambda rec: {"items": rec.data.n_items, "concepts": rec.concepts})
