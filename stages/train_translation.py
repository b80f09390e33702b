"""Stage train_translation: DRIT on data/images; checkpoint and history for plots.

A run checkpoints to models/translation/drit.partial.pt as it goes; a killed run resumes from there
(same model config, training config and data) and takes exactly the steps it would have taken
(pipeline.trainer). The finished model replaces models/translation/drit.pt only at the end.
With distributed.nproc_per_node > 1 the stage relaunches itself data-parallel (pipeline.distributed).
"""
import csv
import io

from pipeline import distributed
from pipeline.atomic import write_text
from pipeline.devices import seed_everything, torch_device
from pipeline.config import load_config
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from translation.images.config import TrainTranslation
from translation.images.model import DRIT
from translation.images.data import ImageData
from translation.images.checkpoints import save_model
from translation.images.train import fit
from translation.images import artifacts


def main():
    data = ImageData.load(artifacts.DATA)
    cfg = load_config(TrainTranslation, "train_translation").for_source(data.name)
    if not distributed.start("train_translation", "stages.train_translation", cfg.distributed):
        return
    seed_everything(cfg.seed, distributed.threads_per_process(cfg.threads))
    if not cfg.resume and distributed.is_main():
        artifacts.PARTIAL.unlink(missing_ok=True)
    model = DRIT(cfg.model).to(torch_device())
    with stage_run("train_translation", cfg) as run:
        history = fit(model, data, cfg.train, cfg.seed, torch_device(), "train_translation",
                      on_log=lambda row: run.log_metrics({k: v for k, v in row.items() if k != "step"}, row["step"]),
                      resume=artifacts.PARTIAL)
        if not distributed.is_main():
            return
        save_model(artifacts.MODEL, model, cfg.train.iterations, class_names=data.class_names, data=data.name, history=history)
        artifacts.PARTIAL.unlink(missing_ok=True)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
        write_text(artifacts.TRAIN_HISTORY, buf.getvalue())
        run.log_artifact(artifacts.MODEL, "model")


if __name__ == "__main__":
    run_stage("train_translation", main, (ValueError,))
