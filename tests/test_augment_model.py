"""Augmentations (sertools.augment) and the speech Transformer (sertools.models)
on padded batches."""
from __future__ import annotations

import pytest
import torch

from sertools.audio import Padded, pad_batch
from sertools.augment import Identity, SpecAugment, WeakAugment, time_shift
from sertools.models import SpeechTransformer

@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: on a shared, loaded CPU a second intra-op thread makes
    these runs tens of times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


LENGTHS = (40, 23, 9)
N_FEAT = 16


def _batch(seed=0, lengths=LENGTHS, n_feat=N_FEAT):
    """A padded batch whose real frames are all non-zero (values in [1, 2))."""
    g = torch.Generator().manual_seed(seed)
    return pad_batch([1.0 + torch.rand(n, n_feat, generator=g) for n in lengths])


def test_pad_batch_layout():
    b = _batch()
    assert b.x.shape == (3, 40, N_FEAT) and b.mask.shape == (3, 40)
    assert b.mask.sum(1).tolist() == list(LENGTHS)
    assert (b.x[~b.mask] == 0).all() and (b.x[b.mask] != 0).all()


@pytest.mark.parametrize("aug", [WeakAugment(), WeakAugment(noise_std=0.5, dropout=0.3, max_shift=10),
                                 SpecAugment(), SpecAugment(time_warp=3)],
                         ids=["weak", "weak-strong-settings", "specaugment", "specaugment-warp"])
def test_augment_keeps_shape_mask_and_zero_padding(aug):
    torch.manual_seed(0)
    b = _batch()
    out = aug(b)
    assert isinstance(out, Padded)
    assert out.x.shape == b.x.shape
    assert torch.equal(out.mask, b.mask)
    assert (out.x[~b.mask] == 0).all(), "padding must stay zero"
    assert not torch.equal(out.x, b.x), "the augmentation changed nothing"
    assert torch.equal(b.x, _batch().x), "the input batch was modified in place"


def test_specaugment_without_noise_only_zeroes_whole_bands():
    torch.manual_seed(0)
    b = _batch()
    aug = SpecAugment(freq_mask=5, time_mask=8, n_freq_masks=2, n_time_masks=2, noise_std=0.0)
    out = aug(b)
    changed = out.x != b.x
    # every changed value is a masked one (0); everything else is the input exactly
    assert (out.x[changed] == 0).all()
    assert torch.equal(out.x[~changed], b.x[~changed])
    total_masked = 0
    for i, n in enumerate(LENGTHS):
        z = out.x[i, :n] == 0                     # (T_i, F), input is never 0 there
        total_masked += int(z.sum())
        full_frames = z.all(1)                    # time-masked frames
        full_bins = z.all(0)                      # frequency-masked bins (over the clip's frames)
        # each zero lies on a fully masked frame or a fully masked bin: masks are bands, not speckles
        assert (z <= (full_frames[:, None] | full_bins[None, :])).all()
    assert total_masked > 0, "no bin or frame was masked"


def test_specaugment_time_warp_stays_within_each_clip():
    """A time warp interpolates between a clip's own frames (all in [1, 2] here),
    so no real frame may come out below 1: that would be padding pulled in.

    Fails today: ``SpecAugment.warp`` draws one centre and one warp for the
    whole batch over the padded length T and interpolates x[:, :c] and
    x[:, c:] as a block, so for a clip shorter than T the zeros after its end
    are squeezed into (or its last frames stretched out past) its real frames.
    """
    leaks = []
    for seed in range(20):
        torch.manual_seed(seed)
        b = _batch()
        out = SpecAugment(n_freq_masks=0, n_time_masks=0, noise_std=0.0, time_warp=4)(b)
        assert out.x.shape == b.x.shape and (out.x[~b.mask] == 0).all()
        for i, n in enumerate(LENGTHS):
            low = float(out.x[i, :n].min())
            if low < 1.0 - 1e-5:
                leaks.append(f"seed {seed}, clip {i} (length {n} of {b.x.shape[1]}): min {low:.3f}")
    assert not leaks, "padding leaked into real frames: " + "; ".join(leaks)


def test_specaugment_masks_are_drawn_per_clip():
    torch.manual_seed(1)
    b = pad_batch([1.0 + torch.rand(30, N_FEAT) for _ in range(8)])
    out = SpecAugment(freq_mask=6, time_mask=10, noise_std=0.0)(b)
    patterns = {tuple((out.x[i] == 0).flatten().tolist()) for i in range(8)}
    assert len(patterns) > 1


