"""The trainings of the text–speech model as independent jobs that Dask workers run side by side.

The semi-supervised and supervised-only channels at each paired size and the acoustic encoder share
no weights, so each is a job: a function of plain data that builds, trains and returns one model in
a worker process with `threads` torch threads. Side by side on 2 cores each job runs at about 1/1.6
of its two-thread speed, so the served pair (semi channel, acoustic encoder) takes about as long as
one after the other (`git show 330d71a:docs/benchmarks.md`); the learning-curve jobs fill the workers as they free up.
"""
from __future__ import annotations

import time

from pipeline.devices import seed_everything, torch_device
from translation.speech import artifacts
from translation.speech.acoustic import AcousticEncoder
from translation.speech.config import AcousticConfig, DecodeConfig, Seq2SeqConfig, TrainTextSpeech, AcousticTrainConfig, ChannelTrainConfig
from translation.speech.channel import NoisyChannel
from translation.speech.data import ClipSet, TextSpeechData
from translation.speech.train import fit_acoustic, fit_channel


def channel_job(label: str, model_cfg: Seq2SeqConfig, decode: DecodeConfig, cfg: ChannelTrainConfig, paired,
                unpaired, dev, seed: int, threads: int, resume: str | None = None) -> dict:
    """One channel (semi-supervised when `unpaired` is given, else decoding by beam search alone):
    the trained model, its history and seconds."""
    decode = decode if unpaired is not None else decode.beam_only()
    return _train(lambda: NoisyChannel(model_cfg, decode), seed, threads,
                  lambda model, device: fit_channel(model, paired, unpaired, dev, cfg, seed, device,
                                                    resume=resume, name=label))


def acoustic_job(label: str, model_cfg: AcousticConfig, cfg: AcousticTrainConfig, clips: ClipSet, phonemes,
                 seed: int, threads: int, resume: str | None = None) -> dict:
    """The acoustic encoder: the trained model, its history and seconds."""
    return _train(lambda: AcousticEncoder(model_cfg), seed, threads,
                  lambda model, device: fit_acoustic(model, clips, phonemes, cfg, seed, device, resume=resume, name=label))


def _train(build, seed: int, threads: int, fit) -> dict:
    """Seed, build (after seeding, so initial weights follow the seed), fit."""
    seed_everything(seed, threads)
    device = torch_device()
    model = build().to(device)
    start = time.perf_counter()
    history = fit(model, device)
    return trained(model, history, start)


def trained(model, history: list[dict], start: float) -> dict:
    """A job's result: what rebuilds the model in another process (modules themselves do not pickle),
    its history and the seconds since `start`."""
    return {"class": type(model), "config": model.cfg, "decode": getattr(model, "decode", None),
            "state": model.cpu().state_dict(), "history": history, "seconds": time.perf_counter() - start}


def model_of(result: dict):
    """The trained model of a job's result, in eval mode on the CPU."""
    settings = [result["decode"]] if result.get("decode") is not None else []
    model = result["class"](result["config"], *settings)
    model.load_state_dict(result["state"])
    return model.eval()


def training_jobs(cfg: TrainTextSpeech, data: TextSpeechData, sizes: list[int], label: str,
                  resume: bool = False, only: str | None = None) -> dict[str, tuple]:
    """Jobs by name ("semi_400", "supervised_400", ..., "acoustic") for pipeline.cluster.run_jobs.
    The served pair (semi-supervised at cfg.paired_size, acoustic) comes first: Dask starts it first.
    With `resume` each job checkpoints to its artifacts.partial_file and resumes from there; `only`:
    that one job, not the dict."""
    def partial(name: str) -> str | None:
        return str(artifacts.partial_file(name).resolve()) if resume else None   # workers may run elsewhere

    unpaired = ([list(w) for w in data.splits["unpaired_text"]], data.phonemes(data.splits["unpaired_phonemes"]))
    dev = (data.splits["dev"], data.phonemes(data.splits["dev"]))
    clips = ClipSet.concat([data.clips["paired"], data.clips["unpaired"]])

    def channel(kind: str, size: int) -> tuple:
        words = data.paired(size)
        return (channel_job, f"{label} {kind} {size}", cfg.model, cfg.decode, cfg.channel,
                ([list(w) for w in words], data.phonemes(words)), unpaired if kind == "semi" else None, dev,
                cfg.seed, cfg.threads, partial(f"{kind}_{size}"))

    jobs = {f"semi_{cfg.paired_size}": channel("semi", cfg.paired_size),
            "acoustic": (acoustic_job, f"{label} acoustic", cfg.acoustic, cfg.acoustic_train, clips,
                         data.phonemes(clips.words), cfg.seed, cfg.threads, partial("acoustic"))}
    for size in sizes:
        for kind in ("supervised", "semi"):
            jobs.setdefault(f"{kind}_{size}", channel(kind, size))
    return jobs[only] if only else jobs
