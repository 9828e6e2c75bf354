"""``python -m lenet_course <command>``: the command line of :mod:`lenet_course.cli`.

Used by ``make train``, ``make bench``, ``make release`` and ``make grade``.
"""

import sys

from .cli import main

sys.exit(main())
