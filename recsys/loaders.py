"""Interaction loaders: MovieLens (ml-100k, ml-1m, ml-20m), RecBole atomic files, generic CSV.

Every loader returns an `Interactions` table (user, item as strings; rating as float; timestamp
optional) plus what the source says about its items: titles and categories (MovieLens' u.item,
movies.dat and movies.csv, a RecBole .item file, an items.csv beside a CSV). A malformed row, a
missing column or an empty file raises DataFormatError naming the file and the line.
"""
from __future__ import annotations

import csv
import warnings
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


ITEM_COLUMN = ("item", "item_id", "movieId", "id")            # an item file's columns, by their usual names
TITLE_COLUMN = ("title", "movie_title", "name", "item_name")
CATEGORY_COLUMN = ("categories", "category", "genres", "genre", "class")


@dataclass
class Interactions:
    table: pd.DataFrame  # columns: user, item (str), rating (float), [timestamp]
    item_categories: dict[str, list[str]] = field(default_factory=dict)  # item -> its categories, primary first
    source: str = ""
    item_factors: pd.DataFrame | None = None   # item id -> the known factors a generator drew (numeric columns)
    item_titles: dict[str, str] = field(default_factory=dict)

    @property
    def item_category(self) -> dict[str, str]:
        """item -> its primary category (what concept–category NMI and the heat map read)."""
        return {i: cats[0] for i, cats in self.item_categories.items() if cats}


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
        with warnings.catch_warnings():   # a row with extra fields: pandas warns and drops them (or makes an index)
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(path, sep=sep, names=names, header=0 if header else None, dtype=str, index_col=False,
                             encoding=encoding, engine="c", skip_blank_lines=True, keep_default_na=False,
                             na_values=[], quoting=csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError, ValueError):
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


def _finish(df: pd.DataFrame, source: str, categories: dict | None = None, titles: dict | None = None) -> Interactions:
    df["user"] = df["user"].astype(str).str.strip()
    df["item"] = df["item"].astype(str).str.strip()
    if "rating" not in df:
        df["rating"] = 5.0  # implicit feedback: every row is a positive
    return Interactions(df, categories or {}, source, item_titles=titles or {})


def _column(names: list[str], aliases: tuple[str, ...]) -> str | None:
    return next((n for n in aliases if n in names), None)


