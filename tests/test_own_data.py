"""Every documented own-data source through `dvc repro` in a throw-away copy of the repository, on tiny
data: interactions as a CSV and as a MovieLens folder, two image folders without labels and with labels
(from file names and from a labels.csv). Each checks the outputs, the metrics and the service."""
import argparse
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pipeline.scratch import scratch_repo
from tests_support import TINY, _run

pytestmark = pytest.mark.slow


def tiny_interactions():
    from recsys.synthetic import SyntheticConfig, generate

    return generate(SyntheticConfig(n_users=200, n_items=80, n_categories=3, mean_positives=10.0), seed=2).table


def repro(tmp_path, overrides: dict, *stages: str):
    dest, env = scratch_repo(tmp_path / "repo", TINY | overrides)
    env = {**env, "MDR_DEVICE": "cpu"}
    _run([sys.executable, "-m", "dvc", "repro", *stages], dest, env)
    return dest, env


def served(serve_app, service):
    """The app serving one ServedModel on a real port → its base url (the server stops with the test)."""
    from pipeline.service import create_app

    server, thread, url = serve_app(create_app([service]))
    return server, thread, url


def stop(server, thread):
    server.should_exit = True
    thread.join(10)


@pytest.mark.parametrize("layout", ["csv", "movielens"])
def test_own_interactions_run_end_to_end_and_are_served(layout, tmp_path, serve_app):
    import httpx

    from recsys.commands import COMMANDS

    from recsys.loaders import ML100K_GENRES

    table = tiny_interactions()
    items = sorted(table.item.unique())
    titles = {i: f"Film {n}, The ({1950 + n})" for n, i in enumerate(items)}   # a comma, as MovieLens titles have
    genres = {i: [ML100K_GENRES[1 + n % 5], ML100K_GENRES[8]] for n, i in enumerate(items)}
    if layout == "csv":   # a ratings file and an items.csv beside it
        path = tmp_path / "ratings.csv"
        table[["user", "item", "rating"]].to_csv(path, index=False)
        (tmp_path / "items.csv").write_text("item,title,genres\n" + "".join(
            f'{i},"{titles[i]}",{"|".join(genres[i])}\n' for i in items))
    else:                 # ml-100k's u.data and u.item (19 genre flags)
        path = tmp_path / "ml"
        path.mkdir()
        rows = table.assign(timestamp=0)[["user", "item", "rating", "timestamp"]]
        rows.to_csv(path / "u.data", sep="\t", header=False, index=False)
        (path / "u.item").write_text("".join(
            f"{i}|{titles[i]}|01-Jan-1995||http://x|" + "|".join("1" if g in genres[i] else "0" for g in ML100K_GENRES) + "\n"
            for i in items))
    dest, env = repro(tmp_path, {"prepare_interactions.source": layout, "prepare_interactions.path": str(path)},
                      "evaluate_recsys", "index_recsys")
    summary = json.loads((dest / "metrics/recsys_data.json").read_text())
    assert summary["n_train_users"] > 0 and summary["n_items"] > 0
    metrics = json.loads((dest / "metrics/recsys.json").read_text())
    assert 0 < metrics["macridvae"]["ndcg@100"]["mean"] <= 1 and (dest / "indexes/recsys").is_dir()
    for plot in ("recsys_concepts.png", "recsys_dci.png", "recsys_traversal.png"):   # cards where no categories
        assert (dest / "plots" / plot).read_bytes()[:4] == b"\x89PNG", plot
    args = argparse.Namespace(data=str(dest / "data/recsys"), model=str(dest / "models/recsys/macridvae.pt"),
                              indexes=str(dest / "indexes/recsys"))
    server, thread, url = served(serve_app, COMMANDS.service(args))
    try:
        ready = httpx.get(f"{url}/readyz").json()
        assert ready["status"] == "ready"
        answer = httpx.post(f"{url}/recommend", json={"history": [str(table.item.iloc[0])], "k": 5})
        assert answer.status_code == 200 and len(answer.json()["items"]) == 5
        for i in answer.json()["items"]:   # the item file's title and genres, in its order (ml-100k: u.genre's)
            assert i["title"] == titles[i["item"]] and sorted(i["categories"]) == sorted(genres[i["item"]])
        labels = [c["label"] for c in httpx.get(f"{url}/concepts").json()["concepts"]]
        assert any(set(label.split(" · ")) <= set(ML100K_GENRES) for label in labels)   # named by genres
        assert httpx.get(f"{url}/users/no-such-user/recommendations").status_code == 404
    finally:
        stop(server, thread)


