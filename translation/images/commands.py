"""Image translation's `mdr` sub-commands: translate, search-images."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.cli import ModelCommands, add_json, add_k, add_options
from translation.images.routes import images_service
from translation.images import artifacts


ARTIFACTS = {"--image-data": str(artifacts.DATA), "--translation-model": str(artifacts.MODEL),
             "--translation-indexes": str(artifacts.INDEX)}


def load(args):
    from translation.images.serve import Translator

    return Translator.load(args.image_data, args.translation_model, args.translation_indexes)


def _read_inputs(path: str, size: int):
    """An image file or a folder of images → (names, uint8 images)."""
    from translation.images.data import image_files, read_images

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such image file or folder")
    files = image_files(p) if p.is_dir() else [p]
    return [f.name for f in files], read_images(files, size)


def cmd_translate(args):
    from translation.images.data import encode_png
    from translation.images.data import tile_grid

    tr = load(args)
    names, images = _read_inputs(args.input, tr.size)
    reference = _read_inputs(args.reference, tr.size)[1][0] if args.reference else None
    if not 1 <= args.n <= 64:
        raise ValueError("--n: must be between 1 and 64")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, image in zip(names, images):
        outputs = tr.translate(image, args.direction, n=args.n, seed=args.seed, reference=reference)
        target = out_dir / f"{Path(name).stem}_{args.direction}.png"
        target.write_bytes(encode_png(tile_grid(np.concatenate([image[None], outputs])[None])))
        print(f"{name} → {target} (input, then {len(outputs)} translation(s))")


def cmd_search_images(args):
    tr = load(args)
    _, images = _read_inputs(args.input, tr.size)
    if not 1 <= args.k <= 1000:
        raise ValueError("--k: must be between 1 and 1000")
    results = tr.search(images[0], args.domain, args.k)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for rank, r in enumerate(results, 1):
        print(f"{rank:3d}. domain {r['domain']} image {r['id']:6d}  score {r['score']:.4f}  label {r['label']}")


def add_commands(sub) -> None:
    t = sub.add_parser("translate", help="translate an image file (or every image in a folder)")
    add_options(t, ARTIFACTS)
    t.add_argument("input", help="an image file or a folder of images")
    t.add_argument("--direction", default="a2b", choices=["a2b", "b2a"], help="from domain A to B, or back")
    t.add_argument("--n", type=int, default=4, help="diverse outputs per input (random attribute codes)")
    t.add_argument("--seed", type=int, default=0, help="seed of the random attribute codes")
    t.add_argument("--reference", help="an image whose attribute (style) to transfer instead")
    t.add_argument("--out", default="translations", help="folder for the output strips")
    t.set_defaults(func=cmd_translate)

    q = sub.add_parser("search-images", help="images of the other domain with the same content")
    add_options(q, ARTIFACTS)
    q.add_argument("input", help="an image file")
    q.add_argument("--domain", default="a", choices=["a", "b"], help="the domain of the query image")
    add_k(q, "images")
    add_json(q)
    q.set_defaults(func=cmd_search_images)


COMMANDS = ModelCommands("translation", ARTIFACTS, lambda args: Path(args.translation_model).exists(),
                         lambda args: images_service(lambda: load(args)), add_commands)
