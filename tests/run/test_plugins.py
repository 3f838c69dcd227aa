"""A user's own estimator, featuriser and CV splitter get everything a built-in one gets: the
same folds, baselines, controls, paired tests, learning curve, explain, report, notebook and
predict — from Python and from the command line, with two processes."""
import json
import tomllib
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import KFold
from typer.testing import CliRunner

from assay import Experiment, RunConfig, RunFolder
from assay.cli import app
from assay.errors import PluginError

USER_MODULE = textwrap.dedent('''
    """A user's own pieces, in a file of their own."""
    import numpy as np
    from matminer.featurizers.base import BaseFeaturizer
    from pymatgen.core import Composition
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.model_selection import KFold


    def make_model(task_type="regression", seed=0):
        return HistGradientBoostingRegressor(max_iter=60, learning_rate=0.1, random_state=seed)


    class MyFeaturizer(BaseFeaturizer):
        """Three numbers per composition; a real user would bring a new descriptor."""

        def featurize(self, comp):
            c = Composition(comp) if isinstance(comp, str) else comp
            fr = c.fractional_composition
            return [float(c.num_atoms), float(len(c.elements)),
                    float(sum(fr[e] * e.X for e in c.elements))]

        def feature_labels(self):
            return ["n_atoms", "n_elements", "mean_electronegativity"]

        def citations(self):
            return []

        def implementors(self):
            return ["A. User"]


    featurizer = MyFeaturizer()


    class MySplit(KFold):
        def __init__(self):
            super().__init__(4, shuffle=True, random_state=7)
''')


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    from assay.data.loading import load_task

    ds = load_task("steels")
    pd.DataFrame({"id": list(ds.ids[:100]), "formula": list(ds.inputs[:100]),
                  "yield": list(ds.target[:100])}).to_csv(tmp_path / "steels.csv", index=False)
    (tmp_path / "my_models.py").write_text(USER_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def _check_run(path, mine: str):
    f = RunFolder(path)
    assert f.validate() == []
    comp = json.loads((path / "comparison.json").read_text())
    versus = {r["versus"] for r in comp["rows"] if r["model"] == mine}
    assert {"dummy", "rf", f"{mine} [random-features]", f"{mine} [scrambled-target]"} <= versus
    curve = json.loads((path / "learning_curve.json").read_text())
    assert [c["model"] for c in curve["curves"]] == [mine]
    info = f.run_info()
    assert info["primary_model"] == mine and info["models"][mine]["kind"] != "zoo"
    return f


def test_python_api_user_estimator_featuriser_and_splitter_two_processes(user_folder):
    from assay.explanation.trust import explain_run
    from my_models import MyFeaturizer, MySplit

    cfg = RunConfig(data="steels.csv", target="yield", n_jobs=2, n_folds=4,
                    models={"dummy": "dummy", "rf": "rf",
                            "mine": HistGradientBoostingRegressor(max_iter=60, random_state=0)},
                    primary_model="mine", features=[MyFeaturizer()], split=MySplit(),
                    learning_curve_sizes=[0.5, 1.0])
    res = Experiment(cfg).run(progress=False)
    f = _check_run(res.path, "mine")
    assert res.scores["fold"].nunique() == 4
    assert json.loads((res.path / "features.json").read_text())["labels"][-1].endswith("mean_electronegativity")
    # the same folds for every model, from the user's splitter
    folds = json.loads((res.path / "folds.json").read_text())
    assert folds["split"].endswith("MySplit()")
    # the same run from its config.toml (+ the pickled objects) resolves to the same run id
    again = RunConfig.from_toml(res.path / "config.toml").materialise(f.load_pickle("plugins.pkl"))
    assert Experiment(again.replace(out_dir=str(user_folder / "runs"))).run_id == res.run_id
    # explain and predict work on the user's model
    s = explain_run(res.path, shap_rows=40, n_inner=3, loco=False, quantile=False, n_repeats=1,
                    progress=False)
    assert s["model"] == "mine" and (res.path / "trust" / "importance.json").is_file()
    from assay.explanation.predict import predict_frame

    out = predict_frame(res.path, pd.Series(["Fe0.8Ni0.2", "Fe0.7Cr0.2Mo0.1"]))
    assert np.isfinite(out["predicted yield"]).all() and "lower 90%" in out
    # the report and the notebook: the notebook's set-up cell re-creates this run's config
    nb = _report_and_notebook(res.path)
    assert "not re-creatable" in nb and "plugins.pkl" in nb
    config = _notebook_config(res.path)
    assert Experiment(config.replace(out_dir=str(res.path.parent))).run_id == res.run_id


def _report_and_notebook(path) -> str:
    from assay.report.commands import make_report

    out = make_report(path, notebook=True, submission=False)
    assert out["report"].is_file()
    assert "mine" in out["report"].read_text()
    return out["notebook"].read_text()


def _notebook_config(path):
    """Run the notebook's set-up cell (the one that builds ``config``) as the notebook would."""
    nb = json.loads((path / "report.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code" and "config = RunConfig" in
                "".join(c["source"]))
    ns: dict = {}
    exec("".join(cell["source"]), ns)  # noqa: S102 - the notebook's own code
    return ns["config"]


def test_command_line_references_two_processes(user_folder):
    r = CliRunner().invoke(app, ["run", "steels.csv", "--target", "yield", "-q", "-j", "2",
                                 "--models", "dummy,rf,my_models:make_model",
                                 "--features", "my_models:featurizer",
                                 "--split", "my_models:MySplit", "--n-folds", "4"])
    assert r.exit_code == 0, r.output
    path = next((user_folder / "runs").glob("steels-*"))
    _check_run(path, "make_model")
    toml = (path / "config.toml").read_text()
    assert "my_models:make_model" in toml and "[plugins.sources]" in toml
    assert RunConfig.from_toml(path / "config.toml").reference_sources() == tomllib.loads(toml)["plugins"]["sources"]
    # config.toml alone re-creates this run: every piece is a reference
    cfg = RunConfig.from_toml(path / "config.toml").materialise()
    assert Experiment(cfg).run_id == path.name
    r = CliRunner().invoke(app, ["explain", str(path), "--shap-rows", "40", "--inner-folds", "3",
                                 "--perm-repeats", "1", "--no-quantile", "--no-loco", "-q"])
    assert r.exit_code == 0, r.output
    assert (path / "trust" / "importance.json").is_file()
    nb = _report_and_notebook(path)
    assert "re-imported from `my_models:make_model`" in nb and "imports now, with the same source" in nb
    assert Experiment(_notebook_config(path).replace(out_dir=str(path.parent))).run_id == path.name
    # a file path reference works as well
    r = CliRunner().invoke(app, ["run", "steels.csv", "--target", "yield", "-q", "--n-folds", "3",
                                 "--models", f"dummy,{user_folder / 'my_models.py'}:make_model",
                                 "--controls", "none", "--no-learning-curve"])
    assert r.exit_code == 0, r.output


def test_unimportable_reference_is_named(user_folder):
    r = CliRunner().invoke(app, ["run", "steels.csv", "--target", "yield", "-q",
                                 "--models", "dummy,nosuchmodule:make"])
    assert r.exit_code == 2 and "nosuchmodule" in r.output
    with pytest.raises(PluginError, match="has no attribute"):
        Experiment(RunConfig(data="steels.csv", target="yield",
                             models=["dummy", "my_models:nothing"])).resolve(progress=False)


def test_a_classifier_on_a_regression_task_is_refused_up_front(user_folder):
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(PluginError, match="classifier"):
        Experiment(RunConfig(data="steels.csv", target="yield",
                             models={"dummy": "dummy", "lr": LogisticRegression()})).resolve(progress=False)
    assert not (user_folder / "runs").exists()


def test_python_object_not_recreatable_is_said_plainly(user_folder):
    class Local(HistGradientBoostingRegressor):
        pass

    cfg = RunConfig(data="steels.csv", target="yield", models={"dummy": "dummy", "loc": Local(max_iter=20)},
                    controls=[], learning_curve=False, n_folds=3)
    res = Experiment(cfg).run(progress=False)
    toml = (res.path / "config.toml").read_text()
    assert "recreatable = false" in toml
    with pytest.raises(PluginError, match="cannot re-create"):
        RunConfig.from_toml(res.path / "config.toml").materialise()
    # with the run's pickled objects it can
    objs = RunFolder(res.path).load_pickle("plugins.pkl")
    assert RunConfig.from_toml(res.path / "config.toml").materialise(objs).models["loc"].max_iter == 20


def test_installed_packages_register_names_through_entry_points(user_folder, monkeypatch):
    from importlib.metadata import EntryPoint

    import assay.references as R
    from assay.models.entries import resolve_models
    from assay.run.resolve import resolve_features

    eps = [EntryPoint("hgb", "my_models:make_model", "assay.models"),
           EntryPoint("mine", "my_models:MyFeaturizer", "assay.featurizers")]
    monkeypatch.setattr(R.md, "entry_points", lambda group=None: [e for e in eps if e.group == group])
    models = resolve_models(["dummy", "hgb"])
    assert models["hgb"].kind == "reference"
    assert models["hgb"].build("regression", seed=3).random_state == 3
    assert type(resolve_features(["magpie", "mine"])[1]).__name__ == "MyFeaturizer"
