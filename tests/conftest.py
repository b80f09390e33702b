"""Shared fixtures: tiny data built on a real Dask LocalCluster, briefly trained models, and a real
uvicorn server on a free port."""
import os
import socket
import threading
import time

import pytest
import torch

os.environ.setdefault("MDR_DEVICE", "cpu")


@pytest.fixture(scope="session")
def dask():
    from pipeline.cluster import dask_client

    with dask_client(n_workers=2) as client:
        yield client


@pytest.fixture(scope="session")
def tiny_raw():
    from recsys.synthetic import SyntheticConfig, generate

    raw = generate(SyntheticConfig(n_users=300, n_items=120, n_categories=4, mean_positives=12), seed=1)
    # titles, as an item file would give them (the synthetic generator has none), and a second category
    raw.item_titles = {item: f"Film {item[1:]}" for item in raw.item_categories}
    raw.item_categories = {item: cats + (["Classic"] if int(item[1:]) % 5 == 0 else [])
                           for item, cats in raw.item_categories.items()}
    return raw


@pytest.fixture(scope="session")
def tiny_data(tiny_raw, dask):
    from recsys.split import SplitConfig, split_interactions

    return split_interactions(tiny_raw, SplitConfig(partitions=3), seed=1, client=dask)


@pytest.fixture(scope="session")
def tiny_model(tiny_data):
    from pipeline.devices import seed_everything
    from recsys.macridvae import MacridVAE
    from recsys.config import MacridVAEConfig
    from recsys.train import fit
    from recsys.config import TrainConfig

    seed_everything(0, 2)
    model = MacridVAE(tiny_data.n_items, MacridVAEConfig(concepts=4, dim=16, hidden=32))
    result = fit(model, tiny_data, TrainConfig(epochs=5, batch_size=64, anneal_steps=20, patience=5),
                 0, torch.device("cpu"), "test")
    return model, result


@pytest.fixture(scope="session")
def serve_app():
    """serve_app(app) → (server, thread, base url): the app on uvicorn in a thread, on a free port."""
    import uvicorn

    def serve(app):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        return server, thread, f"http://127.0.0.1:{port}"

    return serve


TINY_MNIST_M = dict(a_train=60, a_val=20, a_test=30, b_train=60, b_val=20, b_test=30)


@pytest.fixture(scope="session")
def tiny_images(dask):
    from translation.images.sources import MnistMConfig, build_mnist_m

    return build_mnist_m(MnistMConfig(**TINY_MNIST_M), seed=3, client=dask)


@pytest.fixture(scope="session")
def tiny_drit(tiny_images):
    from pipeline.devices import seed_everything
    from translation.images.model import DRIT
    from translation.images.config import DRITConfig
    from translation.images.train import fit
    from translation.images.config import TranslationTrainConfig

    seed_everything(0, 2)
    model = DRIT(DRITConfig(width=4, attr_dim=3, content_blocks=1, gen_blocks=1, gen_noise=0.0))  # no noise inputs: a code decides an output
    fit(model, tiny_images, TranslationTrainConfig(iterations=3, batch_size=4), 0, torch.device("cpu"), "test")
    return model


TINY_TEXT_SPEECH = dict(test=24, dev=20, paired_sizes=[20, 40], unpaired_text=60, unpaired_phonemes=60,
                        audio_unpaired=20, audio_paired=40, probe_words=6, chunk=25,
                        train_voices=["en-us+m1", "festival:kal_diphone"], dev_voices=["en-us+m4"],
                        test_voices=["en-us+m3", "festival:cmu_us_slt_arctic_hts"])


@pytest.fixture(scope="session")
def tiny_text_speech(dask):
    from translation.speech.data import PrepareTextSpeech, build_text_speech

    data, _ = build_text_speech(PrepareTextSpeech(**TINY_TEXT_SPEECH), dask)
    return data


