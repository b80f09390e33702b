"""Stage index_text_speech: FAISS indexes of speech and spelling content codes; retrieval check."""
from pipeline.atomic import write_json
from pipeline.devices import torch_device
from pipeline.config import load_config
from pipeline.progress import say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from translation.speech.config import IndexTextSpeech
from translation.speech.data import TextSpeechData
from translation.speech.checkpoints import load_acoustic, load_channel
from translation.speech.serve import build_indexes, catalogue, save_indexes
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
        save_indexes(artifacts.INDEX, speech, text, words)
        # spelling → clips over the whole catalogue: is a clip of the word among the top k?
        _, hits = speech.search(text_codes, cfg.k)
        found = [any(clips.words[c] == w for c in row if c >= 0) for w, row in zip(words, hits)]
        report = {"factory": cfg.factory, "clips": len(speech), "words": len(text),
                  f"catalogue_text2speech_hit@{cfg.k}": sum(found) / max(len(found), 1)}
        run.log_metrics({k: v for k, v in report.items() if isinstance(v, (int, float))})
        write_json(artifacts.INDEX_METRICS, report)
        say("index_text_speech", f"{report}")


if __name__ == "__main__":
    run_stage("index_text_speech", main, (ValueError,))
