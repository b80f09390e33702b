import pytest

from pipeline.config import ConfigError, from_dict, load_config
from recsys.config import EvaluateRecsys, TrainRecsys
from recsys.data import PrepareInteractions


def stage_configs() -> dict:
    """{stage: the config class its module loads with load_config(Class, "stage")}, for every dvc.yaml stage."""
    import ast
    import importlib
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[1]
    found = {}
    for stage in yaml.safe_load((root / "dvc.yaml").read_text())["stages"]:
        module = importlib.import_module(f"stages.{stage}")
        for node in ast.walk(ast.parse((root / "stages" / f"{stage}.py").read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "load_config"
                    and isinstance(node.args[1], ast.Constant) and node.args[1].value == stage):
                found[stage] = getattr(module, node.args[0].id)
    return found


def test_the_repository_params_load_for_every_stage():
    from pipeline.cli import serve_config

    import yaml
    from pathlib import Path

    configs = stage_configs()
    stages = yaml.safe_load((Path(__file__).resolve().parents[1] / "dvc.yaml").read_text())["stages"]
    assert set(configs) == set(stages), f"stages without a load_config of their own block: {set(stages) - set(configs)}"
    for stage, cls in configs.items():
        assert isinstance(load_config(cls, stage), cls)
    assert load_config(PrepareInteractions, "prepare_interactions").source == "synthetic"
    assert load_config(TrainRecsys, "train_recsys").model.concepts == 7
    assert load_config(EvaluateRecsys, "evaluate_recsys").ease_lambdas
    assert serve_config().port == 8000


def differences(default, loaded, where: str) -> list[str]:
    """Every leaf where two configs of one class differ, as 'path: default != params.yaml'."""
    import dataclasses
    if dataclasses.is_dataclass(default):
        return [d for f in dataclasses.fields(default)
                for d in differences(getattr(default, f.name), getattr(loaded, f.name), f"{where}.{f.name}")]
    return [] if default == loaded else [f"{where}: default {default!r} != params.yaml {loaded!r}"]


def test_every_dataclass_default_is_the_params_yaml_value():
    """params.yaml is the one place for values; a default that drifts from it fails here."""
    from pipeline.cli import ServeConfig, serve_config

    found = [d for stage, cls in stage_configs().items() for d in differences(cls(), load_config(cls, stage), stage)]
    found += differences(ServeConfig(), serve_config(), "serve")
    assert not found, "\n".join(found)


def test_the_defaults_check_sees_a_drifted_value():
    drifted = from_dict(TrainRecsys, {"train": {"ema": 0.5}}, "train_recsys")
    assert differences(TrainRecsys(), drifted, "train_recsys") == ["train_recsys.train.ema: default 0.99 != params.yaml 0.5"]


@pytest.mark.parametrize("block, key, words", [
    ({"model": {"concpets": 3}}, "train_recsys.model.concpets", "unknown key"),
    ({"model": {"tau": -1}}, "train_recsys.model.tau", "must be > 0"),
    ({"model": {"concepts": "seven"}}, "train_recsys.model.concepts", "must be an integer"),
    ({"model": {"gumbel": "yes"}}, "train_recsys.model.gumbel", "true or false"),
    ({"train": {"epochs": 0}}, "train_recsys.train.epochs", "must be >= 1"),
    ({"train": 5}, "train_recsys.train", "must be a mapping"),
])
def test_bad_values_name_the_key(block, key, words):
    with pytest.raises(ConfigError) as e:
        from_dict(TrainRecsys, block, "params.yaml: train_recsys")
    assert key in str(e.value) and words in str(e.value)


def test_choices_and_cross_field_checks_name_the_key():
    with pytest.raises(ConfigError, match=r"prepare_interactions.source: must be one of"):
        from_dict(PrepareInteractions, {"source": "netflix"}, "prepare_interactions")
    with pytest.raises(ConfigError, match=r"prepare_interactions.path: required"):
        from_dict(PrepareInteractions, {"source": "csv"}, "prepare_interactions")


def test_missing_block_and_bad_yaml(tmp_path):
    p = tmp_path / "params.yaml"
    p.write_text("train_recsys: {model: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(TrainRecsys, "train_recsys", p)
    p.write_text("other: {}\n")
    with pytest.raises(ConfigError, match="no 'train_recsys' block"):
        load_config(TrainRecsys, "train_recsys", p)


def test_settings_by_image_source_lay_over_the_shared_model_and_training():
    from translation.images.config import TrainTranslation
    cfg = from_dict(TrainTranslation, {"model": {"dis_scales": 3, "gen_noise": 0.1, "width": 8}, "train": {"lr": 5e-4},
                                       "by_source": {"glyphs": {"model": {"dis_scales": 1}, "train": {"lr": 2e-4}}}},
                    "train_translation")
    glyphs, mnist_m = cfg.for_source("glyphs"), cfg.for_source("mnist_m")
    assert (glyphs.model.dis_scales, glyphs.model.gen_noise, glyphs.model.width) == (1, 0.1, 8)  # only named keys change
    assert (glyphs.train.lr, glyphs.train.iterations) == (2e-4, cfg.train.iterations)
    assert (mnist_m.model, mnist_m.train) == (cfg.model, cfg.train)                    # no settings: the shared ones


@pytest.mark.parametrize("by_source, words", [
    ({"svhn": {"model": {"width": 8}}}, "train_translation.by_source.svhn: unknown source"),
    ({"glyphs": {"model": {"widht": 8}}}, "train_translation.by_source.glyphs.model.widht: unknown key"),
    ({"glyphs": {"model": {"gen_noise": -1}}}, "train_translation.by_source.glyphs.model.gen_noise: must be >= 0"),
    ({"glyphs": {"train": {"lr": 0}}}, "train_translation.by_source.glyphs.train.lr: must be > 0"),
    ({"glyphs": {"resume": False}}, "train_translation.by_source.glyphs.resume: only model and train"),
    ({"glyphs": {"model": 3}}, "train_translation.by_source.glyphs.model: must be a mapping"),
    ({"glyphs": 3}, "train_translation.by_source.glyphs: must be a mapping"),
    ([1], "train_translation.by_source: must be a mapping"),
])
def test_bad_settings_by_source_name_the_key(by_source, words):
    from translation.images.config import TrainTranslation
    with pytest.raises(ConfigError) as e:
        from_dict(TrainTranslation, {"by_source": by_source}, "train_translation")
    assert words in str(e.value)


def off_by_default() -> list[str]:
    """Every config leaf params.yaml leaves out: options that do nothing at their defaults."""
    import dataclasses

    from pipeline.config import read_params

    params = read_params()

    def leaves(cls, block, where):
        for f in dataclasses.fields(cls):
            hint = typing.get_type_hints(cls)[f.name]
            if f.name not in block:
                yield f"{where}.{f.name}"
            elif dataclasses.is_dataclass(hint):
                yield from leaves(hint, block[f.name] or {}, f"{where}.{f.name}")

    import typing
    return [leaf for stage, cls in stage_configs().items() for leaf in leaves(cls, params[stage] or {}, stage)]


def test_every_option_left_out_of_params_yaml_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs/pipeline.md").read_text()
    section = doc.split("## Options off by default", 1)[1].split("\n## ", 1)[0]
    missing = [leaf for leaf in off_by_default() if f"`{leaf}`" not in section]
    assert off_by_default() and not missing, "left out of params.yaml and not in docs/pipeline.md:\n" + "\n".join(missing)


def test_overrides_set_listed_keys_and_add_options_left_out(tmp_path):
    from pipeline.config import read_params_with

    params = read_params_with(["train_recsys.model.concepts=3", "+train_recsys.model.hierarchical=true",
                               "train_text_speech.acoustic_train.augment.pitch=2.0"])
    cfg = from_dict(TrainRecsys, params["train_recsys"], "train_recsys")
    assert (cfg.model.concepts, cfg.model.hierarchical) == (3, True)
    assert params["train_text_speech"]["acoustic_train"]["augment"] == {"pitch": 2.0}
    typo = read_params_with(["train_recsys.model.hierarchcal=true"])
    with pytest.raises(ConfigError, match="train_recsys.model.hierarchcal: unknown key"):
        from_dict(TrainRecsys, typo["train_recsys"], "train_recsys")
    with pytest.raises(ConfigError, match="no block 'trian_recsys'"):
        read_params_with(["trian_recsys.seed=1"])
    with pytest.raises(ConfigError, match="expected block.key=value"):
        read_params_with(["train_recsys.seed"])
