"""Stage prepare_interactions: load interactions, apply the strong-generalization split on Dask."""
from pipeline.atomic import write_json
from pipeline.cluster import dask_client
from pipeline.config import load_config
from pipeline.progress import say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from recsys.data import PrepareInteractions, raw_interactions
from recsys.loaders import DataFormatError
from recsys.split import split_interactions
from recsys import artifacts

def main():
    cfg = load_config(PrepareInteractions, "prepare_interactions")
    with stage_run("prepare_interactions", cfg) as run:
        raw = raw_interactions(cfg)
        say("prepare_interactions", f"{len(raw.table)} interactions from {raw.source}; splitting on Dask")
        with dask_client() as client:
            data = split_interactions(raw, cfg.split, cfg.seed, client)
        data.save(artifacts.DATA)
        summary = data.summary()
        run.log_metrics(summary)
        write_json(artifacts.DATA_METRICS, summary)
        say("prepare_interactions", f"{summary}")


if __name__ == "__main__":
    run_stage("prepare_interactions", main, (DataFormatError, ValueError))
