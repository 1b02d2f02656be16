"""The training loop (sertools.train), run records, and the config/method
factories, on a tiny two-moons toy (no speech, no corpus: fast)."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons
from torch import nn

from sertools.config import ConfigError, get_config, parse_sets
from sertools.methods import METHODS, make_method
from sertools.methods.base import Method, supervised_loss
from sertools.train import RunRecord, TrainingError, fit, predict
from sertools.views import Split, Views


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: on a shared, loaded CPU a second intra-op thread makes
    these runs tens of times slower (measured 0.25 s vs 13-22 s per run)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ------------------------------------------------------------------ the toy

def toy_views(seed: int = 0, n_per_class: int = 4) -> Views:
    """Two moons: 4 labels per class, 300 unlabeled points (with a face view
    right 80 % of the time, a few rows NaN), 100 validation and 200 test."""
    X, y = make_moons(n_samples=700, noise=0.1, random_state=0)
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    rng = np.random.default_rng(seed)
    lab = np.concatenate([rng.choice(np.flatnonzero(y[:100].numpy() == c), n_per_class, replace=False)
                          for c in (0, 1)])
    unl, val, test = np.arange(100, 400), np.arange(400, 500), np.arange(500, 700)
    right = torch.as_tensor(rng.random(len(unl)) < 0.8)
    face_label = torch.where(right, y[unl], 1 - y[unl])
    face = torch.full((len(unl), 2), 0.1)
    face[torch.arange(len(unl)), face_label] = 0.9
    face[:5] = float("nan")
    sp = lambda i: Split(x=X[i], y=y[i])  # noqa: E731
    u = sp(unl)
    u.face = face
    return Views(labeled=sp(lab), unlabeled=u, val=sp(val), test=sp(test), classes=("a", "b"), n_in=2)


def mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))


class EmbedMLP(nn.Module):
    """An MLP with an ``embed``/``head`` split, as the speech model has."""

    def __init__(self, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.body = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU())
        self.head = nn.Linear(16, 2)

    def embed(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.embed(x))


def weak(x):
    return x + 0.05 * torch.randn_like(x)


def strong(x):
    return x + 0.15 * torch.randn_like(x)


def tcfg_for(**kw):
    base = dict(steps=40, eval_every=10, batch_size=8, mu=4, lr=1e-2, specaugment=False, device="cpu")
    return get_config("quick", **{**base, **kw})[1]


@pytest.fixture(scope="module")
def views():
    return toy_views()


def _fit(name, views, seed=0, model=None, **kw):
    tcfg = tcfg_for(seed=seed, **kw)
    return fit(make_method(name, tcfg), model or mlp(seed), views, tcfg, progress=False, weak=weak, strong=strong)


def _history_without_time(rec):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rec.history]


def _same_history(a, b):
    ha, hb = _history_without_time(a), _history_without_time(b)
    assert len(ha) == len(hb)
    for ra, rb in zip(ha, hb):
        assert ra.keys() == rb.keys()
        for k in ra:
            assert (math.isnan(ra[k]) and math.isnan(rb[k])) or ra[k] == rb[k], (k, ra[k], rb[k])


# ------------------------------------------------------------ repeatability

@pytest.mark.parametrize("name", ["fixmatch", "fusion_consistent", "mean_teacher"])
def test_seeded_run_repeats_exactly(views, name):
    a = _fit(name, views, seed=0)
    b = _fit(name, views, seed=0)
    assert a.metrics == b.metrics
    np.testing.assert_array_equal(a.y_pred, b.y_pred)
    np.testing.assert_array_equal(a.probs, b.probs)
    _same_history(a, b)
    assert a.state_dict.keys() == b.state_dict.keys()
    for k in a.state_dict:
        assert torch.equal(a.state_dict[k], b.state_dict[k]), k


def test_another_seed_gives_another_run(views):
    a = _fit("fixmatch", views, seed=0)
    c = _fit("fixmatch", views, seed=1)
    assert not np.array_equal(a.probs, c.probs)


def test_the_loop_seeds_augmentation_and_batches_itself(views):
    """Same initial weights, global RNG disturbed in between: fit re-seeds, so the runs agree."""
    a = _fit("fixmatch", views, seed=0)
    model = mlp(0)
    torch.rand(1000), np.random.rand(1000)  # disturb the global generators
    b = _fit("fixmatch", views, seed=0, model=model)
    np.testing.assert_array_equal(a.probs, b.probs)


def test_path_seed_changes_the_training_path_and_not_the_labeled_batches(views, monkeypatch):
    """A twin (another path_seed) draws the same labeled batches as its run and trains another path; another
    seed draws other batches (the control). path_seed equal to the seed is the run itself."""
    import sertools.train as train
    drawn, real = [], train.make_batch

    def spy(views_, lab_idx, *a, **kw):
        drawn[-1].append(lab_idx.tolist())
        return real(views_, lab_idx, *a, **kw)
    monkeypatch.setattr(train, "make_batch", spy)
    recs = {}
    for tag, kw in (("run", {}), ("same", dict(path_seed=0)), ("twin", dict(path_seed=7)), ("seed 1", dict(seed=1))):
        drawn.append([])
        recs[tag] = _fit("fixmatch", views, **kw)
    run, same, twin, other = drawn
    assert twin == run and same == run
    assert other != run
    np.testing.assert_array_equal(recs["same"].probs, recs["run"].probs)
    assert not np.array_equal(recs["twin"].probs, recs["run"].probs)


@pytest.mark.parametrize("name", [n for n in METHODS if METHODS[n].uses_unlabeled])
def test_no_method_learns_from_hidden_unlabeled_labels(views, name):
    """u_y is only for logging pseudo-label accuracy: hiding it changes no number."""
    hidden = Views(labeled=views.labeled, unlabeled=Split(views.unlabeled.x, torch.full_like(views.unlabeled.y, -1),
                                                          face=views.unlabeled.face),
                   val=views.val, test=views.test, classes=views.classes, n_in=2)
    a = _fit(name, views, steps=20, finetune_steps=10)
    b = _fit(name, hidden, steps=20, finetune_steps=10)
    np.testing.assert_array_equal(a.probs, b.probs)
    assert a.metrics == b.metrics


# ------------------------------------------------------------- run record

def test_record_contents(views):
    rec = _fit("fixmatch", views, steps=40, eval_every=10)
    assert rec.method == "fixmatch"
    assert [h["step"] for h in rec.history] == [10, 20, 30, 40]
    assert {"loss", "val_ua", "val_wa", "mask_rate", "pl_acc", "w_u"} <= set(rec.history[0])
    assert rec.y_true.tolist() == views.test.y.tolist()
    assert rec.probs.shape == (len(views.test), 2)
    np.testing.assert_allclose(rec.probs.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(rec.y_pred, rec.probs.argmax(1))
    assert set(rec.metrics) >= {"wa", "ua", "f1", "macro_f1", "best_val_ua"}
    assert rec.metrics["best_val_ua"] == pytest.approx(max(h["val_ua"] for h in rec.history))
    assert rec.config["method.tau"] == 0.95 and rec.config["steps"] == 40
    assert rec.classes == ("a", "b")


def test_record_saves_and_loads_back(views, tmp_path, monkeypatch):
    rec = _fit("fusion_weighted", views, model=EmbedMLP(0))
    assert rec.embeddings is not None and rec.embeddings.shape == (len(views.test), 16)
    path = rec.save(tmp_path / "run")
    assert {p.name for p in path.iterdir()} >= {"record.json", "arrays.npz", "weights.pt"}

    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    back = RunRecord.load(path)
    monkeypatch.undo()
    assert calls and all(c.get("weights_only") is True for c in calls), f"torch.load called with {calls}"

    assert back.method == rec.method and back.classes == rec.classes
    assert back.metrics == rec.metrics
    assert back.config == rec.config
    assert back.seconds == rec.seconds
    _same_history(back, rec)
    for k in ("y_true", "y_pred", "probs", "embeddings"):
        np.testing.assert_array_equal(getattr(back, k), getattr(rec, k))
    assert back.state_dict.keys() == rec.state_dict.keys()
    for k in rec.state_dict:
        assert torch.equal(back.state_dict[k], rec.state_dict[k]), k

    # the saved weights alone reproduce the saved predictions
    model = EmbedMLP(123)
    model.load_state_dict(torch.load(path / "weights.pt", weights_only=True))
    np.testing.assert_allclose(predict(model, views.test, "cpu"), rec.probs, rtol=0, atol=1e-6)


def test_record_without_weights_or_embeddings_round_trips(views, tmp_path):
    rec = _fit("supervised", views, steps=10)
    assert rec.embeddings is None          # an nn.Sequential has no embed()
    rec.state_dict = None
    back = RunRecord.load(rec.save(tmp_path / "r"))
    assert back.state_dict is None and back.embeddings is None
    np.testing.assert_array_equal(back.y_pred, rec.y_pred)


# --------------------------------------------------------------- NaN guard

class NaNAtStep3(Method):
    name = "nan_at_3"
    defaults = dict(Method.defaults)
    uses_unlabeled = False

    def setup(self, model, n_unlabeled, n_classes, steps=None):
        self.calls = 0

    def step(self, model, batch, weak, strong, progress):
        self.calls += 1
        loss = supervised_loss(model, batch, weak)
        return (loss * float("nan") if self.calls == 3 else loss), {}


def test_nan_loss_stops_training_and_names_the_step(views):
    m = NaNAtStep3()
    model = mlp(0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(TrainingError, match=r"\bstep 3\b") as e:
        fit(m, model, views, tcfg_for(steps=10), progress=False, weak=weak, strong=strong)
    assert m.calls == 3                    # stopped at once
    assert "nan" in str(e.value).lower()
    assert isinstance(e.value.record, RunRecord) and e.value.record.method == "nan_at_3"
    # steps 1 and 2 were taken; the NaN never reached the weights
    after = model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert all(torch.isfinite(v).all() for v in after.values())


def test_inf_loss_is_caught_too(views):
    class InfLoss(NaNAtStep3):
        def step(self, model, batch, weak, strong, progress):
            loss, logs = super().step(model, batch, weak, strong, progress)
            return (loss + float("inf") if self.calls == 2 else loss.nan_to_num()), logs

    with pytest.raises(TrainingError, match=r"\bstep 2\b"):
        fit(InfLoss(), mlp(0), views, tcfg_for(steps=10), progress=False, weak=weak, strong=strong)


def test_cross_modal_method_without_faces_is_refused(views):
    no_face = Views(labeled=views.labeled, unlabeled=Split(views.unlabeled.x, views.unlabeled.y),
                    val=views.val, test=views.test, classes=views.classes, n_in=2)
    with pytest.raises(ValueError, match="face"):
        _fit("fusion_weighted", no_face)


def test_ema_evaluation_runs(views):
    a = _fit("supervised", views, steps=20)
    b = _fit("supervised", views, steps=20, ema_eval=0.9)
    assert b.config["ema_eval"] == 0.9
    assert not np.array_equal(a.probs, b.probs)   # an average of weights, not the last ones


# ------------------------------------------------------------------ config

def test_out_of_range_value_names_key_and_range():
    with pytest.raises(ConfigError) as e:
        get_config("quick", tau=1.5)
    msg = str(e.value)
    assert "tau" in msg and "1.5" in msg and "[0.0, 1.0]" in msg
    with pytest.raises(ConfigError) as e:
        get_config("quick", n_labeled=0)
    msg = str(e.value)
    assert "n_labeled" in msg and "[1, 1000000]" in msg
    with pytest.raises(ConfigError, match=r"mu.*\[1, 64\]"):
        get_config("quick", mu=65)
    with pytest.raises(ConfigError, match=r"face_voice_agreement"):   # a corpus key
        get_config("quick", face_voice_agreement=-0.1)


@pytest.mark.parametrize("key, value", [("steps", 2.5), ("steps", None), ("batch_size", None)])
def test_values_of_the_wrong_kind_name_the_key(key, value):
    """An integer count given as 2.5 or None is out of its documented range
    [1, ...] too; today it is accepted, and ``fit`` later fails far away
    with TypeError: "'float' object cannot be interpreted as an integer"
    (steps=2.5), "unsupported operand type(s) for //: 'NoneType' and 'int'"
    (steps=None), "'<' not supported between instances of 'int' and
    'NoneType'" (batch_size=None). ``check_value`` returns early for None
    and never checks the type."""
    with pytest.raises(ConfigError, match=key):
        get_config("quick", **{key: value})


def test_optional_knobs_may_be_none():
    _, t = get_config("quick", tau=None, lambda_u=None)
    assert t.tau is None and t.lambda_u is None


def test_values_at_the_range_ends_are_allowed():
    _, t = get_config("quick", tau=1.0, n_labeled=1, mu=64, alpha=0.0, epsilon=1.0)
    assert (t.tau, t.n_labeled, t.mu, t.alpha, t.epsilon) == (1.0, 1, 64, 0.0, 1.0)


def test_unknown_key_and_value_choices():
    with pytest.raises(ConfigError, match="unknown config key 'taux'"):
        get_config("quick", taux=0.5)
    with pytest.raises(ConfigError, match=r"aggregate='median'.*mean.*max.*logit_mean.*vote"):
        get_config("quick", aggregate="median")
    with pytest.raises(ConfigError, match="preset"):
        get_config("huge")
    with pytest.raises(ConfigError, match="d_model.*n_heads"):
        get_config("quick", d_model=30, n_heads=4)


def test_config_errors_are_value_errors():
    assert issubclass(ConfigError, ValueError)


def test_presets_and_overrides():
    c, t = get_config("quick")
    assert (t.steps, t.mu, c.n_train) == (60, 2, 160)
    c, t = get_config("quick", seed=5, steps=7, corpus_seed=2)
    assert t.seed == 5 and t.steps == 7 and c.corpus_seed == 2
    assert not hasattr(c, "seed")      # a run's seed varies labels and training, not the simulated world


def test_parse_sets():
    assert parse_sets(["tau=0.9", " mu = 2 ", "aggregate=logit_mean", "note=a=b"]) == \
        {"tau": "0.9", "mu": "2", "aggregate": "logit_mean", "note": "a=b"}
    assert parse_sets(None) == {} and parse_sets([]) == {}
    with pytest.raises(ConfigError, match="key=value.*'tau0.9'"):
        parse_sets(["tau0.9"])


def test_set_strings_are_coerced_to_field_types():
    sets = parse_sets(["tau=0.9", "mu=2", "specaugment=false", "lr=1e-3", "aggregate=max", "seed=3",
                       "soft_targets=Yes", "dropout=0", "face_voice_agreement=0.5", "corpus_seed=4"])
    c, t = get_config("quick", **sets)
    assert t.tau == 0.9 and isinstance(t.tau, float)
    assert t.mu == 2 and type(t.mu) is int
    assert t.specaugment is False and t.soft_targets is True
    assert t.lr == pytest.approx(1e-3) and isinstance(t.lr, float)
    assert t.dropout == 0.0 and isinstance(t.dropout, float)
    assert t.aggregate == "max"
    assert t.seed == 3 and type(t.seed) is int
    assert c.corpus_seed == 4 and type(c.corpus_seed) is int
    assert c.face_voice_agreement == 0.5
    _, t = get_config("quick", tau="none", lambda_u="2")
    assert t.tau is None and t.lambda_u == 2.0


@pytest.mark.parametrize("pair, pattern", [
    ("mu=2.5", r"mu='2\.5'.*int"),
    ("steps=many", r"steps='many'.*int"),
    ("specaugment=maybe", r"specaugment='maybe'.*bool"),
    ("tau=high", r"tau='high'.*number"),
    ("lr=fast", r"lr='fast'.*float"),
    ("mu=0", r"mu=0 .*\[1, 64\]"),             # coerced first, then checked against the range
    ("tau=2", r"tau=2\.0 .*\[0\.0, 1\.0\]"),
])
def test_bad_set_strings_name_the_key(pair, pattern):
    with pytest.raises(ConfigError, match=pattern):
        get_config("quick", **parse_sets([pair]))


# ---------------------------------------------------------------- methods

def test_make_method_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError) as e:
        make_method("fixmach")
    msg = str(e.value)
    assert "fixmach" in msg
    for name in ("supervised", "fixmatch", "fusion_weighted", "dcmkt_finetune"):
        assert name in msg


def test_make_method_unknown_parameter_lists_the_known_ones():
    with pytest.raises(TypeError) as e:
        make_method("fixmatch", taux=0.5)
    msg = str(e.value)
    assert "taux" in msg and "tau" in msg and "lambda_u" in msg
    with pytest.raises(TypeError, match="epsilon"):
        make_method("fusion_weighted", epsilon=0.5)   # a knob of the other fusion rule
    with pytest.raises(TypeError, match="bogus"):
        METHODS["pi_model"](bogus=1)


def test_make_method_takes_knobs_from_config_and_keywords():
    _, t = get_config("quick")
    assert make_method("fixmatch", t).tau == 0.95          # tau None in the config: the method's default
    _, t = get_config("quick", tau=0.8, alpha=0.4, epsilon=0.1)
    assert make_method("fixmatch", t).tau == 0.8
    assert make_method("fusion_weighted", t).alpha == 0.4
    assert make_method("fusion_consistent", t).epsilon == 0.1
    assert make_method("fixmatch", t, tau=0.7).tau == 0.7  # a keyword wins over the config
    assert set(METHODS) == {"supervised", "pseudo_label", "pi_model", "temporal_ensembling", "mean_teacher",
                            "fixmatch", "dcmkt", "dcmkt_finetune", "fusion_consistent", "fusion_weighted"}
    assert all(METHODS[n].name == n for n in METHODS)


def test_dcmkt_finetune_spends_the_common_step_budget(views):
    """Fine-tuning is the last finetune_steps of the same budget, not extra steps."""
    rec = _fit("dcmkt_finetune", views, steps=20, eval_every=10, finetune_steps=10)
    assert [h["step"] for h in rec.history] == [10, 20]
    assert "finetune" not in rec.history[0] and rec.history[-1].get("finetune") == 1.0
    with pytest.raises(ValueError, match="finetune_steps=20"):
        _fit("dcmkt_finetune", views, steps=20, finetune_steps=20)


@pytest.mark.parametrize("name", ["supervised", "fixmatch", "mean_teacher", "dcmkt_finetune", "fusion_consistent"])
def test_every_method_takes_the_same_steps_and_evaluations(views, name):
    rec = _fit(name, views, steps=20, eval_every=5, finetune_steps=8)
    assert [h["step"] for h in rec.history] == [5, 10, 15, 20]


def test_labeled_batches_are_the_same_for_every_method_of_a_seed():
    """The labeled stream has its own generator: methods that also draw unlabeled
    batches see the same labeled batches as the baseline, so seeds are paired."""
    from sertools.train import batch_streams
    _, t = get_config("quick", seed=3)
    sup, none = batch_streams(40, 100, t, use_unlabeled=False)
    ssl, unl = batch_streams(40, 100, t, use_unlabeled=True)
    assert none is None
    for _ in range(5):
        a, b, _ = next(sup), next(ssl), next(unl)  # the unlabeled stream moves on too
        assert torch.equal(a, b)
    assert not torch.equal(next(batch_streams(40, 100, get_config("quick", seed=4)[1], False)[0]), next(sup))


def test_balanced_batches_draw_every_class_alike_whatever_the_prior():
    """The ceiling's labeled batches (balance=True): a pool of 70 % class 0 gives batches with each of the
    four classes about a quarter of the time; without balance the batches keep the pool's prior."""
    from sertools.train import batch_streams
    labels = torch.tensor([0] * 140 + [1] * 20 + [2] * 20 + [3] * 20)
    for balance, share0 in ((True, 0.25), (False, 0.70)):
        _, t = get_config("quick", seed=0, balance=balance)
        lab, _ = batch_streams(len(labels), 0, t, use_unlabeled=False, labels=labels)
        drawn = torch.cat([labels[next(lab)] for _ in range(400)])
        shares = torch.bincount(drawn, minlength=4).double() / len(drawn)
        assert abs(shares[0].item() - share0) < 0.03, (balance, shares)