def test_specaugment_noise_is_added_on_real_frames():
    torch.manual_seed(0)
    b = _batch()
    out = SpecAugment(n_freq_masks=0, n_time_masks=0, noise_std=0.2)(b)
    diff = (out.x - b.x)[b.mask]
    assert 0.1 < float(diff.std()) < 0.3


def test_weak_augment_is_gentle():
    torch.manual_seed(0)
    b = _batch()
    out = WeakAugment(noise_std=0.1, dropout=0.0, max_shift=0)(b)
    diff = (out.x - b.x)[b.mask]
    assert 0.05 < float(diff.std()) < 0.15
    assert float(diff.mean()) == pytest.approx(0.0, abs=0.02)


@pytest.mark.parametrize("aug", [WeakAugment(), SpecAugment()], ids=["weak", "specaugment"])
def test_plain_sequence_tensors_work(aug):
    torch.manual_seed(0)
    x = 1.0 + torch.rand(4, 20, N_FEAT)
    out = aug(x)
    assert isinstance(out, torch.Tensor) and out.shape == x.shape
    assert not torch.equal(out, x)


def test_plain_vectors_work():
    torch.manual_seed(0)
    x = 1.0 + torch.rand(64, N_FEAT)
    weak = WeakAugment()(x)
    assert isinstance(weak, torch.Tensor) and weak.shape == x.shape
    out = SpecAugment(freq_mask=5, noise_std=0.0)(x)
    assert isinstance(out, torch.Tensor) and out.shape == x.shape
    changed = out != x
    assert changed.any(), "no feature was masked"
    assert (out[changed] == 0).all()
    assert torch.equal(out[~changed], x[~changed])


def test_identity_is_identity():
    b = _batch()
    assert Identity()(b) is b


def test_time_shift_keeps_each_sequence_multiset_and_padding():
    torch.manual_seed(0)
    lengths = (12, 7, 3, 1)
    # one feature whose value is the frame's own id: every frame is distinct
    seqs = [torch.arange(n, dtype=torch.float32)[:, None] + 100 * (i + 1) for i, n in enumerate(lengths)]
    b = pad_batch(seqs)
    shifted_any = False
    for _ in range(10):
        out = time_shift(b.x, b.mask, max_shift=4)
        assert out.shape == b.x.shape
        for i, n in enumerate(lengths):
            orig, new = b.x[i, :n, 0], out[i, :n, 0]
            assert sorted(new.tolist()) == sorted(orig.tolist())
            assert (out[i, n:] == 0).all()
            # a circular shift within the sequence's own length
            assert any(torch.equal(new, torch.roll(orig, k)) for k in range(n))
            shifted_any |= not torch.equal(new, orig)
    assert shifted_any


def test_time_shift_without_mask_rolls_whole_rows():
    torch.manual_seed(0)
    x = torch.arange(10, dtype=torch.float32).repeat(3, 1)[..., None]
    out = time_shift(x, None, max_shift=3)
    for i in range(3):
        assert any(torch.equal(out[i, :, 0], torch.roll(x[i, :, 0], k)) for k in range(-3, 4))


# ------------------------------------------------------------ the model

@pytest.mark.parametrize("subsample", [1, 2, 4, 8])
def test_transformer_pooled_embedding_ignores_padding(subsample):
    torch.manual_seed(0)
    model = SpeechTransformer(N_FEAT, 4, d_model=16, n_heads=2, n_layers=2, dim_ff=32, subsample=subsample).eval()
    short, long_ = torch.randn(13, N_FEAT), torch.randn(37, N_FEAT)   # odd lengths on purpose
    with torch.no_grad():
        alone = model.embed(pad_batch([short]))[0]
        padded = model.embed(pad_batch([short, long_]))[0]
        padded_first = model.embed(pad_batch([long_, short]))[1]
        logits_alone = model(pad_batch([short]))[0]
        logits_batch = model(pad_batch([long_, short]))[1]
    torch.testing.assert_close(padded, alone, atol=1e-5, rtol=0)
    torch.testing.assert_close(padded_first, alone, atol=1e-5, rtol=0)
    torch.testing.assert_close(logits_batch, logits_alone, atol=1e-5, rtol=0)