@pytest.fixture(scope="session")
def tiny_speech_models(tiny_text_speech):
    """(noisy channel, acoustic encoder), each trained for a few steps on the tiny data."""

    from pipeline.devices import seed_everything
    from translation.speech.acoustic import AcousticEncoder
    from translation.speech.config import AcousticConfig
    from translation.speech.channel import NoisyChannel
    from translation.speech.config import Seq2SeqConfig
    from translation.speech.data import ClipSet
    from translation.speech.train import fit_acoustic, fit_channel
    from translation.speech.config import AcousticTrainConfig, ChannelTrainConfig

    data = tiny_text_speech
    seed_everything(0, 2)
    channel = NoisyChannel(Seq2SeqConfig(embed=8, hidden=16))
    words = data.paired(20)
    fit_channel(channel, ([list(w) for w in words], data.phonemes(words)),
                ([list(w) for w in data.splits["unpaired_text"]], data.phonemes(data.splits["unpaired_phonemes"])),
                (data.splits["dev"], data.phonemes(data.splits["dev"])),
                ChannelTrainConfig(steps=4, batch_size=8, unpaired_batch=8, warmup=2, eval_every=2, dev_words=10),
                0, torch.device("cpu"))
    clips = ClipSet.concat([data.clips["paired"], data.clips["unpaired"]])
    acoustic = AcousticEncoder(AcousticConfig(hidden=16, code=8, voice=4))
    fit_acoustic(acoustic, clips, data.phonemes(clips.words),
                 AcousticTrainConfig(steps=3, batch_size=8, log_every=1), 0, torch.device("cpu"))
    return channel, acoustic


@pytest.fixture(scope="session")
def served_recommender(tiny_model, tiny_data):
    from recsys.serve import Recommender, build_item_index

    model, _ = tiny_model
    return Recommender(model, tiny_data, build_item_index(model, "Flat", 1))


@pytest.fixture(scope="session")
def served_translator(tiny_drit, tiny_images):
    from translation.images.serve import ContentIndexes, Translator

    return Translator(tiny_drit, tiny_images, ContentIndexes.build(tiny_drit, tiny_images, 2, "Flat", 1))


@pytest.fixture(scope="session")
def served_speech(tiny_text_speech, tiny_speech_models, tiny_confusion):
    from translation.speech.config import FrontEndConfig
    from translation.speech.hearing import FrontEnd
    from translation.speech.serve import SpeechText, build_indexes, build_spellings, catalogue

    TINY_FRONT_END = FrontEndConfig(channel=0.5, recognizer=2.0, code=1.0, candidates=50)

    channel, acoustic = tiny_speech_models
    clips = catalogue(tiny_text_speech)
    speech, text, words, _ = build_indexes(channel, acoustic, clips, "Flat", "cpu")
    served = SpeechText(channel, acoustic, clips, speech, text, words, max_seconds=3.0)
    served.front = FrontEnd(build_spellings(channel, acoustic, words, TINY_FRONT_END, "cpu", tiny_text_speech.lexicon),
                            tiny_confusion, TINY_FRONT_END, acoustic)
    return served


@pytest.fixture(scope="session")
def tiny_confusion(tiny_text_speech):
    """The confusion channel of PocketSphinx's phone loop on the tiny training clips."""
    from translation.speech.confusion import ConfusionChannel
    from translation.speech.data import ClipSet
    from translation.speech.recognizer import hear_clips

    clips = ClipSet.concat([tiny_text_speech.clips["paired"], tiny_text_speech.clips["unpaired"]])
    said = tiny_text_speech.phonemes(clips.words)
    return ConfusionChannel.fit([(said[i], heard) for i, heard in hear_clips(clips)])


@pytest.fixture(scope="session")
def all_models(served_recommender, served_translator, served_speech):
    """The three models as the service serves them, on the tiny artifacts."""
    from recsys.routes import recsys_service
    from translation.images.routes import images_service
    from translation.speech.routes import speech_service

    return [recsys_service(lambda: served_recommender), images_service(lambda: served_translator),
            speech_service(lambda: served_speech)]
