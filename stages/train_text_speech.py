"""Stage train_text_speech: the noisy channel (semi-supervised) and its supervised-only baseline at each
prepared paired size, and the acoustic encoder, as jobs that Dask workers run side by side
(translation.speech.jobs). Histories go to plots/ and MLflow.

Files: models/text_speech/channel_{semi,supervised}_{n}.pt per paired size n; the served model is
channel.pt (semi-supervised at `paired_size`) beside acoustic.pt. Each job checkpoints to
models/text_speech/NAME.partial.pt as it goes, and a killed run's jobs resume from there (pipeline.trainer).
"""
from pipeline.atomic import write_bytes, write_json
from pipeline.cluster import dask_client, run_jobs
from pipeline.config import ConfigError, load_config
from pipeline.progress import say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from translation.speech.config import TrainTextSpeech
from translation.speech.data import TextSpeechData
from translation.speech.jobs import model_of, training_jobs
from translation.speech import artifacts
from translation.speech.checkpoints import save_acoustic, save_channel


def main():
    cfg = load_config(TrainTextSpeech, "train_text_speech")
    data = TextSpeechData.load(artifacts.DATA)
    if cfg.paired_size not in data.paired_sizes:
        raise ConfigError(f"params.yaml: train_text_speech.paired_size: {cfg.paired_size} is not a prepared "
                          f"size {data.paired_sizes}")
    prepared_mels = data.clips["paired"].mel.shape[1]
    if cfg.acoustic.n_mels != prepared_mels:
        raise ConfigError(f"params.yaml: train_text_speech.acoustic.n_mels: {cfg.acoustic.n_mels} != the "
                          f"{prepared_mels} mel bands of data/text_speech (prepare_text_speech.n_mels)")
    sizes = data.paired_sizes if cfg.curve else [cfg.paired_size]
    with stage_run("train_text_speech", cfg) as run, dask_client() as client:
        results = run_jobs(client, training_jobs(cfg, data, sizes, "train_text_speech", resume=True))
        for name, result in results.items():
            say("train_text_speech", f"{name} trained in {result['seconds']:.0f}s")
            for row in result["history"]:
                run.log_metrics({f"{name}.{k}": v for k, v in row.items() if k != "step"}, row["step"])
            if name != "acoustic":
                kind, size = name.split("_")
                save_channel(artifacts.channel_file(kind, int(size)), model_of(result), {"paired_size": int(size), "training": kind})
        # the served model, replaced atomically like every other output
        write_bytes(artifacts.CHANNEL, artifacts.channel_file("semi", cfg.paired_size).read_bytes())
        save_acoustic(artifacts.ACOUSTIC, model_of(results["acoustic"]), {"voices": data.voices["train"]})
        write_json(artifacts.TRAIN_HISTORY, {name: r["history"] for name, r in results.items()})
        for name in results:
            artifacts.partial_file(name).unlink(missing_ok=True)
        run.log_artifact(artifacts.MODELS, "models")
        say("train_text_speech", "done")


if __name__ == "__main__":
    run_stage("train_text_speech", main, (ValueError,))
