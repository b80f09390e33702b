"""The domain-adaptation baselines: DANN's gradient reversal, the practitioner's source-only."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from translation.images.classifier import Classifier, GradientReversal, colour_jitter, dann_weight, train_classifier
from translation.images.config import ClassifierConfig


def test_gradient_reversal_flips_the_domain_losss_gradient_at_the_backbone():
    torch.manual_seed(0)
    backbone, head = Classifier(3, 4).eval(), torch.nn.Linear(16, 1)
    x, target = torch.rand(6, 3, 32, 32) * 2 - 1, torch.tensor([0.0, 1, 0, 1, 1, 0])
    conv = backbone.features_net[0][0].weight

    def domain_loss(reverse: float | None):
        h = backbone.embed(x)
        h = GradientReversal.apply(h, reverse) if reverse is not None else h
        return F.binary_cross_entropy_with_logits(head(h).squeeze(1), target)

    plain = torch.autograd.grad(domain_loss(None), [conv, head.weight])
    reversed_ = torch.autograd.grad(domain_loss(0.7), [conv, head.weight])
    assert torch.allclose(reversed_[0], -0.7 * plain[0], atol=1e-7)   # the backbone's gradient is flipped and scaled
    assert torch.allclose(reversed_[1], plain[1])                     # the domain head's is not
    # and the plain gradient is the loss's slope, by central differences on one backbone weight
    with torch.no_grad():
        eps, where = 1e-3, (0, 0, 1, 1)
        conv[where] += eps
        up = float(domain_loss(None))
        conv[where] -= 2 * eps
        down = float(domain_loss(None))
        conv[where] += eps
    assert (up - down) / (2 * eps) == pytest.approx(float(plain[0][where]), rel=0.05, abs=1e-4)
    assert float(reversed_[0][where]) == pytest.approx(-0.7 * (up - down) / (2 * eps), rel=0.05, abs=1e-4)


def test_the_reversal_weight_rises_from_zero_to_one():
    weights = [dann_weight(s, 100) for s in range(0, 101, 10)]
    assert weights[0] == 0 and all(a < b for a, b in zip(weights, weights[1:])) and 0.99 < weights[-1] < 1


def test_colour_jitter_stays_in_range_and_the_standardised_classifier_ignores_channel_gain():
    rng = np.random.default_rng(0)
    x = torch.rand(8, 3, 32, 32) * 2 - 1
    j = colour_jitter(x, rng)
    assert j.shape == x.shape and j.min() >= -1 and j.max() <= 1 and not torch.equal(j, x)
    model = Classifier(10, 4, standardise=True).eval()
    with torch.no_grad():
        assert torch.allclose(model(x), model(0.5 * x + 0.2), atol=1e-4)


def test_dann_and_the_practitioners_source_only_learn_what_a_degenerate_input_cannot():
    """Two classes told apart only by where the bright bar is: each baseline learns them from real
    images; trained on the same images with the bars erased (a degenerate input) it stays near chance
    on images it has not seen."""
    def bars(seed, erase=False):
        rng = np.random.default_rng(seed)
        labels = np.arange(64) % 2
        images = rng.integers(0, 60, (64, 32, 32, 3)).astype(np.uint8)
        images[labels == 0, :, 4:10] = 255
        images[labels == 1, :, 22:28] = 255
        if erase:
            images[:, :, 4:10] = images[:, :, 22:28] = 128
        return images, labels

    cfg = ClassifierConfig(steps=60, batch_size=16, lr=3e-3, width=4)
    for options in ({"practitioner": True}, {"adapt_to": 255 - bars(1)[0]}):   # target domain: inverted
        learned = train_classifier(*bars(0), 2, cfg, 0, **options).accuracy(*bars(2))
        blind = train_classifier(*bars(0, erase=True), 2, cfg, 0, **options).accuracy(*bars(2, erase=True))
        assert learned >= 0.9 and blind <= 0.7, (list(options), learned, blind)


def test_dann_moves_the_model_and_needs_target_images(tiny_images):
    a, b = tiny_images.splits["a_train"], tiny_images.splits["b_train"]
    cfg = ClassifierConfig(steps=4, batch_size=8, width=4)
    plain = train_classifier(a.images, a.labels, 10, cfg, 0)
    dann = train_classifier(a.images, a.labels, 10, cfg, 0, adapt_to=b.images)
    assert not torch.equal(plain.head[1].weight, dann.head[1].weight)   # the domain loss moved the model
    with pytest.raises(ValueError, match="adapt_to needs target images"):
        train_classifier(a.images, a.labels, 10, cfg, 0, adapt_to=b.images[:0])
