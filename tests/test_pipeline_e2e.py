"""A tiny `dvc repro` end to end in a throw-away copy of the repository."""
import json
import subprocess
import sys

import pytest

from pipeline.scratch import scratch_repo
from tests_support import TINY, _run

pytestmark = pytest.mark.slow   # runs stages, clusters, servers or a browser: left out of the inner loop

STAGES = ["prepare_interactions", "train_recsys", "evaluate_recsys", "index_recsys",
          "prepare_images", "train_translation", "evaluate_translation", "index_translation",
          "prepare_text_speech", "train_text_speech", "fit_confusion", "evaluate_text_speech", "index_text_speech"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    dest, env = scratch_repo(tmp_path_factory.mktemp("repo"), TINY)
    return dest, {**env, "MDR_DEVICE": "cpu"}


def test_repro_end_to_end_then_nothing_to_do(repo):
    dest, env = repo
    first = _run([sys.executable, "-m", "dvc", "repro"], dest, env)
    for stage in STAGES:
        assert f"[{stage}] done" in first.stderr
    metrics = json.loads((dest / "metrics/recsys.json").read_text())
    for model in ("macridvae", "multvae", "ease", "most_popular"):
        assert 0 <= metrics[model]["ndcg@100"]["mean"] <= 1
    assert "nmi_concept_category" in metrics["disentanglement"]
    for f in ("models/recsys/macridvae.pt", "indexes/recsys/manifest.json", "plots/recsys_concepts.png",
              "plots/recsys_traversal.png", "plots/recsys_train.csv", "mlflow.db"):
        assert (dest / f).exists(), f
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"])
    runs = client.search_runs([client.get_experiment_by_name("mdr").experiment_id])
    assert sorted(r.data.tags["stage"] for r in runs) == sorted(STAGES)
    train_run = next(r for r in runs if r.data.tags["stage"] == "train_recsys")
    assert len(client.get_metric_history(train_run.info.run_id, "val_ndcg_at_100")) == 3  # one per epoch
    translation = json.loads((dest / "metrics/translation.json").read_text())
    for k in ("content_preservation", "diversity_ratio", "da_translated", "da_source_only", "da_target_only"):
        assert k in translation, k
    index = json.loads((dest / "metrics/translation_index.json").read_text())
    assert 0 <= index["precision@10_a2b"] <= 1
    for f in ("models/translation/drit.pt", "indexes/translation/manifest.json", "plots/translation_grid.png",
              "plots/translation_train.csv", "plots/images_samples.png"):
        assert (dest / f).exists(), f
    assert not (dest / "models/translation/drit.partial.pt").exists()
    speech = json.loads((dest / "metrics/text_speech.json").read_text())
    assert set(speech["learning_curve"]) == {"20", "40"}
    for k in ("semi_g2p_per", "supervised_g2p_per", "semi_p2g_ler"):   # edits per reference symbol
        assert 0 <= speech[k] < 25, k
    for k in ("text2speech_recall@10", "speech2text_recall@1", "voice_probe_content", "voice_probe_voice"):
        assert 0 <= speech[k] <= 1, k
    for f in ("models/text_speech/channel.pt", "models/text_speech/channel_supervised_20.pt",
              "models/text_speech/acoustic.pt", "indexes/text_speech/speech.faiss", "plots/text_speech_curve.png",
              "data/text_speech/CMUDICT_LICENSE"):
        assert (dest / f).exists(), f
    second = _run([sys.executable, "-m", "dvc", "repro"], dest, env)
    assert "Running stage" not in second.stdout + second.stderr
    status = _run([sys.executable, "-m", "dvc", "status"], dest, env)
    assert "up to date" in status.stdout


def test_cli_recommends_from_the_pipeline_outputs(repo):
    dest, env = repo
    from recsys.dataset import InteractionData

    item = str(InteractionData.load(dest / "data/recsys").item_ids[0])
    out = _run([sys.executable, "-m", "stages.mdr", "similar", item, "--k", "3", "--json"], dest, env)
    similar = [r["item"] for r in json.loads(out.stdout)]
    assert len(similar) == 3 and item not in similar
    unknown = _run([sys.executable, "-m", "stages.mdr", "similar", "no-such-item", "--k", "3"], dest, env, check=False)
    assert unknown.returncode == 2 and "unknown item(s) ['no-such-item']" in unknown.stderr
    bad = _run([sys.executable, "-m", "stages.mdr", "recommend", "--user", "ghost"], dest, env, check=False)
    assert bad.returncode == 2 and "unknown user 'ghost'" in bad.stderr
    # the synthetic data's planted categories name the concepts (it has no titles: items stay ids)
    concepts = json.loads(_run([sys.executable, "-m", "stages.mdr", "concepts", "--json"], dest, env).stdout)
    assert any(c["label"].startswith("cat") for c in concepts)
    assert all(i["title"] is None for c in concepts for i in c["top_items"])
    shown = _run([sys.executable, "-m", "stages.mdr", "concepts"], dest, env).stdout
    assert f"concept 0: {concepts[0]['label']}" in shown and "best known:" in shown


def test_a_bad_param_stops_the_stage_naming_the_key_and_keeps_outputs(repo):
    dest, env = repo
    before = (dest / "data/recsys/matrices.npz").read_bytes()
    params = (dest / "params.yaml").read_text()
    (dest / "params.yaml").write_text(params.replace("min_positives: 5", "min_positives: -2"))
    try:
        out = _run([sys.executable, "-m", "dvc", "repro", "prepare_interactions"], dest, env, check=False)
    finally:
        (dest / "params.yaml").write_text(params)
    assert out.returncode != 0
    assert "prepare_interactions.split.min_positives: must be >= 1, got -2" in out.stderr
    assert (dest / "data/recsys/matrices.npz").read_bytes() == before


def test_mel_bands_that_differ_from_the_prepared_data_stop_training_naming_both(repo):
    dest, env = repo
    before = (dest / "models/text_speech/acoustic.pt").read_bytes()
    params = (dest / "params.yaml").read_text()
    assert params.count("n_mels: 40") == 2                 # prepare_text_speech's and the acoustic encoder's
    (dest / "params.yaml").write_text(params[::-1].replace("04 :slem_n", "23 :slem_n", 1)[::-1])   # the encoder's
    try:
        out = _run([sys.executable, "-m", "stages.train_text_speech"], dest, env, check=False)
    finally:
        (dest / "params.yaml").write_text(params)
    assert out.returncode != 0
    assert "train_text_speech.acoustic.n_mels: 32 != the 40 mel bands of data/text_speech" in out.stderr
    assert (dest / "models/text_speech/acoustic.pt").read_bytes() == before


def test_cli_translates_and_searches_from_the_pipeline_outputs(repo, tmp_path):
    dest, env = repo
    from translation.images.data import ImageData, encode_png

    image = ImageData.load(dest / "data/images").splits["a_test"].images[0]
    (tmp_path / "digit.png").write_bytes(encode_png(image))
    out = _run([sys.executable, "-m", "stages.mdr", "translate", str(tmp_path / "digit.png"), "--n", "3",
                "--out", str(tmp_path / "out")], dest, env)
    assert (tmp_path / "out" / "digit_a2b.png").exists() and "3 translation(s)" in out.stdout
    out = _run([sys.executable, "-m", "stages.mdr", "search-images", str(tmp_path / "digit.png"), "--k", "4",
                "--json"], dest, env)
    assert [r["domain"] for r in json.loads(out.stdout)] == ["b"] * 4
    (tmp_path / "bad.png").write_bytes(b"not a png")
    bad = _run([sys.executable, "-m", "stages.mdr", "translate", str(tmp_path / "bad.png")], dest, env, check=False)
    assert bad.returncode == 2 and "bad.png" in bad.stderr and "not a readable image" in bad.stderr


def test_cli_speaks_to_the_text_speech_outputs(repo, tmp_path):
    dest, env = repo
    out = _run([sys.executable, "-m", "stages.mdr", "g2p", "hello", "world"], dest, env)
    assert [line.split("\t")[0] for line in out.stdout.splitlines()] == ["hello", "world"]
    out = _run([sys.executable, "-m", "stages.mdr", "search-speech", "hello", "-k", "2", "--json"], dest, env)
    assert len(json.loads(out.stdout)["results"]) == 2
    from translation.speech.audio import wav_bytes
    from translation.speech.data import TextSpeechData

    clips = TextSpeechData.load(dest / "data/text_speech").clips["test"]
    (tmp_path / "w.wav").write_bytes(wav_bytes(clips.waveform(0)))
    out = _run([sys.executable, "-m", "stages.mdr", "search-text", str(tmp_path / "w.wav"), "--k", "3"], dest, env)
    assert len(out.stdout.splitlines()) == 3
    # any word list, words no dictionary knows among them: spelled through G2P, scored like the index's
    spellings = json.loads((dest / "indexes/text_speech/spellings.json").read_text())
    assert set(spellings["sources"]) <= {"dictionary", "g2p"} and len(spellings["words"]) == len(spellings["sources"])
    (tmp_path / "mine.txt").write_text(f"{clips.words[0]}\nzorblaxian\nquuxify\n")
    out = _run([sys.executable, "-m", "stages.mdr", "search-text", str(tmp_path / "w.wav"), "--k", "3", "--json",
                "--words", str(tmp_path / "mine.txt")], dest, env)
    assert sorted(r["word"] for r in json.loads(out.stdout)["results"]) == sorted([clips.words[0], "zorblaxian", "quuxify"])
    (tmp_path / "bad.txt").write_text("fine\nnot-a-word\n")
    bad = _run([sys.executable, "-m", "stages.mdr", "search-text", str(tmp_path / "w.wav"), "--words",
                str(tmp_path / "bad.txt")], dest, env, check=False)
    assert bad.returncode != 0 and "bad.txt:2" in bad.stderr
    bad = _run([sys.executable, "-m", "stages.mdr", "p2g", "HH", "QQ"], dest, env, check=False)
    assert bad.returncode == 2 and "unknown phoneme 'QQ'" in bad.stderr
    one, four = (_run([sys.executable, "-m", "stages.mdr", "p2g", *argv], dest, env).stdout
                 for argv in (["HH AH L OW"], ["HH", "AH", "L", "OW"]))     # one argument, as the API takes it
    assert one == four                 # the same spelling (a tiny model's may be empty)


def test_a_killed_translation_run_resumes_where_it_stopped(repo):
    """SIGKILL part-way, run again: it resumes from the partial checkpoint and ends with the weights
    of a run that was never stopped."""
    dest, env = repo
    import os
    import signal
    import time

    import torch

    model, partial = dest / "models/translation/drit.pt", dest / "models/translation/drit.partial.pt"
    params, kept = (dest / "params.yaml").read_text(), model.read_bytes()
    cmd = [sys.executable, "-m", "stages.train_translation"]
    try:
        (dest / "params.yaml").write_text(params.replace("iterations: 4", "iterations: 60").replace("resume: true", "resume: false"))
        _run(cmd, dest, env)
        straight = torch.load(model, weights_only=False)
        (dest / "params.yaml").write_text(params.replace("iterations: 4", "iterations: 60"))
        run = subprocess.Popen(cmd, cwd=dest, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not partial.exists() and run.poll() is None:
            time.sleep(0.005)
        os.kill(run.pid, signal.SIGKILL)        # as the OOM killer or a lost machine would: no clean-up
        run.wait()
        assert partial.exists(), "the run ended before it could be killed"
        out = _run(cmd, dest, env)
        resumed = torch.load(model, weights_only=False)
    finally:
        (dest / "params.yaml").write_text(params)
        model.write_bytes(kept)                 # the later tests serve the 4-step model
    assert "resuming from step" in out.stderr and not partial.exists()
    assert resumed["steps"] == 60
    for k, v in straight["model"].items():
        assert torch.equal(v, resumed["model"][k]), k
