"""The noisy channel and the acoustic encoder: finite losses that fall, exact recall of a small
training set, gradients where they belong, save/load round trips."""
import numpy as np
import pytest
import torch

from pipeline.cluster import run_jobs
from pipeline.devices import seed_everything
from translation.speech.acoustic import AcousticEncoder, corrupt, ctc_greedy, id_batch
from translation.speech.config import AcousticConfig, ChannelLossWeights, DecodeConfig, Seq2SeqConfig, ChannelTrainConfig
from translation.speech.lexicon import GRAPHEMES, PHONES, Vocab
from translation.speech.channel import NoisyChannel
from translation.speech.seq2seq import Seq2Seq, SymbolLM, by_length, trim_after_eos, with_bos
from translation.speech.metrics import (
    edit_distance,
    error_rates,
    g2p_nbest,
    g2p_words,
    p2g_phonemes,
    recall_at,
)
from translation.speech.jobs import channel_job, model_of
from translation.speech.checkpoints import (
    load_acoustic,
    load_channel,
    save_acoustic,
    save_channel,
)
from translation.speech.train import encode_pairs, fit_channel, mel_batch
from tests_support import channel_elbo

WORDS = {"cat": "K AE T", "dog": "D AO G", "fish": "F IH SH", "bird": "B ER D", "horse": "HH AO R S",
         "mouse": "M AW S", "sheep": "SH IY P", "goat": "G OW T", "duck": "D AH K", "frog": "F R AA G",
         "lion": "L AY AH N", "tiger": "T AY G ER", "bear": "B EH R", "wolf": "W UH L F", "fox": "F AA K S",
         "deer": "D IH R", "crab": "K R AE B", "snail": "S N EY L", "whale": "W EY L", "seal": "S IY L"}
UNPAIRED_TEXT = ["cap", "dot", "fig", "bear", "hose", "mice", "shop", "gate", "dusk", "frost"]
UNPAIRED_PH = ["K AE P", "D AA T", "F IH G", "B EH R", "HH OW Z", "M AY S", "SH AA P", "G EY T"]


def batch(words):
    return encode_pairs([list(w) for w in words], [WORDS[w].split() for w in words], "cpu")


def unpaired():
    from translation.speech.seq2seq import pad_batch
    return (pad_batch([GRAPHEMES.encode(w) for w in UNPAIRED_TEXT]),
            pad_batch([PHONES.encode(p.split()) for p in UNPAIRED_PH]))


def test_error_rates_and_recall_on_known_values():
    assert edit_distance("kitten", "sitting") == 3
    assert error_rates([["A", "B"], ["C"]], [["A", "B"], ["D", "E"]]) == (2 / 4, 1 / 2)
    sim = np.array([[0.9, 0.1, 0.0], [0.5, 0.2, 0.4], [0.0, 0.3, 0.1]])
    assert recall_at(sim, 1) == pytest.approx(1 / 3) and recall_at(sim, 2) == pytest.approx(2 / 3)
    assert recall_at(sim, 3) == 1.0
    assert recall_at(np.ones((3, 3)), 2) == 0.0      # codes that tie everything find nothing


def test_trim_after_eos_pads_the_tail():
    ids = torch.tensor([[5, 2, 7, 8], [5, 6, 7, 8]])
    assert trim_after_eos(ids).tolist() == [[5, 2, 0, 0], [5, 6, 7, 2]]


