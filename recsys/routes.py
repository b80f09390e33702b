"""HTTP routes of the recommender: top-k for a known user or a history, batches, similar items,
the learned concepts.

The request models state every rule the code enforces (k's range, a history's length, one
weight >= 0 per concept with one above 0), so the OpenAPI schema is the contract. A history's
unknown items are left out and listed under "ignored"; a history with no known item gets the most
popular items ("source": "most_popular"), unless "strict": true makes unknown items a 404.
"""
# no `from __future__ import annotations`: FastAPI reads the annotations of routes defined in a function
import asyncio
import pathlib
from typing import Annotated, Literal

from fastapi import FastAPI, Path, Query
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Strict, StrictBool, StrictStr, Tag

from pipeline.service import JsonInt, ServeConfig, ServedModel, error_responses

PANEL = pathlib.Path(__file__).parent / "web"   # its panel of the page at / (panel.html, panel.js)

Weight = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]


class Item(BaseModel):
    item: str
    title: str | None = Field(description="from the data's item file; null when it has none")
    categories: list[str] = Field(description="every category the item file gives it, primary first")


class RecommendedItem(Item):
    score: float
    concept: int = Field(description="the item's concept (its largest assignment)")
    category: str | None = Field(description="the item's known category, if the data has one")


class Recommendation(BaseModel):
    user: str | None
    k: int
    items: list[RecommendedItem]
    ignored: list[str] = Field(description="history items the model does not know, left out")
    source: Literal["model", "most_popular"] = Field(
        description="most_popular when no history item is known: what a new user gets")


class BatchResponse(BaseModel):
    results: list[Recommendation]


class SimilarItems(BaseModel):
    item: str
    k: int
    items: list[RecommendedItem]


class TypicalCategory(BaseModel):
    category: str
    items: int = Field(description="the concept's items that carry it")
    share: float = Field(description="share of the concept's items that carry it")
    share_all: float = Field(description="share of all items that carry it")


class Concept(BaseModel):
    concept: int
    items: int
    label: str = Field(description="its most typical categories (else its best-known titles, else 'concept N')")
    top_categories: list[TypicalCategory] = Field(
        description="over-represented among its items, most typical first (p_c log p_c / p: recsys.concept_labels)")
    top_items: list[Item] = Field(description="its most popular items")


class Concepts(BaseModel):
    concepts: list[Concept]


def request_models(cfg: ServeConfig):
    """(user request, either request, batch request) with the service's limits."""
    k_field = JsonInt(ge=1, le=cfg.max_k)

    class Common(BaseModel):
        model_config = ConfigDict(extra="forbid")
        k: k_field = 10
        concept_weights: Annotated[list[Weight], Field(
            min_length=1, json_schema_extra={"contains": {"type": "number", "exclusiveMinimum": 0}},
            description="steering: one weight >= 0 per concept, not all 0 (0 drops a concept)")] | None = None
        exclude_seen: StrictBool = True

    class UserRequest(Common):
        user: StrictStr

    class HistoryRequest(Common):
        history: Annotated[list[StrictStr], Field(min_length=1, max_length=cfg.max_history)]
        strict: StrictBool = Field(False, description="a 404 for unknown items instead of leaving them out")

    # exactly one of the two forms; a body with "user" is read as a UserRequest (errors name the form)
    OneRequest = Annotated[Annotated[UserRequest, Tag("UserRequest")] | Annotated[HistoryRequest, Tag("HistoryRequest")],
                           Discriminator(lambda body: "UserRequest" if _has(body, "user") else "HistoryRequest")]

    class BatchRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        requests: Annotated[list[OneRequest], Field(min_length=1, max_length=cfg.max_batch)]

    return UserRequest, OneRequest, BatchRequest


def _has(body, key: str) -> bool:
    return key in body if isinstance(body, dict) else hasattr(body, key)


