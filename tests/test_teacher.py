"""The face teacher's MobileNetV3 option (sertools.models.face_model, sertools.teacher.train_teacher)."""
import numpy as np
import pytest
import torch
from torch import nn

from sertools.config import get_config
from sertools.models import FaceCNN, face_model, teacher_model

ARCH = "mobilenetv3_small_050"


def test_a_mobilenet_teacher_builds_with_the_stem_and_head_chosen():
    _, tcfg = get_config("quick", face_arch=ARCH)
    model = teacher_model(4, tcfg)
    assert model.conv_stem.stride == (tcfg.face_stem_stride,) * 2 == (1, 1)
    assert isinstance(model.conv_head, nn.Identity) and model.classifier.in_features == model.num_features
    model.eval()
    assert model(torch.zeros(5, 3, 64, 64)).shape == (5, 4)
    timm_head = face_model(3, ARCH, stem_stride=2, head="timm")
    assert timm_head.conv_stem.stride == (2, 2) and timm_head.conv_head.out_channels == 1024
    assert timm_head.eval()(torch.zeros(2, 3, 64, 64)).shape == (2, 3)
    with pytest.raises(ValueError, match="conv"):
        face_model(4, ARCH, head="conv")
    assert isinstance(face_model(4, "cnn", stem_stride=2, head="timm"), FaceCNN)  # the CNN ignores both
