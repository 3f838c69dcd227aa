"""Hidden layers of frozen universal potentials (CHGNet, SevenNet-0) as features.

Why: a potential's interaction blocks hold what it learned about local chemistry and geometry
from millions of DFT calculations; its final energy is only one number out of that. Each block's
per-atom scalar features are pooled per structure (``"cell"``) and, for fixed prototypes such as
perovskites, per site role (``"roles"``: A cation, B cation, anion, assigned as in
:mod:`assay.features.sites`), which keeps where an atom sits. Pasted raw, these thousands of
continuous columns slow tree learners and did not help (design folds); reduce them inside the
training folds (:class:`assay.models.reduce.BlockPCA`).

* CHGNet 0.3.0: the outputs of ``atom_conv_layers[0..3]`` (4 blocks x 64), from an energy-only
  forward pass (no forces) through forward hooks.
* SevenNet-0 (``sevenn``, GPL, an optional extra): ``data["x"]`` after ``{i}_equivariant_gate``
  (5 blocks), its 128 ``0e`` (invariant) channels; the modules after the last block (readout,
  forces) are never run.

Structures go in chunks of ``chunk`` (each a batch of ``batch_size``); a failing chunk is redone
one structure at a time. With ``n_jobs`` > 1, whole chunks go to worker processes that each load
the potential once and run torch with ``threads`` threads (default 1; more threads on a shared
CPU spin instead of working), while the caller works too until they are warm
(:mod:`assay.features._workshare`); the batches, and so the values, do not depend on ``n_jobs``.
Throughput (structures/s) is logged at the end and, for big inputs, as it goes.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import io
import warnings
from functools import lru_cache

import numpy as np
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from .base import BatchResult, Featurizer
from ._workshare import run_chunks
from .chgnet_physics import torch_threads
from .pretrained import MODEL_VERSION, load_chgnet, require_chgnet
from .sites import ROLES, SiteRoleProperties

__all__ = ["PotentialLayers", "ChgnetLayers", "SevennetLayers", "STATS", "POOLINGS", "SEVENNET_HINT"]

STATS = ("mean", "std", "min", "max")
POOLINGS = ("cell", "roles")
SEVENNET_HINT = "pip install 'assay[sevennet]'  (sevenn, GPL-3.0)"


class PotentialLayers(Featurizer):
    """Per-block pooled atom features of a frozen potential (subclasses say which potential)."""

    input_kind = "structure"
    prefix = ""  # label prefix, also the block name BlockPCA groups on
    n_blocks = 0
    width = 0

    def __init__(self, pooling=("cell",), stats=("mean",), batch_size: int = 32, chunk: int = 64,
                 threads: int = 1):
        pooling, stats = tuple(pooling), tuple(stats)
        bad = [p for p in pooling if p not in POOLINGS] + [s for s in stats if s not in STATS]
        if bad or not pooling or not stats:
            raise ValueError(f"pooling must be some of {POOLINGS} and stats some of {STATS}; got "
                             f"pooling={pooling}, stats={stats}")
        self.pooling = tuple(p for p in POOLINGS if p in pooling)
        self.stats = tuple(s for s in STATS if s in stats)
        self.batch_size = batch_size
        self.chunk = chunk
        self.threads = threads

    # -- what the subclasses provide -------------------------------------------------------------
    def model_identity(self) -> dict:
        raise NotImplementedError

    def _atom_layers(self, structures) -> list[np.ndarray]:
        """(n_atoms, n_blocks, width) per structure, in one batched pass per ``batch_size``."""
        raise NotImplementedError

    # -- matminer contract ----------------------------------------------------------------------
    def _scopes(self) -> list[str]:
        return (["cell"] if "cell" in self.pooling else []) + (list(ROLES) if "roles" in self.pooling else [])

    def feature_labels(self) -> list[str]:
        return [f"{self.prefix} L{b} {sc} {st} {c}" for b in range(self.n_blocks) for sc in self._scopes()
                for st in self.stats for c in range(self.width)]

    def cache_name(self) -> str:
        return f"structure:{self.prefix}:{'+'.join(self.pooling)}:{'+'.join(self.stats)}"

    def cache_params(self) -> dict:
        """The potential (name, weights, package and torch versions), pooling, stats, role rules and the
        batching (float32 sums differ by ~1e-6 between batch sizes); threads and n_jobs are left out:
        they do not change the values (tested bit-equal)."""
        roles = SiteRoleProperties().cache_params() if "roles" in self.pooling else None
        return {"potential": self.model_identity(), "pooling": list(self.pooling), "stats": list(self.stats),
                "roles": roles, "batch_size": self.batch_size, "chunk": self.chunk,
                "torch": importlib.metadata.version("torch"), "v": 1}

    def implementors(self) -> list[str]:
        return ["assay"]

    # -- the batch hook ---------------------------------------------------------------------------
    def featurize_batch(self, items, *, n_jobs: int = 1, threads: int | None = None) -> BatchResult:
        structures = list(items)
        threads = self.threads if threads is None else threads
        parts, _ = run_chunks(_chunks, self, structures, self.chunk, n_jobs, threads, self.prefix)
        X = np.vstack([p[0] for p in parts]) if parts else np.empty((0, len(self.feature_labels())))
        errors = {k: v for p in parts for k, v in p[1].items()}
        notes = [n for p in parts for n in p[2]]
        return BatchResult(X, [errors.get(i) for i in range(len(structures))], notes)

    # -- pooling ----------------------------------------------------------------------------------
    def _pool(self, structure, atoms: np.ndarray) -> tuple[np.ndarray, list]:
        """One row from (n_atoms, n_blocks, width): blocks x scopes x stats x channels."""
        masks, notes = [], []
        if "cell" in self.pooling:
            masks.append(np.ones(len(atoms), bool))
        if "roles" in self.pooling:
            role, _ = SiteRoleProperties().roles(structure)
            for r_i, r in enumerate(ROLES):
                masks.append(role == r_i)
                if not masks[-1].any():
                    notes.append((f"{self.prefix} L0 {r} {self.stats[0]} 0", f"no site in role {r}"))
        out = np.full((self.n_blocks, len(masks), len(self.stats), self.width), np.nan)
        for k, m in enumerate(masks):
            if not m.any():
                continue
            a = atoms[m]
            fns = {"mean": a.mean, "std": a.std, "min": a.min, "max": a.max}
            for s_i, st in enumerate(self.stats):
                out[:, k, s_i] = fns[st](axis=0)
        return out.ravel(), notes


def _chunks(fz: PotentialLayers, structures, offset: int, threads: int):
    """(X, {row: reason}, notes) of one chunk, rows numbered from ``offset``, under ``threads``."""
    X = np.full((len(structures), len(fz.feature_labels())), np.nan)
    errors: dict[int, str] = {}
    notes: list = []
    with torch_threads(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            rows = _rows(fz, structures)
        except Exception:  # find the culprit(s): redo one at a time
            rows = []
            for i, s in enumerate(structures):
                try:
                    rows += _rows(fz, [s])
                except Exception as exc:
                    errors[offset + i] = f"{type(exc).__name__}: {exc}"
                    rows.append(None)
    for i, r in enumerate(rows):
        if r is not None:
            X[i] = r[0]
            notes += [(offset + i, f, why) for f, why in r[1]]
    return X, errors, notes


def _rows(fz: PotentialLayers, structures):
    for s in structures:
        if not isinstance(s, Structure):
            raise TypeError(f"{fz.prefix} needs pymatgen Structures, got {type(s).__name__}")
        if not s.is_ordered:
            raise ValueError(f"disordered structure (partial occupancies): {fz.prefix} needs an ordered cell")
    atoms = fz._atom_layers(structures)
    return [fz._pool(s, a) for s, a in zip(structures, atoms)]


# --- CHGNet --------------------------------------------------------------------------------------
class ChgnetLayers(PotentialLayers):
    """CHGNet's four atom-convolution outputs (64 channels each), pooled; energy-only forward pass."""

    name = "ChgnetLayers"
    prefix = "chgnet-layers"
    n_blocks = 4
    width = 64

    def __init__(self, pooling=("cell",), stats=("mean",), model: str = MODEL_VERSION, batch_size: int = 32,
                 chunk: int = 64, threads: int = 1):
        require_chgnet()
        super().__init__(pooling, stats, batch_size, chunk, threads)
        self.model = model

    def model_identity(self) -> dict:
        return {"name": "CHGNet", "weights": self.model, "chgnet": importlib.metadata.version("chgnet")}

    def citations(self) -> list[str]:
        return ["@article{deng2023chgnet, title={CHGNet as a pretrained universal neural network potential for "
                "charge-informed atomistic modelling}, author={Deng, Bowen and others}, "
                "journal={Nature Machine Intelligence}, volume={5}, pages={1031--1041}, year={2023}}"]

    def _atom_layers(self, structures):
        model = load_chgnet(self.model)
        graphs = [model.graph_converter(s) for s in structures]
        seen: list[list] = [[] for _ in range(self.n_blocks)]
        hooks = [layer.register_forward_hook(lambda mod, args, out, b=b: seen[b].append(out.detach().numpy()))
                 for b, layer in enumerate(model.atom_conv_layers)]
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                model.predict_graph(graphs, task="e", batch_size=self.batch_size)
        finally:
            for h in hooks:
                h.remove()
        per_block = np.stack([np.concatenate(s, axis=0) for s in seen], axis=1).astype(float)
        ends = np.cumsum([len(s) for s in structures])[:-1]
        return np.split(per_block, ends)


