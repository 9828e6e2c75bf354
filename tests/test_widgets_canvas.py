"""The chapter 9 drawing pad and the preprocessing behind it."""

import pytest
import torch

from lenet_course import LeNet5
from lenet_course.digits import center_of_mass, rasterize_stroke, to_lenet_input, to_mnist
from lenet_course.widgets import DrawingPad


def test_rasterize_stroke_draws_a_thick_round_line():
    canvas = torch.zeros(50, 50)
    rasterize_stroke(canvas, 10, 25, 40, 25, width=6)
    assert canvas[25, 10:40].min() == 1  # along the line
    assert canvas[25, 4].item() == 0 and canvas[25, 46].item() == 0  # beyond the round caps
    assert canvas[21:30, 25].sum().item() == pytest.approx(6, abs=1)  # about 6 pixels thick
    assert canvas[10].sum() == 0


def test_to_mnist_fits_a_20_box_and_centres_the_mass():
    image = torch.zeros(200, 300)
    image[20:120, 200:250] = 1  # a 100 x 50 bar, far off centre
    digit = to_mnist(image)
    assert digit.shape == (28, 28)
    rows = torch.nonzero(digit.sum(1)).flatten()
    cols = torch.nonzero(digit.sum(0)).flatten()
    assert len(rows) == 20 and len(cols) == 10  # aspect ratio kept: 20 x 10
    r, c = center_of_mass(digit)
    assert abs(r - 13.5) <= 0.501 and abs(c - 13.5) <= 0.501
    assert to_lenet_input(image).shape == (1, 1, 32, 32)
    assert to_lenet_input(image)[0, 0, :2].sum() == 0  # the 2-pixel padding


def test_to_mnist_of_a_blank_image_is_blank():
    assert to_mnist(torch.zeros(280, 280)).sum() == 0


def test_to_mnist_accepts_uint8():
    image = torch.zeros(28, 28, dtype=torch.uint8)
    image[4:24, 12:16] = 255
    assert to_mnist(image).max() == pytest.approx(1.0)


def test_to_mnist_rejects_a_batch():
    with pytest.raises(ValueError, match="expected one grey image"):
        to_mnist(torch.zeros(2, 28, 28))


@pytest.fixture
def pad():
    torch.manual_seed(0)
    return DrawingPad(LeNet5())


def test_pad_starts_blank(pad):
    assert pad.is_blank and pad.probabilities is None and pad.prediction is None
    assert "Draw a digit in the black square." in pad.probs_view.value
    assert "lenet-draw-canvas" in pad.canvas._dom_classes
    assert "lenet-draw-probs" in pad.probs_view._dom_classes
    assert repr(pad) == "DrawingPad(blank)"


def test_drawing_shows_ten_probabilities(pad):
    pad.draw_line([(140, 40), (140, 240)])
    p = pad.probabilities
    assert p.shape == (10,) and p.sum().item() == pytest.approx(1.0, abs=1e-5)
    assert torch.allclose(p, torch.softmax(pad.model(pad.model_input), dim=1)[0].detach(), atol=1e-6)
    assert pad.prediction == int(p.argmax())
    shown = pad.probs_view.value
    for k in range(10):
        assert f'data-class="{k}" data-probability="{float(p[k]):.4f}"' in shown
    assert f"{100 * float(p.max()):.1f}%" in pad.prediction_view.value
    assert bytes(pad.input_view.value).startswith(b"\x89PNG")


def test_mouse_handlers_draw_only_while_pressed(pad):
    pad.mouse_move(50, 50)  # no button held: nothing
    assert pad.is_blank
    pad.mouse_down(100, 60)
    shown_after_press = pad.probs_view.value
    for y in range(70, 230, 10):
        pad.mouse_move(100 + (y - 60) // 2, y)
    assert pad.probs_view.value != shown_after_press  # the probabilities follow the stroke
    pad.mouse_up(180, 220)
    drawn = pad.image.clone()
    pad.mouse_move(10, 10)
    assert torch.equal(pad.image, drawn)


def test_the_same_stroke_by_mouse_or_draw_line_gives_the_same_input(pad):
    points = [(60, 80), (200, 80), (120, 240)]
    pad.draw_line(points)
    by_api = pad.model_input.clone()
    pad.clear()
    pad.mouse_down(*points[0])
    for point in points[1:]:
        pad.mouse_move(*point)
    pad.mouse_up(*points[-1])
    assert torch.equal(pad.model_input, by_api)


def test_the_network_sees_the_mnist_preprocessing(pad):
    pad.draw_line([(20, 20), (20, 120)])  # a small stroke in a corner
    x = pad.model_input[0, 0]
    assert x.shape == (32, 32) and x[:2].sum() == 0 and x[:, :2].sum() == 0
    r, c = center_of_mass(x[2:30, 2:30])
    assert abs(r - 13.5) <= 0.501 and abs(c - 13.5) <= 0.501
    assert len(torch.nonzero(x.sum(1))) == 20  # scaled up to fill the 20-pixel box


def test_clear_button_wipes_everything(pad):
    pad.draw_line([(140, 40), (140, 240)])
    pad.clear_button.click()
    assert pad.is_blank and pad.probabilities is None
    assert "Draw a digit in the black square." in pad.prediction_view.value


def test_a_trained_model_reads_a_drawn_one(sample_data):
    from lenet_course import TensorLoader, fit, set_seed

    set_seed(0)
    model = LeNet5()
    fit(
        model,
        TensorLoader(sample_data.train, 64, shuffle=True),
        TensorLoader(sample_data.valid, 1000),
        epochs=3,
        progress=False,
        log=None,
    )
    pad = DrawingPad(model)
    pad.draw_line([(140, 30), (138, 250)])
    assert pad.prediction == 1
