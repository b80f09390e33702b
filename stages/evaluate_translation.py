"""Stage evaluate_translation: the DESIGN.md measures → metrics/translation.json, a translation grid."""
from pipeline.atomic import write_bytes, write_json
from pipeline.devices import seed_everything
from pipeline.config import load_config
from pipeline.progress import say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from translation.images.config import EvaluateTranslation, IndexTranslation
from translation.images.sources import GlyphsConfig
from translation.images.evaluate import evaluate
from translation.images.data import ImageData, encode_png
from translation.images.plots import translation_grid
from translation.images.checkpoints import load_model
from translation.images import artifacts


def main():
    cfg = load_config(EvaluateTranslation, "evaluate_translation")
    search = load_config(IndexTranslation, "index_translation")   # the probes score the search vector it indexes
    seed_everything(cfg.seed, cfg.threads)
    data = ImageData.load(artifacts.DATA)
    model, saved = load_model(artifacts.MODEL)
    glyph_cfg = GlyphsConfig(**data.meta["glyphs"]) if "glyphs" in data.meta else None
    with stage_run("evaluate_translation", cfg) as run:
        metrics, extras = evaluate(model, data, cfg.classifier, cfg.seed, cfg.codes_per_input, cfg.da_copies,
                                   search.content_pool, glyph_cfg, say=lambda m: say("evaluate_translation", m),
                                   heatmap=artifacts.DCI_PLOT, diagnostics=cfg.diagnostics)
        metrics = {"data": data.name, "steps": saved["steps"]} | metrics
        run.log_metrics({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
        write_json(artifacts.METRICS, metrics | extras)
        write_bytes(artifacts.GRID_PLOT, encode_png(translation_grid(model, data, cfg.grid_inputs, cfg.grid_codes, cfg.seed)))
        run.log_artifact(artifacts.GRID_PLOT, "plots")
        run.log_artifact(artifacts.DCI_PLOT, "plots")
        say("evaluate_translation", ", ".join(f"{k} {v:.3f}" for k, v in metrics.items() if isinstance(v, float)))


if __name__ == "__main__":
    run_stage("evaluate_translation", main, (ValueError,))
