"""LeNet-5, built step by step in PyTorch: the helpers the chapters import.

Each module holds one topic and says which chapter introduces it. Used by
the setup cell of every chapter (chapters 0 to 11).
"""

from .data import MnistData, Split, TensorLoader, load_mnist, make_loader
from .environment import environment_report, get_device, set_seed, setup
from .models import LeNet5, predict_proba
from .shapes import conv_output_size, pool_output_size
from .summary import layer_table
from .training import fit, get_accuracy, train, training_loop, validate

__version__ = "0.1.0"

__all__ = [
    "LeNet5",
    "MnistData",
    "Split",
    "TensorLoader",
    "conv_output_size",
    "environment_report",
    "fit",
    "get_accuracy",
    "get_device",
    "layer_table",
    "load_mnist",
    "make_loader",
    "pool_output_size",
    "predict_proba",
    "set_seed",
    "setup",
    "train",
    "training_loop",
    "validate",
]
