"""The chapter 10 checkers: the augmentation pipeline and the label-preserving quiz."""

import pytest
import torch
from torchvision import transforms
from torchvision.transforms import v2

from lenet_course import check


def pipeline(degrees, shear):
    return transforms.Compose(
        [transforms.RandomAffine(degrees=degrees, shear=shear), transforms.Pad(2), transforms.ToTensor()]
    )


def test_pipeline_right(capsys):
    assert check.augmentation_pipeline(pipeline)
    assert capsys.readouterr().out == "Exercise 10.1: 8/8 cases correct. Well done!\n"


def test_pipeline_v2_right(capsys):
    def v2_pipeline(degrees, shear):
        return v2.Compose(
            [
                v2.PILToTensor(),
                v2.RandomAffine(degrees=degrees, shear=shear),
                v2.Pad(2),
                v2.ToDtype(torch.float32, scale=True),
            ]
        )

    assert check.augmentation_pipeline(v2_pipeline)
    assert capsys.readouterr().out == "Exercise 10.1: 8/8 cases correct. Well done!\n"


def test_pipeline_with_a_flip(capsys):
    def with_flip(degrees, shear):
        return transforms.Compose([transforms.RandomHorizontalFlip(), *pipeline(degrees, shear).transforms])

    assert not check.augmentation_pipeline(with_flip)
    out = capsys.readouterr().out
    assert "6/8 cases correct" in out
    assert "fn(0, 0) on a digit (no rotation, no shear), the largest pixel difference from the padded digit:" in out


def test_pipeline_rotation_only(capsys):
    def rotation_only(degrees, shear):
        return transforms.Compose([transforms.RandomRotation(degrees), transforms.Pad(2), transforms.ToTensor()])

    assert not check.augmentation_pipeline(rotation_only)
    out = capsys.readouterr().out
    assert "6/8 cases correct" in out
    assert "the RandomAffine's degrees for fn(15, 10): raised ValueError: the pipeline holds no RandomAffine" in out


def test_pipeline_resize_instead_of_pad(capsys):
    def resized(degrees, shear):
        return transforms.Compose(
            [transforms.RandomAffine(degrees, shear=shear), transforms.Resize(32), transforms.ToTensor()]
        )

    assert not check.augmentation_pipeline(resized)
    assert "7/8 cases correct" in capsys.readouterr().out


def test_pipeline_not_implemented_propagates():
    def stub(degrees, shear):
        raise NotImplementedError("Exercise 10.1")

    with pytest.raises(NotImplementedError):
        check.augmentation_pipeline(stub)


def test_label_preserving(capsys):
    assert check.label_preserving({"a", "b", "c", "d", "h"})
    assert capsys.readouterr().out == "Exercise 10.2: 8/8 statements judged correctly. Well done!\n"
    assert not check.label_preserving({"a", "b", "c", "d", "e", "h"})
    out = capsys.readouterr().out
    assert "7/8 statements judged correctly" in out
    assert "Rethink statement (e): flip left to right (a mirror image)" in out
    assert "picture a 2, a 3, a 6 and a 7" in out
