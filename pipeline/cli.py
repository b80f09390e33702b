"""The `mdr` command: serve, recommend and find similar items from the shell, fetch data."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from pipeline.config import ConfigError, from_dict, read_params


def serve_config(params_path: str = "params.yaml"):
    from pipeline.service import ServeConfig

    return from_dict(ServeConfig, read_params(params_path).get("serve") or {}, f"{params_path}: serve")


def _recommender(args):
    from recsys.serving import Recommender

    return Recommender.load(args.data, args.model, args.indexes)


def _translator(args):
    from translation.serving import Translator

    return Translator.load(args.image_data, args.translation_model, args.translation_indexes)


def _speech_text(args):
    from translation.text_speech_serving import SpeechText

    return SpeechText.load(args.speech_data, args.speech_models, args.speech_indexes)


def cmd_serve(args):
    import uvicorn

    from pipeline.service import create_app

    cfg = serve_config(args.params)
    models = args.models.split(",") if args.models else [
        m for m, path in (("recsys", args.model), ("translation", args.translation_model),
                          ("text_speech", Path(args.speech_models) / "channel.pt")) if Path(path).exists()]
    unknown = set(models) - {"recsys", "translation", "text_speech"}
    if unknown or not models:
        raise ValueError(f"--models: choose from recsys,translation,text_speech (got {args.models!r}; "
                         "with no --models, the ones whose model files exist are served)")
    app = create_app((lambda: _recommender(args)) if "recsys" in models else None, cfg,
                     (lambda: _translator(args)) if "translation" in models else None,
                     (lambda: _speech_text(args)) if "text_speech" in models else None)
    uvicorn.run(app, host=args.host or cfg.host, port=args.port or cfg.port, log_level="warning")


def _read_inputs(path: str, size: int):
    """An image file or a folder of images → (names, uint8 images)."""
    from translation.images import image_files, read_images

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such image file or folder")
    files = image_files(p) if p.is_dir() else [p]
    return [f.name for f in files], read_images(files, size)


def cmd_translate(args):
    from translation.images import encode_png
    from translation.plots import tile_grid

    tr = _translator(args)
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
    tr = _translator(args)
    _, images = _read_inputs(args.input, tr.size)
    if not 1 <= args.k <= 1000:
        raise ValueError("--k: must be between 1 and 1000")
    results = tr.search(images[0], args.domain, args.k)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for rank, r in enumerate(results, 1):
        print(f"{rank:3d}. domain {r['domain']} image {r['id']:6d}  score {r['score']:.4f}  label {r['label']}")


def _print(rec, cols, scores, as_json: bool):
    rows = rec.describe(cols, scores)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    for rank, r in enumerate(rows, 1):
        print(f"{rank:3d}. {r['item']:>12}  score {r['score']:9.4f}  concept {r['concept']}  {r['category'] or ''}")


def cmd_recommend(args):
    rec = _recommender(args)
    if (args.user is None) == (args.history is None):
        raise ValueError("give exactly one of --user or --history")
    history = rec.user_history(args.user) if args.user else rec.columns(
        [h for h in args.history.split(",") if h.strip()])
    if not history:
        raise ValueError("--history: no item ids")
    weights = None
    if args.weights:
        try:
            weights = [float(w) for w in args.weights.split(",")]
        except ValueError:
            raise ValueError(f"--weights: not a comma-separated list of numbers: {args.weights!r}") from None
        rec.check_weights(weights)
    if not 1 <= args.k <= 10_000:
        raise ValueError("--k: must be between 1 and 10000")
    cols, scores = rec.recommend(history, args.k, weights)
    _print(rec, cols, scores, args.json)


def cmd_similar(args):
    rec = _recommender(args)
    (col,) = rec.columns([args.item])
    cols, scores = rec.similar_items(col, args.k)
    _print(rec, cols, scores, args.json)


def cmd_g2p(args):
    st = _speech_text(args)
    for word in args.words:
        print(f"{word}\t{' '.join(st.g2p(word))}")


def cmd_p2g(args):
    print(_speech_text(args).p2g(args.phonemes))


def cmd_search_speech(args):
    out = _speech_text(args).search_speech(args.word, args.k)
    if args.json:
        print(json.dumps(out))
        return
    print(f"{out['word']} → {' '.join(out['phonemes'])}")
    for r in out["results"]:
        print(f"clip {r['clip']}\t{r['score']:.3f}\t{r['word']}\t{r['voice']}")


def cmd_search_text(args):
    path = Path(args.wav)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such wav file")
    out = _speech_text(args).search_text(path.read_bytes(), args.k, str(path))
    if args.json:
        print(json.dumps(out))
        return
    for r in out["results"]:
        print(f"{r['word']}\t{r['score']:.3f}")


def cmd_fetch(args):
    from recsys.fetch import LICENCE, fetch_ml100k

    if args.dataset != "ml-100k":
        raise ValueError(f"unknown dataset {args.dataset!r}; known: ml-100k")
    dest = fetch_ml100k(args.dest)
    print(LICENCE)
    print(f"\nml-100k is in {dest} (git-ignored). Use it with:\n"
          f"  dvc exp run -S prepare_interactions.source=recbole -S prepare_interactions.path={dest}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mdr", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def artifacts(sp):
        sp.add_argument("--data", default="data/recsys")
        sp.add_argument("--model", default="models/recsys/macridvae.pt")
        sp.add_argument("--indexes", default="indexes/recsys")

    def image_artifacts(sp):
        sp.add_argument("--image-data", default="data/images")
        sp.add_argument("--translation-model", default="models/translation/drit.pt")
        sp.add_argument("--translation-indexes", default="indexes/translation")

    def speech_artifacts(sp):
        sp.add_argument("--speech-data", default="data/text_speech")
        sp.add_argument("--speech-models", default="models/text_speech")
        sp.add_argument("--speech-indexes", default="indexes/text_speech")

    s = sub.add_parser("serve", help="serve the HTTP API (OpenAPI page at /docs)")
    artifacts(s)
    image_artifacts(s)
    speech_artifacts(s)
    s.add_argument("--models", help="comma-separated: recsys,translation,text_speech (default: those trained)")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--params", default="params.yaml")
    s.set_defaults(func=cmd_serve)

    r = sub.add_parser("recommend", help="top-k items for a known user or a history")
    artifacts(r)
    r.add_argument("--user")
    r.add_argument("--history", help="comma-separated item ids")
    r.add_argument("--k", type=int, default=10)
    r.add_argument("--weights", help="comma-separated concept weights (steering), one per concept")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_recommend)

    m = sub.add_parser("similar", help="items nearest to an item")
    artifacts(m)
    m.add_argument("item")
    m.add_argument("--k", type=int, default=10)
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_similar)

    t = sub.add_parser("translate", help="translate an image file (or every image in a folder)")
    image_artifacts(t)
    t.add_argument("input", help="an image file or a folder of images")
    t.add_argument("--direction", default="a2b", choices=["a2b", "b2a"])
    t.add_argument("--n", type=int, default=4, help="diverse outputs per input (random attribute codes)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--reference", help="an image whose attribute (style) to transfer instead")
    t.add_argument("--out", default="translations", help="folder for the output strips")
    t.set_defaults(func=cmd_translate)

    q = sub.add_parser("search-images", help="images of the other domain with the same content")
    image_artifacts(q)
    q.add_argument("input", help="an image file")
    q.add_argument("--domain", default="a", choices=["a", "b"], help="the domain of the query image")
    q.add_argument("--k", type=int, default=10)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_search_images)

    g = sub.add_parser("g2p", help="phonemes of spellings")
    speech_artifacts(g)
    g.add_argument("words", nargs="+")
    g.set_defaults(func=cmd_g2p)

    pg = sub.add_parser("p2g", help="the spelling of a phoneme string")
    speech_artifacts(pg)
    pg.add_argument("phonemes", nargs="+", help="ARPAbet phonemes, e.g. HH AH L OW")
    pg.set_defaults(func=cmd_p2g)

    ss = sub.add_parser("search-speech", help="stored clips that say a spelling")
    speech_artifacts(ss)
    ss.add_argument("word")
    ss.add_argument("--k", type=int, default=10)
    ss.add_argument("--json", action="store_true")
    ss.set_defaults(func=cmd_search_speech)

    st = sub.add_parser("search-text", help="spellings of what a wav clip says")
    speech_artifacts(st)
    st.add_argument("wav")
    st.add_argument("--k", type=int, default=10)
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_search_text)

    d = sub.add_parser("data", help="data helpers")
    dsub = d.add_subparsers(dest="data_command", required=True)
    f = dsub.add_parser("fetch", help="extract a public dataset into a git-ignored folder")
    f.add_argument("dataset", choices=["ml-100k"])
    f.add_argument("--dest", default="external/ml-100k")
    f.set_defaults(func=cmd_fetch)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ConfigError, ValueError, KeyError, FileNotFoundError, RuntimeError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"mdr: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
