"""Stage train_recsys: MacridVAE with early stopping on validation NDCG@100; checkpoint + history.
A killed run resumes from models/recsys/macridvae.partial.pt (written at every epoch's end).
With distributed.nproc_per_node > 1 the stage relaunches itself data-parallel (pipeline.distributed)."""
import csv
import io

from pipeline import distributed
from pipeline.atomic import write_text
from pipeline.devices import seed_everything, torch_device
from pipeline.config import load_config
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from recsys.config import TrainRecsys
from recsys.dataset import InteractionData
from recsys.macridvae import MacridVAE
from recsys.checkpoints import save_model
from recsys.train import fit
from recsys import artifacts


def main():
    cfg = load_config(TrainRecsys, "train_recsys")
    if not distributed.start("train_recsys", "stages.train_recsys", cfg.distributed):
        return
    seed_everything(cfg.seed, distributed.threads_per_process(cfg.threads))
    data = InteractionData.load(artifacts.DATA)
    with stage_run("train_recsys", cfg) as run:
        model = MacridVAE(data.n_items, cfg.model)
        result = fit(model, data, cfg.train, cfg.seed, torch_device(), "train_recsys",
                     on_epoch=lambda r: run.log_metrics({k: v for k, v in r.items() if k != "epoch"}, r["epoch"]),
                     resume=artifacts.PARTIAL)
        if not distributed.is_main():
            return
        save_model(artifacts.MODEL, model, result, {"item_ids": data.item_ids})
        artifacts.PARTIAL.unlink(missing_ok=True)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(result.history[0]))
        writer.writeheader()
        writer.writerows(result.history)
        write_text(artifacts.TRAIN_HISTORY, buf.getvalue())
        run.log_metrics({"best_val_ndcg@100": result.best_ndcg, "best_epoch": result.best_epoch})
        run.log_artifact(artifacts.MODEL, "model")


if __name__ == "__main__":
    run_stage("train_recsys", main)
