"""Stage evaluate_recsys: MacridVAE and its baselines on the test users, plus disentanglement (NMI to
the known categories; DCI, MIG and probes against the generator's factors when the data has them)."""
from pipeline.atomic import write_json
from pipeline.devices import seed_everything, torch_device
from pipeline.config import load_config
from pipeline.disentanglement import headline
from pipeline.progress import say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from recsys import plots, artifacts
from recsys.config import EvaluateRecsys
from recsys.dataset import InteractionData
from recsys.evaluate import baselines, disentanglement
from recsys.metrics import evaluate_in_batches
from recsys.checkpoints import load_model
from recsys.train import score_users


def main():
    cfg = load_config(EvaluateRecsys, "evaluate_recsys")
    seed_everything(cfg.seed, cfg.threads)
    data = InteractionData.load(artifacts.DATA)
    model, ckpt = load_model(artifacts.MODEL, data.n_items)
    device = torch_device()
    with stage_run("evaluate_recsys", cfg) as run:
        results = {"macridvae": evaluate_in_batches(lambda x: score_users(model, x, "cpu"),
                                                    data.test_foldin, data.test_target)}
        results.update(baselines(cfg, data, device))
        results["disentanglement"] = disentanglement(model, data, cfg)
        plots.learning_curves(ckpt["history"], artifacts.LEARNING_CURVE)
        write_json(artifacts.METRICS, results)
        for name, res in results.items():
            if "ndcg@100" in res:
                run.log_metrics({f"{name}.{m}": v["mean"] for m, v in res.items() if isinstance(v, dict) and "mean" in v})
                say("evaluate_recsys", f"{name:15s} NDCG@100 {res['ndcg@100']['mean']:.4f} ± {res['ndcg@100']['se']:.4f}"
                    f"  Recall@20 {res['recall@20']['mean']:.4f}  Recall@50 {res['recall@50']['mean']:.4f}")
        if "nmi_concept_category" in results["disentanglement"]:
            run.log_metrics({"nmi_concept_category": results["disentanglement"]["nmi_concept_category"]})
        if "factors" in results["disentanglement"]:   # the generator's factors: DCI and MIG
            numbers = headline(results["disentanglement"]["factors"])
            run.log_metrics(numbers)
            say("evaluate_recsys", "against the generator's factors: " + "  ".join(f"{k} {v:.3f}" for k, v in numbers.items()))
        for png in (artifacts.LEARNING_CURVE, artifacts.CONCEPTS_PLOT, artifacts.TRAVERSAL_PLOT, artifacts.DCI_PLOT):
            run.log_artifact(png, "plots")   # a "not applicable" card where the data has no categories or factors
        run.log_artifact(artifacts.METRICS)


if __name__ == "__main__":
    run_stage("evaluate_recsys", main)
