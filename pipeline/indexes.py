"""FAISS indexes with explicit ids and a checked file format.

An index is built from an index-factory string ("Flat", "IVF1024,Flat", "HNSW32", ...) over
inner-product or L2 vectors. The ids are kept beside the FAISS index (row i of the index is
ids[i]), so ids never depend on FAISS's own id maps. Files are written atomically with a header
(magic, sizes, sha256) so that a truncated or foreign file fails on load with a clear error.
"""
from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from pipeline.atomic import atomic_path
from pipeline.errors import InputFileError

MAGIC = b"MDRFAISS1\n"
METRICS = {"ip": faiss.METRIC_INNER_PRODUCT, "l2": faiss.METRIC_L2}


def _checked_shard(vectors, ids, dim: int):
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    ids = np.asarray(ids, dtype=np.int64)
    if vectors.ndim != 2 or len(vectors) != len(ids) or vectors.shape[1] != dim:
        raise ValueError(f"vectors {vectors.shape} and ids {ids.shape} do not match "
                         f"(or the dimension is not the index's {dim})")
    return vectors, ids


def _mergeable(index) -> bool:
    """IVF indexes merge list by list; a flat index has nothing to encode, so it is filled here."""
    return faiss.try_extract_index_ivf(index) is not None


def _encoded(trained: bytes, vectors: np.ndarray) -> bytes:
    """On a Dask worker: the trained, empty index filled with one shard, serialized."""
    index = faiss.deserialize_index(np.frombuffer(trained, dtype=np.uint8))
    index.add(vectors)
    return faiss.serialize_index(index).tobytes()


def _fill_on_workers(index, shards, client, in_flight: int) -> list:
    """Fill `index` from `shards` encoded on the workers, merging the results in shard order."""
    from collections import deque

    trained = client.scatter(faiss.serialize_index(index).tobytes(), broadcast=True)
    pending, all_ids = deque(), []

    def merge_oldest():
        part = faiss.deserialize_index(np.frombuffer(pending.popleft().result(), dtype=np.uint8))
        index.merge_from(part, index.ntotal)   # IVF lists keep row ids: shift them past what is in

    for vectors, ids in shards:
        pending.append(client.submit(_encoded, trained, vectors, pure=False))
        all_ids.append(ids)
        if len(pending) >= in_flight:
            merge_oldest()
    while pending:
        merge_oldest()
    return all_ids


class IndexFileError(InputFileError):
    """An index file that is truncated, corrupted or not an mdr index."""