def test_labeled_batches_in_fit_do_not_depend_on_the_method(views, monkeypatch):
    """Record the labeled indices fit draws for supervised and fixmatch."""
    import sertools.train as train_mod
    seen = {}
    real = train_mod.make_batch

    def spy(views_, lab_idx, unl_idx, device, *crop):
        seen.setdefault(current, []).append(lab_idx.tolist())
        return real(views_, lab_idx, unl_idx, device, *crop)

    monkeypatch.setattr(train_mod, "make_batch", spy)
    for current in ("supervised", "fixmatch", "pi_model"):
        _fit(current, views, steps=6)
    assert seen["supervised"] == seen["fixmatch"] == seen["pi_model"]


def test_a_training_window_is_a_slice_of_its_clip_at_a_random_start():
    """Split.inputs(crop=10): longer clips are cut to 10 frames at a start uniform over
    the clip, shorter ones stay whole; the mask says which frames are real."""
    lengths = [5, 12, 30, 8]
    seqs = [torch.arange(L, dtype=torch.float32)[:, None].repeat(1, 3) + 1000 * i for i, L in enumerate(lengths)]
    sp = Split.from_sequences(seqs, [0, 1, 2, 3])
    g = torch.Generator().manual_seed(0)
    starts = {1: set(), 2: set()}
    for _ in range(60):
        b = sp.inputs(torch.arange(4), crop=10, generator=g)
        assert b.x.shape == (4, 10, 3) and b.mask.sum(1).tolist() == [5, 10, 10, 8]
        for i, L in enumerate(lengths):
            n = min(L, 10)
            v = b.x[i, :n, 0] - 1000 * i
            assert torch.equal(v, v[0] + torch.arange(n, dtype=torch.float32)), "a window is contiguous"
            assert 0 <= v[0] and v[-1] <= L - 1, "and inside its clip"
            assert (b.x[i, n:] == 0).all()
            if i in starts:
                starts[i].add(int(v[0]))
    assert starts[1] == {0, 1, 2} and len(starts[2]) > 12   # every start of a 12-frame clip; 30 frames: 21 starts
    assert torch.equal(sp.inputs(torch.tensor([0, 3]), crop=10).x, sp.inputs(torch.tensor([0, 3])).x)
    assert torch.equal(sp.inputs(torch.arange(4), crop=0).x, sp.x)


