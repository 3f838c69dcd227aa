"""The run stage: config -> resolved run -> fold jobs -> aggregated results in a RunFolder."""
from .config import ConfigError, RunConfig
from .experiment import Experiment, RunResult, load_run
from .folder import RunFolder
from .records import FoldJob, FoldResult, FoldSpec

__all__ = ["ConfigError", "Experiment", "FoldJob", "FoldResult", "FoldSpec", "RunConfig", "RunFolder",
           "RunResult", "load_run"]
