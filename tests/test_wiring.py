"""dvc.yaml's code deps are the stages' import closures (stages.wiring writes them), so a model edit
reruns only the stages that import the model, and a data stage never reruns for one."""
from pathlib import Path

import yaml

from stages import wiring

ROOT = Path(__file__).resolve().parents[1]


def stages() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def dep_path(entry) -> str:
    return entry if isinstance(entry, str) else next(iter(entry))


def changed_by(path: str) -> set[str]:
    """The stages `dvc status` reports after an edit of `path`: those that depend on it, and every
    stage downstream of their outputs."""
    graph = stages()
    changed = {name for name, s in graph.items() if path in map(dep_path, s.get("deps", []))}
    while True:
        outs = {dep_path(o) for name in changed for kind in ("outs", "metrics", "plots")
                for o in graph[name].get(kind, [])}
        more = {name for name, s in graph.items()
                if any(dep_path(d) in outs or any(dep_path(d).startswith(o.rstrip("/") + "/") for o in outs)
                       for d in s.get("deps", []))}
        if more <= changed:
            return changed
        changed |= more


def test_dvc_yaml_deps_are_what_the_generator_writes():
    text = (ROOT / "dvc.yaml").read_text()
    stale = wiring.stale_stages(text, wiring.rewrite(text))
    assert not stale, f"dvc.yaml deps are stale for {stale}: run python -m stages.wiring"


def test_the_check_sees_a_missing_and_an_extra_dep(tmp_path):
    text = (ROOT / "dvc.yaml").read_text()
    missing = text.replace("      - recsys/macridvae.py\n", "", 1)
    extra = text.replace("      - recsys/split.py\n", "      - recsys/split.py\n      - recsys/macridvae.py\n", 1)
    assert "train_recsys" in wiring.stale_stages(missing, wiring.rewrite(missing))
    assert "prepare_interactions" in wiring.stale_stages(extra, wiring.rewrite(extra))
    path = tmp_path / "dvc.yaml"
    path.write_text(missing)
    assert wiring.main(["--check", "--dvc-yaml", str(path)]) == 1
    assert wiring.main(["--dvc-yaml", str(path)]) == 0 and path.read_text() == text   # rewritten, nothing else moved


def test_a_model_edit_marks_only_its_train_stage_and_what_follows():
    assert changed_by("recsys/macridvae.py") == {"train_recsys", "evaluate_recsys", "index_recsys"}
    assert changed_by("translation/images/model.py") == {"train_translation", "evaluate_translation",
                                                         "index_translation"}
    assert changed_by("translation/speech/acoustic.py") == {"train_text_speech", "evaluate_text_speech",
                                                            "index_text_speech"}
    assert changed_by("pipeline/trainer.py").isdisjoint({"prepare_interactions", "prepare_images",
                                                         "prepare_text_speech"})


def test_reading_a_stage_config_imports_no_model():
    from pipeline.imports import closure, import_graph, project_modules

    graph = import_graph(project_modules(ROOT, wiring.PACKAGES))
    for config in ("recsys.config", "translation.images.config", "translation.speech.config"):
        reached = closure(graph, config)
        assert not reached & {"recsys.macridvae", "recsys.multvae", "recsys.train", "translation.images.model",
                              "translation.images.train", "translation.speech.acoustic",
                              "translation.speech.channel", "translation.speech.train", "pipeline.trainer"}, config
