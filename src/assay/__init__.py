"""assay: build a machine-learning model for a materials property from scratch, and get it right."""
__version__ = "0.1.0"

from .run.config import RunConfig  # noqa: E402
from .run.experiment import Experiment, RunResult, load_run  # noqa: E402
from .run.folder import RunFolder  # noqa: E402
from .run.recipes import recipe_config  # noqa: E402

__all__ = ["Experiment", "RunConfig", "RunFolder", "RunResult", "load_run", "recipe_config",
           "__version__"]
