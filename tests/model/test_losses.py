"""Each loss equals an independent F.cross_entropy reference in value and gradient."""

import pytest
import torch
import torch.nn.functional as F

from model.losses import AMSoftmaxLoss, SimplerASoftmaxLoss, SoftmaxLoss, build_loss

B, D, C = 12, 16, 7


def _inputs(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(B, D, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, C, (B,), generator=generator)
    return embeddings, labels


def _reference(embeddings, weight, labels, scale, target_fn):
    """Written independently: explicit one-hot margin on normalised cosines, then CE."""
    cos = (embeddings / embeddings.norm(dim=1, keepdim=True)) @ (
        weight / weight.norm(dim=1, keepdim=True)
    ).T
    onehot = F.one_hot(labels, C).to(cos.dtype)
    target = (cos * onehot).sum(1, keepdim=True)
    logits = cos * (1 - onehot) + target_fn(target) * onehot
    return F.cross_entropy(scale * logits, labels)


def _cos4(c):
    return torch.cos(4 * torch.acos(c.clamp(-1, 1)))


CASES = [
    (lambda: SoftmaxLoss(D, C, scale=30.0), lambda t: t),
    (lambda: AMSoftmaxLoss(D, C, scale=30.0, margin=0.35), lambda t: t - 0.35),
    (lambda: SimplerASoftmaxLoss(D, C, scale=30.0), lambda t: torch.minimum(t, _cos4(t))),
]


@pytest.mark.parametrize(("make_loss", "target_fn"), CASES)
def test_value_and_gradient_match_reference(make_loss, target_fn):
    # The head's random start comes from the global generator: seeded, so that the check
    # does not depend on which tests ran before (a full run once drew a start whose
    # float64 gradients differed by 3e-6).
    torch.manual_seed(0)
    loss_fn = make_loss().double()
    embeddings, labels = _inputs()
    emb_a = embeddings.clone().requires_grad_(True)
    loss = loss_fn(emb_a, labels)
    loss.backward()

    emb_b = embeddings.clone().requires_grad_(True)
    weight_b = loss_fn.head.weight.detach().clone().requires_grad_(True)
    reference = _reference(emb_b, weight_b, labels, 30.0, target_fn)
    reference.backward()

    torch.testing.assert_close(loss, reference.to(loss.dtype), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(emb_a.grad, emb_b.grad.to(emb_a.dtype), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(
        loss_fn.head.weight.grad, weight_b.grad.to(emb_a.dtype), rtol=1e-5, atol=1e-6
    )


def test_am_softmax_with_zero_margin_equals_softmax():
    embeddings, labels = _inputs(1)
    plain = SoftmaxLoss(D, C)
    am = AMSoftmaxLoss(D, C, margin=0.0)
    am.load_state_dict(plain.state_dict())
    torch.testing.assert_close(am(embeddings.float(), labels), plain(embeddings.float(), labels))


def test_margin_only_touches_the_target_logit():
    embeddings, labels = _inputs(2)
    am = AMSoftmaxLoss(D, C, scale=30.0, margin=0.35)
    plain = SoftmaxLoss(D, C, scale=30.0)
    plain.load_state_dict(am.state_dict())
    diff = plain.logits(embeddings.float(), labels) - am.logits(embeddings.float(), labels)
    expected = F.one_hot(labels, C).float() * 30.0 * 0.35
    torch.testing.assert_close(diff, expected)


def test_cos4_polynomial_equals_trigonometric_form():
    c = torch.linspace(-1, 1, 101, dtype=torch.float64)
    loss = SimplerASoftmaxLoss(D, C)
    torch.testing.assert_close(loss.target_cosine(c), torch.minimum(c, _cos4(c)))


def test_large_scale_is_numerically_stable():
    embeddings, labels = _inputs(3)
    loss = AMSoftmaxLoss(D, C, scale=1e4)(embeddings.float(), labels)
    assert torch.isfinite(loss)


def test_config_dict_and_builder():
    assert build_loss("am_softmax", D, C).get_config_dict() == {
        "loss": "am_softmax",
        "scale": 30.0,
        "margin": 0.35,
    }
    assert isinstance(build_loss("simpler_a_softmax", D, C), SimplerASoftmaxLoss)
    with pytest.raises(ValueError, match="unknown loss"):
        build_loss("hinge", D, C)


@pytest.mark.parametrize("name", ["softmax", "am_softmax", "simpler_a_softmax"])
def test_label_smoothing_matches_the_smoothed_reference(name):
    embeddings, labels = _inputs(4)
    smoothed = build_loss(name, D, C, label_smoothing=0.1).double()
    plain = build_loss(name, D, C).double()
    plain.load_state_dict(smoothed.state_dict())
    logits = plain.logits(embeddings, labels)
    # Independent form: (1 − ε) · NLL of the target + ε · mean NLL over all classes.
    log_p = torch.log_softmax(logits, dim=1)
    nll = -log_p.gather(1, labels[:, None]).squeeze(1)
    expected = (0.9 * nll + 0.1 * -log_p.mean(1)).mean()
    torch.testing.assert_close(smoothed(embeddings, labels), expected)
    assert smoothed(embeddings, labels) != plain(embeddings, labels)
    assert smoothed.get_config_dict()["label_smoothing"] == 0.1
    assert "label_smoothing" not in plain.get_config_dict()
