"""``assay explain`` says what it is doing: a line as each stage starts and ends (with its time)
and a closing summary of the stages, the total time and where the outputs went. The CLI run is
the one of test_explain_cli (one explain in the suite); here the Stages helper itself."""
import re

from assay import ui
from assay.explanation.stages import Stages

STAGES = ("load", "uncertainty", "domain", "SHAP", "permutation importance", "surrogate",
          "importance plots", "LOCO comparison", "predictor")


def assert_stage_lines(out: str, n_folds: int) -> None:
    """What `assay explain` (not quiet, one process) prints, checked stage by stage."""
    for stage in STAGES:
        assert re.search(rf"{stage}: .* \.\.\.", out), stage  # the start line says what it does
        assert re.search(rf"{stage} done \(\d+\.\d s\)", out), stage  # the end line its time
    for k in range(n_folds):
        assert f"fold {k}: SHAP" in out and f"fold {k} of {n_folds} done" in out
    assert re.search(r"\d+ stages in \d+\.\d s wall", out)
    assert re.search(r"\d+ files written to .*trust", out)
    assert out.index("stages in") > out.rindex("predictor done")  # the summary closes


def test_stage_lines_timings_and_summary(capsys, tmp_path):
    st = Stages()
    for _ in range(2):
        with st("SHAP", "20 held-out rows"):
            pass
    st.merge({"SHAP": 1.0, "domain": 0.5}, label="fold 3")
    err = capsys.readouterr().err
    assert err.count("SHAP: 20 held-out rows ...") == 2 and re.search(r"SHAP done \(0\.0 s\)", err)
    assert "fold 3: SHAP 1.0 s, domain 0.5 s" in err
    assert st.seconds["SHAP"] >= 1.0 and st.seconds["domain"] == 0.5
    summary = st.summary(tmp_path, n_files=4)
    assert summary.startswith("2 stages in") and f"4 files written to {tmp_path}" in summary
    assert re.search(r"SHAP\s+1\.0 s", summary)
    shares = [int(x) for x in re.findall(r"(\d+)%", summary)]
    assert shares and sum(shares) <= 101  # shares of the summed stage time, never over 100%


def test_quiet_and_worker_stages_print_nothing_but_keep_time(capsys):
    silent = Stages(enabled=False)
    with silent("SHAP"):
        pass
    ui.set_quiet(True)
    try:
        with Stages()("domain"):
            pass
    finally:
        ui.set_quiet(False)
    assert capsys.readouterr().err == "" and "SHAP" in silent.seconds
