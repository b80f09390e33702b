"""Stage index_recsys: a FAISS index of MacridVAE's unit item embeddings, searched per concept."""
from pipeline.atomic import write_json
from pipeline.config import load_config
from pipeline.progress import say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from recsys.config import IndexRecsys
from recsys.checkpoints import load_model
from recsys.serve import build_item_index, save_index
from recsys import artifacts


def main():
    cfg = load_config(IndexRecsys, "index_recsys")
    model, _ = load_model(artifacts.MODEL)
    with stage_run("index_recsys", cfg) as run:
        try:
            index = build_item_index(model, cfg.factory, cfg.nprobe)
        except ValueError as e:
            raise ValueError(f"params.yaml: index_recsys.factory: {e}") from None
        save_index(artifacts.INDEX, index, model, cfg.oversample)
        say("index_recsys", f"{len(index)} items, {cfg.factory}, searched with {model.cfg.concepts} concept codes")
        run.log_metrics({"items": len(index)})
        write_json(artifacts.INDEX_METRICS, {"factory": cfg.factory, "items": len(index),
                                                 "concepts": model.cfg.concepts})


if __name__ == "__main__":
    run_stage("index_recsys", main, (ValueError,))
