"""bench.drit_levers' rule: the guard on content preservation and DA gain, and adding seeds to a result."""
import json

import pytest

from bench.drit_levers import GUARD, MEASURES, choose, summarise, with_earlier_seeds

TARGETS_MISSED = {k: 0.5 for k in MEASURES} | {"probe_search_to_domain_knn": 0.95, "outside_target_range": 0.6}


def arm(cp, da, p10):
    return TARGETS_MISSED | {"content_preservation": cp, "da_gain_over_source_only": da,
                             "precision@10_a2b": p10, "precision@10_b2a": p10}


def test_an_arm_that_loses_content_beyond_the_guard_is_not_chosen_however_well_it_searches():
    arms = {"drit": arm(0.55, 0.40, 0.50), "better_search": arm(0.55 - 2 * GUARD, 0.40, 0.70),
            "modest": arm(0.55 - GUARD / 2, 0.41, 0.55)}
    out = choose(arms)
    assert out["shortfall"]["better_search"] < out["shortfall"]["modest"]     # the unguarded rule's pick
    assert out["chosen"] == "modest" and out["guard"]["qualified"] == ["drit", "modest"]


def test_drit_is_chosen_when_every_lever_loses_da_gain():
    arms = {"drit": arm(0.55, 0.40, 0.50), "lever": arm(0.60, 0.40 - 2 * GUARD, 0.80)}
    assert choose(arms)["chosen"] == "drit"


def test_adding_seeds_keeps_the_earlier_seeds_with_their_revision_and_refuses_other_settings(tmp_path):
    path = tmp_path / "drit_levers.json"
    path.write_text(json.dumps({"git_revision": "abc", "overrides": ["x=1"],
                                "per_seed": {"0": {"drit": {"m": 1.0}, "both": {"m": 2.0}}}}))
    merged = with_earlier_seeds(path, {1: {"drit": {"m": 3.0}}, 0: {"both": {"m": 5.0}}}, ["x=1"])
    assert list(merged) == [0, 1]
    assert merged[0]["drit"] == {"m": 1.0, "measured_at": "abc"} and merged[0]["both"]["m"] == 5.0
    assert merged[1]["drit"]["m"] == 3.0 and "both" not in merged[1]
    with pytest.raises(SystemExit, match="overrides"):
        with_earlier_seeds(path, {1: {"drit": {"m": 3.0}}}, ["x=2"])


def test_an_arm_screened_out_by_an_earlier_seed_is_shown_but_not_eligible():
    per_seed = {0: {"drit": arm(0.55, 0.40, 0.50), "both": arm(0.55, 0.40, 0.90)},
                1: {"drit": arm(0.55, 0.40, 0.50)}}
    arms = summarise(per_seed)
    assert arms["both"]["seeds"] == [0] and arms["drit"]["seeds"] == [0, 1]
    out = choose(arms)
    assert out["chosen"] == "drit" and out["screened_out_by_earlier_seeds"] == ["both"]


def test_an_older_setting_arm_names_the_training_setting_it_moves():
    from bench.drit_levers import ARMS, OFF, TRAIN

    arms = summarise({0: {"drit": arm(0.55, 0.40, 0.50), "lr_0.001": arm(0.56, 0.41, 0.52)}})
    assert arms["lr_0.001"]["overrides"] == OFF | {"train.lr": 0.001}
    assert arms["drit"]["overrides"] == OFF
    assert set(TRAIN) <= set(ARMS)      # every training-setting arm is an arm the CLI offers
