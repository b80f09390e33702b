"""Stage index_recsys: one FAISS index per MacridVAE concept over the item embeddings."""
from pipeline.atomic import write_json
from pipeline.config import load_config
from pipeline.progress import say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from recsys.config import IndexRecsys
from recsys.serving import build_concept_indexes, load_model, save_indexes

OUT = "indexes/recsys"


def main():
    cfg = load_config(IndexRecsys, "index_recsys")
    model, _ = load_model("models/recsys/macridvae.pt")
    with stage_run("index_recsys", cfg) as run:
        try:
            indexes = build_concept_indexes(model, cfg.factory, cfg.nprobe)
        except ValueError as e:
            raise ValueError(f"params.yaml: index_recsys.factory: {e}") from None
        save_indexes(OUT, indexes, model)
        sizes = [len(i) for i in indexes]
        say("index_recsys", f"{len(indexes)} concept indexes ({cfg.factory}), sizes {sizes}")
        run.log_metrics({f"concept_{k}_size": n for k, n in enumerate(sizes)})
        write_json("metrics/recsys_index.json", {"factory": cfg.factory, "concept_sizes": sizes})


if __name__ == "__main__":
    run_stage("index_recsys", main, (ValueError,))
