import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("LENET_COURSE_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def sample_data():
    from lenet_course.data import load_mnist

    return load_mnist("sample", verbose=False)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
