"""`mdr data fetch ml-100k`: extract MovieLens ml-100k (RecBole atomic files) from the recbole wheel.

The wheel is downloaded with pip from the package registry pip is configured for; nothing of
MovieLens is committed: it lands in a git-ignored folder.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from pipeline.atomic import atomic_path

WHEEL = "recbole==1.2.1"
MEMBER_DIR = "recbole/dataset_example/ml-100k/"
FILES = ("ml-100k.inter", "ml-100k.item")

# The params that point the pipeline at the extracted ml-100k (README: `dvc exp run -S ...`).
ML100K_PARAMS = {"prepare_interactions.source": "recbole",
                 "prepare_interactions.path": "external/ml-100k"}

LICENCE = """MovieLens ml-100k is provided by GroupLens Research (University of Minnesota) under these terms:
  * it may be used for research only, not for commercial or revenue-bearing purposes without permission;
  * it may NOT be redistributed (do not commit it, share it or publish it);
  * publications using it must cite: F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens
    Datasets: History and Context. ACM TiiS 5, 4, Article 19. https://doi.org/10.1145/2827872
Full terms: the README that ships with MovieLens (files.grouplens.org/datasets/movielens/ml-100k-README.txt)."""


def fetch_ml100k(dest: str | Path = "external/ml-100k") -> Path:
    dest = Path(dest)
    if all((dest / f).exists() for f in FILES):
        print(f"ml-100k already in {dest}", file=sys.stderr)
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        print(f"downloading the {WHEEL} wheel with pip (about 2 MB) ...", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "-q", "-d", tmp],
                              capture_output=True, text=True)
        wheels = list(Path(tmp).glob("recbole-*.whl"))
        if proc.returncode != 0 or not wheels:
            raise RuntimeError(f"pip download {WHEEL} failed: {proc.stderr.strip()[-500:]}")
        with zipfile.ZipFile(wheels[0]) as z, atomic_path(dest) as out:
            out.mkdir()
            for name in FILES:
                (out / name).write_bytes(z.read(MEMBER_DIR + name))
    return dest
