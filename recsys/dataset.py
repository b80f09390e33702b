"""The prepared interaction data: sparse user × item matrices for the strong-generalization protocol.

train: all positives of training users. val/test: whole held-out users, their positives split into
fold-in (what the model sees) and targets (what it must rank). Items are those seen in training.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from pipeline.atomic import atomic_path

MATRICES = ("train", "val_foldin", "val_target", "test_foldin", "test_target")
CATEGORY_SEP = "|"   # an item's categories, stored joined


@dataclass
class InteractionData:
    train: sp.csr_matrix
    val_foldin: sp.csr_matrix
    val_target: sp.csr_matrix
    test_foldin: sp.csr_matrix
    test_target: sp.csr_matrix
    item_ids: np.ndarray  # str, column -> raw item id
    item_category: np.ndarray  # int, column -> category index (-1 unknown)
    category_names: list
    user_ids: dict  # split ("train", "val", "test") -> str array, row -> raw user id
    item_factors: dict = field(default_factory=dict)  # factor name -> per-column values (known generators only)
    item_titles: np.ndarray | None = None       # str, column -> title ("" unknown); None: the data has none
    item_categories: np.ndarray | None = None   # str, column -> its categories joined by CATEGORY_SEP, primary first

    def __post_init__(self):
        for name in ("item_titles", "item_categories"):
            if getattr(self, name) is None:
                setattr(self, name, np.full(len(self.item_ids), "", dtype=object))

    def title(self, col: int) -> str | None:
        return str(self.item_titles[col]) or None

    def categories(self, col: int) -> list[str]:
        joined = str(self.item_categories[col])
        return joined.split(CATEGORY_SEP) if joined else []

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def summary(self) -> dict:
        return {"n_items": self.n_items, "n_train_users": self.train.shape[0],
                "n_val_users": self.val_foldin.shape[0], "n_test_users": self.test_foldin.shape[0],
                "n_train_interactions": int(self.train.nnz),
                "n_categories": len(self.category_names),
                "density": float(self.train.nnz / max(1, self.train.shape[0] * self.n_items))}

    def save(self, folder: str | Path) -> None:
        with atomic_path(folder) as tmp:
            tmp.mkdir()
            sp_arrays = {}
            for name in MATRICES:
                m = getattr(self, name).tocsr()
                sp_arrays.update({f"{name}_data": m.data, f"{name}_indices": m.indices,
                                  f"{name}_indptr": m.indptr, f"{name}_shape": np.array(m.shape)})
            np.savez_compressed(tmp / "matrices.npz", **sp_arrays)
            np.savez_compressed(tmp / "ids.npz", item_ids=self.item_ids.astype(str),
                                item_category=self.item_category, item_titles=self.item_titles.astype(str),
                                item_categories=self.item_categories.astype(str),
                                **{f"factor_{k}": v for k, v in self.item_factors.items()},
                                **{f"users_{k}": v.astype(str) for k, v in self.user_ids.items()})
            (tmp / "meta.json").write_text(json.dumps(
                {"category_names": list(self.category_names), **self.summary()}, indent=2))

    @classmethod
    def load(cls, folder: str | Path) -> "InteractionData":
        folder = Path(folder)
        if not (folder / "meta.json").exists():
            raise FileNotFoundError(f"{folder}: no prepared interaction data (run prepare_interactions)")
        mats = np.load(folder / "matrices.npz")
        ids = np.load(folder / "ids.npz")
        meta = json.loads((folder / "meta.json").read_text())

        def csr(name):
            return sp.csr_matrix((mats[f"{name}_data"], mats[f"{name}_indices"], mats[f"{name}_indptr"]),
                                 shape=tuple(mats[f"{name}_shape"]))

        return cls(*(csr(n) for n in MATRICES), item_ids=ids["item_ids"],
                   item_category=ids["item_category"], category_names=meta["category_names"],
                   user_ids={k: ids[f"users_{k}"] for k in ("train", "val", "test")},
                   item_factors={k[len("factor_"):]: ids[k] for k in ids.files if k.startswith("factor_")},
                   item_titles=ids["item_titles"] if "item_titles" in ids.files else None,
                   item_categories=ids["item_categories"] if "item_categories" in ids.files else None)
