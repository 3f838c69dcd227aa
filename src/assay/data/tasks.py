"""The Matbench v0.1 task registry: what each task is, where its data lives, how it is scored.

Kept as plain data so that the CLI, the loader, the report and the benchmarks all agree
on one description of each task.
"""
from __future__ import annotations

from dataclasses import dataclass, field

MATBENCH_URL = "https://ml.materialsproject.org/projects/{name}.json.gz"

#: Official Matbench fold generation (see the Matbench paper / matbench.constants).
FOLD_SEED = 18012019
N_FOLDS = 5


@dataclass(frozen=True)
class Task:
    """One Matbench v0.1 task."""

    name: str
    input_type: str  # "composition" | "structure"
    target: str
    unit: str
    task_type: str  # "regression" | "classification"
    n_samples: int
    mad: float | None  # mean absolute deviation of the target (regression only)
    sha256: str  # of the official compressed download
    bundled: bool = False
    description: str = ""
    input_column: str = field(default="")

    @property
    def is_classification(self) -> bool:
        return self.task_type == "classification"

    @property
    def url(self) -> str:
        return MATBENCH_URL.format(name=self.name)

    @property
    def filename(self) -> str:
        return f"{self.name}.json.gz"

    @property
    def primary_metric(self) -> str:
        """The metric the leaderboard ranks by (its 'rocauc' is balanced accuracy)."""
        return primary_metric(self.task_type)

    @property
    def short(self) -> str:
        return self.name.removeprefix("matbench_")


def primary_metric(task_type: str) -> str:
    """The one metric a run is judged by, everywhere: Matbench's MAE, or its 'rocauc' (ROC-AUC
    of hard labels, which equals balanced accuracy) for classification."""
    return "rocauc" if task_type == "classification" else "mae"


def _t(name, input_type, target, unit, task_type, n, mad, sha, bundled=False, desc=""):
    return Task(
        name=name,
        input_type=input_type,
        target=target,
        unit=unit,
        task_type=task_type,
        n_samples=n,
        mad=mad,
        sha256=sha,
        bundled=bundled,
        description=desc,
        input_column=input_type,
    )


TASKS: dict[str, Task] = {
    t.name: t
    for t in [
        _t("matbench_dielectric", "structure", "n", "", "regression", 4764, 0.8085,
           "83befa09bc2ec2f4b6143afc413157827a90e5e2e42c1eb507ccfa01bf26a1d6",
           desc="Refractive index from crystal structure (Materials Project, DFPT)."),
        _t("matbench_expt_gap", "composition", "gap expt", "eV", "regression", 4604, 1.1432,
           "783e7d1461eb83b00b2f2942da4b95fda5e58a0d1ae26b581c24cf8a82ca75b2", True,
           "Experimental band gap from composition (Zhuo et al. 2018)."),
        _t("matbench_expt_is_metal", "composition", "is_metal", "", "classification", 4921, None,
           "8f2a4f9bacdcbc5c2c73615629ee7986f09d39bed40ba7db52b61b2889730887", True,
           "Experimental metal/non-metal classification from composition."),
        _t("matbench_glass", "composition", "gfa", "", "classification", 5680, None,
           "36beb654e2a463ee2a6572105bea0ca2961eee7c7b26a25377bff2c3b338e53a", True,
           "Metallic-glass formation ability from composition (melt spinning)."),
        _t("matbench_jdft2d", "structure", "exfoliation_en", "meV/atom", "regression", 636, 67.2020,
           "26057dc4524e193e32abffb296ce819b58b6e11d1278cae329a2f97817a4eddf",
           desc="Exfoliation energy of 2D materials (JARVIS-DFT)."),
        _t("matbench_log_gvrh", "structure", "log10(G_VRH)", "log10(GPa)", "regression", 10987, 0.2931,
           "098af941f4c663270f1fe21abf20ffad6fb85ecbfcba5786ceac03983ac29da7",
           desc="Shear modulus (log10 VRH) from structure (Materials Project elasticity)."),
        _t("matbench_log_kvrh", "structure", "log10(K_VRH)", "log10(GPa)", "regression", 10987, 0.2897,
           "44b113ddb7e23aa18731a62c74afa7e5aa654199e0db5f951c8248a00955c9cd",
           desc="Bulk modulus (log10 VRH) from structure (Materials Project elasticity)."),
        _t("matbench_mp_e_form", "structure", "e_form", "eV/atom", "regression", 132752, 1.0059,
           "dedcb1d4ba2e3e50dbdd45ba5bc647a00e9c2bcf8f8bf556dc8e92caa39eb21f",
           desc="DFT formation energy from structure (Materials Project)."),
        _t("matbench_mp_gap", "structure", "gap pbe", "eV", "regression", 106113, 1.3271,
           "58b65746bd88329986ed66031a2ac1369c7c522f7bc9f9081528e07097c2c057",
           desc="DFT (PBE) band gap from structure (Materials Project)."),
        _t("matbench_mp_is_metal", "structure", "is_metal", "", "classification", 106113, None,
           "9a028ed5750a4c76ca36e9f3c8d48fe0bf3fb21b76ec2289e58ae7048d527919",
           desc="DFT metallicity from structure (Materials Project)."),
        _t("matbench_perovskites", "structure", "e_form", "eV/unit cell", "regression", 18928, 0.5660,
           "4641e2417f8ec8b50096d2230864468dfa08278dc9d257c327f65d0305278483",
           desc="Formation energy of cubic perovskites from structure (Castelli 2012)."),
        _t("matbench_phonons", "structure", "last phdos peak", "cm^-1", "regression", 1265, 323.7870,
           "4db551f21ec5f577e6202725f10e34dfc509aa7df3a6bdaac497da7f6dbbb9b3", True,
           "Frequency of the highest phonon DOS peak from structure (DFPT)."),
        _t("matbench_steels", "composition", "yield strength", "MPa", "regression", 312, 229.3743,
           "473bc4957b2ea5e6465aef84bc29bb48ac34db27d69ea4ec5f508745c6fae252", True,
           "Yield strength of steels from composition."),
    ]
}


def get_task(name: str) -> Task:
    """Look a task up by full name (matbench_expt_gap) or short name (expt_gap)."""
    key = name if name.startswith("matbench_") else f"matbench_{name}"
    try:
        return TASKS[key]
    except KeyError:
        known = ", ".join(t.short for t in TASKS.values())
        raise KeyError(f"Unknown Matbench task {name!r}. Known tasks: {known}") from None
