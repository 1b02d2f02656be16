"""Methods, one small file each, behind one interface (``base.Method``).

``make_method(name, tcfg)`` builds one by the name used everywhere (CLI,
tables, notebooks); ``METHODS`` maps names to classes, like timm's registry.
"""
from .base import Method
from .dcmkt import DCMKT, DCMKTFinetune
from .fixmatch import FixMatch
from .fusion import FusionConsistent, FusionWeighted
from .mean_teacher import MeanTeacher
from .pi_model import PiModel
from .pseudo_label import PseudoLabel
from .supervised import Supervised
from .temporal_ensembling import TemporalEnsembling

METHODS: dict[str, type[Method]] = {m.name: m for m in [
    Supervised, PseudoLabel, PiModel, TemporalEnsembling, MeanTeacher, FixMatch,
    DCMKT, DCMKTFinetune, FusionConsistent, FusionWeighted]}

# Groups of the paper's Table 3, in its order.
GROUPS = {
    "Supervised": ["supervised"],
    "Semi-supervised": ["pseudo_label", "pi_model", "temporal_ensembling", "mean_teacher", "fixmatch"],
    "Direct cross-modal transfer": ["dcmkt", "dcmkt_finetune"],
    "SSL and CMKT": ["fusion_consistent", "fusion_weighted"],
}


def make_method(name: str, tcfg=None, **params) -> Method:
    """The method called ``name``, with knobs from a TrainConfig and/or keywords."""
    if name not in METHODS:
        raise ValueError(f"method {name!r} is not known; choose one of {', '.join(METHODS)}")
    cls = METHODS[name]
    m = cls.from_config(tcfg) if tcfg is not None else cls()
    for k, v in params.items():
        if k not in cls.defaults:
            raise TypeError(f"{name} has no parameter {k!r}; it takes {sorted(cls.defaults)}")
        if v is not None:  # None keeps the default, as in Method(...) and from_config
            setattr(m, k, v)
    return m
