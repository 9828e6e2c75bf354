"""How fast is training? The seed article's pipeline against the course's fast path.

Used by ``python -m lenet_course bench`` (``make bench``) and the course's
closing note on speed. One process runs every variant side by side, on the
same LeNet-5 weights, the same data and the same optimiser (Adam, lr 1e-3):

- ``seed``: the article as written: a torchvision-style dataset of PIL images,
  ``Resize((32, 32))`` and ``ToTensor`` on every image, a ``DataLoader``, a
  model returning ``(logits, probs)``, ``loss.item()`` on every batch;
- ``tensor``: the same loop and model fed by :class:`~lenet_course.data.TensorLoader`
  (the images resized once, up front, to the very same pixels);
- then one speed-up at a time, each row keeping the ones above it: the
  course's model and training step (no softmax while training), Adam with
  ``foreach`` then ``fused`` kernels, channels-last memory format,
  ``inference_mode`` for evaluation, ``torch.compile``, and CUDA graphs (GPU);
- ``fused_blocks``: from ``inference``, the model computed by
  :mod:`lenet_course.fast.fused` (C1+S2 and C3+S4 each one autograd function,
  the usual memory layout), which is what ``fit`` does on a CPU.

Every row past ``tensor`` trains and evaluates with
:func:`lenet_course.training.train_step` and
:func:`~lenet_course.training.eval_step`, the very functions ``fit`` calls:
what is timed is what learners run. Throughput is the best of several short
rounds, the variants taking turns, so that other work on the machine hurts
them all alike; the table gives images per second, the ratio to ``seed`` at
the same batch size, and the GFLOP/s this means next to the peak measured
with a large matrix product in the same process. Before timing, every
variant computes the loss of the same batch from the same weights,
evaluates it, takes one step and evaluates again: the numbers must agree
within float tolerance.

Where each part lives (each imports only those above it):

- :mod:`.seed`: the article's model, pipeline and step, as the article wrote them;
- :mod:`.results`: the typed rows of a run, what follows from them, the table and the JSON;
- :mod:`.variants`: the images, the rows (variants) and how each builds its model, optimiser and loaders;
- :mod:`.runs`: one variant at one batch size, its batches, its CUDA graph, its agreement with the seed;
- :mod:`.runner`: :class:`BenchConfig` and :func:`run_benchmark`, rounds, the peak and whole epochs.
"""

from .results import BenchResult, format_table, write_json
from .runner import BenchConfig, forward_macs, measure_peak_gflops, run_benchmark
from .seed import SeedLeNet5, seed_model_from
from .variants import VARIANTS, BenchData, Variant, load_bench_data, resize_once

__all__ = [
    "SeedLeNet5",
    "seed_model_from",
    "BenchData",
    "load_bench_data",
    "resize_once",
    "forward_macs",
    "measure_peak_gflops",
    "Variant",
    "VARIANTS",
    "BenchConfig",
    "BenchResult",
    "run_benchmark",
    "format_table",
    "write_json",
]
