import pytest
import torch
from torch import nn

from lenet_course.models import LeNet5
from lenet_course.summary import count_connections, layer_table


def test_lenet5_table(capsys):
    table = layer_table(LeNet5())
    printed = capsys.readouterr().out
    rows = {r.name: r for r in table}
    assert [r.name for r in table] == ["c1", "s2", "c3", "s4", "c5", "f6", "f7"]
    assert rows["c1"].output_shape == (6, 28, 28) and rows["c1"].params == 156 and rows["c1"].connections == 122_304
    assert rows["s2"].output_shape == (6, 14, 14) and rows["s2"].params == 0
    assert rows["c3"].output_shape == (16, 10, 10) and rows["c3"].params == 2_416 and rows["c3"].connections == 241_600
    assert rows["s4"].output_shape == (16, 5, 5)
    assert rows["c5"].output_shape == (120, 1, 1) and rows["c5"].params == 48_120 and rows["c5"].connections == 48_120
    assert rows["f6"].output_shape == (84,) and rows["f6"].params == 10_164
    assert rows["f7"].output_shape == (10,) and rows["f7"].params == 850
    assert table.total_params == 61_706
    assert "61,706" in printed and "122,304" in printed


def test_silent_and_selected_layers(capsys):
    table = layer_table(LeNet5(), layers=["c1", "c5"], verbose=False)
    assert capsys.readouterr().out == ""
    assert [r.name for r in table] == ["c1", "c5"]
    assert table.row("c5").params == 48_120
    with pytest.raises(KeyError, match="no layer named 'f6'"):
        table.row("f6")


def test_unknown_layer_name():
    with pytest.raises(ValueError, match=r"has no layer\(s\) \['c9'\]"):
        layer_table(LeNet5(), layers=["c9"])


def test_custom_connection_count():
    class Doubler(nn.Module):
        def forward(self, x):
            return 2 * x

        def connections(self, input_shape, output_shape):
            return 7 * output_shape[0]

    assert count_connections(Doubler(), (3,), (3,)) == 21
    model = nn.Sequential()
    model.add_module("d", Doubler())
    assert layer_table(model, input_size=(1, 4), verbose=False).row("d").connections == 28


def test_table_leaves_training_mode_and_runs_on_model_device():
    model = LeNet5().train()
    layer_table(model, verbose=False)
    assert model.training
    assert next(model.parameters()).device == torch.device("cpu")
