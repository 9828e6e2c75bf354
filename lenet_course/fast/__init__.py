"""The speed-ups that ``fit`` uses (chapter 8): the fused LeNet-5 blocks and the allocator setting.

- :mod:`~lenet_course.fast.fused`: C1+S2 and C3+S4 each one autograd function, on a CPU.
- :mod:`~lenet_course.fast.memory`: freed blocks kept for reuse between training steps.

``python -m lenet_course bench`` measures both against the seed article's pipeline.
"""