def test_all_losses_finite_and_elbo_and_kl_encoder_losses_fall_on_a_tiny_set():
    seed_everything(0, 2)
    model = NoisyChannel(Seq2SeqConfig(embed=16, hidden=32, dropout=0.0))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    paired, extra = batch(list(WORDS)), unpaired()

    @torch.no_grad()
    def measure():
        g = torch.Generator().manual_seed(7)
        wake = model.wake_loss(*extra, generator=g)
        sleep = model.sleep_loss(16, generator=torch.Generator().manual_seed(8))
        elbo = channel_elbo(model, extra[1], generator=torch.Generator().manual_seed(9))
        return float(wake["wake_phones"] + wake["wake_text"]), float(sleep["sleep_p2g"] + sleep["sleep_g2p"]), elbo

    wake0, sleep0, elbo0 = measure()
    losses = model(paired, extra, ChannelLossWeights(), torch.Generator().manual_seed(0))
    assert set(losses) == {"g2p", "p2g", "text_lm", "phone_lm", "wake_phones", "wake_text", "sleep_p2g",
                           "sleep_g2p", "loss"}
    assert all(torch.isfinite(v) for v in losses.values()) and torch.isfinite(elbo0).all()
    for step in range(40):
        loss = model(paired, extra, ChannelLossWeights(), torch.Generator().manual_seed(step))["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    wake1, sleep1, elbo1 = measure()
    assert wake1 < wake0 and sleep1 < sleep0
    assert elbo1.mean() > elbo0.mean()           # the ELBO rises


def test_importance_weighted_wake_weights_each_draw_by_joint_over_proposal():
    seed_everything(0, 2)
    model = NoisyChannel(Seq2SeqConfig(embed=16, hidden=32, dropout=0.0)).eval()
    g, ph = unpaired()
    k, t = 4, 0.7
    with torch.no_grad():
        got = model.wake_loss(g, ph, t, torch.Generator().manual_seed(3), samples=k)["wake_phones"]
        # replay story A's draws: g_k ~ q_T(g | ph), weights p(g) p(ph | g) / q_T(g | ph), normalized per item
        obs = ph.repeat_interleave(k, 0)
        latent = model.p2g.decode(obs, sample=True, temperature=t, generator=torch.Generator().manual_seed(3))
        nll = model.g2p.nll(latent, obs)
        log_w = -model.text_lm.nll(latent) - nll + model.p2g.nll(obs, latent, temperature=t)
        w = log_w.view(-1, k).softmax(dim=1)
        assert (w.max(dim=1).values < 1).any()            # the draws differ, so the weights do too
        assert float(got) == pytest.approx(float((w * nll.view(-1, k)).sum(dim=1).mean()), rel=1e-5)
        one = model.wake_loss(g, ph, t, torch.Generator().manual_seed(3), samples=1)["wake_phones"]
        replay = model.p2g.decode(ph, sample=True, temperature=t, generator=torch.Generator().manual_seed(3))
        assert float(one) == pytest.approx(float(model.g2p.nll(replay, ph).mean()), rel=1e-5)
        assert torch.equal(model.g2p.nll(replay, ph, temperature=1.0), model.g2p.nll(replay, ph))


def test_the_sleep_phase_dreams_as_many_pairs_as_asked():
    seed_everything(0, 2)
    model = NoisyChannel(Seq2SeqConfig(embed=8, hidden=16))
    dreamed = []
    sample = model.text_lm.sample
    model.text_lm.sample = lambda n, *a, **k: dreamed.append(n) or sample(n, *a, **k)
    paired, extra = batch(list(WORDS)), unpaired()
    model(paired, extra, ChannelLossWeights(), torch.Generator().manual_seed(0), dreams=3)
    model(paired, extra, ChannelLossWeights(), torch.Generator().manual_seed(0))
    assert dreamed == [3, extra[0].shape[0]]     # the default dreams as many as the unpaired batch


def test_supervised_only_step_reaches_no_language_model():
    model = NoisyChannel(Seq2SeqConfig(embed=8, hidden=16))
    model(batch(["cat", "dog"]))["loss"].backward()
    assert all(p.grad is None for p in model.text_lm.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.g2p.parameters())


def test_greedy_decoding_reproduces_the_20_training_words():
    seed_everything(0, 2)
    model = NoisyChannel(Seq2SeqConfig(embed=32, hidden=64, dropout=0.0), DecodeConfig(beam=1))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    paired = batch(list(WORDS))
    for _ in range(150):
        losses = model.supervised_loss(*paired)
        opt.zero_grad()
        (losses["g2p"] + losses["p2g"]).backward()
        opt.step()
    assert [" ".join(p) for p in g2p_words(model, list(WORDS), "cpu")] == list(WORDS.values())
    assert p2g_phonemes(model, [p.split() for p in WORDS.values()], "cpu") == list(WORDS)


def test_acoustic_losses_finite_and_content_code_is_the_transcripts_code(tiny_text_speech):
    seed_everything(0, 2)
    clips = tiny_text_speech.clips["paired"]
    model = AcousticEncoder(AcousticConfig(hidden=16, code=8, voice=4))
    mel, lengths = mel_batch(clips, list(range(6)), "cpu")
    ph = encode_pairs(["x"] * 6, tiny_text_speech.phonemes(clips.words[:6]), "cpu")[1]
    losses = model(mel, lengths, ph, generator=torch.Generator().manual_seed(0))
    assert all(torch.isfinite(v) for v in losses.values())
    losses["loss"].backward()
    assert model.phonemes.proj.weight.grad.abs().sum() > 0 and model.ctc_head.weight.grad.abs().sum() > 0
    model.eval()
    code = model.content(mel, lengths)
    # the content code depends on the audio only through its transcript: the voice cannot reach it
    # except as recognition errors
    assert torch.allclose(code, model.phonemes(id_batch(model.transcribe(mel, lengths))))
    assert code.shape == (6, 8) and model.voice(mel, lengths).shape == (6, 4)


def test_the_lifter_keeps_the_envelope_and_drops_the_harmonic_ripple(tiny_text_speech):
    from translation.speech.acoustic import lifter

    bands = torch.arange(40.0)
    cosine = lambda k: torch.cos(torch.pi / 40 * (bands + 0.5) * k)   # DCT-II basis vectors
    envelope, ripple = 2.0 + cosine(1) - 0.5 * cosine(3), 0.4 * cosine(24)
    assert torch.allclose(lifter((envelope + ripple)[None], 12)[0], envelope, atol=1e-4)
    assert torch.allclose(lifter(ripple[None, None], 40)[0, 0], ripple, atol=1e-4)   # all kept: unchanged
    # in the model: the content path sees the liftered frames, so a ripple above the kept cepstra
    # does not change the transcript's posteriors
    clips = tiny_text_speech.clips["paired"]
    mel, lengths = mel_batch(clips, list(range(4)), "cpu")
    seed_everything(0, 2)
    model = AcousticEncoder(AcousticConfig(n_mels=mel.shape[-1], hidden=16, code=8, voice=4, cepstra=12)).eval()
    rippled = mel + 0.4 * torch.cos(torch.pi / mel.shape[-1] * (torch.arange(mel.shape[-1]) + 0.5) * 24.0)
    before, after = model.posteriors(mel, lengths)[0], model.posteriors(rippled, lengths)[0]
    assert torch.allclose(before, after, atol=1e-3)


def test_ctc_greedy_merges_repeats_and_drops_blanks():
    a, b = Vocab.EOS + 1, Vocab.EOS + 2
    path = [a, a, Vocab.PAD, a, b, b, Vocab.PAD, b]          # best path per frame
    log_probs = torch.full((2, len(path), len(PHONES)), -10.0)
    for t, i in enumerate(path):
        log_probs[:, t, i] = 0.0
    mask = torch.ones(2, len(path), dtype=torch.bool)
    mask[1, 4:] = False                                       # the second clip is 4 frames long
    assert ctc_greedy(log_probs, mask) == [[a, a, b, b], [a, a]]


def test_corrupt_makes_seeded_edits_at_the_rate_and_never_empties():
    seqs = [list(range(Vocab.EOS + 1, Vocab.EOS + 9))] * 400
    assert corrupt(seqs, 0.0) == seqs
    one = corrupt(seqs, 0.3, torch.Generator().manual_seed(1))
    assert one == corrupt(seqs, 0.3, torch.Generator().manual_seed(1))
    changed = sum(c != s for c, s in zip(one, seqs)) / len(seqs)
    assert 0.8 < changed < 1.0                                # 1 - 0.7^8 ≈ 0.94 of the strings
    lengths = [len(c) for c in one]
    assert min(lengths) >= 1 and min(lengths) < 8 < max(lengths)  # deletions and insertions both happen
    assert all(len(c) >= 1 for c in corrupt([[Vocab.EOS + 1]] * 200, 0.99, torch.Generator().manual_seed(2)))


def test_save_load_round_trip_and_foreign_files(tmp_path, tiny_speech_models):
    channel, acoustic = tiny_speech_models
    save_channel(tmp_path / "c.pt", channel, {"paired_size": 20, "training": "semi"})
    save_acoustic(tmp_path / "a.pt", acoustic, {"voices": ["a", "b"]})
    c2, state = load_channel(tmp_path / "c.pt")
    a2, _ = load_acoustic(tmp_path / "a.pt")
    assert state["paired_size"] == 20 and c2.decode == channel.decode
    assert g2p_words(c2, ["hello", "world"], "cpu") == g2p_words(channel, ["hello", "world"], "cpu")
    for k, v in acoustic.state_dict().items():
        assert torch.equal(v, a2.state_dict()[k])
    with pytest.raises(ValueError, match="a.pt: a acoustic checkpoint, not a noisy_channel one"):
        load_channel(tmp_path / "a.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.pt: not a readable checkpoint"):
        load_acoustic(tmp_path / "junk.pt")
    # a checkpoint of the earlier acoustic encoder (pooled content code, voice critic)
    old = torch.load(tmp_path / "a.pt", weights_only=False)
    old["config"]["w_voice_adv"] = 0.3
    old["model"]["voice_critic.0.weight"] = torch.zeros(4, 8)
    torch.save(old, tmp_path / "old.pt")
    with pytest.raises(ValueError, match="old.pt: saved by a different version of the acoustic encoder, retrain it"):
        load_acoustic(tmp_path / "old.pt")
    del old["config"]["w_voice_adv"]
    torch.save(old, tmp_path / "old.pt")
    with pytest.raises(ValueError, match="old.pt: saved by a different version.*voice_critic"):
        load_acoustic(tmp_path / "old.pt")


def test_teacher_forced_logits_equal_the_stepwise_decoder():
    """forward() runs the decoder over all steps at once; decoding (_run) runs it one step at a time."""
    torch.manual_seed(0)
    net = Seq2Seq(len(GRAPHEMES), len(PHONES), Seq2SeqConfig(embed=8, hidden=16)).eval()
    x, y = encode_pairs(["cat", "shoe"], [("K", "AE", "T"), ("SH", "UW")], "cpu")
    memory, h = net.encode(x)
    inputs, steps = with_bos(y), []
    for t in range(y.shape[1]):
        logits, h = net._run(inputs[:, t: t + 1], h, memory)
        steps.append(logits)
    assert torch.allclose(net(x, y), torch.cat(steps, dim=1), atol=1e-5)


def test_a_word_is_encoded_and_scored_the_same_alone_and_in_a_padded_batch():
    """The backward direction of the encoder must start at the word's own end, not the batch's padding:
    otherwise the served g2p of one word differs from what the batch evaluation measured."""
    torch.manual_seed(0)
    net = Seq2Seq(len(GRAPHEMES), len(PHONES), Seq2SeqConfig(embed=8, hidden=16)).eval()
    x, y = encode_pairs(["cat", "rhinoceroses"], [("K", "AE", "T"), ("R", "AY", "N", "AA", "S", "ER", "AH", "S")], "cpu")
    (states, _, _), h = net.encode(x)
    (alone, _, _), h_alone = net.encode(x[:1, :4])
    assert torch.allclose(states[0, :4], alone[0], atol=1e-6) and torch.allclose(h[:, 0], h_alone[:, 0], atol=1e-6)
    assert states[0, 4:].abs().sum() == 0
    assert torch.allclose(net.nll(x, y)[0], net.nll(x[:1, :4], y[:1, :4])[0], atol=1e-5)


def test_losses_in_length_groups_equal_one_padded_pass_row_for_row():
    """by_length trims each group of similar-length rows to its own longest: the same per-row values, in
    the rows' original order, and gradients reach the model through every group."""
    torch.manual_seed(0)
    cfg = Seq2SeqConfig(embed=8, hidden=16)
    net, lm = Seq2Seq(len(GRAPHEMES), len(PHONES), cfg).eval(), SymbolLM(len(GRAPHEMES), cfg).eval()
    words = list(WORDS)
    g, ph = batch(words)
    whole = net.nll(g, ph)
    for chunks in (2, 3, 7):
        grouped = by_length(net.nll, chunks, g, ph)
        assert torch.allclose(grouped, whole, atol=1e-5)
        assert torch.allclose(by_length(lm.nll, chunks, g), lm.nll(g), atol=1e-5)
    trimmed = []
    by_length(lambda x, y: trimmed.append(x.shape[1]) or net.nll(x, y), 4, g, ph)
    assert min(trimmed) < g.shape[1] == max(trimmed)       # the short groups run on less padding
    by_length(net.nll, 3, g, ph).sum().backward()
    assert net.encoder.bwd.weight_hh_l0.grad.abs().sum() > 0


def test_a_clip_gets_the_same_codes_alone_and_in_a_padded_batch(tiny_text_speech):
    seed_everything(0, 2)
    clips = tiny_text_speech.clips["paired"]
    model = AcousticEncoder(AcousticConfig(hidden=16, code=8, voice=4)).eval()
    order = np.argsort([len(clips.features(i)) for i in range(len(clips))])
    short, long = int(order[0]), int(order[-1])
    mel, lengths = mel_batch(clips, [short, long], "cpu")
    assert lengths[0] < lengths[1]
    mel1, len1 = mel_batch(clips, [short], "cpu")
    with torch.no_grad():
        assert torch.allclose(model.posteriors(mel, lengths)[0][0, : (len1[0] + 1) // 2],
                              model.posteriors(mel1, len1)[0][0], atol=1e-5)
        assert torch.allclose(model.voice(mel, lengths)[0], model.voice(mel1, len1)[0], atol=1e-5)
        assert torch.allclose(model.content(mel, lengths)[0], model.content(mel1, len1)[0], atol=1e-5)
        ph = PHONES.encode(["K", "AE", "T"])
        padded = torch.tensor([ph + [Vocab.PAD] * 5, PHONES.encode("AA B D EH F G K L".split())])
        assert torch.allclose(model.phonemes(padded)[0], model.phonemes(torch.tensor([ph]))[0], atol=1e-6)


def _untrained_channel(**decode):
    """Random weights, but <eos> likely enough that every hypothesis ends within max_len."""
    torch.manual_seed(0)
    model = NoisyChannel(Seq2SeqConfig(embed=8, hidden=16, max_len=12), DecodeConfig(**decode)).eval()
    with torch.no_grad():
        model.g2p.out.bias[Vocab.EOS] += 2.5
    return model


def test_beam_search_scores_are_the_log_likelihoods_of_its_candidates():
    model = _untrained_channel()
    x = batch(["cat", "horse", "fox"])[0]
    cands, score = model.g2p.beam(x, 4)
    assert cands.shape[:2] == (3, 4) and torch.all(score[:, :-1] >= score[:, 1:])
    assert torch.all((cands == Vocab.EOS).sum(dim=2) == 1)
    assert torch.allclose(score, -model.g2p.nll(x.repeat_interleave(4, 0), cands.flatten(0, 1)).view(3, 4),
                          atol=1e-4)
    assert len({tuple(c) for c in cands[1].tolist()}) == 4                  # distinct hypotheses
    greedy = model.g2p.decode(x)
    best1, _ = model.g2p.beam(x, 1)
    assert torch.equal(best1[:, 0, : greedy.shape[1]], greedy)
    # the best of a wider beam is at least as likely as the greedy output
    assert torch.all(score[:, 0] >= -model.g2p.nll(x, greedy) - 1e-4)


def test_noisy_channel_decoding_maximises_the_weighted_sum_of_both_stories():
    x = batch(["cat", "horse", "fox"])[0]
    beam_only = _untrained_channel(beam=4, rerank=0.0, rerank_prior=0.0)
    cands, score = beam_only.g2p.beam(x, 4)
    assert torch.equal(beam_only.transduce(x, "g2p")[:, : cands.shape[2]], cands[:, 0])
    flat = cands.flatten(0, 1)
    channel = -beam_only.p2g.nll(flat, x.repeat_interleave(4, 0)).view(3, 4)
    prior = -beam_only.phone_lm.nll(flat).view(3, 4)
    picks = set()
    # untrained networks are nearly flat: only a heavy weight moves the pick off the beam's best
    for w_channel, w_prior in ((1.0, 1.5), (40.0, 0.0), (0.0, 40.0)):
        both = _untrained_channel(beam=4, rerank=w_channel, rerank_prior=w_prior)
        best = (score + w_channel * channel + w_prior * prior).argmax(1)
        assert torch.equal(both.transduce(x, "g2p")[:, : cands.shape[2]], cands[torch.arange(3), best])
        picks.add(tuple(best.tolist()))
    assert len(picks) > 1, "the weights should matter on these inputs"
    with pytest.raises(ValueError, match="direction"):
        both.transduce(x, "x2y")


@pytest.mark.slow   # jobs on the cluster's workers
def test_a_channel_job_on_a_dask_worker_trains_the_model_this_process_would(dask):
    """The job ships plain data and returns what rebuilds the model; with the same seed and threads
    the weights are the ones fit_channel gives here."""
    words = list(WORDS)[:10]
    paired = ([list(w) for w in words], [tuple(WORDS[w].split()) for w in words])
    unpaired = ([list(w) for w in UNPAIRED_TEXT], [tuple(p.split()) for p in UNPAIRED_PH])
    cfg = ChannelTrainConfig(steps=4, batch_size=4, unpaired_batch=4, warmup=1, eval_every=2, dev_words=4)
    model_cfg, decode = Seq2SeqConfig(embed=8, hidden=16), DecodeConfig(beam=2)
    result = run_jobs(dask, {"semi": (channel_job, "test semi", model_cfg, decode, cfg, paired, unpaired, paired, 0, 1)})
    remote = model_of(result["semi"])
    seed_everything(0, 1)
    local = NoisyChannel(model_cfg, decode)
    history = fit_channel(local, paired, unpaired, paired, cfg, 0, torch.device("cpu"))
    assert result["semi"]["history"] == history and result["semi"]["seconds"] > 0
    for name, tensor in local.state_dict().items():
        assert torch.equal(tensor, remote.state_dict()[name]), name
    assert remote.decode == decode and remote.cfg == model_cfg
    baseline = model_of(run_jobs(dask, {"sup": (channel_job, "test sup", model_cfg, decode, cfg, paired, None, paired, 0, 1)})["sup"])
    assert baseline.decode == DecodeConfig(beam=2, rerank=0.0, rerank_prior=0.0) and baseline.cfg == model_cfg
    seed_everything(0, 2)


def test_retrieval_and_transcripts_are_reported_per_engine_and_voice(tiny_text_speech, tiny_speech_models):
    from translation.speech.metrics import recall_rows
    from translation.speech.evaluate import ctc_per_by_voice, retrieval

    channel, acoustic = tiny_speech_models
    out = retrieval(channel, acoustic, tiny_text_speech, torch.device("cpu"))
    assert set(out["by_engine"]) == {"espeak", "festival"}
    assert set(out["by_voice"]) == {"en-us+m3", "festival:cmu_us_slt_arctic_hts"}
    assert sum(g["clips"] for g in out["by_voice"].values()) == out["retrieval_words"]
    for group in list(out["by_engine"].values()) + list(out["by_voice"].values()):
        assert all(0 <= group[k] <= 1 for k in ("speech2text_recall@10", "text2speech_recall@1"))
        assert group["ctc_per"] >= 0
    from translation.speech.evaluate import voice_probe

    probe = voice_probe(acoustic, tiny_text_speech, torch.device("cpu"))
    assert probe["voice_probe_voices"] == 4 and probe["voice_probe_voices_test_voices"] == 2
    assert probe["voice_probe_chance_test_voices"] == 0.5 and 0 <= probe["voice_probe_content_test_voices"] <= 1
    per = ctc_per_by_voice(acoustic, tiny_text_speech, torch.device("cpu"))
    assert set(per["ctc_per_probe_by_voice"]) == {"en-us+m1", "festival:kal_diphone", "en-us+m3",
                                                  "festival:cmu_us_slt_arctic_hts"}
    assert per["ctc_per_probe_train_voices"] >= 0 and per["ctc_per_probe_test_voices"] >= 0
    # a group's recall searches every item: the rows' own items must outrank all the others
    sim = np.eye(4) + 0.1
    sim[1, 3] = 2.0                                      # query 1's best item is the wrong one
    assert recall_rows(sim, np.array([0, 1]), 1) == 0.5 and recall_rows(sim, np.array([1]), 2) == 1.0


def test_the_ranked_n_best_starts_with_what_transduce_decodes(tiny_speech_models):
    channel, _ = tiny_speech_models
    words = ["hello", "window", "zorblax"]
    nbest = g2p_nbest(channel, words, 3, "cpu")
    assert [list(n[0]) for n in nbest] == g2p_words(channel, words, "cpu")
    assert all(1 <= len(n) <= 3 and len(set(n)) == len(n) for n in nbest)
    x = torch.tensor([GRAPHEMES.encode(list("hello"))])
    _, scores = channel.ranked(x, "g2p", 4)
    assert scores[0].tolist() == sorted(scores[0].tolist(), reverse=True)
