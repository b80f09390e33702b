"""Stage train_translation: DRIT on data/images; checkpoint with step and optimizers, history for plots.

A run checkpoints to models/translation/drit.partial.pt as it goes; a killed run resumes from there
(same model config, training config and data) and takes exactly the steps it would have taken.
The finished model replaces models/translation/drit.pt only at the end.
"""
import csv
import hashlib
import io
from dataclasses import asdict
from pathlib import Path

from pipeline.atomic import write_text
from pipeline.compute import seed_everything, torch_device
from pipeline.config import load_config
from pipeline.progress import say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from translation.images.config import TrainTranslation
from translation.images.model import DRIT
from translation.images.data import ImageData
from translation.images.train import fit, load_checkpoint, make_optimizers, save_checkpoint

MODEL = "models/translation/drit.pt"
PARTIAL = "models/translation/drit.partial.pt"


def fingerprint(cfg: TrainTranslation, data: ImageData) -> str:
    """What a partial run must share with this one to be resumed: everything but the logging and
    checkpoint intervals (the iteration count too, since the learning-rate decay depends on it)."""
    schedule_free = {k: v for k, v in asdict(cfg.train).items() if k not in ("log_every", "checkpoint_every")}
    h = hashlib.sha256(repr((cfg.seed, asdict(cfg.model), schedule_free)).encode())
    for s in ("a_train", "b_train"):
        h.update(data.splits[s].images.tobytes())
    return h.hexdigest()


def main():
    data = ImageData.load("data/images")
    cfg = load_config(TrainTranslation, "train_translation").for_source(data.name)
    seed_everything(cfg.seed, cfg.threads)
    device = torch_device()
    key = fingerprint(cfg, data)
    model, opts, start, history = DRIT(cfg.model).to(device), None, 0, []
    if cfg.resume and Path(PARTIAL).exists():
        try:
            m, o, step, state = load_checkpoint(PARTIAL, device, cfg.train)
        except ValueError as e:   # another model version or a damaged file: start afresh
            say("train_translation", f"not resuming: {e}")
            step, state = None, {}
        if state.get("fingerprint") == key and step < cfg.train.iterations:
            model, opts, start, history = m, o, step, state.get("history", [])
            say("train_translation", f"resuming from step {start} ({PARTIAL})")
    with stage_run("train_translation", cfg) as run:
        def on_log(step, row):
            history.append(row)
            run.log_metrics({k: v for k, v in row.items() if k != "step"}, step)

        def checkpoint(step, o):
            save_checkpoint(PARTIAL, model, o, step, {"fingerprint": key, "history": history})

        opts = opts or make_optimizers(model, cfg.train)
        fit(model, data, cfg.train, cfg.seed, device, "train_translation", opts, start, on_log, checkpoint)
        save_checkpoint(MODEL, model, opts, cfg.train.iterations,
                        {"class_names": data.class_names, "data": data.name, "history": history})
        Path(PARTIAL).unlink()
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
        write_text("plots/translation_train.csv", buf.getvalue())
        run.log_artifact(MODEL, "model")


if __name__ == "__main__":
    run_stage("train_translation", main, (ValueError,))
