"""Text–speech's `mdr` sub-commands: g2p, p2g, search-speech, search-text."""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.cli import ModelCommands, add_json, add_k, add_options
from translation.speech.hearing import read_word_list
from translation.speech.routes import speech_service
from translation.speech import artifacts


ARTIFACTS = {"--speech-data": str(artifacts.DATA), "--speech-models": str(artifacts.MODELS),
             "--speech-indexes": str(artifacts.INDEX)}


def load(args):
    from translation.speech.serve import SpeechText

    return SpeechText.load(args.speech_data, args.speech_models, args.speech_indexes)


def cmd_g2p(args):
    st = load(args)
    for word in args.words:
        print(f"{word}\t{' '.join(st.g2p(word))}")


def cmd_p2g(args):
    print(load(args).p2g(" ".join(args.phonemes).split()))   # "HH AH L OW" as one argument or four


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
    st = load(args)
    if args.words:
        st.use_spellings(read_word_list(args.words))
    out = st.search_text(path.read_bytes(), args.k, str(path))
    if args.json:
        print(json.dumps(out))
        return
    for r in out["results"]:
        print(f"{r['word']}\t{r['score']:.3f}")


def add_commands(sub) -> None:
    g = sub.add_parser("g2p", help="phonemes of spellings")
    add_options(g, ARTIFACTS)
    g.add_argument("words", nargs="+", help="spellings, letters a-z")
    g.set_defaults(func=cmd_g2p)

    pg = sub.add_parser("p2g", help="the spelling of a phoneme string")
    add_options(pg, ARTIFACTS)
    pg.add_argument("phonemes", nargs="+", help='ARPAbet phonemes, as one argument ("HH AH L OW") or several')
    pg.set_defaults(func=cmd_p2g)

    for name, helptext, query, query_help, func in (
            ("search-speech", "stored clips that say a spelling", "word", "a spelling", cmd_search_speech),
            ("search-text", "spellings of what a wav clip says", "wav", "a wav, FLAC or Ogg file", cmd_search_text)):
        s = sub.add_parser(name, help=helptext)
        add_options(s, ARTIFACTS)
        s.add_argument(query, help=query_help)
        add_k(s, "results")
        add_json(s)
        if name == "search-text":
            s.add_argument("--words", help="search these spellings instead of the index's: a text file, one a line "
                                           "(any word; pronunciations from CMUdict, else G2P)")
        s.set_defaults(func=func)


COMMANDS = ModelCommands("text_speech", ARTIFACTS,
                         lambda args: (Path(args.speech_models) / "channel.pt").exists(),
                         lambda args: speech_service(lambda: load(args)), add_commands)