def test_training_windows_of_the_labeled_batches_do_not_depend_on_the_method(monkeypatch):
    """With crop_s set, supervised and FixMatch see the same labeled windows for a seed
    (their starts have their own generator), and the unlabeled clips are cut too."""
    import sertools.train as train_mod
    from sertools.models import speech_model
    rng = np.random.default_rng(0)
    seqs = lambda n: [torch.randn(int(L), 6) for L in rng.integers(20, 60, n)]  # noqa: E731
    split = lambda n: Split.from_sequences(seqs(n), rng.integers(0, 2, n))  # noqa: E731
    seq_views = Views(split(24), split(48), split(16), split(16), classes=("a", "b"), n_in=6)
    tcfg = tcfg_for(steps=4, eval_every=4, crop_s=0.3, hop_ms=10.0)
    seen, real = {}, train_mod.make_batch

    def spy(*args):
        b = real(*args)
        seen.setdefault(current, []).append((b["x"], b.get("u")))
        return b

    monkeypatch.setattr(train_mod, "make_batch", spy)
    for current in ("supervised", "fixmatch"):
        fit(make_method(current, tcfg), speech_model(6, 2, tcfg), seq_views, tcfg, progress=False)
    for (a, _), (b, u) in zip(seen["supervised"], seen["fixmatch"]):
        assert a.x.shape[1] == 30 and torch.equal(a.x, b.x) and torch.equal(a.mask, b.mask)
        assert u.x.shape[1] == 30


