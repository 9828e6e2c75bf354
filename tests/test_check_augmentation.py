"""The chapter 10 checkers: the augmentation pipeline and which transforms keep a digit's label."""

import torch
from torchvision import transforms
from torchvision.transforms import v2

from lenet_course import check
from lenet_course.check.augmentation import _no_flip
from tests.checker_answers import first_failure, judge


def _pipeline(*steps):
    def build(degrees, shear):
        return transforms.Compose([step(degrees, shear) for step in steps])

    return build


def _affine(**extra):
    return lambda d, s: transforms.RandomAffine(degrees=d, shear=s, **extra)


def _pad(d, s):
    return transforms.Pad(2)


def _to_tensor(d, s):
    return transforms.ToTensor()


CHECKERS = {"10.1": check.augmentation_pipeline, "10.2": check.label_preserving}

WRONG = {
    "10.1": {
        "fill=255": _pipeline(_affine(fill=255), _pad, _to_tensor),
        "rotation only": _pipeline(lambda d, s: transforms.RandomRotation(d), _pad, _to_tensor),
        "with a flip": _pipeline(_affine(), lambda d, s: transforms.RandomHorizontalFlip(), _pad, _to_tensor),
        "no padding": _pipeline(_affine(), _to_tensor),
        "positive angles only": _pipeline(
            lambda d, s: transforms.RandomAffine(degrees=(0, d), shear=s), _pad, _to_tensor
        ),
        "degrees and shear swapped": _pipeline(
            lambda d, s: transforms.RandomAffine(degrees=s, shear=d), _pad, _to_tensor
        ),
    },
    "10.2": {
        "flips too": {"a", "b", "c", "d", "e", "h"},
        "no noise": {"a", "b", "c", "d"},
        "the flips only": "e, f",
        "rotations of any size": "a b c d g h",
    },
}

RIGHT = {
    "10.1": {
        "pad first": _pipeline(_pad, _affine(), _to_tensor),
        "transforms v2": lambda d, s: v2.Compose(
            [v2.ToImage(), v2.RandomAffine(degrees=d, shear=(-s, s)), v2.Pad(2), v2.ToDtype(torch.float32, scale=True)]
        ),
        "tensor first, fill 0 said aloud": _pipeline(_to_tensor, _affine(fill=0), _pad),
    },
    "10.2": {
        "one string": "abcdh",
        "a list": ["a", "b", "c", "d", "h"],
        "upper case with spaces": "A B C D H",
    },
}


def test_fill_255_paints_the_corners(capsys):
    verdict, out = judge(check.augmentation_pipeline, WRONG["10.1"]["fill=255"], capsys)
    assert (verdict.passed, verdict.total) == (8, 9)
    assert first_failure(out) == (
        "ten outputs of fn(30, 20) for a blank picture stay blank: is not true: pixels up to 1 appear where the "
        "picture was blank"
    )


def test_rotation_only_has_no_affine(capsys):
    _, out = judge(check.augmentation_pipeline, WRONG["10.1"]["rotation only"], capsys)
    assert (
        first_failure(out)
        == "the RandomAffine's degrees for fn(15, 10) cannot be read: the pipeline holds no RandomAffine"
    )


def test_a_flip_is_named(capsys):
    verdict, _ = judge(check.augmentation_pipeline, WRONG["10.1"]["with a flip"], capsys)
    assert (verdict.passed, verdict.total) == (7, 9)  # fn(0, 0) flips half the time, and the flip is named
    flip = _no_flip(["RandomAffine", "RandomHorizontalFlip", "Pad", "ToTensor"], None)
    assert flip.text == "is not true: it holds RandomHorizontalFlip"


def test_10_2_reads_a_string_of_letters_as_8_3_does(capsys):
    verdict, out = judge(check.label_preserving, "abcdh", capsys)
    assert verdict and out == "Exercise 10.2: 8/8 statements judged correctly. Well done!\n"
    verdict, out = judge(check.label_preserving, "b, c, d, f", capsys)
    assert (verdict.passed, verdict.total) == (5, 8)
    assert out.splitlines()[1] == "  Rethink statement (a): rotate by a random angle between -15 and +15 degrees"


def test_the_pipeline_check_leaves_the_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check.augmentation_pipeline(RIGHT["10.1"]["pad first"])
    assert torch.equal(torch.rand(3), expected)
