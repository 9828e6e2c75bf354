"""The logic behind the chapters' widgets, one module per widget.

Used by the interactive cells of chapters 0 to 10.

Each widget is an ``ipywidgets`` object whose state can be set and whose
buttons can be clicked from Python, which is how the tests drive them.
"""

from .canvas import DrawingPad  # noqa: F401
from .checkbox_quiz import CheckboxQuiz  # noqa: F401
from .connection_table import ConnectionTableWidget  # noqa: F401
from .feature_maps import FeatureMapExplorer  # noqa: F401
from .formula import FormulaExercise, FormulaExplorer  # noqa: F401
from .layers import LayerExplorer  # noqa: F401
from .training import TrainingControls  # noqa: F401
from .welcome import WidgetCheck  # noqa: F401