def test_nan_check_deferred_to_the_evaluation_still_names_the_step(views, monkeypatch):
    """On a GPU the NaN check waits for the evaluation (no per-step sync); it must
    still name the first bad step. The GPU's interval is forced here on the CPU."""
    import sertools.train as train_mod
    monkeypatch.setattr(train_mod, "nan_check_every", lambda device, tcfg: tcfg.eval_every)
    m = NaNAtStep3()
    with pytest.raises(TrainingError, match=r"\bstep 3\b"):
        fit(m, mlp(0), views, tcfg_for(steps=10, eval_every=5), progress=False, weak=weak, strong=strong)
    assert m.calls == 5                    # it ran on to the evaluation at step 5


def test_history_keys_follow_the_method(views):
    rec = _fit("supervised", views, steps=20)
    assert not re.search("mask_rate|pl_acc", " ".join(rec.history[0]))


# ------------------------------------------------------------- the GPU path, on the CPU

@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_mixed_precision_path_trains_on_the_cpu(views, amp):
    """The CUDA path (autocast, fp16's gradient scaler) exercised on the CPU so it cannot rot."""
    rec = _fit("fixmatch", views, steps=8, eval_every=4, amp=amp)
    assert np.isfinite(rec.probs).all() and rec.probs.dtype == np.float32
    assert [h["step"] for h in rec.history] == [4, 8]


