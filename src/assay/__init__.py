"""assay: build a machine-learning model for a materials property from scratch, and get it right."""
__version__ = "0.1.0"

from .config import RunConfig  # noqa: E402
from .experiment import Experiment, RunResult, load_run  # noqa: E402
from .recipes import recipe_config  # noqa: E402

__all__ = ["Experiment", "RunConfig", "RunResult", "load_run", "recipe_config", "__version__"]
