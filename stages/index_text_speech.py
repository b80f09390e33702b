"""Stage index_text_speech: FAISS indexes of speech and spelling content codes; retrieval check; the
speech → spelling search's spellings (the catalogue's words, or `words`: any word list) with their
pronunciations, the front-end's weights and a copy of the confusion channel (translation.speech.serve)."""
from pipeline.atomic import write_bytes, write_json
from pipeline.devices import torch_device
from pipeline.config import load_config
from pipeline.progress import say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from translation.speech.config import IndexTextSpeech
from translation.speech.data import TextSpeechData
from translation.speech.checkpoints import load_acoustic, load_channel
from translation.speech.hearing import read_word_list
from translation.speech.lexicon import LexiconError
from translation.speech.serve import build_indexes, build_spellings, catalogue, save_indexes
from translation.speech import artifacts


def main():
    cfg = load_config(IndexTextSpeech, "index_text_speech")
    device = torch_device()
    data = TextSpeechData.load(artifacts.DATA)
    channel, _ = load_channel(artifacts.CHANNEL, device)
    acoustic, _ = load_acoustic(artifacts.ACOUSTIC, device)
    with stage_run("index_text_speech", cfg) as run:
        clips = catalogue(data)
        try:
            speech, text, words, text_codes = build_indexes(channel, acoustic, clips, cfg.factory, device)
        except ValueError as e:
            raise ValueError(f"params.yaml: index_text_speech.factory: {e}") from None
        try:
            spelled = read_word_list(cfg.words) if cfg.words else words
        except (FileNotFoundError, LexiconError) as e:
            raise ValueError(f"params.yaml: index_text_speech.words: {e}") from None
        spellings = build_spellings(channel, acoustic, spelled, cfg.front_end, device, data.lexicon)
        save_indexes(artifacts.INDEX, speech, text, words)
        spellings.save(artifacts.INDEX, cfg.front_end)
        write_bytes(artifacts.INDEX / "confusion.npz", artifacts.CONFUSION.read_bytes())
        # spelling → clips over the whole catalogue: is a clip of the word among the top k?
        _, hits = speech.search(text_codes, cfg.k)
        found = [any(clips.words[c] == w for c in row if c >= 0) for w, row in zip(words, hits)]
        report = {"factory": cfg.factory, "clips": len(speech), "words": len(text),
                  f"catalogue_text2speech_hit@{cfg.k}": sum(found) / max(len(found), 1),
                  "spellings": len(spellings.words), "spellings_from_g2p": spellings.sources.count("g2p")}
        run.log_metrics({k: v for k, v in report.items() if isinstance(v, (int, float))})
        write_json(artifacts.INDEX_METRICS, report)
        say("index_text_speech", f"{report}")


if __name__ == "__main__":
    run_stage("index_text_speech", main, (ValueError,))