def test_autocast_is_bf16_on_cuda_and_off_on_the_cpu_by_default():
    from sertools.train import autocast_for
    assert autocast_for(torch.device("cpu"), "auto")[1] is None
    assert autocast_for(torch.device("cuda"), "auto")[1] == torch.bfloat16
    assert autocast_for(torch.device("cuda"), "off")[1] is None


def test_views_move_to_a_device_whole(views):
    """A batch is then an index into device memory; on the same device nothing is copied."""
    assert views.to("cpu") is views
    moved = views.to("meta")
    assert moved.labeled.x.device.type == "meta" and moved.test.y.device.type == "meta"
    assert views.labeled.x.device.type == "cpu"            # the original stays where it was


# ------------------------------------------------- checkpoint selection and early stopping

def _fit_watching_test(views, monkeypatch, **kw):
    """A run, and the test UA of the model at each of its evaluations (a spy on
    the loop's validation predictions scores the same model on the test view)."""
    import sertools.train as train_mod
    from sertools.metrics import evaluate
    real, test_ua = train_mod.predict, []

    def spy(model, split, device, *a, **k):
        if split is views.val:
            P = real(model, views.test, device)
            test_ua.append(evaluate(views.test.y.numpy(), P.argmax(1), views.n_classes)["ua"])
        return real(model, split, device, *a, **k)

    monkeypatch.setattr(train_mod, "predict", spy)
    rec = _fit("supervised", views, **kw)
    monkeypatch.undo()
    return rec, test_ua