def write_folder(folder, labels: list[str], shade: int, names: str):
    """Images of two 'classes' (a bar across or down), on a background of `shade`, named after their
    label (names="prefix"), or anonymously with a labels.csv (names="csv"), or anonymously ("none")."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(shade)
    rows = []
    for i, label in enumerate(labels):
        image = np.full((32, 32, 3), shade, np.uint8) + rng.integers(0, 20, (32, 32, 3)).astype(np.uint8)
        if label == "across":
            image[14:18] = 255 - shade
        else:
            image[:, 14:18] = 255 - shade
        name = f"{label}_{i:03d}.png" if names == "prefix" else f"img{i:03d}.png"
        Image.fromarray(image).save(folder / name)
        rows.append(f"{name},{label}")
    if names == "csv":
        (folder / "labels.csv").write_text("file,label\n" + "\n".join(rows) + "\n")


@pytest.mark.parametrize("names", ["none", "prefix", "csv"])
def test_two_image_folders_run_end_to_end_and_are_served(names, tmp_path, serve_app):
    import httpx

    from translation.images.commands import COMMANDS

    labels = ["across", "down"] * 20
    write_folder(tmp_path / "a", labels, 30, names)
    write_folder(tmp_path / "b", labels, 200, names)
    dest, env = repro(tmp_path, {"prepare_images.source": "folders", "prepare_images.folders.a": str(tmp_path / "a"),
                                 "prepare_images.folders.b": str(tmp_path / "b"), "prepare_images.folders.test_fraction": 0.25},
                      "evaluate_translation", "index_translation")
    metrics = json.loads((dest / "metrics/translation.json").read_text())
    index = json.loads((dest / "metrics/translation_index.json").read_text())
    for plot in ("translation_grid.png", "translation_dci.png", "translation_search.png"):
        assert (dest / "plots" / plot).read_bytes()[:4] == b"\x89PNG", plot
    if names == "none":
        assert "content_preservation" not in metrics and "precision@10_a2b" not in index
        assert "pixel_diversity_ratio" in metrics and "dci_disentanglement" in metrics
    else:
        assert 0 <= metrics["content_preservation"] <= 1 and "precision@10_a2b" in index
        data = json.loads((dest / "metrics/images_data.json").read_text())
        assert data["classes"] == 2
    args = argparse.Namespace(image_data=str(dest / "data/images"),
                              translation_model=str(dest / "models/translation/drit.pt"),
                              translation_indexes=str(dest / "indexes/translation"))
    server, thread, url = served(serve_app, COMMANDS.service(args))
    try:
        image = (tmp_path / "a").glob("*.png").__next__().read_bytes()
        answer = httpx.post(f"{url}/search", files={"image": ("q.png", image, "image/png")}, data={"domain": "a", "k": "3"})
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["results"]) == 3
    finally:
        stop(server, thread)


def test_a_labels_file_that_misses_an_image_stops_the_stage_naming_it(tmp_path):
    write_folder(tmp_path / "a", ["across", "down"] * 3, 30, "csv")
    write_folder(tmp_path / "b", ["across", "down"] * 3, 200, "csv")
    table = tmp_path / "a" / "labels.csv"
    table.write_text("\n".join(table.read_text().splitlines()[:-1]) + "\n")
    dest, env = scratch_repo(tmp_path / "repo", TINY | {
        "prepare_images.source": "folders", "prepare_images.folders.a": str(tmp_path / "a"),
        "prepare_images.folders.b": str(tmp_path / "b")})
    out = subprocess.run([sys.executable, "-m", "stages.prepare_images"], cwd=dest, env=env, capture_output=True, text=True)
    assert out.returncode == 2 and "labels.csv: no label for 'img005.png'" in out.stderr


def test_a_plot_the_data_cannot_make_is_a_card_that_says_why(tmp_path):
    from pipeline.figures import not_applicable

    not_applicable(tmp_path / "p.png", "DCI of the item codes", "the data has no known factors")
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG" and list(tmp_path.iterdir()) == [tmp_path / "p.png"]
