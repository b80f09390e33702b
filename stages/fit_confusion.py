"""Stage fit_confusion: the acoustic confusion channel p(heard | phonemes) of PocketSphinx's phone-loop
recognizer, estimated on the training voices' clips against their CMUdict phonemes
(translation.speech.confusion) → models/text_speech_hearing/confusion.npz and its summary in
metrics/text_speech_confusion.json. The speech → spelling search scores spellings through it. The
clips are heard in chunks on a Dask LocalCluster (or DASK_SCHEDULER_ADDRESS's cluster)."""
import time

from pipeline.atomic import write_bytes, write_json
from pipeline.cluster import dask_client
from pipeline.config import load_config
from pipeline.progress import Progress
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from translation.speech import artifacts
from translation.speech.config import FitConfusion
from translation.speech.confusion import ConfusionChannel
from translation.speech.data import ClipSet, TextSpeechData
from translation.speech.recognizer import hear_clips


def main():
    cfg = load_config(FitConfusion, "fit_confusion")
    data = TextSpeechData.load(artifacts.DATA)
    clips = ClipSet.concat([data.clips[s] for s in ("paired", "unpaired") if s in data.clips])
    with stage_run("fit_confusion", cfg) as run:
        total = len(clips) * (1 if cfg.in_turn else len(cfg.conditions))
        progress, start = Progress("fit_confusion", total), time.perf_counter()
        with dask_client() as client:   # PocketSphinx decodes on one core: the workers share the clips
            heard = hear_clips(clips, cfg.conditions, cfg.in_turn, client=client,
                               progress=lambda i: progress.step(i, "training clips heard"))
        said = data.phonemes(clips.words)
        channel = ConfusionChannel.fit([(said[i], h) for i, h in heard], cfg.rounds, cfg.smoothing)
        artifacts.HEARING.mkdir(parents=True, exist_ok=True)
        write_bytes(artifacts.CONFUSION, channel.to_bytes())
        report = channel.summary() | {"clips": len(clips), "conditions": cfg.conditions, "in_turn": cfg.in_turn, "voices": sorted(set(clips.voices)),
                                      "seconds": round(time.perf_counter() - start, 1)}
        run.log_metrics({k: v for k, v in report.items() if isinstance(v, (int, float))})
        write_json(artifacts.CONFUSION_METRICS, report)
        progress.done(f"heard right {report['heard_right']:.3f}, deleted {report['deleted']:.3f}, "
                      f"insertions {report['insertion_rate']:.3f}")


if __name__ == "__main__":
    run_stage("fit_confusion", main, (ValueError,))
