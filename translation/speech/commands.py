"""Text–speech's `mdr` sub-commands: g2p, p2g, search-speech, search-text."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.cli import ModelCommands
from translation.speech.routes import speech_service


def add_artifact_args(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--speech-data", default="data/text_speech")
    sp.add_argument("--speech-models", default="models/text_speech")
    sp.add_argument("--speech-indexes", default="indexes/text_speech")


def load(args):
    from translation.speech.serve import SpeechText

    return SpeechText.load(args.speech_data, args.speech_models, args.speech_indexes)


def cmd_g2p(args):
    st = load(args)
    for word in args.words:
        print(f"{word}\t{' '.join(st.g2p(word))}")


def cmd_p2g(args):
    print(load(args).p2g(args.phonemes))


def cmd_search_speech(args):
    out = load(args).search_speech(args.word, args.k)
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
    out = load(args).search_text(path.read_bytes(), args.k, str(path))
    if args.json:
        print(json.dumps(out))
        return
    for r in out["results"]:
        print(f"{r['word']}\t{r['score']:.3f}")


def add_commands(sub) -> None:
    g = sub.add_parser("g2p", help="phonemes of spellings")
    add_artifact_args(g)
    g.add_argument("words", nargs="+")
    g.set_defaults(func=cmd_g2p)

    pg = sub.add_parser("p2g", help="the spelling of a phoneme string")
    add_artifact_args(pg)
    pg.add_argument("phonemes", nargs="+", help="ARPAbet phonemes, e.g. HH AH L OW")
    pg.set_defaults(func=cmd_p2g)

    ss = sub.add_parser("search-speech", help="stored clips that say a spelling")
    add_artifact_args(ss)
    ss.add_argument("word")
    ss.add_argument("--k", type=int, default=10)
    ss.add_argument("--json", action="store_true")
    ss.set_defaults(func=cmd_search_speech)

    st = sub.add_parser("search-text", help="spellings of what a wav clip says")
    add_artifact_args(st)
    st.add_argument("wav")
    st.add_argument("--k", type=int, default=10)
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_search_text)


COMMANDS = ModelCommands("text_speech", add_artifact_args,
                         lambda args: (Path(args.speech_models) / "channel.pt").exists(),
                         lambda args: speech_service(lambda: load(args)), add_commands)
