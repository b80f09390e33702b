"""Image benchmarks: determinism, disjointness, stratification, true renders, and bad images."""
import io

import numpy as np
import pytest

from conftest import TINY_MNIST_M
from translation.images.sources import (FACTORS, GlyphsConfig, MnistMConfig, build_folders, build_glyphs, held_out_mask,
                                  build_mnist_m, render_glyph, FoldersConfig)
from translation.images.data import SPLITS, ImageData, ImageError, decode_image, read_folder
from pipeline.config import ConfigError, from_dict


def test_mnist_m_is_deterministic_disjoint_and_stratified(tiny_images, dask):
    again = build_mnist_m(MnistMConfig(**TINY_MNIST_M), seed=3, client=dask)
    for s, part in tiny_images.splits.items():
        assert np.array_equal(part.images, again.splits[s].images), s
        assert part.images.shape[1:] == (32, 32, 3) and part.images.dtype == np.uint8
        assert np.bincount(part.labels, minlength=10).min() >= len(part) // 10 - 1  # stratified
    digits = [set(tiny_images.splits[s].factors["digit"].tolist()) for s in tiny_images.splits]
    assert sum(len(d) for d in digits) == len(set().union(*digits))  # no digit in two splits
    other = build_mnist_m(MnistMConfig(**TINY_MNIST_M), seed=4, client=dask)
    assert not np.array_equal(other.splits["b_train"].images, tiny_images.splits["b_train"].images)


def test_mnist_m_target_inverts_a_photo_crop_where_the_digit_is(tiny_images):
    a = tiny_images.splits["a_train"]
    b = tiny_images.splits["b_train"]
    assert (a.images[..., 0] == a.images[..., 2]).all()                 # source: grey
    assert b.images.std(axis=(1, 2)).mean() > a.images.std(axis=(1, 2)).mean() * 0.3
    assert (b.images[..., 0] != b.images[..., 1]).any()                 # target: colour


def test_photo_lists_must_be_disjoint_and_shipped():
    with pytest.raises(ConfigError, match="disjoint"):
        from_dict(MnistMConfig, {"train_photos": ["astronaut"], "test_photos": ["astronaut"]}, "p: mnist_m")
    with pytest.raises(ConfigError, match="no photo named 'nonesuch'"):
        from_dict(MnistMConfig, {"test_photos": ["nonesuch"]}, "p: mnist_m")


def test_glyph_factors_redraw_every_image(dask):
    cfg = GlyphsConfig(a_train=20, a_test=10, b_train=20, b_test=10)
    data = build_glyphs(cfg, 0, dask)
    for split in ("a_test", "b_test"):
        part = data.splits[split]
        for i in range(len(part)):
            f = {k: int(part.factors[k][i]) for k in FACTORS}
            assert np.array_equal(render_glyph(cfg, split[0], int(part.labels[i]), **f), part.images[i])
    a = data.splits["a_train"].images
    assert set(np.unique(a)) <= set(range(256)) and (a[..., 0] == a[..., 1]).all()  # black on white
    with pytest.raises(ConfigError, match="no font named 'NoFace'"):
        from_dict(GlyphsConfig, {"b_faces": ["NoFace"]}, "p: glyphs")


def test_glyph_held_out_combinations_only_in_test(dask):
    held = [[0, 0], [1, 1], [2, 0]]
    cfg = GlyphsConfig(chars="ABC", a_faces=["DejaVuSans", "cmss10"], b_faces=["DejaVuSerif", "cmr10"],
                       a_train=120, a_test=120, b_train=120, b_test=120, held_out=held)
    data = build_glyphs(cfg, 0, dask)
    for split, part in data.splits.items():
        mask = held_out_mask(cfg, part)
        pairs = set(zip(part.labels.tolist(), part.factors["face"].tolist()))
        if split.endswith("_train"):
            assert not mask.any() and pairs == {(0, 1), (1, 0), (2, 1)}
        else:   # test draws every combination; the mask names exactly the held-out ones
            assert 0 < mask.sum() < len(part) and pairs == {(c, f) for c in range(3) for f in range(2)}
            assert all(([c, f] in held) == m for c, f, m in zip(part.labels, part.factors["face"], mask))
    # with nothing held out the data is what it was before the option existed
    plain = build_glyphs(GlyphsConfig(a_train=20, a_test=10, b_train=20, b_test=10), 0, dask)
    again = build_glyphs(GlyphsConfig(a_train=20, a_test=10, b_train=20, b_test=10, held_out=[]), 0, dask)
    assert all(np.array_equal(plain.splits[s].images, again.splits[s].images) for s in plain.splits)
    for bad, message in (([[3, 0]], "char index < 3"), ([[0, 2]], "face index < 2"), ([[0]], "each must be"),
                         ([[0, 0], [0, 1]], "leaves character 'A' no face")):
        with pytest.raises(ConfigError, match=message):
            from_dict(GlyphsConfig, {"chars": "ABC", "a_faces": ["DejaVuSans", "cmss10"],
                                     "b_faces": ["DejaVuSerif", "cmr10"], "held_out": bad}, "p: glyphs")


def test_image_data_round_trip(tiny_images, tmp_path):
    tiny_images.save(tmp_path / "img")
    back = ImageData.load(tmp_path / "img")
    assert back.class_names == tiny_images.class_names
    for s in tiny_images.splits:
        assert np.array_equal(back.splits[s].images, tiny_images.splits[s].images)
        assert np.array_equal(back.splits[s].factors["digit"], tiny_images.splits[s].factors["digit"])


