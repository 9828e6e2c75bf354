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
  course's model and ``fit`` loop (no softmax while training), Adam with
  ``foreach`` then ``fused`` kernels, channels-last memory format,
  ``inference_mode`` for evaluation, ``torch.compile``, and CUDA graphs (GPU);
- ``fused_blocks``: from ``inference``, the model computed by
  :mod:`lenet_course.fast.fused` (C1+S2 and C3+S4 each one autograd function,
  the usual memory layout), which is what ``fit`` does on a CPU.

Throughput is the best of several short rounds, the variants taking turns, so
that other work on the machine hurts them all alike; the table gives images
per second, the ratio to ``seed`` at the same batch size, and the GFLOP/s this
means next to the peak measured with a large matrix product in the same
process. Before timing, every variant computes the loss of the same batch from
the same weights, evaluates it, takes one step and evaluates again: the
numbers must agree within float tolerance.

Where each part lives: ``data`` (the images), ``seed`` (the article's
model and pipeline), ``variants`` (the rows and what each adds), ``steps``
and ``graphs`` (one variant's training and evaluation steps), ``checks``
(the agreement with the seed), ``measure`` (the clock, the compute floor and
the peak), ``runner`` and ``epochs`` (rounds and whole epochs), ``results``
and ``report`` (ratios, targets, the table and the JSON).
"""

from .data import BenchData, load_bench_data
from .measure import forward_macs, measure_peak_gflops
from .report import format_table, write_json
from .runner import run_benchmark
from .seed import SeedLeNet5, seed_model_from
from .variants import VARIANTS, Variant, resize_once

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
    "run_benchmark",
    "format_table",
    "write_json",
]
