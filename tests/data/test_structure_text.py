"""Structures as people have them: pymatgen's printout (what to_csv writes for Structure objects)
and partial occupancies (ICSD/COD CIFs), which must load and featurise without a crash."""
import io

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Lattice, Species, Structure

from assay.data.errors import InvalidDataError
from assay.data.structures import ACCEPTED, parse_structure
from assay.data.user import load_user_data


def nacl():
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])


def triclinic():
    return Structure(Lattice.from_parameters(3, 4, 5, 80, 95, 100), [Species("Fe", 2), "O"],
                     [[0.123456789, 0, 0], [0.5, 0.5, 0.5]], site_properties={"magmom": [1.5, -2]})


def disordered():
    return Structure(Lattice.cubic(4.2), [{"Na": 0.5, "K": 0.5}, "Cl"], [[0, 0, 0], [.5, .5, .5]])


def test_dataframe_of_structures_written_by_to_csv_loads(tmp_path):
    originals = [nacl(), triclinic(), disordered()]
    f = tmp_path / "s.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "structure": originals, "y": [1, 2, 3]}).to_csv(
        f, index=False)
    ds = load_user_data(f, "y")
    assert ds.input_type == "structure"
    for s0, s1 in zip(originals, ds.inputs):
        assert s1.composition.almost_equals(s0.composition)
        assert np.allclose(s1.lattice.abc, s0.lattice.abc)
        assert np.allclose(s1.lattice.angles, s0.lattice.angles)
        assert np.abs(s1.frac_coords - s0.frac_coords).max() < 1e-6  # 6 digits as printed
        assert s0.matches(s1)


def test_edited_printout_refused_not_guessed():
    text = str(nacl())
    with pytest.raises(ValueError, match="not the printed"):
        parse_structure(text.replace("Full Formula (Na4 Cl4)", "Full Formula (Na4 Br4)"))
    with pytest.raises(ValueError, match=r"'Sites \(8\)' but 6 site lines"):
        parse_structure("\n".join(text.splitlines()[:-2]))


def test_unreadable_structure_lists_accepted_formats():
    df = pd.DataFrame({"structure": ["Na Cl\n1.0\nbroken", str(nacl())], "y": [1.0, 2.0]})
    with pytest.raises(InvalidDataError) as err:
        load_user_data(df, "y")
    (row, _, why), = err.value.problems
    assert row == 1 and why.startswith("unparsable POSCAR")
    for fmt in ("CIF", "POSCAR", "pymatgen structure dict", "str(Structure)"):
        assert fmt in why and fmt in ACCEPTED


def test_disordered_cif_loads_and_featurises_without_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSAY_CACHE", str(tmp_path / "cache"))
    from assay.features.api import featurize

    df = pd.DataFrame({"id": ["a", "b", "c"],
                       "cif": [nacl().to(fmt="cif"), disordered().to(fmt="cif"),
                               triclinic().to(fmt="cif")], "y": [1.0, 2.0, 3.0]})
    ds = load_user_data(df, "y")
    assert [s.is_ordered for s in ds.inputs] == [True, False, True]
    comp = featurize(ds.inputs, "magpie", input_type="structure", progress=False)  # cached
    assert comp.failed.empty and np.isfinite(comp.X.to_numpy()).all()
    struct = featurize(ds.inputs, "structure-fast", input_type="structure", progress=False)
    assert len(struct.X) == 3
    # a featuriser that cannot handle partial occupancy gives a reason for that row only
    assert set(struct.failed["id"]) <= {"b"}
    assert all(struct.failed["reason"].str.len() > 0)
    again = featurize(ds.inputs, "magpie", input_type="structure", progress=False)
    assert again.from_cache and np.array_equal(again.X.to_numpy(), comp.X.to_numpy())


def test_printout_round_trip_through_text_buffer():
    buf = io.StringIO()
    pd.DataFrame({"structure": [disordered(), nacl()], "y": [1.0, 2.0]}).to_csv(buf, index=False)
    frame = pd.read_csv(io.StringIO(buf.getvalue()), dtype=str)
    ds = load_user_data(frame, "y")
    assert ds.inputs.iloc[0].composition.almost_equals(disordered().composition)