def _png(size=32, mode="RGB", grey=128):
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, (size, size), grey).save(buf, format="PNG")
    return buf.getvalue()


def test_bad_images_are_named(tmp_path):
    with pytest.raises(ImageError, match="x.png: empty file"):
        decode_image(b"", "x.png", 32)
    with pytest.raises(ImageError, match="y.png: not a readable image"):
        decode_image(b"\x89PNG garbage", "y.png", 32)
    with pytest.raises(ImageError, match="z.png: image is 20x20, expected 32x32"):
        decode_image(_png(20), "z.png", 32, resize=False)
    with pytest.raises(ImageError, match="unsupported image mode CMYK"):
        from PIL import Image
        buf = io.BytesIO()
        Image.new("CMYK", (32, 32)).save(buf, format="JPEG")
        decode_image(buf.getvalue(), "c.jpg", 32)
    assert decode_image(_png(40, "L"), "grey.png", 32).shape == (32, 32, 3)   # resized, grey → RGB
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ImageError, match="empty folder"):
        read_folder(empty, 32)
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "good.png").write_bytes(_png())
    (folder / "broken.png").write_bytes(b"not an image")
    with pytest.raises(ImageError, match="broken.png"):
        read_folder(folder, 32)
    (folder / "broken.png").unlink()
    (folder / "notes.txt").write_text("hello")
    with pytest.raises(ImageError, match="notes.txt: not an image file"):
        read_folder(folder, 32)


def test_two_user_folders_make_an_unlabelled_benchmark(tmp_path):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        for i in range(5):
            (tmp_path / d / f"{i}.png").write_bytes(_png(grey=40 * i))
    data = build_folders(FoldersConfig(a=str(tmp_path / "a"), b=str(tmp_path / "b"), test_fraction=0.2), 0)
    assert len(data.splits["a_train"]) == 3 and len(data.splits["b_val"]) == len(data.splits["b_test"]) == 1
    assert (data.splits["a_train"].labels == -1).all() and not data.labelled
    with pytest.raises(ConfigError, match="both folders are required"):
        build_folders(FoldersConfig(a=str(tmp_path / "a")), 0)
    (tmp_path / "same").mkdir()
    for i in range(3):
        (tmp_path / "same" / f"{i}.png").write_bytes(_png())
    with pytest.raises(ImageError, match="needs at least 3 distinct images \\(train, val, test\\), found 1 \\(in 3 files\\)"):
        build_folders(FoldersConfig(a=str(tmp_path / "same"), b=str(tmp_path / "b")), 0)
    with pytest.raises(ConfigError, match="val_fraction \\+ test_fraction: must leave images to train on"):
        from_dict(FoldersConfig, {"val_fraction": 0.5, "test_fraction": 0.5}, "prepare_images.folders")


def overlap(data) -> dict[str, int]:
    """{domain/split pair: how many images of the later split equal, pixel for pixel, an image of the
    earlier} over the pairs (train, test), (train, val), (val, test) of each domain."""
    def hashes(split):
        return {hash(im.tobytes()) for im in data.splits[split].images}
    return {f"{d}:{x}/{y}": sum(hash(im.tobytes()) in hashes(f"{d}_{x}") for im in data.splits[f"{d}_{y}"].images)
            for d in ("a", "b") for x, y in (("train", "test"), ("train", "val"), ("val", "test"))}


def test_no_held_out_image_equals_a_training_image_for_any_source(tiny_images, dask, tmp_path):
    from PIL import Image

    glyphs = build_glyphs(GlyphsConfig(chars="AB", a_faces=["DejaVuSans"], a_train=60, a_val=30, a_test=30,
                                       b_train=60, b_val=30, b_test=30), 0, dask)
    for d in ("a", "b"):   # a file copied within a folder: both copies stay on one side of the split
        (tmp_path / d).mkdir()
        rng = np.random.default_rng(ord(d))
        for i in range(12):
            image = Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
            for copy in range(1 + (i % 3 == 0)):
                image.save(tmp_path / d / f"{i:02d}_{copy}.png")
    folders = build_folders(FoldersConfig(a=str(tmp_path / "a"), b=str(tmp_path / "b"), test_fraction=0.3), 0)
    for name, data in (("mnist_m", tiny_images), ("glyphs", glyphs), ("folders", folders)):
        assert set(overlap(data).values()) == {0}, name
        assert all(len(data.splits[s]) for s in SPLITS), name
    leaky = ImageData("leaky", glyphs.splits | {"a_test": glyphs.splits["a_train"]}, [])   # the check can fail
    assert overlap(leaky)["a:train/test"] == len(glyphs.splits["a_train"])
    assert sum(overlap(leaky).values()) == len(glyphs.splits["a_train"]) + overlap(leaky)["a:val/test"]


def test_mnist_m_splits_share_no_digit_and_no_photo(tiny_images):
    digits = {s: set(tiny_images.splits[s].factors["digit"].tolist()) for s in SPLITS}
    assert sum(len(v) for v in digits.values()) == len(set().union(*digits.values()))
    photos = [set(tiny_images.meta[f"{r}_photos"]) for r in ("train", "val", "test")]
    assert all(not (p & q) for i, p in enumerate(photos) for q in photos[i + 1:])
    with pytest.raises(ConfigError, match="val_photos: must be disjoint from train_photos \\(shared: china\\)"):
        from_dict(MnistMConfig, {"val_photos": ["china"]}, "prepare_images.mnist_m")