@dataclass
class VectorIndex:
    index: faiss.Index
    ids: np.ndarray  # int64, row -> external id
    factory: str
    metric: str

    @classmethod
    def build(cls, vectors: np.ndarray, ids, factory: str = "Flat", metric: str = "ip",
              nprobe: int | None = None, seed: int = 0) -> "VectorIndex":
        return cls.build_from_shards(vectors, [(vectors, ids)], factory, metric, nprobe, seed)

    @classmethod
    def build_from_shards(cls, train_vectors: np.ndarray, shards, factory: str = "Flat", metric: str = "ip",
                          nprobe: int | None = None, seed: int = 0, client=None, in_flight: int = 4) -> "VectorIndex":
        """An index trained on `train_vectors` (a sample is enough for IVF and PQ) and filled from
        `shards`, an iterable of (vectors, ids) read one at a time: a catalogue need never be in
        memory at full precision at once. With a Dask `client`, the workers encode the shards
        (`in_flight` at a time) into copies of the trained index, merged here in shard order: the
        same index as filling it here (IVF indexes; others are filled here)."""
        train_vectors = np.ascontiguousarray(train_vectors, dtype=np.float32)
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {list(METRICS)}, got {metric!r}")
        if train_vectors.ndim != 2:
            raise ValueError(f"vectors must be a 2-d array, got shape {train_vectors.shape}")
        try:
            index = faiss.index_factory(train_vectors.shape[1], factory, METRICS[metric])
        except RuntimeError as e:
            raise ValueError(f"bad index factory string {factory!r}: {str(e).splitlines()[-1]}") from None
        if not index.is_trained:
            ivf = faiss.try_extract_index_ivf(index)
            if ivf is not None:
                ivf.cp.seed = seed
                if len(train_vectors) < ivf.nlist:
                    raise ValueError(f"{factory!r} needs at least {ivf.nlist} vectors to train, got {len(train_vectors)}")
            index.train(train_vectors)
        checked = (_checked_shard(vectors, ids, index.d) for vectors, ids in shards)
        if client is not None and _mergeable(index):
            all_ids = _fill_on_workers(index, checked, client, in_flight)
        else:
            all_ids = []
            for vectors, ids in checked:
                index.add(vectors)
                all_ids.append(ids)
        out = cls(index, np.concatenate(all_ids) if all_ids else np.zeros(0, np.int64), factory, metric)
        if nprobe:
            out.set_nprobe(nprobe)
        return out

    def bytes_per_item(self) -> float:
        """The index's serialized size per item, ids included."""
        return (faiss.serialize_index(self.index).nbytes + self.ids.nbytes) / max(1, len(self))

    def set_nprobe(self, nprobe: int) -> None:
        if faiss.try_extract_index_ivf(self.index) is not None:
            faiss.ParameterSpace().set_index_parameter(self.index, "nprobe", int(nprobe))

    def __len__(self) -> int:
        return self.index.ntotal

    @property
    def dim(self) -> int:
        return self.index.d

    def search(self, queries: np.ndarray, k: int):
        """Top-k (scores, ids) per query; missing slots have id -1 and score -inf (ip) / +inf (l2)."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1] != self.dim:
            raise ValueError(f"queries have dimension {queries.shape[1]}, index has {self.dim}")
        k = min(int(k), len(self))
        if k <= 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        scores, rows = self.index.search(queries, k)
        ids = np.where(rows >= 0, self.ids[np.clip(rows, 0, None)], -1)
        return scores, ids

    def save(self, path: str | Path) -> None:
        payload = faiss.serialize_index(self.index).tobytes()
        id_bytes = self.ids.astype("<i8").tobytes()
        header = json.dumps({
            "factory": self.factory, "metric": self.metric, "dim": self.dim, "n": len(self),
            "ids_bytes": len(id_bytes), "payload_bytes": len(payload),
            "sha256": hashlib.sha256(id_bytes + payload).hexdigest(),
        }).encode()
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                f.write(MAGIC + struct.pack("<Q", len(header)) + header + id_bytes + payload)

    @classmethod
    def load(cls, path: str | Path) -> "VectorIndex":
        path = Path(path)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise IndexFileError(f"{path}: index file not found") from None
        if not blob.startswith(MAGIC):
            raise IndexFileError(f"{path}: not an mdr FAISS index file (bad magic bytes)")
        pos = len(MAGIC)
        if len(blob) < pos + 8:
            raise IndexFileError(f"{path}: truncated (no header)")
        (header_len,) = struct.unpack("<Q", blob[pos:pos + 8])
        pos += 8
        try:
            header = json.loads(blob[pos:pos + header_len])
        except ValueError:
            raise IndexFileError(f"{path}: truncated or corrupted header") from None
        pos += header_len
        expected = pos + header["ids_bytes"] + header["payload_bytes"]
        if len(blob) != expected:
            raise IndexFileError(f"{path}: truncated: {len(blob)} bytes, expected {expected}")
        body = blob[pos:]
        if hashlib.sha256(body).hexdigest() != header["sha256"]:
            raise IndexFileError(f"{path}: checksum mismatch (file corrupted)")
        ids = np.frombuffer(body[:header["ids_bytes"]], dtype="<i8").astype(np.int64)
        index = faiss.deserialize_index(np.frombuffer(body[header["ids_bytes"]:], dtype=np.uint8))
        if index.ntotal != header["n"] or index.d != header["dim"] or len(ids) != index.ntotal:
            raise IndexFileError(f"{path}: header does not match the index inside")
        return cls(index, ids, header["factory"], header["metric"])

