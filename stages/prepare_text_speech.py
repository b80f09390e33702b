"""Stage prepare_text_speech: CMUdict word splits and espeak-ng clips with log-mel features, on Dask."""
from pipeline.atomic import write_json
from pipeline.cluster import dask_client
from pipeline.config import load_config
from pipeline.progress import Progress, say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from translation.speech.lexicon import LexiconError
from translation.speech.audio import SpeechError
from translation.speech.data import PrepareTextSpeech, build_text_speech
from translation.speech import artifacts


def main():
    cfg = load_config(PrepareTextSpeech, "prepare_text_speech")
    progress = Progress("prepare_text_speech")
    with stage_run("prepare_text_speech", cfg) as run:
        with dask_client() as client:
            data, licence = build_text_speech(cfg, client, lambda m: say("prepare_text_speech", m))
        data.save(artifacts.DATA, licence)
        summary = data.summary()
        run.log_metrics(summary)
        write_json(artifacts.DATA_METRICS, summary)
        progress.done(f"{summary}")


if __name__ == "__main__":
    run_stage("prepare_text_speech", main, (LexiconError, SpeechError, ValueError))
