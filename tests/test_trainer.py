"""pipeline.trainer: every model's training, killed part-way and restarted from its partial
checkpoint, ends with exactly the weights of an uninterrupted run; a checkpoint of another run is
not resumed; selection, patience and EMA behave as documented."""
import numpy as np
import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from pipeline.devices import seed_everything
from pipeline.trainer import Loop, Resume, Selection, fingerprint, train


class Killed(Exception):
    """Stands for a kill: raised inside an optimizer step, part-way through a training step."""


def killed_after(n_optimizer_steps: int):
    """A global optimizer hook that raises on the n-th optimizer step from now (remove() it after)."""
    count = {"n": 0}

    def hook(*_):
        count["n"] += 1
        if count["n"] == n_optimizer_steps:
            raise Killed
    return register_optimizer_step_pre_hook(hook)


def resumes_exactly(run, kill_at: int, tmp_path) -> None:
    """`run(resume_path)` → model; killed at the kill_at-th optimizer step and run again, it ends
    where an uninterrupted run ends, and the partial checkpoint was written and used."""
    straight = run(None).state_dict()
    partial = tmp_path / "m.partial.pt"
    handle = killed_after(kill_at)
    try:
        with pytest.raises(Killed):
            run(partial)
    finally:
        handle.remove()
    assert partial.exists(), "no checkpoint was written before the kill"
    resumed = run(partial).state_dict()
    assert straight.keys() == resumed.keys()
    for k in straight:
        assert torch.equal(straight[k], resumed[k]), k