@pytest.mark.parametrize("select", ["best", "last"])
def test_the_reported_test_score_is_that_of_the_selected_checkpoint(views, monkeypatch, select):
    rec, test_ua = _fit_watching_test(views, monkeypatch, steps=200, eval_every=10, select=select)
    val = [h["val_ua"] for h in rec.history]
    best = int(np.argmax(val))                       # the first evaluation with the highest validation UA
    assert len(test_ua) == len(val) == 20
    assert test_ua[best] != pytest.approx(test_ua[-1]), "the test needs runs whose best and last checkpoints differ"
    assert rec.metrics["ua"] == pytest.approx(test_ua[best if select == "best" else -1])
    assert rec.metrics["ua_best"] == pytest.approx(test_ua[best])
    assert rec.metrics["ua_last"] == pytest.approx(test_ua[-1])


def test_early_stopping_stops_when_validation_ua_stops_improving(views):
    full = _fit("supervised", views, steps=200, eval_every=10)
    stopped = _fit("supervised", views, steps=200, eval_every=10, patience=3)
    val = [h["val_ua"] for h in full.history]
    best = int(np.argmax(val[:len(stopped.history)]))
    # the stopped run is the full one up to its stop, 3 evaluations after its best one, none better
    assert stopped.config["steps_run"] == stopped.history[-1]["step"] == 10 * (best + 1 + 3) < 200
    assert [h["val_ua"] for h in stopped.history] == val[:best + 4]
    assert max(val[best + 1:best + 4]) <= val[best]
    assert full.config["steps_run"] == 200 and full.config["patience"] == 0


