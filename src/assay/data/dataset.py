"""The one object every later stage consumes: inputs, target and where they came from."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pymatgen.core import Composition

from .chemistry import hydrate_formula
from .tasks import Task


@dataclass
class Dataset:
    """Inputs (formula strings or pymatgen Structures) and target, indexed by row id.

    ``task`` is set for Matbench tasks, whose official folds then apply.
    """

    name: str
    inputs: pd.Series
    target: pd.Series
    input_type: str  # "composition" | "structure"
    task_type: str  # "regression" | "classification"
    target_name: str
    unit: str = ""
    task: Task | None = None
    source: dict = field(default_factory=dict)
    extra: pd.DataFrame | None = None  # the user table's other columns, by id (fold, year, ...)

    def __post_init__(self):
        if len(self.inputs) != len(self.target):
            raise ValueError("inputs and target differ in length")

    def __len__(self) -> int:
        return len(self.target)

    @property
    def is_classification(self) -> bool:
        return self.task_type == "classification"

    @property
    def ids(self) -> pd.Index:
        return self.target.index

    @property
    def class_labels(self) -> dict[int, str] | None:
        """Class code -> the label as written in the data ('metal', 'True'), when the labels
        were text or true/false words; None for numeric labels and regression."""
        labels = self.source.get("class_labels")
        return {int(k): str(v) for k, v in labels.items()} if labels else None

    def y(self) -> np.ndarray:
        y = self.target.to_numpy()
        return y.astype(int) if self.is_classification else y.astype(float)

    def compositions(self) -> list:
        """pymatgen Compositions of every row (from the formula or the structure); hydrate
        notation is read as chemistry.hydrate_formula reads it."""
        if self.input_type == "structure":
            return [s.composition for s in self.inputs]
        return [f if isinstance(f, Composition) else Composition(hydrate_formula(str(f).strip()))
                for f in self.inputs]

    def subset(self, rows) -> "Dataset":
        """A new Dataset with the given positional rows; the original is untouched."""
        rows = np.asarray(rows)
        return Dataset(self.name, self.inputs.iloc[rows].copy(), self.target.iloc[rows].copy(),
                       self.input_type, self.task_type, self.target_name, self.unit, self.task,
                       dict(self.source),
                       None if self.extra is None else self.extra.iloc[rows].copy())

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({self.input_type: self.inputs, self.target_name: self.target})
