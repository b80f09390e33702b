"""Stage index_translation: FAISS indexes of content codes per domain; cross-domain precision@k by class
and a picture of what search finds (plots/translation_search.png: queries and their top-8 hits,
framed by whether they show the query's class when the images have labels)."""
from pipeline.atomic import write_bytes, write_json
from pipeline.config import load_config
from pipeline.progress import say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from translation.images.config import IndexTranslation
from translation.images.data import ImageData, encode_png
from translation.images.plots import search_grid
from translation.images.serve import ContentIndexes, precision_at_k, search_examples
from translation.images.checkpoints import load_model
from translation.images import artifacts


def main():
    cfg = load_config(IndexTranslation, "index_translation")
    data = ImageData.load(artifacts.DATA)
    model, _ = load_model(artifacts.MODEL)
    with stage_run("index_translation", cfg) as run:
        try:
            content = ContentIndexes.build(model, data, cfg.content_pool, cfg.factory, cfg.nprobe)
        except ValueError as e:
            raise ValueError(f"params.yaml: index_translation.factory: {e}") from None
        content.save(artifacts.INDEX)
        report = {"factory": cfg.factory, "dim": content.indexes["a"].dim,
                  "images": {d: len(i) for d, i in content.indexes.items()}}
        if data.labelled:
            report |= precision_at_k(model, data, content, cfg.k)
            run.log_metrics({k: v for k, v in report.items() if k.startswith("precision")})
        write_bytes(artifacts.SEARCH_PLOT, encode_png(search_grid(*search_examples(model, data, content))))
        run.log_artifact(artifacts.SEARCH_PLOT, "plots")
        write_json(artifacts.INDEX_METRICS, report)
        say("translation_index", f"{report}")


if __name__ == "__main__":
    run_stage("index_translation", main, (ValueError,))