def test_macridvae_resumes_to_the_uninterrupted_weights(tiny_data, tmp_path, capfd):
    from recsys.macridvae import MacridVAE
    from recsys.config import MacridVAEConfig
    from recsys.train import fit
    from recsys.config import TrainConfig

    def run(resume):
        seed_everything(0, 2)
        model = MacridVAE(tiny_data.n_items, MacridVAEConfig(concepts=3, dim=8, hidden=16))
        fit(model, tiny_data, TrainConfig(epochs=4, batch_size=64, anneal_steps=5, ema=0.9, patience=4), 0,
            "cpu", "test", resume=resume)
        return model

    per_epoch = -(-tiny_data.train.shape[0] // 64)
    resumes_exactly(run, 2 * per_epoch + 2, tmp_path)        # killed in the third epoch
    assert f"resuming from step {2 * per_epoch}" in capfd.readouterr().err


def test_multvae_resumes_to_the_uninterrupted_weights(tiny_data, tmp_path):
    from recsys.multvae import MultVAE
    from recsys.config import MultVAEConfig
    from recsys.train import fit
    from recsys.config import TrainConfig

    def run(resume):
        seed_everything(0, 2)
        model = MultVAE(tiny_data.n_items, MultVAEConfig(hidden=16, latent=8))
        fit(model, tiny_data, TrainConfig(epochs=3, batch_size=64, anneal_steps=5), 0, "cpu", "test", resume=resume)
        return model

    resumes_exactly(run, -(-tiny_data.train.shape[0] // 64) + 1, tmp_path)


def test_drit_resumes_to_the_uninterrupted_weights(tiny_images, tmp_path):
    from translation.images.model import DRIT
    from translation.images.config import DRITConfig
    from translation.images.train import fit
    from translation.images.config import TranslationTrainConfig

    cfg = TranslationTrainConfig(iterations=4, batch_size=4, log_every=1, checkpoint_every=2)   # lr decays from step 2

    def run(resume):
        seed_everything(0, 2)
        # with issue 45's levers on: the search adversary's bank and running means are resumed too
        model = DRIT(DRITConfig(width=4, attr_dim=3, content_blocks=1, gen_blocks=1, lambda_search_adv=1.0,
                                search_bank=8, attr_map=1))
        fit(model, tiny_images, cfg, 7, "cpu", "test", resume=resume)
        return model

    resumes_exactly(run, 6 * 2 + 3, tmp_path)   # 6 optimizer steps a step (2 extra D_c updates): killed in step 3


def test_noisy_channel_resumes_to_the_uninterrupted_weights(tiny_text_speech, tmp_path):
    from translation.speech.channel import NoisyChannel
    from translation.speech.config import Seq2SeqConfig
    from translation.speech.train import fit_channel
    from translation.speech.config import ChannelTrainConfig

    data = tiny_text_speech
    words = data.paired(20)

    def run(resume):
        seed_everything(0, 2)
        model = NoisyChannel(Seq2SeqConfig(embed=8, hidden=16))
        fit_channel(model, ([list(w) for w in words], data.phonemes(words)),
                    ([list(w) for w in data.splits["unpaired_text"]], data.phonemes(data.splits["unpaired_phonemes"])),
                    (data.splits["dev"], data.phonemes(data.splits["dev"])),
                    ChannelTrainConfig(steps=6, batch_size=8, unpaired_batch=8, dream_batch=4, warmup=1, eval_every=2,
                                       dev_words=6), 0, "cpu", resume=resume)
        return model

    resumes_exactly(run, 5, tmp_path)


def test_acoustic_encoder_resumes_to_the_uninterrupted_weights(tiny_text_speech, tmp_path):
    from translation.speech.acoustic import AcousticEncoder
    from translation.speech.config import AcousticConfig
    from translation.speech.data import ClipSet
    from translation.speech.train import fit_acoustic
    from translation.speech.config import AcousticTrainConfig

    clips = ClipSet.concat([tiny_text_speech.clips["paired"], tiny_text_speech.clips["unpaired"]])

    def run(resume):
        seed_everything(0, 2)
        model = AcousticEncoder(AcousticConfig(hidden=16, code=8, voice=4))
        fit_acoustic(model, clips, tiny_text_speech.phonemes(clips.words),
                     AcousticTrainConfig(steps=5, batch_size=8, log_every=2), 0, "cpu", resume=resume)
        return model

    resumes_exactly(run, 4, tmp_path)


def test_judge_classifier_resumes_to_the_uninterrupted_weights(tiny_images, tmp_path):
    from translation.images.classifier import train_classifier
    from translation.images.config import ClassifierConfig

    train_set = tiny_images.splits["a_train"]

    def run(resume):
        return train_classifier(train_set.images, train_set.labels, 10, ClassifierConfig(steps=6, batch_size=8, width=4),
                                0, resume=resume, checkpoint_every=2)

    resumes_exactly(run, 4, tmp_path)


def toy_loop(seed: int = 0, steps: int = 8, select=None, ema: float = 0.0):
    """A linear model fitted to noise drawn from the loop's own generator, with a cosine schedule."""
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gen = np.random.default_rng(seed)

    def step(s):
        x = torch.from_numpy(gen.normal(size=(4, 3)).astype(np.float32))
        loss = (model(x) - 1).pow(2).mean() + 0.01 * torch.randn(()).abs()   # the torch stream counts too
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": float(loss)}

    return Loop(model, {"sgd": opt}, steps, step, lambda s, window, judged: {"step": s, "score": float(judged.bias)},
                log_every=2, schedulers={"cos": torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)}, select=select,
                ema=ema, generators={"noise": gen})


def test_a_checkpoint_of_another_run_is_not_resumed(tmp_path, capfd):
    path = tmp_path / "p.pt"
    handle = killed_after(5)
    try:
        with pytest.raises(Killed):
            train(toy_loop(0), "toy", Resume(path, fingerprint("run", 0), 2))
    finally:
        handle.remove()
    fresh = toy_loop(0)
    train(fresh, "toy")                          # what a run that starts afresh ends with
    other = toy_loop(0)
    train(other, "toy", Resume(path, fingerprint("run", 1), 2))
    assert "it is another run's" in capfd.readouterr().err
    assert torch.equal(other.model.weight, fresh.model.weight)
    path.write_bytes(b"damaged")
    again = toy_loop(0)
    train(again, "toy", Resume(path, fingerprint("run", 0), 2))
    assert "not resuming" in capfd.readouterr().err and torch.equal(again.model.weight, fresh.model.weight)


def test_selection_keeps_the_best_row_and_patience_stops():
    loop = toy_loop(select=Selection(lambda row: -abs(row["step"] - 4), maximize=True, patience=2), steps=20)
    result = train(loop, "toy")
    assert result.best_step == 4 and result.steps == 8               # rows at 6 and 8 were not better: stop
    assert [r["step"] for r in result.history] == [2, 4, 6, 8]
    assert float(loop.model.bias) == result.history[1]["score"]      # the kept weights are step 4's


def test_ema_weights_are_kept_when_nothing_is_selected():
    raw, averaged = toy_loop(), toy_loop(ema=0.5)
    train(raw, "toy")
    train(averaged, "toy")
    assert not torch.allclose(raw.model.weight, averaged.model.weight)
