"""Stage train_text_speech: the noisy channel (semi-supervised) and its supervised-only baseline at each
prepared paired size, then the acoustic encoder. Histories go to plots/ and MLflow.

Files: models/text_speech/channel_{semi,supervised}_{n}.pt per paired size n; the served model is
channel.pt (semi-supervised at `paired_size`) beside acoustic.pt.
"""
from pathlib import Path

from pipeline.atomic import write_bytes, write_json
from pipeline.compute import seed_everything, torch_device
from pipeline.config import ConfigError, load_config
from pipeline.progress import Progress, say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from translation.acoustic import AcousticEncoder
from translation.noisy_channel import NoisyChannel
from translation.text_speech_config import TrainTextSpeech
from translation.text_speech_data import ClipSet, TextSpeechData
from translation.text_speech_models import save_acoustic, save_channel
from translation.text_speech_train import fit_acoustic, fit_channel

DIR = "models/text_speech"


def channel_path(kind: str, size: int) -> str:
    return f"{DIR}/channel_{kind}_{size}.pt"


def main():
    cfg = load_config(TrainTextSpeech, "train_text_speech")
    data = TextSpeechData.load("data/text_speech")
    if cfg.paired_size not in data.paired_sizes:
        raise ConfigError(f"params.yaml: train_text_speech.paired_size: {cfg.paired_size} is not a prepared "
                          f"size {data.paired_sizes}")
    device = torch_device()
    sizes = data.paired_sizes if cfg.curve else [cfg.paired_size]
    dev = (data.splits["dev"], data.phonemes(data.splits["dev"]))
    unpaired = ([list(w) for w in data.splits["unpaired_text"]], data.phonemes(data.splits["unpaired_phonemes"]))
    histories = {}
    with stage_run("train_text_speech", cfg) as run:
        for size in sizes:
            words = data.paired(size)
            paired = ([list(w) for w in words], data.phonemes(words))
            for kind in ("supervised", "semi"):
                seed_everything(cfg.seed, cfg.threads)
                progress = Progress(f"train_text_speech {kind} {size}", cfg.channel.steps)
                model = NoisyChannel(cfg.model).to(device)

                def on_log(row, kind=kind, size=size, progress=progress):
                    progress.step(row["step"], f"loss {row['loss']:.2f} dev PER {row['dev_g2p_per']:.3f} "
                                               f"LER {row['dev_p2g_ler']:.3f}")
                    run.log_metrics({f"{kind}_{size}.{k}": v for k, v in row.items() if k != "step"}, row["step"])

                history = fit_channel(model, paired, unpaired if kind == "semi" else None, dev, cfg.channel,
                                      cfg.seed, device, on_log)
                histories[f"{kind}_{size}"] = history
                save_channel(channel_path(kind, size), model, {"paired_size": size, "training": kind})
        # the served model, replaced atomically like every other output
        write_bytes(f"{DIR}/channel.pt", Path(channel_path("semi", cfg.paired_size)).read_bytes())

        seed_everything(cfg.seed, cfg.threads)
        both = ClipSet.concat([data.clips["paired"], data.clips["unpaired"]])
        acoustic = AcousticEncoder(cfg.acoustic).to(device)
        progress = Progress("train_text_speech acoustic", cfg.acoustic_train.steps)

        def on_log_acoustic(row):
            progress.step(row["step"], " ".join(f"{k} {v:.3f}" for k, v in row.items() if k != "step"))
            run.log_metrics({f"acoustic.{k}": v for k, v in row.items() if k != "step"}, row["step"])

        histories["acoustic"] = fit_acoustic(acoustic, both, data.phonemes(both.words),
                                             cfg.acoustic_train, cfg.seed, device, on_log_acoustic)
        save_acoustic(f"{DIR}/acoustic.pt", acoustic, {"voices": data.voices["train"]})
        write_json("plots/text_speech_train.json", histories)
        run.log_artifact(DIR, "models")
        say("train_text_speech", "done")


if __name__ == "__main__":
    run_stage("train_text_speech", main, (ValueError,))
