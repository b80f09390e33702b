"""Stage evaluate_text_speech: G2P/P2G error rates (learning curve, semi vs supervised-only),
spelling ↔ speech retrieval and the voice probes → metrics/text_speech.json, plots/text_speech_curve.png."""

from pipeline.atomic import write_bytes, write_json
from pipeline.devices import seed_everything, torch_device
from pipeline.config import load_config
from pipeline.disentanglement import headline
from pipeline.progress import say
from pipeline.stage import run_stage
from pipeline.tracking import stage_run
from translation.speech.config import EvaluateTextSpeech
from translation.speech.data import TextSpeechData
from translation.speech.checkpoints import load_acoustic, load_channel
from translation.speech import artifacts
from translation.speech.evaluate import (
    ctc_per_by_voice,
    curve_png,
    learning_curve,
    retrieval,
    factor_scores,
    voice_probe,
)


def main():
    cfg = load_config(EvaluateTextSpeech, "evaluate_text_speech")
    seed_everything(cfg.seed, cfg.threads)
    device = torch_device()
    data = TextSpeechData.load(artifacts.DATA)
    channels = {}
    for path in sorted(artifacts.MODELS.glob("channel_*_*.pt")):
        model, state = load_channel(path, device)
        channels[(state["training"], state["paired_size"])] = model
    served, served_state = load_channel(artifacts.CHANNEL, device)
    acoustic, _ = load_acoustic(artifacts.ACOUSTIC, device)
    with stage_run("evaluate_text_speech", cfg) as run:
        curve = learning_curve(channels, data, device)
        size = str(served_state["paired_size"])
        main_metrics = {"paired_size": int(size), "test_words": len(data.splits["test"])}
        for kind in ("semi", "supervised"):
            main_metrics |= {f"{kind}_{k}": v for k, v in curve[size].get(kind, {}).items()}
        if "supervised" in curve[size]:
            for k in ("g2p_per", "p2g_ler"):
                main_metrics[f"{k}_ratio_semi_to_supervised"] = curve[size]["semi"][k] / max(curve[size]["supervised"][k], 1e-9)
        main_metrics |= retrieval(served, acoustic, data, device)
        dev = retrieval(served, acoustic, data, device, "dev")   # what benches choose on; test is for reports
        main_metrics["dev"] = {k: v for k, v in dev.items() if k != "by_voice"}
        main_metrics |= ctc_per_by_voice(acoustic, data, device)
        main_metrics |= voice_probe(acoustic, data, device)
        factors = factor_scores(acoustic, data, device, cfg.seed, artifacts.DCI_PLOT)
        main_metrics |= headline(factors)
        run.log_metrics({k: v for k, v in main_metrics.items() if isinstance(v, (int, float))})
        write_json(artifacts.METRICS, main_metrics | {"learning_curve": curve, "factors": factors})
        run.log_artifact(artifacts.DCI_PLOT, "plots")
        write_bytes(artifacts.CURVE_PLOT, curve_png(curve))
        run.log_artifact(artifacts.CURVE_PLOT, "plots")
        say("evaluate_text_speech", ", ".join(f"{k} {v:.3f}" for k, v in main_metrics.items() if isinstance(v, float)))


if __name__ == "__main__":
    run_stage("evaluate_text_speech", main, (ValueError,))