def add_recsys_routes(app: FastAPI, recommender, cfg: ServeConfig, worker) -> None:
    """`recommender()` returns the loaded Recommender (or raises NotReady)."""
    UserRequest, RecommendRequest, BatchRequest = request_models(cfg)

    def plan(req, where: str = ""):
        rec = recommender()
        fields = dict(k=req.k, weights=req.concept_weights, exclude_seen=req.exclude_seen,
                      max_k=cfg.max_k, max_history=cfg.max_history, where=where)
        if isinstance(req, UserRequest):
            return rec.query(user=req.user, **fields)
        return rec.query(history=req.history, strict=req.strict, **fields)

    def answer(req, query, ignored, result) -> dict:
        rec = recommender()
        cols, scores = result if query is not None else rec.most_popular(req.k)
        return {"user": getattr(req, "user", None), "k": req.k, "items": rec.describe(cols, scores),
                "ignored": ignored, "source": "model" if query is not None else "most_popular"}

    async def one(req) -> dict:
        """Checked on the event loop (cheap), computed on the model's worker, merged with concurrent ones."""
        query, ignored = plan(req)
        result = None
        if query is not None:
            result = await asyncio.wrap_future(worker.batched(recommender().recommend_many, query))
        return answer(req, query, ignored, result)

    @app.post("/recommend", summary="Top-k for a known user or a history of item ids (fold-in)",
              response_model=Recommendation, responses=error_responses(404))
    async def recommend(req: RecommendRequest):
        return await one(req)

    @app.get("/users/{user}/recommendations", summary="Top-k for a known user",
             response_model=Recommendation, responses=error_responses(404))
    async def user_recommendations(user: str, k: int = Query(10, ge=1, le=cfg.max_k)):
        return await one(UserRequest(user=user, k=k))

    @app.post("/recommend/batch", summary="Several recommendation requests, computed in one model call",
              response_model=BatchResponse, responses=error_responses(404))
    def recommend_batch(batch: BatchRequest):
        plans = [plan(r, f"requests[{i}].") for i, r in enumerate(batch.requests)]
        queries = [q for q, _ in plans if q is not None]
        results = iter(worker.call(recommender().recommend_many, queries).result() if queries else [])
        return {"results": [answer(r, q, ignored, next(results) if q is not None else None)
                            for r, (q, ignored) in zip(batch.requests, plans)]}

    @app.get("/items/{item}/similar", summary="Items nearest by embedding cosine",
             response_model=SimilarItems, responses=error_responses(404))
    def similar(item: Annotated[str, Path()], k: int = Query(10, ge=1, le=cfg.max_k)):
        rec = recommender()
        (col,) = rec.columns([item])
        cols, scores = worker.call(rec.similar_items, col, k).result()
        return {"item": item, "k": k, "items": rec.describe(cols, scores)}

    @app.get("/concepts", summary="Learned concepts: sizes, labels, typical categories and best-known items",
             response_model=Concepts)
    def concepts():
        return {"concepts": recommender().concept_summaries()}


def state_facts(rec, schema: dict) -> None:
    """The loaded model's facts: concept_weights' exact length, and known ids as examples."""
    users = [str(u) for u in rec.data.user_ids["train"][:3]]
    items = [str(i) for i in rec.data.item_ids[:3]]
    models = schema["components"]["schemas"]
    for name in ("UserRequest", "HistoryRequest"):
        weights = models[name]["properties"]["concept_weights"]
        array = next(s for s in weights["anyOf"] if s.get("type") == "array")
        array["minItems"] = array["maxItems"] = rec.concepts
    models["UserRequest"]["properties"]["user"]["examples"] = users
    models["HistoryRequest"]["properties"]["history"]["examples"] = [items]
    for path, param, examples in (("/users/{user}/recommendations", "user", users),
                                  ("/items/{item}/similar", "item", items)):
        for p in schema["paths"][path]["get"]["parameters"]:
            if p["name"] == param:
                p["schema"]["examples"] = examples


def recsys_service(load) -> ServedModel:
    """The recommender as a served model; `load()` returns a Recommender."""
    return ServedModel("recommender", load, add_recsys_routes,
                       lambda rec: {"items": rec.data.n_items, "concepts": rec.concepts}, state_facts, panel=PANEL)
