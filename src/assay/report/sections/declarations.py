"""Section 10, declarations: software used, the automated steps, and the author's statement."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..html import esc

if TYPE_CHECKING:
    from ..builder import ReportBuilder


def build(b: ReportBuilder) -> None:
    r = b.run
    v = r.run.get("versions", {})
    sw = [f"assay {v.get('assay', '?')} (this workflow)", f"scikit-learn {v.get('scikit-learn', '?')}",
          f"pandas {v.get('pandas', '?')}, numpy {v.get('numpy', '?')}, scipy {v.get('scipy', '?')}",
          f"pymatgen {v.get('pymatgen', '?')} and matminer {v.get('matminer', '?')} (inputs, features)",
          f"matplotlib {v.get('matplotlib', '?')} (figures)"]
    if any(m.startswith("lgbm") for m in r.models):
        sw.insert(2, f"LightGBM {v.get('lightgbm', '?')}")
    steps = ["Data loading with checksum verification, and the data audit (statistics, "
             "duplicates, outliers, chemical-system overlap).",
             f"Featurisation (preset {esc(r.preset)}).",
             f"Cross-validation on the {esc(r.split)} split, fitting and scoring every model "
             f"on every fold.",
             "This report, the notebook, the slides and the Matbench submission were generated "
             "by <code>assay report</code>: the prose in them is produced by rules from the "
             "run's numbers (no language model was used by assay)."]
    if r.search:
        steps.insert(3, "Nested hyperparameter search inside each training fold.")
    if r.trust["json"] or r.trust["png"]:
        steps.append("Interpretation, uncertainty and domain analysis (<code>assay explain</code>).")
    parts = ["<h3>Software</h3><ul>" + "".join(f"<li>{esc(s)}</li>" for s in sw) + "</ul>",
             "<h3>Automated steps</h3><ul>" + "".join(f"<li>{s}</li>" for s in steps) + "</ul>",
             "<h3>Author's statement</h3>"
             "<div class=statement contenteditable=true data-placeholder=author-statement>"
             "<p class=note>[To be completed by the author: your own statement, e.g. on the use "
             "of large language models or other AI tools in designing the study, writing code "
             "or writing the text; on data provenance and licences; on conflicts of "
             "interest.]</p></div>"]
    b.add("declarations", "".join(parts), ["Software: " + "; ".join(sw) + ".",
                                           "Author's statement: [to be completed by the author]."])
