"""Keeping freed memory: a training step stops paying page faults for its activations."""

import mmap
import platform
import subprocess
import sys
import textwrap

import pytest

from lenet_course.fast.memory import keep_freed_memory, page_faults

# One process per case: the allocator setting is process-wide and cannot be undone.
ROUNDS = textwrap.dedent(
    """
    import ctypes, sys
    from lenet_course.fast.memory import keep_freed_memory, page_faults
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes, libc.free.argtypes = [ctypes.c_size_t], [ctypes.c_void_p]
    if sys.argv[1] == "keep":
        keep_freed_memory()
    def one_round():  # like a training step: allocate 20 MB in blocks, use them, free them all
        blocks = [libc.malloc(100_000) for _ in range(200)]
        for block in blocks:
            ctypes.memset(block, 1, 100_000)
        for block in reversed(blocks):
            libc.free(block)
    one_round()
    before = page_faults()
    for _ in range(5):
        one_round()
    print((page_faults() - before) / 5)
    """
)
STEPS = textwrap.dedent(
    """
    import torch
    from torch import nn
    from lenet_course.fast.memory import keep_freed_memory, page_faults
    from lenet_course.models import LeNet5
    assert keep_freed_memory()
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
    print((page_faults() - before) / 10)
    """
)


# decided without calling keep_freed_memory here, which would change this test process's allocator
needs_glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="needs glibc (Linux)"
)


def _faults(script: str, *args: str) -> float:
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True, timeout=120)
    return float(out.stdout)


@needs_glibc
def test_freed_blocks_are_kept_instead_of_returned_and_faulted_in_again():
    # by default glibc hands the freed 20 MB back (its trim threshold is 128 KiB) and each round
    # faults all of it in again: about 4,400 page faults a round
    assert _faults(ROUNDS, "default") > 4_000
    assert _faults(ROUNDS, "keep") < 50


@needs_glibc
def test_a_training_step_takes_next_to_no_page_faults_once_memory_is_kept():
    # measured with glibc's defaults: from a hundred to about 6,900 a step, depending on the order of earlier frees
    assert _faults(STEPS) < 500


@pytest.mark.skipif(sys.platform == "win32", reason="page_faults() is 0 on Windows, which has no getrusage")
def test_page_faults_count_the_pages_a_new_block_touches():
    # an anonymous mapping of its own: malloc might hand back a freed block whose pages are already mapped
    block = mmap.mmap(-1, 64 * 2**20)
    if hasattr(mmap, "MADV_NOHUGEPAGE"):
        block.madvise(mmap.MADV_NOHUGEPAGE)  # 4 KiB pages, not 2 MiB ones, whatever the kernel's default
    first = page_faults()
    for offset in range(0, len(block), mmap.PAGESIZE):
        block[offset] = 1  # the first write to each page is one minor fault
    touched = page_faults() - first
    block.close()
    assert touched >= 64 * 2**20 // mmap.PAGESIZE * 0.9


def test_other_systems_are_left_alone(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert keep_freed_memory() is False
