"""Concept labels: the categories over-represented among a concept's items, its best-known items."""
import numpy as np

from recsys.concept_labels import category_matrix, concept_summaries, typical_categories


def test_a_typical_category_beats_one_every_concept_shares():
    # 10 items; Drama on 8 of them everywhere; Horror only on items 0-2, all in concept 0
    cats = [["Drama", "Horror"], ["Horror"], ["Drama", "Horror"]] + [["Drama"]] * 6 + [["Comedy"]]
    has, names = category_matrix(cats)
    concept = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    top = typical_categories(concept == 0, has, names)
    assert top[0]["category"] == "Horror" and top[0]["items"] == 3 and top[0]["share"] == 0.75
    assert "Drama" not in [g["category"] for g in top]          # 2 of 4 here against 8 of 10 overall
    # concept 1: Comedy 1/6 against 1/10 outranks Drama 5/6 against 8/10
    assert [g["category"] for g in typical_categories(concept == 1, has, names)] == ["Comedy", "Drama"]


def test_a_concept_with_the_overall_mix_has_no_typical_category_and_is_named_by_titles():
    cats = [["A"], ["B"], ["A"], ["B"]]
    concept = np.array([0, 0, 1, 1])
    popularity = np.array([5.0, 9.0, 1.0, 2.0])
    titles = ["a", "b", "c", "d"]
    rows = concept_summaries(concept, 3, cats, popularity, lambda c: {"item": str(c), "title": titles[c]})
    assert rows[0]["top_categories"] == [] and rows[0]["label"] == "b · a"   # most popular first
    assert rows[2] == {"concept": 2, "items": 0, "label": "concept 2", "top_categories": [], "top_items": []}


def test_no_categories_and_no_titles_keep_ids():
    rows = concept_summaries(np.array([0, 1]), 2, [[], []], np.array([1.0, 2.0]),
                             lambda c: {"item": f"i{c}", "title": None})
    assert [r["label"] for r in rows] == ["concept 0", "concept 1"]
    assert rows[1]["top_items"] == [{"item": "i1", "title": None}]
