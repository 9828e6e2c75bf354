import pytest
import torch
from matplotlib.figure import Figure

from lenet_course import plots
from lenet_course.data import TensorLoader
from lenet_course.models import LeNet5
from lenet_course.training import History, predict


@pytest.fixture(scope="module")
def valid(sample_data):
    return TensorLoader(sample_data.valid, 500)


def images_shown(fig: Figure) -> int:
    return sum(len(ax.images) for ax in fig.axes)


def test_plot_losses():
    fig = plots.plot_losses([1.0, 0.5, 0.3], [1.1, 0.6, 0.5])
    ax = fig.axes[0]
    assert ax.get_title() == "Loss over epochs"
    assert [line.get_label() for line in ax.lines] == ["training loss", "validation loss"]
    assert list(ax.lines[1].get_ydata()) == [1.1, 0.6, 0.5]


def test_plot_history():
    h = History(
        epoch=[0, 1],
        train_loss=[1, 0.5],
        train_acc=[0.5, 0.8],
        valid_loss=[1, 0.7],
        valid_acc=[0.6, 0.75],
        seconds=[1, 1],
    )
    fig = plots.plot_history(h)
    assert [ax.get_title() for ax in fig.axes] == ["Loss", "Accuracy"]
    assert list(fig.axes[1].lines[1].get_ydata()) == [60.0, 75.0]


def test_show_images_fifty_with_labels(valid):
    fig = plots.show_images(valid.images, valid.labels, n=50)
    assert images_shown(fig) == 50
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == [str(int(y)) for y in valid.labels[:50]]


def test_prediction_gallery_titles_show_label_and_probability(valid):
    torch.manual_seed(0)
    model = LeNet5()
    fig = plots.prediction_gallery(model, valid.images, valid.labels, n=12, cols=6)
    assert images_shown(fig) == 12
    with torch.no_grad():
        probs = torch.softmax(model(valid.images[:1]), 1)[0]
    first = fig.axes[0].get_title()
    assert first.startswith(f"{int(probs.argmax())} ({100 * float(probs.max()):.0f}%)")
    assert first.endswith(f"true {int(valid.labels[0])}")


def test_misclassified_and_least_confident(valid):
    torch.manual_seed(0)
    model = LeNet5()
    _, y_pred, probs = predict(model, valid)
    wrong = int((y_pred != valid.labels).sum())
    fig = plots.misclassified_gallery(model, valid.images, valid.labels, n=10)
    assert images_shown(fig) == min(10, wrong)
    assert fig._suptitle.get_text().startswith(f"Misclassified: {wrong} of 1000")
    fig = plots.least_confident_gallery(model, valid.images, valid.labels, n=5)
    assert images_shown(fig) == 5


def test_confusion_matrix_and_per_class_accuracy():
    y_true = torch.tensor([0, 0, 1, 1, 2, 2])
    y_pred = torch.tensor([0, 1, 1, 1, 2, 0])
    cm = plots.confusion_matrix(y_true, y_pred, num_classes=3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert plots.per_class_accuracy(cm).tolist() == [0.5, 1.0, 0.5]
    fig = plots.plot_confusion_matrix(cm)
    assert fig.axes[0].get_xlabel() == "predicted" and fig.axes[0].get_ylabel() == "true"
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["1", "1", "1", "1", "2"]
    assert len(plots.plot_per_class_accuracy(cm).axes[0].patches) == 3
    with pytest.raises(ValueError, match="same shape"):
        plots.confusion_matrix(y_true, y_pred[:3])


def test_feature_maps(valid):
    model = LeNet5()
    fig = plots.plot_feature_maps(model, "c1", valid.images[0])
    assert images_shown(fig) == 6
    assert fig._suptitle.get_text() == "c1: 6 feature map(s) of (28, 28)"
    assert images_shown(plots.plot_feature_maps(model, "c3", valid.images[0])) == 16
    with pytest.raises(ValueError, match="has no layer 'c9'"):
        plots.plot_feature_maps(model, "c9", valid.images[0])


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gallery_with_a_model_on_the_gpu(valid):
    model = LeNet5().cuda()
    fig = plots.prediction_gallery(model, valid.images.cpu(), valid.labels.cpu(), n=4)
    assert images_shown(fig) == 4
