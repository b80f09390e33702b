"""Helpers the tests share (not fixtures)."""
import subprocess
import time

# params that make the whole pipeline run in a minute or two: tests/test_pipeline_e2e.py, test_own_data.py
TINY = {
    "prepare_interactions.synthetic.n_users": 200, "prepare_interactions.synthetic.n_items": 80,
    "prepare_interactions.synthetic.n_categories": 3, "prepare_interactions.synthetic.mean_positives": 10.0,
    "train_recsys.model.concepts": 3, "train_recsys.model.dim": 8, "train_recsys.model.hidden": 16,
    "train_recsys.train.epochs": 3, "evaluate_recsys.multvae.hidden": 16, "evaluate_recsys.multvae.latent": 8,
    "evaluate_recsys.multvae_train.epochs": 3, "evaluate_recsys.ease_lambdas": [100.0],
    "prepare_images.mnist_m.a_train": 60, "prepare_images.mnist_m.a_val": 20, "prepare_images.mnist_m.a_test": 30,
    "prepare_images.mnist_m.b_train": 60, "prepare_images.mnist_m.b_val": 20, "prepare_images.mnist_m.b_test": 30,
    "train_translation.model.width": 4, "train_translation.model.attr_dim": 3,
    "train_translation.model.content_blocks": 1, "train_translation.model.gen_blocks": 1,
    "train_translation.train.iterations": 4, "train_translation.train.batch_size": 4,
    "train_translation.train.log_every": 2, "train_translation.train.checkpoint_every": 2,
    "evaluate_translation.classifier.steps": 5, "evaluate_translation.classifier.batch_size": 8,
    "evaluate_translation.classifier.width": 4, "evaluate_translation.codes_per_input": 2,
    "evaluate_translation.da_copies": 1, "evaluate_translation.grid_inputs": 2,
    "evaluate_translation.grid_codes": 2, "index_translation.content_pool": 2,
    "prepare_text_speech.test": 24, "prepare_text_speech.dev": 20, "prepare_text_speech.paired_sizes": [20, 40],
    "prepare_text_speech.unpaired_text": 60, "prepare_text_speech.unpaired_phonemes": 60,
    "prepare_text_speech.audio_unpaired": 20, "prepare_text_speech.audio_paired": 40,
    "prepare_text_speech.probe_words": 6, "prepare_text_speech.train_voices": ["en-us+m1", "en-us+f2"],
    "prepare_text_speech.dev_voices": ["en-us+m4"], "prepare_text_speech.test_voices": ["en-us+m3"],
    "train_text_speech.paired_size": 40, "train_text_speech.curve": True,   # the learning-curve path too
    "train_text_speech.model.embed": 8, "train_text_speech.model.hidden": 16,
    "train_text_speech.channel.steps": 4, "train_text_speech.channel.warmup": 2,
    "train_text_speech.channel.eval_every": 2, "train_text_speech.channel.dev_words": 10,
    "train_text_speech.acoustic.hidden": 16, "train_text_speech.acoustic.code": 8,
    "train_text_speech.acoustic_train.steps": 3, "train_text_speech.acoustic_train.log_every": 1,
}


def _run(cmd, cwd, env, check=True):
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise AssertionError(f"{cmd} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out


def read_until(stream, needle: str, timeout: float) -> str:
    """Lines of a text stream until one holds `needle`; fails after `timeout` seconds or at its end."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"no {needle!r} within {timeout} s:\n" + "".join(seen[-30:]))


def recommend_exhaustive(rec, history: list[int], k: int, weights=None, exclude_seen: bool = True):
    """The Recommender's ranking by scoring every item: the reference its index search must match."""
    import numpy as np

    from recsys.serve import exact_scores, top_by_score

    codes, log_w = rec._codes([history])[0], rec._log_weights(weights)
    cols = np.arange(rec.data.n_items)
    if exclude_seen:
        cols = np.setdiff1d(cols, history)
    cols, scores = top_by_score(cols, exact_scores(rec.item_vectors, rec.log_c, rec.tau, cols, codes, log_w), k)
    return cols.tolist(), scores.tolist()


def channel_elbo(model, ph, generator=None):
    """(B,) single-sample ELBO of phoneme strings under the noisy channel's story A:
    log p(g) + log p(ph|g) - log q(g|ph)."""
    import torch

    with torch.no_grad():
        g = model._sampled(model.p2g.decode, ph, sample=True, generator=generator)
        return -model.text_lm.nll(g) - model.g2p.nll(g, ph) + model.p2g.nll(ph, g)
