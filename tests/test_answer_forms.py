"""Cells after an exercise accept every answer form the exercise allows (a learner's, not only the solution's)."""

from __future__ import annotations

import json

import matplotlib
import pytest
import torch

from lenet_course import plots

from .conftest import ROOT

matplotlib.use("Agg")


def run_cells(chapter: str, namespace: dict, *cell_ids: str) -> dict:
    """Run the named code cells of a chapter in ``namespace`` (which stands in for the cells above them)."""
    cells = {c["id"]: c for c in json.loads((ROOT / "chapters" / chapter).read_text(encoding="utf-8"))["cells"]}
    for cell_id in cell_ids:
        source = cells[cell_id]["source"]
        exec("".join(source) if isinstance(source, list) else source, namespace)  # noqa: S102
    return namespace


def predictions(n: int = 200) -> dict:
    """What chapter 9 has computed before its exercises: probabilities, true and predicted labels."""
    import matplotlib.pyplot as plt

    g = torch.Generator().manual_seed(0)
    probs = torch.softmax(3 * torch.randn(n, 10, generator=g), dim=1)
    return {
        "torch": torch,
        "plt": plt,
        "probs": probs,
        "y_true": torch.randint(0, 10, (n,), generator=g),
        "y_pred": probs.argmax(dim=1),
        "package_confusion_matrix": plots.confusion_matrix,
        "plot_per_class_accuracy": plots.plot_per_class_accuracy,
    }


def least_confident_tensor(probs, k):
    return torch.argsort(probs.max(dim=1).values)[:k]


def least_confident_list(probs, k):
    return [int(i) for i in least_confident_tensor(probs, k)]


@pytest.mark.parametrize("answer", [least_confident_tensor, least_confident_list], ids=["tensor", "list of ints"])
def test_after_9_1_a_tensor_or_a_list_of_ints(answer, capsys):
    ns = predictions()
    ns["least_confident"] = answer
    run_cells("09_prediction_gallery.ipynb", ns, "least-confident-use")
    lines = capsys.readouterr().out.splitlines()
    expected = least_confident_list(ns["probs"], 10)
    assert [int(line.split()[1].rstrip(":")) for line in lines] == expected


def confusion_lists(y_true, y_pred, num_classes=10):
    return plots.confusion_matrix(torch.as_tensor(y_true), torch.as_tensor(y_pred), num_classes).tolist()


def per_class_list(cm):
    cm = torch.as_tensor(cm)
    return (cm.diagonal().double() / cm.sum(dim=1)).tolist()


@pytest.mark.parametrize(
    "confusion, per_class",
    [(plots.confusion_matrix, plots.per_class_accuracy), (confusion_lists, per_class_list)],
    ids=["tensors", "lists"],
)
def test_after_9_2_and_9_3_tensors_or_lists(confusion, per_class, capsys):
    ns = predictions()
    ns["confusion_matrix"], ns["per_class_accuracy"] = confusion, per_class
    run_cells("09_prediction_gallery.ipynb", ns, "cm-same", "per-class-plot")
    out = capsys.readouterr().out
    assert "same as lenet_course.plots.confusion_matrix: True" in out
    assert "rows sum to the class sizes: True" in out
    accuracy = plots.per_class_accuracy(plots.confusion_matrix(ns["y_true"], ns["y_pred"]))
    assert f"0: {accuracy[0].item():.1%}" in out


@pytest.mark.parametrize(
    "table",
    [
        lambda mask: mask,
        lambda mask: mask.tolist(),  # nested lists of bools
        lambda mask: mask.int(),  # 0/1
    ],
    ids=["bool tensor", "lists", "int tensor"],
)
def test_after_4_3_any_table_the_check_accepts(table, capsys):
    mask = torch.zeros(6, 16, dtype=torch.bool)
    for j in range(16):
        mask[[j % 6, (j + 1) % 6, (j + 3 + j // 6) % 6], j] = True
    ns = run_cells("04_c3_s4.ipynb", {"torch": torch}, "ex-4-1")
    ns["my_table"] = table(mask)
    run_cells("04_c3_s4.ipynb", ns, "my-table-params")
    assert capsys.readouterr().out == f"parameters of your C3: {16 * (25 * 3 + 1)}\n"
