"""assay: build a machine-learning model for a materials property from scratch, and get it right."""
__version__ = "0.1.0"

from .run.config import RunConfig  # noqa: E402
from .run.experiment import Experiment, RunResult, load_run  # noqa: E402
from .run.folder import RunFolder  # noqa: E402
from .run.inputs import RunInputs, load_run_inputs  # noqa: E402
from .run.own_model import OwnModelResult, evaluate_on_run  # noqa: E402
from .run.recipes import recipe_config  # noqa: E402

__all__ = ["Experiment", "OwnModelResult", "RunConfig", "RunFolder", "RunInputs", "RunResult",
           "evaluate_on_run", "load_run", "load_run_inputs", "recipe_config", "__version__"]
