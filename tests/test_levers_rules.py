"""The dev rules of bench.concept_levers (the hierarchical objective's weight) and bench.channel_levers
(the text–speech channel's settings): what each picks from dev figures alone."""
from bench.channel_levers import SEMI_ARMS, SUPERVISED_ARMS
from bench.channel_levers import choose as choose_channel
from bench.concept_levers import choose as choose_concepts


def arm(nmi, steering, ndcg):
    return {"dev_nmi": nmi, "dev_steering_share_planted": steering, "ml100k_val_ndcg@100": ndcg}


def test_the_hierarchical_weight_is_the_steerable_one_that_ranks_best():
    arms = {"own": arm(0.5, 0.4, 0.46), "hierarchical": arm(0.85, 0.75, 0.40),
            "hierarchical_kl8": arm(0.90, 0.80, 0.38), "hierarchical_kl2": arm(0.60, 0.60, 0.45),
            "anchors_5": arm(0.88, 0.74, 0.46)}
    out = choose_concepts(arms)
    assert out["hierarchical"] == "hierarchical"      # steerable, and ranks above kl8; kl2 is not steerable
    assert out["joint"] == "anchors_5"                # the joint rule still ranges over every arm


def test_without_a_steerable_weight_the_hierarchical_one_that_steers_most_is_kept():
    arms = {"hierarchical": arm(0.75, 0.77, 0.41), "hierarchical_kl8": arm(0.70, 0.79, 0.39),
            "hierarchical_kl16": arm(0.82, 0.65, 0.38), "own": arm(0.5, 0.4, 0.46)}
    out = choose_concepts(arms)
    assert out["hierarchical"] == "hierarchical_kl8" and out["joint"] is None


def test_the_channel_settings_with_the_lowest_dev_score_are_chosen_per_kind():
    semi, supervised = list(SEMI_ARMS), list(SUPERVISED_ARMS)
    scores = {semi[0]: 0.40, semi[3]: 0.38, semi[5]: 0.41, supervised[0]: 0.52, supervised[2]: 0.50}
    out = choose_channel(scores)
    assert out["semi"] == semi[3] and out["semi_overrides"] == SEMI_ARMS[semi[3]]
    assert out["supervised"] == supervised[2]
    assert choose_channel({semi[0]: 0.4})["supervised"] is None      # a partial run: no supervised arm yet


def test_bench_text_speech_trains_at_the_channel_settings_dev_chose(tmp_path):
    import json

    import pytest

    from bench.text_speech import chosen_channel

    assert chosen_channel(tmp_path / "absent.json") == []          # not run yet: SCHEDULE's own point
    path = tmp_path / "channel_levers.json"
    path.write_text(json.dumps({"summary": choose_channel({"schedule": 0.41, "dream_64": 0.39})}))
    assert chosen_channel(path) == SEMI_ARMS["dream_64"]
    path.write_text(json.dumps({"summary": choose_channel({"schedule": 0.39, "dream_64": 0.41})}))
    assert chosen_channel(path) == []
    for bad in ("{not json", json.dumps({"table": {}}), json.dumps([1, 2])):
        path.write_text(bad)
        with pytest.raises(SystemExit, match="not a bench.channel_levers result"):
            chosen_channel(path)


def test_a_second_round_of_channel_arms_keeps_the_first_rounds_with_their_revision(tmp_path):
    import json

    import pytest

    from bench.channel_levers import same_seed_arms

    path = tmp_path / "channel_levers.json"
    assert same_seed_arms(path, 0, ["schedule"]) == {}
    path.write_text(json.dumps({"seeds": [0], "git_revision": "abc", "per_seed": {"0": {
        "schedule": {"dev_score": 0.35}, "dream_16": {"dev_score": 0.36, "measured_at": "def"}}}}))
    kept = same_seed_arms(path, 0, ["schedule"])
    assert kept == {"dream_16": {"dev_score": 0.36, "measured_at": "def"}}     # re-measured arms are replaced
    assert same_seed_arms(path, 0, [])["schedule"]["measured_at"] == "abc"
    with pytest.raises(SystemExit, match="same seed"):
        same_seed_arms(path, 1, [])
