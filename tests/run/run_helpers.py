from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "matbench"


def subset_task_file(task: str, n: int, out: Path) -> Path | None:
    """The first ``n`` rows of a Matbench task, written as a Matbench 'split' JSON file (the
    official folds then do not apply: tests use k-fold on it). None when the data is absent."""
    from assay.data.errors import DataNotAvailableError
    from assay.data.loading import load_task

    shared = SHARED / f"{task}.json.gz"
    try:
        ds = load_task(task, shared if shared.is_file() else None, allow_download=False,
                       progress=False)
    except (DataNotAvailableError, FileNotFoundError):
        return None
    inputs = ds.inputs.iloc[:n]
    col = "structure" if ds.input_type == "structure" else "composition"
    values = [s.as_dict() for s in inputs] if ds.input_type == "structure" else list(inputs)
    target = ds.target.iloc[:n]
    if ds.is_classification:
        target = target.astype(bool)
    df = pd.DataFrame({col: values, ds.target_name: list(target)}, index=list(ds.ids[:n]))
    path = out / f"{task}_{n}.json"
    df.to_json(path, orient="split")
    return path
