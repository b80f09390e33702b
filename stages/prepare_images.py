"""Stage prepare_images: build the image benchmark (MNIST-M-lite, Glyphs or two user folders) on Dask."""
from dataclasses import asdict

import numpy as np

from pipeline.atomic import write_bytes, write_json
from pipeline.cluster import dask_client
from pipeline.config import load_config
from pipeline.progress import say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from translation.images.sources import PrepareImages, build_folders, build_glyphs, build_mnist_m
from translation.images.data import ImageError, encode_png, tile_grid
from translation.images import artifacts


def main():
    cfg = load_config(PrepareImages, "prepare_images")
    with stage_run("prepare_images", cfg) as run:
        if cfg.source == "folders":
            data = build_folders(cfg.folders, cfg.seed, cfg.size)
        else:
            say("prepare_images", f"building {cfg.source} on Dask")
            with dask_client() as client:
                if cfg.source == "mnist_m":
                    data = build_mnist_m(cfg.mnist_m, cfg.seed, client)
                else:
                    data = build_glyphs(cfg.glyphs, cfg.seed, client, cfg.size)
                    data.meta["glyphs"] = asdict(cfg.glyphs)   # to draw true renders of attribute swaps
        data.save(artifacts.DATA)
        summary = data.summary()
        run.log_metrics(summary)
        write_json(artifacts.DATA_METRICS, {"source": cfg.source} | summary)
        cols = min(12, len(data.splits["a_train"]), len(data.splits["b_train"]))
        samples = [data.splits[s].images[:: len(data.splits[s]) // cols][:cols] for s in ("a_train", "b_train")]
        write_bytes(artifacts.SAMPLES_PLOT, encode_png(tile_grid(np.stack(samples))))
        say("prepare_images", f"{summary}")


if __name__ == "__main__":
    run_stage("prepare_images", main, (ImageError, ValueError))
