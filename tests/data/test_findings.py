"""One absurd target value: named by the audit with its remedy, and unable to switch off the
conflicting-duplicate check; constant and overflowing targets refused at load."""
import json

import numpy as np
import pandas as pd
import pytest

from assay.data.audit import AuditFinding, audit, key_findings
from assay.data.audit_stats import robust_scale
from assay.data.cleaning import Cleaner, remove_outliers
from assay.data.dataset import Dataset
from assay.data.errors import InvalidDataError
from assay.data.transforms import LogTarget
from assay.data.user import load_user_data

FORMULAS = ["NaCl", "KCl", "LiF", "MgO", "CaO", "SrO", "BaO", "ZnO", "CdS", "GaN", "AlN", "SiC",
            "BN", "ZnS", "CuCl", "AgBr"]


def dielectric(values, formulas=None):
    formulas = formulas or FORMULAS[:len(values)]
    ids = [f"m{i}" for i in range(len(values))]
    return Dataset("eps", pd.Series(formulas, index=ids), pd.Series(values, index=ids, dtype=float),
                   "composition", "regression", "eps")


# 12 ordinary values (median ~5.4), one absurd 2.9e6, and a duplicate pair (rows 13/14, NaCl)
# whose targets differ by 3.0: a real conflict on a scale of ~1.
BASE = [5.4, 4.9, 6.1, 5.0, 5.8, 4.6, 6.3, 5.2, 5.6, 4.8, 6.0, 5.5]
VALUES = BASE + [2.9e6, 5.0, 8.0]
FORMS = FORMULAS[1:13] + ["CuCl", "NaCl", "NaCl"]


def test_one_absurd_value_does_not_switch_off_conflict_check():
    r = audit(dielectric(VALUES, FORMS))
    # before: tolerance 0.1 x std ~ 7.5e4, and the 5.0 vs 8.0 pair "agreed"
    assert r.duplicates["conflict_tolerance"] < 0.2
    assert r.duplicates["formula"]["n_conflicting"] == 1
    assert r.duplicates["conflict_tolerance"] == pytest.approx(0.1 * robust_scale(VALUES))


def test_key_findings_name_rows_and_remedies():
    r = audit(dielectric(VALUES, FORMS))
    found = {f.kind: f for f in key_findings(r)}
    assert all(isinstance(f, AuditFinding) for f in found.values())
    ext = found["extreme_outliers"]
    assert ext.rows == ["m12"] and "2.9e+06" in ext.message and "'m12'" in ext.message
    assert '"step": "remove_outliers", "method": "robust"' in ext.remedy
    conf = found["conflicting_duplicates"]
    assert set(conf.rows) == {"m13", "m14"} and "merge_duplicates" in conf.remedy
    assert "orders_of_magnitude" in found and "log10" in found["orders_of_magnitude"].remedy
    assert "heavy_skew" in found
    # the JSON form of the report gives the same findings
    again = key_findings(json.loads(json.dumps(r.to_dict())))
    assert [f.kind for f in again] == [f.kind for f in key_findings(r)]


def test_remedy_step_removes_exactly_the_named_rows():
    ds = dielectric(VALUES, FORMS)
    ext = next(f for f in key_findings(audit(ds)) if f.kind == "extreme_outliers")
    cleaned, log = Cleaner([{"step": "remove_outliers", "method": "robust",
                             "threshold": 10}]).apply(ds)
    assert log.removed_ids == ext.rows
    assert remove_outliers("robust").params() == {"method": "robust", "threshold": 10.0}


def test_clean_data_has_no_findings():
    assert key_findings(audit(dielectric(BASE))) == []


def test_constant_target_finding_and_refusal(tmp_path):
    found = key_findings(audit(dielectric([2.0] * 5)))
    assert [f.kind for f in found] == ["constant_target"]
    f = tmp_path / "c.csv"
    f.write_text("formula,y\nNaCl,2\nKCl,2.0\nLiF,2\n")
    with pytest.raises(InvalidDataError, match=r"c.csv: the target 'y' is constant \(2 in all 3"):
        load_user_data(f, "y")


@pytest.mark.parametrize("big", ["1e308", "-1e300", "1e39", str(10 ** 400), "inf"])
def test_overflowing_targets_refused_with_row(tmp_path, big):
    f = tmp_path / "o.csv"
    f.write_text(f"id,formula,y\na,NaCl,1.5\nb,KCl,{big}\nc,LiF,2.5\n")
    with pytest.raises(InvalidDataError) as err:
        load_user_data(f, "y")
    assert [(r, c) for r, c, _ in err.value.problems] == [(2, "y")]
    assert "[id 'b']" in str(err.value)


def test_large_but_computable_targets_kept(tmp_path):
    f = tmp_path / "o.csv"
    f.write_text("formula,y\nNaCl,1e30\nKCl,-3e38\nLiF,2.5\n")
    ds = load_user_data(f, "y")
    y = ds.y()
    assert np.isfinite(y.astype(np.float32)).all() and np.isfinite(np.mean(y ** 2))


def test_log_target_transform_round_trips_and_names_bad_rows():
    t = LogTarget()
    y = np.array([1e-3, 1.0, 2.9e6])
    assert np.allclose(t.inverse(t.forward(y)), y)
    with pytest.raises(InvalidDataError, match="row 2"):
        t.check([1.0, 0.0, 3.0])
    LogTarget(shift=1.0).check([1.0, 0.0, 3.0])
