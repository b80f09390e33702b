"""Closed-form baselines: most-popular and EASE (Steck, WWW 2019)."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class MostPopular:
    def __init__(self, train: sp.csr_matrix):
        self.counts = np.asarray(train.sum(0)).ravel().astype(np.float32)

    def score(self, x: sp.csr_matrix) -> np.ndarray:
        return np.broadcast_to(self.counts, (x.shape[0], len(self.counts))).copy()


class EASE:
    """B = argmin ||X - XB||² + λ||B||² s.t. diag(B) = 0, solved as B = I - P / diag(P), P = (XᵀX + λI)⁻¹."""

    def __init__(self, train: sp.csr_matrix, lam: float):
        gram = (train.T @ train).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += lam
        p = np.linalg.inv(gram)
        self.weights = (-p / np.diag(p)).astype(np.float32)
        np.fill_diagonal(self.weights, 0.0)
        self.lam = lam

    def score(self, x: sp.csr_matrix) -> np.ndarray:
        return np.asarray(x @ self.weights)
