import pytest

from pipeline.config import ConfigError, from_dict, load_config
from recsys.config import EvaluateRecsys, PrepareInteractions, TrainRecsys


def test_the_repository_params_load_for_every_stage():
    assert load_config(PrepareInteractions, "prepare_interactions").source == "synthetic"
    assert load_config(TrainRecsys, "train_recsys").model.concepts == 7
    assert load_config(EvaluateRecsys, "evaluate_recsys").ease_lambdas


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
