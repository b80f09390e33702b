"""Interaction loaders: MovieLens (ml-100k, ml-1m, ml-20m), RecBole atomic files, generic CSV.

Every loader returns an `Interactions` table (user, item as strings; rating as float; timestamp
optional) plus item categories where the source has them. A malformed row, a missing column or
an empty file raises DataFormatError naming the file and the line.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputFileError

# ml-100k's u.genre, in column order of u.item's 19 flags
ML100K_GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
                 "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                 "Romance", "Sci-Fi", "Thriller", "War", "Western"]


class DataFormatError(InputFileError):
    """A data file that cannot be read as interactions; the message names file and line."""


@dataclass
class Interactions:
    table: pd.DataFrame  # columns: user, item (str), rating (float), [timestamp]
    item_category: dict[str, str] = field(default_factory=dict)  # item -> primary category
    source: str = ""
    item_factors: pd.DataFrame | None = None   # item id -> the known factors a generator drew (numeric columns)


def _read_rows(path: Path, sep: str, names: list[str], numeric: list[str], header: bool,
               encoding: str = "utf-8") -> pd.DataFrame:
    """Read a delimited file strictly: right field count and numbers where numbers belong.

    pandas' C parser reads well-formed files fast (ml-20m's 20M rows); when it cannot, or a field
    is missing, the file is re-read line by line to name the first bad line."""
    if not path.exists():
        raise DataFormatError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataFormatError(f"{path}: empty file")
    df = _read_fast(path, sep, names, header, encoding) if len(sep) == 1 else None
    if df is None:
        df = _read_checked(path, sep, names, header, encoding)
    if df.empty:
        raise DataFormatError(f"{path}: no data rows")
    for col in numeric:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy())
        if len(bad):
            lineno = _line_of_row(path, bad[0], header)
            raise DataFormatError(f"{path}:{lineno}: column '{col}' is not a number: {df[col].iloc[bad[0]]!r}")
        df[col] = values.astype(float)
    return df


def _read_fast(path: Path, sep: str, names: list[str], header: bool, encoding: str):
    """The whole file through pandas, or None when it is not cleanly shaped."""
    try:
        df = pd.read_csv(path, sep=sep, names=names, header=0 if header else None, dtype=str,
                         encoding=encoding, engine="c", skip_blank_lines=True, keep_default_na=False,
                         na_values=[], quoting=csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError):
        return None
    if df.isna().to_numpy().any() or (df == "").to_numpy().any():  # a short row: pandas pads it silently
        return None
    return df


def _read_checked(path: Path, sep: str, names: list[str], header: bool, encoding: str) -> pd.DataFrame:
    first_line = 2 if header else 1
    rows = []
    with open(path, encoding=encoding, newline="") as f:
        if header:
            next(f)
        for lineno, line in enumerate(f, start=first_line):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split(sep) if len(sep) > 1 else next(csv.reader([line], delimiter=sep))
            if len(parts) != len(names):
                raise DataFormatError(f"{path}:{lineno}: expected {len(names)} fields "
                                      f"({', '.join(names)}), got {len(parts)}: {line[:80]!r}")
            rows.append(parts)
    return pd.DataFrame(rows, columns=names)


def _line_of_row(path: Path, row: int, header: bool) -> int:
    """1-based line number of data row `row`, skipping blank lines as _read_rows does."""
    seen = -1
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, start=1):
            if (header and lineno == 1) or not line.strip():
                continue
            seen += 1
            if seen == row:
                return lineno
    return -1


def _header(path: Path, sep: str) -> list[str]:
    if not path.exists():
        raise DataFormatError(f"{path}: file not found")
    with open(path, encoding="utf-8") as f:
        line = f.readline().rstrip("\r\n")
    if not line:
        raise DataFormatError(f"{path}: empty file")
    return line.split(sep)


def _finish(df: pd.DataFrame, categories: dict, source: str) -> Interactions:
    df["user"] = df["user"].astype(str).str.strip()
    df["item"] = df["item"].astype(str).str.strip()
    if "rating" not in df:
        df["rating"] = 5.0  # implicit feedback: every row is a positive
    return Interactions(df, categories, source)


def load_ml100k(folder: Path) -> Interactions:
    """ml-100k: u.data (user \\t item \\t rating \\t ts), u.item (pipe-separated, 19 genre flags)."""
    df = _read_rows(folder / "u.data", "\t", ["user", "item", "rating", "timestamp"],
                    ["rating", "timestamp"], header=False)
    categories = {}
    item_file = folder / "u.item"
    if item_file.exists():
        with open(item_file, encoding="latin-1") as f:
            for lineno, line in enumerate(f, start=1):
                parts = line.rstrip("\r\n").split("|")
                if len(parts) != 5 + len(ML100K_GENRES):
                    raise DataFormatError(f"{item_file}:{lineno}: expected 24 fields, got {len(parts)}")
                flags = [i for i, v in enumerate(parts[5:]) if v == "1"]
                categories[parts[0]] = ML100K_GENRES[flags[0]] if flags else "unknown"
    return _finish(df, categories, f"ml-100k:{folder}")


def load_ml1m(folder: Path) -> Interactions:
    """ml-1m / ml-10m: ratings.dat (user::item::rating::ts), movies.dat (item::title::genres)."""
    df = _read_rows(folder / "ratings.dat", "::", ["user", "item", "rating", "timestamp"],
                    ["rating", "timestamp"], header=False)
    categories = {}
    movies = folder / "movies.dat"
    if movies.exists():
        with open(movies, encoding="latin-1") as f:
            for lineno, line in enumerate(f, start=1):
                parts = line.rstrip("\r\n").split("::")
                if len(parts) != 3:
                    raise DataFormatError(f"{movies}:{lineno}: expected 3 fields, got {len(parts)}")
                categories[parts[0]] = parts[2].split("|")[0]
    return _finish(df, categories, f"movielens-dat:{folder}")


def load_ml20m(folder: Path) -> Interactions:
    """ml-20m / ml-25m: ratings.csv (userId,movieId,rating,timestamp), movies.csv."""
    df = load_csv(folder / "ratings.csv").table
    categories = {}
    movies = folder / "movies.csv"
    if movies.exists():
        m = pd.read_csv(movies, dtype=str)
        categories = {r.movieId: r.genres.split("|")[0] for r in m.itertuples()}
    return _finish(df, categories, f"movielens-csv:{folder}")


def load_recbole(prefix: Path) -> Interactions:
    """RecBole atomic files: <prefix>.inter (user_id:token, item_id:token[, rating:float, ...]) and
    an optional <prefix>.item whose first token_seq/token column after item_id gives categories
    (the 'class' field for ml-100k)."""
    inter = prefix.with_suffix(".inter")
    names = _header(inter, "\t")
    fields = [n.split(":")[0] for n in names]
    rename = {"user_id": "user", "item_id": "item", "rating": "rating", "timestamp": "timestamp"}
    missing = [c for c in ("user_id", "item_id") if c not in fields]
    if missing:
        raise DataFormatError(f"{inter}:1: missing column(s) {missing} in header {names}")
    cols = [rename.get(f, f) for f in fields]
    df = _read_rows(inter, "\t", cols, [c for c in ("rating", "timestamp") if c in cols], header=True)
    df = df[[c for c in ("user", "item", "rating", "timestamp") if c in df]]
    categories = {}
    item_file = prefix.with_suffix(".item")
    if item_file.exists():
        item_names = [n.split(":")[0] for n in _header(item_file, "\t")]
        if "item_id" not in item_names:
            raise DataFormatError(f"{item_file}:1: missing column 'item_id'")
        cat_col = next((n for n in ("class", "genre", "genres", "category") if n in item_names), None)
        if cat_col:
            items = _read_rows(item_file, "\t", item_names, [], header=True)
            categories = {i: (c.split()[0] if c.split() else "unknown")
                          for i, c in zip(items["item_id"], items[cat_col])}
    return _finish(df, categories, f"recbole:{prefix}")


def load_csv(path: Path) -> Interactions:
    """Generic CSV with a header naming user,item[,rating,timestamp] (MovieLens' userId/movieId too)."""
    header = [h.strip() for h in _header(path, ",")]
    aliases = {"userId": "user", "user_id": "user", "movieId": "item", "item_id": "item"}
    cols = [aliases.get(h, h) for h in header]
    missing = [c for c in ("user", "item") if c not in cols]
    if missing:
        raise DataFormatError(f"{path}:1: missing column(s) {missing}; header is {header}")
    numeric = [c for c in ("rating", "timestamp") if c in cols]
    df = _read_rows(path, ",", cols, numeric, header=True)
    return _finish(df[[c for c in ("user", "item", "rating", "timestamp") if c in cols]], {}, f"csv:{path}")


def load_interactions(source: str, path: str) -> Interactions:
    """Dispatch on the params' `source`; `path` is a folder, a RecBole prefix or a CSV file."""
    p = Path(path)
    if source == "movielens":
        if (p / "u.data").exists():
            return load_ml100k(p)
        if (p / "ratings.dat").exists():
            return load_ml1m(p)
        if (p / "ratings.csv").exists():
            return load_ml20m(p)
        raise DataFormatError(f"{p}: no u.data, ratings.dat or ratings.csv in this folder")
    if source == "recbole":
        if p.is_dir():
            found = sorted(p.glob("*.inter"))
            if not found:
                raise DataFormatError(f"{p}: no .inter file in this folder")
            p = found[0].with_suffix("")
        return load_recbole(p)
    if source == "csv":
        return load_csv(p)
    raise DataFormatError(f"unknown interaction source {source!r}")