def load_item_file(path: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """An item CSV with a header (MovieLens' movies.csv, a user's items.csv): an id column (item,
    item_id, movieId or id), and a title (title, movie_title, name) and/or categories ('|'-separated
    in categories, category, genres, genre or class) → (titles, categories) by item id."""
    header = [h.strip() for h in _header(path, ",")]
    item_col = _column(header, ITEM_COLUMN)
    title_col, cat_col = _column(header, TITLE_COLUMN), _column(header, CATEGORY_COLUMN)
    if item_col is None or (title_col is None and cat_col is None):
        raise DataFormatError(f"{path}:1: an item file needs an id column ({' / '.join(ITEM_COLUMN)}) and a "
                              f"title ({' / '.join(TITLE_COLUMN)}) or categories ({' / '.join(CATEGORY_COLUMN)}); "
                              f"header is {header}")
    rows = _read_rows(path, ",", header, [], header=True)
    ids = rows[item_col].str.strip()
    repeated = ids[ids.duplicated()]
    if len(repeated):
        raise DataFormatError(f"{path}:{_line_of_row(path, repeated.index[0], True)}: item {repeated.iloc[0]!r} "
                              "is listed twice")
    titles = dict(zip(ids, rows[title_col].str.strip())) if title_col else {}
    categories = ({i: [c.strip() for c in v.split("|") if c.strip()] for i, v in zip(ids, rows[cat_col])}
                  if cat_col else {})
    return titles, categories


def load_ml100k(folder: Path) -> Interactions:
    """ml-100k: u.data (user \\t item \\t rating \\t ts), u.item (pipe-separated, 19 genre flags)."""
    df = _read_rows(folder / "u.data", "\t", ["user", "item", "rating", "timestamp"],
                    ["rating", "timestamp"], header=False)
    categories, titles = {}, {}
    item_file = folder / "u.item"
    if item_file.exists():
        with open(item_file, encoding="latin-1") as f:
            for lineno, line in enumerate(f, start=1):
                parts = line.rstrip("\r\n").split("|")
                if len(parts) != 5 + len(ML100K_GENRES):
                    raise DataFormatError(f"{item_file}:{lineno}: expected 24 fields, got {len(parts)}")
                titles[parts[0]] = parts[1]
                categories[parts[0]] = [g for g, v in zip(ML100K_GENRES, parts[5:]) if v == "1"] or ["unknown"]
    return _finish(df, f"ml-100k:{folder}", categories, titles)


def load_ml1m(folder: Path) -> Interactions:
    """ml-1m / ml-10m: ratings.dat (user::item::rating::ts), movies.dat (item::title::genres)."""
    df = _read_rows(folder / "ratings.dat", "::", ["user", "item", "rating", "timestamp"],
                    ["rating", "timestamp"], header=False)
    categories, titles = {}, {}
    movies = folder / "movies.dat"
    if movies.exists():
        with open(movies, encoding="latin-1") as f:
            for lineno, line in enumerate(f, start=1):
                parts = line.rstrip("\r\n").split("::")
                if len(parts) != 3:
                    raise DataFormatError(f"{movies}:{lineno}: expected 3 fields, got {len(parts)}")
                titles[parts[0]] = parts[1]
                categories[parts[0]] = parts[2].split("|")
    return _finish(df, f"movielens-dat:{folder}", categories, titles)


def load_ml20m(folder: Path) -> Interactions:
    """ml-20m / ml-25m: ratings.csv (userId,movieId,rating,timestamp), movies.csv."""
    df = load_csv(folder / "ratings.csv", items=False).table
    movies = folder / "movies.csv"
    titles, categories = load_item_file(movies) if movies.exists() else ({}, {})
    return _finish(df, f"movielens-csv:{folder}", categories, titles)


def load_recbole(prefix: Path) -> Interactions:
    """RecBole atomic files: <prefix>.inter (user_id:token, item_id:token[, rating:float, ...]) and
    an optional <prefix>.item: titles from its movie_title/title/name column, categories (space-
    separated tokens) from its class/genre/category column (ml-100k's: movie_title, class)."""
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
    categories, titles = {}, {}
    item_file = prefix.with_suffix(".item")
    if item_file.exists():
        item_names = [n.split(":")[0] for n in _header(item_file, "\t")]
        if "item_id" not in item_names:
            raise DataFormatError(f"{item_file}:1: missing column 'item_id'")
        cat_col, title_col = _column(item_names, CATEGORY_COLUMN), _column(item_names, TITLE_COLUMN)
        if cat_col or title_col:
            items = _read_rows(item_file, "\t", item_names, [], header=True)
            ids = items["item_id"].str.strip()
            if cat_col:
                categories = {i: c.split() or ["unknown"] for i, c in zip(ids, items[cat_col])}
            if title_col:
                titles = dict(zip(ids, items[title_col].str.strip()))
    return _finish(df, f"recbole:{prefix}", categories, titles)


def load_csv(path: Path, items: bool = True) -> Interactions:
    """Generic CSV with a header naming user,item[,rating,timestamp] (MovieLens' userId/movieId too);
    `items`: titles and categories from an items.csv beside it, when there is one (load_item_file)."""
    header = [h.strip() for h in _header(path, ",")]
    aliases = {"userId": "user", "user_id": "user", "movieId": "item", "item_id": "item"}
    cols = [aliases.get(h, h) for h in header]
    missing = [c for c in ("user", "item") if c not in cols]
    if missing:
        raise DataFormatError(f"{path}:1: missing column(s) {missing}; header is {header}")
    numeric = [c for c in ("rating", "timestamp") if c in cols]
    df = _read_rows(path, ",", cols, numeric, header=True)
    item_file = path.parent / "items.csv"
    titles, categories = load_item_file(item_file) if items and item_file.exists() and item_file != path else ({}, {})
    return _finish(df[[c for c in ("user", "item", "rating", "timestamp") if c in cols]], f"csv:{path}",
                   categories, titles)


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