# --- SevenNet ------------------------------------------------------------------------------------
class SevennetLayers(PotentialLayers):
    """SevenNet-0's five interaction blocks (128 invariant channels each), pooled."""

    name = "SevennetLayers"
    prefix = "sevennet-layers"
    n_blocks = 5
    width = 128

    def __init__(self, pooling=("cell",), stats=("mean",), model: str = "7net-0", batch_size: int = 32,
                 chunk: int = 64, threads: int = 1):
        require_sevennet()
        super().__init__(pooling, stats, batch_size, chunk, threads)
        self.model = model

    def model_identity(self) -> dict:
        return {"name": "SevenNet", "weights": self.model, "sevenn": importlib.metadata.version("sevenn")}

    def citations(self) -> list[str]:
        return ["@article{park2024sevennet, title={Scalable parallel algorithm for graph neural network interatomic "
                "potentials in molecular dynamics simulations}, author={Park, Yutack and Kim, Jaesun and Hwang, "
                "Seungwoo and Han, Seungwu}, journal={J. Chem. Theory Comput.}, volume={20}, pages={4857--4868}, "
                "year={2024}}"]

    def _atom_layers(self, structures):
        import torch

        model, cutoff, scalars = load_sevennet(self.model)
        out = []
        for i in range(0, len(structures), self.batch_size):
            part = structures[i:i + self.batch_size]
            data = _sevennet_batch(part, cutoff, set(model.type_map), self.model)
            blocks = []
            with torch.no_grad():
                data = model._preprocess(data)
                for name, module in model._modules.items():
                    data = module(data)
                    if name.endswith("_equivariant_gate"):
                        blocks.append(data["x"][:, :scalars[len(blocks)]].detach().numpy())
                        if len(blocks) == self.n_blocks:
                            break
            arr = np.stack(blocks, axis=1).astype(float)
            out += np.split(arr, np.cumsum([len(s) for s in part])[:-1])
        return out


