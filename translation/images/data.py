"""Image sets for translation: two domains (A, B), each with train, val and test splits: train fits
weights, val makes every choice (levers, schedules, early stops), test is read once, to report.

An ImageSet holds uint8 images (N, H, W, 3), integer labels (-1 where unknown) and, for generated
data, the factors each image was made from (so the true answer of an attribute swap exists).
Images enter models as float tensors in [-1, 1], channels first.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_path
from pipeline.errors import UnsupportedMedia

# val last: the generators' per-image keys (sources.SPLIT_CODE) of the other splits stay as they were
SPLITS = ("a_train", "a_test", "b_train", "b_test", "a_val", "b_val")
HELD = ("val", "test")   # the splits an evaluation can score
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class ImageError(UnsupportedMedia):
    """An image that cannot be used: unreadable, wrong mode, or an empty folder."""


class ImageSizeError(ImageError):
    """An image of another size than the model's (where it is not resized)."""
    status = 422


class ImageTooLarge(ImageError):
    """An image with more pixels than PIL decodes safely."""
    status = 413


@dataclass
class ImageSet:
    images: np.ndarray                      # (N, H, W, 3) uint8
    labels: np.ndarray                      # (N,) int64, -1 = unknown
    factors: dict[str, np.ndarray] = field(default_factory=dict)  # per-image generating factors

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, idx) -> "ImageSet":
        return ImageSet(self.images[idx], self.labels[idx], {k: v[idx] for k, v in self.factors.items()})

    @staticmethod
    def concat(parts: list["ImageSet"]) -> "ImageSet":
        keys = parts[0].factors.keys()
        return ImageSet(np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts]),
                        {k: np.concatenate([p.factors[k] for p in parts]) for k in keys})


@dataclass
class ImageData:
    """The six splits of one benchmark, plus what they mean (class names, factor names)."""
    name: str
    splits: dict[str, ImageSet]
    class_names: list[str]
    meta: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.splits["a_train"].images.shape[1])

    @property
    def labelled(self) -> bool:
        """Whether every image of every split has a class (generated data; labelled user folders)."""
        return all((part.labels >= 0).all() for part in self.splits.values())

    def summary(self) -> dict:
        return {f"{s}_images": len(self.splits[s]) for s in SPLITS} | {"classes": len(self.class_names),
                                                                        "size": self.size}

    def save(self, folder: str | Path) -> None:
        """Write the whole folder atomically (a killed stage leaves the previous one)."""
        import json

        with atomic_path(folder) as tmp:
            tmp.mkdir()
            for s in SPLITS:
                part = self.splits[s]
                arrays = {"images": part.images, "labels": part.labels}
                arrays |= {f"factor_{k}": v for k, v in part.factors.items()}
                np.savez_compressed(tmp / f"{s}.npz", **arrays)
            (tmp / "meta.json").write_text(json.dumps({"name": self.name, "class_names": self.class_names,
                                                       "meta": self.meta}, indent=2, sort_keys=True))

    @classmethod
    def load(cls, folder: str | Path) -> "ImageData":
        import json

        folder = Path(folder)
        if not (folder / "meta.json").exists():
            raise FileNotFoundError(f"{folder}: no prepared image data (run the prepare_images stage)")
        meta = json.loads((folder / "meta.json").read_text())
        splits = {}
        for s in SPLITS:
            with np.load(folder / f"{s}.npz") as z:
                factors = {k[len("factor_"):]: z[k] for k in z.files if k.startswith("factor_")}
                splits[s] = ImageSet(z["images"], z["labels"], factors)
        return cls(meta["name"], splits, meta["class_names"], meta.get("meta", {}))


