"""LeNet-5 exactly as published in 1998, and the paper's way of training it (chapter 11).

- :mod:`~lenet_course.paper.network`: ``LeNet5Classic``, layer by layer (scaled tanh,
  trainable subsampling, the C3 connection table, the RBF output);
- :mod:`~lenet_course.paper.bitmaps`: the 7x12 digit bitmaps of the RBF units;
- :mod:`~lenet_course.paper.losses`: the MSE (eq. 8) and MAP (eq. 9) losses;
- :mod:`~lenet_course.paper.sdlm`: the stochastic diagonal Levenberg-Marquardt optimiser;
- :mod:`~lenet_course.paper.distortions`: the paper's random distortions;
- :mod:`~lenet_course.paper.recipe`: all of it packaged for ``fit``;
- :mod:`~lenet_course.paper.reproduce`: ``python -m lenet_course reproduce``.
"""

from .network import LeNet5Classic

__all__ = ["LeNet5Classic"]