def _sevennet_batch(structures, cutoff: float, known: set, name: str):
    """One SevenNet input graph for several structures: nodes and edges concatenated, edge indices
    offset, a ``batch`` vector (what torch_geometric's Batch would build, without importing it)."""
    import torch
    from sevenn.atom_graph_data import AtomGraphData
    from sevenn.train.dataload import unlabeled_atoms_to_graph

    graphs = []
    for s in structures:
        unknown = sorted({sp.symbol for sp in s.species if sp.Z not in known})
        if unknown:
            raise ValueError(f"SevenNet {name} has no parameters for element(s) {unknown}")
        graphs.append(unlabeled_atoms_to_graph(AseAtomsAdaptor.get_atoms(s), cutoff))
    offsets = np.cumsum([0] + [len(g["atomic_numbers"]) for g in graphs[:-1]])
    z = np.concatenate([g["atomic_numbers"] for g in graphs])
    return AtomGraphData(
        x=torch.as_tensor(z, dtype=torch.int64), atomic_numbers=torch.as_tensor(z, dtype=torch.int64),
        pos=torch.as_tensor(np.concatenate([g["pos"] for g in graphs]), dtype=torch.float32),
        edge_index=torch.as_tensor(np.concatenate([g["edge_index"] + o for g, o in zip(graphs, offsets)], axis=1),
                                   dtype=torch.int64),
        edge_vec=torch.as_tensor(np.concatenate([g["edge_vec"] for g in graphs]), dtype=torch.float32),
        batch=torch.as_tensor(np.repeat(np.arange(len(graphs)), [len(g["atomic_numbers"]) for g in graphs]),
                              dtype=torch.int64),
        num_atoms=torch.as_tensor([len(g["atomic_numbers"]) for g in graphs], dtype=torch.int64),
        cell_volume=torch.as_tensor([float(g["cell_volume"]) for g in graphs], dtype=torch.float32))


def require_sevennet() -> None:
    missing = [m for m in ("torch", "sevenn") if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f"the SevenNet layer features need {', '.join(missing)}: {SEVENNET_HINT}")


@lru_cache(maxsize=None)
def load_sevennet(name: str):
    """(model in batch mode on CPU, cutoff, number of leading 0e channels per block), loaded once."""
    require_sevennet()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        from sevenn.util import load_checkpoint

        cp = load_checkpoint(name)
        model = cp.build_model()
    model.set_is_batch_data(True)
    model.eval()
    scalars = []
    for mod_name, mod in model._modules.items():
        if mod_name.endswith("_equivariant_gate"):
            irreps = mod.gate.irreps_out
            n0 = 0
            for mul, ir in irreps:  # the invariant channels come first in a gate's output
                if ir.l != 0 or ir.p != 1:
                    break
                n0 += mul
            scalars.append(n0)
    if any(n != SevennetLayers.width for n in scalars[:SevennetLayers.n_blocks]):
        raise ValueError(f"SevenNet {name}: expected {SevennetLayers.width} invariant channels per block, "
                         f"got {scalars}")
    return model, float(cp.config["cutoff"]), tuple(scalars)
