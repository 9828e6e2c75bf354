"""The paper's random affine distortions on batched tensors."""

import pytest
import torch
import torch.nn.functional as F

from lenet_course.paper.distortions import DistortedLoader, RandomDistortion, affine_matrices


def _digit():
    x = torch.full((1, 1, 32, 32), -0.1)
    x[..., 8:24, 14:18] = 1.175  # a vertical bar
    return x


def test_identity_when_all_ranges_are_zero():
    d = RandomDistortion(0, 0, 0, 0, seed=0)
    x = _digit().repeat(3, 1, 1, 1)
    assert torch.allclose(d(x), x, atol=1e-5)


def test_pure_shift_moves_the_digit_by_whole_pixels():
    theta = affine_matrices(1, max_shift=0, max_scale=0, max_squeeze=0, max_shear=0)
    theta[0, 0, 2] = -2 * 2 / 32  # shift right by 2 pixels
    x = _digit()
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x + 0.1, grid, align_corners=False) - 0.1
    assert torch.allclose(out[..., 16:20], x[..., 14:18], atol=1e-5)


def test_distortion_changes_images_keeps_background_and_range():
    d = RandomDistortion(seed=1)
    x = _digit().repeat(8, 1, 1, 1)
    out = d(x)
    assert out.shape == x.shape
    assert not torch.allclose(out, x)
    assert out[..., 0, 0].eq(-0.1).all()  # corners stay background, not zero
    assert out.min() >= -0.1 - 1e-5 and out.max() <= 1.175 + 1e-5
    # ink is roughly preserved (scaling within 10%, squeeze keeps area)
    ink_in, ink_out = (x + 0.1).sum(dim=(1, 2, 3)), (out + 0.1).sum(dim=(1, 2, 3))
    assert torch.all((ink_out / ink_in - 1).abs() < 0.3)


def test_seeded_distortions_repeat_and_p_zero_is_identity():
    x = _digit().repeat(4, 1, 1, 1)
    assert torch.equal(RandomDistortion(seed=3)(x), RandomDistortion(seed=3)(x))
    assert torch.equal(RandomDistortion(p=0.0, seed=3)(x), x)
    with pytest.raises(ValueError, match="add x.unsqueeze"):
        RandomDistortion()(torch.zeros(1, 32, 32))


def test_distorted_loader_wraps_batches():
    x = _digit().repeat(6, 1, 1, 1)
    loader = [(x[:3], torch.arange(3)), (x[3:], torch.arange(3))]

    class L(list):
        dataset = list(range(6))

    wrapped = DistortedLoader(L(loader), RandomDistortion(seed=0))
    batches = list(wrapped)
    assert len(wrapped) == 2 and len(batches) == 2
    assert batches[0][1].tolist() == [0, 1, 2]
    assert not torch.allclose(batches[0][0], x[:3])