# ------------------------------------------------------------------ predictions per clip

def test_predictions_cover_the_test_split_and_a_second_one_when_there_is_one(tmp_path):
    views = toy_views()
    tcfg = tcfg_for(steps=20)
    rec = fit(make_method("supervised", tcfg), mlp(0), views, tcfg, progress=False)
    p = rec.predictions
    assert list(p.columns) == ["clip_id", "speaker", "split", "row", "true", "pred", "p_a", "p_b"]
    assert (p["split"] == "test").all() and len(p) == len(views.test)
    np.testing.assert_allclose(p[["p_a", "p_b"]].to_numpy(), rec.probs, rtol=1e-6)
    assert list(p["pred"]) == [views.classes[i] for i in rec.y_pred]
    assert list(p["true"]) == [views.classes[i] for i in rec.y_true]

    views.test_b = Split(views.val.x[:30], views.val.y[:30])      # what a corpus with a domain-B test split adds
    rec = fit(make_method("supervised", tcfg), mlp(0), views, tcfg, progress=False)
    p = rec.predictions
    assert list(p["split"]) == ["test"] * len(views.test) + ["test_b"] * 30
    b = p[p["split"] == "test_b"]
    np.testing.assert_allclose(b[["p_a", "p_b"]].sum(axis=1), 1.0, rtol=1e-5)
    assert list(b["true"]) == [views.classes[i] for i in views.val.y[:30]]

    back = RunRecord.load(rec.save(tmp_path / "r"))
    assert (tmp_path / "r" / "predictions.csv").exists()
    pd_testing = pytest.importorskip("pandas.testing")
    pd_testing.assert_frame_equal(back.predictions, p, check_dtype=False)