def to_tensor(images: np.ndarray):
    """uint8 (N, H, W, 3) → float32 (N, 3, H, W) in [-1, 1]."""
    import torch

    return torch.from_numpy(np.array(images, copy=True)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def to_uint8(tensor) -> np.ndarray:
    """float (N, 3, H, W) in [-1, 1] → uint8 (N, H, W, 3)."""
    x = tensor.detach().clamp(-1, 1).add(1).mul(127.5).round().byte().permute(0, 2, 3, 1)
    return x.cpu().numpy()


def decode_image(data: bytes, name: str, size: int, resize: bool = True) -> np.ndarray:
    """Bytes of an image file → uint8 (size, size, 3). Errors name the file.

    Grey, palette and alpha images are converted to RGB; with resize=False an image of another size
    is refused (the service's rule), else it is resized (folders of user photos).
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ImageError(f"{name}: empty file")
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            if im.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I"):
                raise ImageError(f"{name}: unsupported image mode {im.mode}")
            rgb = im.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise ImageError(f"{name}: not a readable image ({type(e).__name__})") from None
    except Image.DecompressionBombError:
        raise ImageTooLarge(f"{name}: image too large") from None
    if rgb.size != (size, size):
        if not resize:
            raise ImageSizeError(f"{name}: image is {rgb.size[0]}x{rgb.size[1]}, expected {size}x{size}")
        rgb = rgb.resize((size, size), Image.BILINEAR)
    return np.asarray(rgb, dtype=np.uint8)


def encode_png(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


LABELS_FILE = "labels.csv"   # beside a folder's images: file,label rows


def image_files(folder: str | Path) -> list[Path]:
    """The image files of a folder, sorted by name; an empty folder or a non-image file is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder of images")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.name != LABELS_FILE)
    if not files:
        raise ImageError(f"{folder}: empty folder, no images")
    bad = [p for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
    if bad:
        raise ImageError(f"{bad[0]}: not an image file (expected one of {', '.join(IMAGE_SUFFIXES)})")
    return files


def read_images(files: list[Path], size: int) -> np.ndarray:
    """Image files → uint8 (N, size, size, 3), resized; errors name the file."""
    return np.stack([decode_image(p.read_bytes(), str(p), size) for p in files])


def read_folder(folder: str | Path, size: int) -> np.ndarray:
    """Every image file in a folder (sorted by name) → uint8 (N, size, size, 3)."""
    return read_images(image_files(folder), size)


def folder_labels(folder: str | Path) -> list[str] | None:
    """The label of each image of `folder` (image_files' order): from its labels.csv (`file,label` rows,
    a header row allowed), else from names `<label>_<anything>` when every file has one; None when
    neither says. A labels.csv that misses a file or names one that is not there is an error."""
    folder = Path(folder)
    files = image_files(folder)
    table = folder / LABELS_FILE
    if table.exists():
        import csv

        with table.open(newline="") as f:
            rows = [r for r in csv.reader(f) if r and any(cell.strip() for cell in r)]
        if rows and [c.strip().lower() for c in rows[0]] == ["file", "label"]:
            rows = rows[1:]
        bad = next((i for i, r in enumerate(rows) if len(r) != 2 or not r[1].strip()), None)
        if bad is not None:
            raise ImageError(f"{table}: row {bad + 1}: expected file,label, got {rows[bad]}")
        given = {r[0].strip(): r[1].strip() for r in rows}
        unknown = sorted(set(given) - {p.name for p in files})
        if unknown:
            raise ImageError(f"{table}: names {unknown[0]!r}, which is not an image of {folder}")
        missing = [p.name for p in files if p.name not in given]
        if missing:
            raise ImageError(f"{table}: no label for {missing[0]!r}")
        return [given[p.name] for p in files]
    if all("_" in p.stem and p.stem.split("_", 1)[0] for p in files):
        return [p.stem.split("_", 1)[0] for p in files]
    return None


def tile_grid(rows: np.ndarray, pad: int = 2) -> np.ndarray:
    """(R, C, H, W, 3) uint8 → one image with a white gap between cells."""
    r, c, h, w, _ = rows.shape
    out = np.full((r * (h + pad) + pad, c * (w + pad) + pad, 3), 255, np.uint8)
    for i in range(r):
        for j in range(c):
            out[pad + i * (h + pad):pad + i * (h + pad) + h, pad + j * (w + pad):pad + j * (w + pad) + w] = rows[i, j]
    return out