def test_transformer_padding_values_do_not_leak():
    torch.manual_seed(0)
    model = SpeechTransformer(N_FEAT, 3, d_model=16, n_heads=2, n_layers=1, dim_ff=32).eval()
    b = _batch()
    garbage = Padded(torch.where(b.mask[..., None], b.x, torch.full_like(b.x, 50.0)), b.mask)
    with torch.no_grad():
        torch.testing.assert_close(model.embed(garbage), model.embed(b), atol=1e-5, rtol=0)


def test_transformer_shapes_and_plain_tensor_input():
    torch.manual_seed(0)
    model = SpeechTransformer(N_FEAT, 3, d_model=16, n_heads=2, n_layers=1, dim_ff=32).eval()
    b = _batch()
    with torch.no_grad():
        assert model(b).shape == (3, 3)
        assert model.embed(b).shape == (3, 16)
        x = torch.randn(2, 20, N_FEAT)
        full = pad_batch([x[0], x[1]])
        torch.testing.assert_close(model(x), model(full), atol=1e-5, rtol=0)
    # different clips give different embeddings (the pooling is not degenerate)
    e = model.embed(b)
    assert not torch.allclose(e[0], e[1], atol=1e-3)


def _library_and_kit_encoders(dropout: float):
    """Two 2-layer encoders of the same seed: nn.TransformerEncoderLayer's and the kit's EncoderLayer,
    the latter with the library's nn.Dropout put back, so that both draw the same masks."""
    from torch import nn
    from sertools.models import EncoderLayer, transformer_encoder
    encs = []
    for cls in (nn.TransformerEncoderLayer, EncoderLayer):
        torch.manual_seed(1)
        encs.append(transformer_encoder(32, 4, 2, 64, dropout, attn_dropout=0.0, layer=cls))
    for layer in encs[1].layers:
        layer.dropout, layer.dropout1, layer.dropout2 = (nn.Dropout(dropout) for _ in range(3))
    return encs


def test_kit_dropout_keeps_each_value_with_probability_one_minus_p_and_scales_it():
    from sertools.models import Dropout, EncoderLayer
    x = torch.full((200, 500), 3.0)
    torch.manual_seed(0)
    y = Dropout(0.2).train()(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.8) < 0.005       # 100 000 draws: sd of the share 0.0013
    assert torch.allclose(y[kept], torch.tensor(3.0 / 0.8))     # kept values scaled by 1 / (1 - p)
    assert abs(y.mean().item() - 3.0) < 0.03                    # so the expectation is unchanged
    assert torch.equal(Dropout(0.2).eval()(x), x) and torch.equal(Dropout(0.0).train()(x), x)
    assert torch.equal(Dropout(1.0).train()(x), torch.zeros_like(x))
    z = torch.randn(50, 50, requires_grad=True)
    torch.manual_seed(1)
    out = Dropout(0.5).train()(z)
    out.sum().backward()
    assert torch.equal(z.grad, (out != 0).float() * 2.0)        # the gradient flows through the kept values only
    torch.manual_seed(2)
    assert not torch.equal(Dropout(0.5).train()(x), Dropout(0.5).train()(x))  # a new mask each call
    layer = EncoderLayer(16, 2, 32, 0.1, batch_first=True, norm_first=True)
    assert all(isinstance(getattr(layer, n), Dropout) for n in ("dropout", "dropout1", "dropout2"))


def test_kit_encoder_layer_computes_what_the_library_layer_does():
    x = torch.randn(6, 20, 32)
    pad = torch.zeros(6, 20, dtype=torch.bool)
    pad[:3, 12:] = True
    lib, kit = _library_and_kit_encoders(dropout=0.2)
    assert all(torch.equal(a, b) for a, b in zip(lib.state_dict().values(), kit.state_dict().values()))
    # training, dropout on: the same seed draws the same masks on the same elements
    outs = []
    for enc in (lib, kit):
        torch.manual_seed(5)
        y = enc.train()(x, src_key_padding_mask=pad)
        y[~pad].square().sum().backward()
        outs.append(y)
    assert torch.equal(outs[0][~pad], outs[1][~pad])
    for a, b in zip(lib.parameters(), kit.parameters()):
        assert torch.allclose(a.grad, b.grad, rtol=1e-4, atol=1e-4)
    with torch.no_grad():  # evaluation: the library's fused inference path against the kit's
        ya, yb = lib.eval()(x, src_key_padding_mask=pad), kit.eval()(x, src_key_padding_mask=pad)
    assert torch.allclose(ya[~pad], yb[~pad], atol=1e-5)
    assert not torch.allclose(outs[1][~pad], yb[~pad], atol=1e-3)  # the dropout really was on in training
