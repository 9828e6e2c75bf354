"""Keeping freed memory: a training step stops paying page faults for its activations."""

import subprocess
import sys
import textwrap

import pytest

from lenet_course.memory import keep_freed_memory, page_faults

# One process per case: the allocator setting is process-wide and cannot be undone.
STEPS = textwrap.dedent(
    """
    import sys, torch
    from torch import nn
    from lenet_course.memory import keep_freed_memory, page_faults
    from lenet_course.models import LeNet5
    kept = keep_freed_memory() if sys.argv[1] == "keep" else None
    torch.manual_seed(0)
    model = LeNet5()  # plain model(x): the activations of batch 256 are megabytes each
    optimizer = torch.optim.Adam(model.parameters())
    X, y = torch.rand(256, 1, 32, 32), torch.randint(0, 10, (256,))
    def step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        optimizer.step()
    for _ in range(3):
        step()
    before = page_faults()
    for _ in range(10):
        step()
    print(kept, (page_faults() - before) / 10)
    """
)


def _faults_per_step(mode: str) -> tuple[str, float]:
    out = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, check=True, timeout=120)
    kept, faults = out.stdout.split()
    return kept, float(faults)


@pytest.mark.skipif(not keep_freed_memory(), reason="needs glibc (Linux)")
def test_kept_memory_removes_the_page_faults_of_a_training_step():
    kept, faults = _faults_per_step("keep")
    assert kept == "True"
    # without it, each step maps its activations afresh (about 6,700 faults a step measured here);
    # with it, a few dozen at most are left: small tensors, the odd new page of the heap
    _, default_faults = _faults_per_step("default")
    assert default_faults > 1000
    assert faults < default_faults / 20


def test_page_faults_only_grow():
    first = page_faults()
    bytearray(8 * 2**20)  # touch 8 MiB
    assert page_faults() >= first >= 0


def test_other_systems_are_left_alone(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert keep_freed_memory() is False
