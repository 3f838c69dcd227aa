"""A small crystal-graph network (CGCNN-like) behind scikit-learn's estimator contract.

The rows come from the ``graph`` preset (features/graph.py): atomic numbers and each atom's K
nearest periodic neighbours with distances, padded to a fixed width. The network embeds each element
(a learned 64-d vector, plus, by default, the 22 standardised Magpie properties of the element, so
that elements seen in few training rows still start somewhere sensible), runs ``n_conv`` gated
convolutions over the neighbour lists (Xie & Grossman 2018: sigmoid gate times softplus message from
[atom, neighbour, Gaussian-expanded distance]), mean-pools the atoms and maps the pooled vector
through an MLP head. Columns that are not graph columns (e.g. a CHGNet energy from another preset)
are median-imputed, standardised and joined to the pooled vector in front of the head.

The layout is read from the column labels (``feature_names``, which the experiment passes, or a
DataFrame's columns). Without graph columns (no labels, or arbitrary numeric X as in scikit-learn's
estimator checks and the random-feature control) there is nothing to convolve and the model is the
head alone: an MLP on the standardised columns. A warning says so when labels were given.

Training: AdamW, SmoothL1 on the standardised target (cross-entropy for classes), each of
``n_ensemble`` seeds early-stopped on its own random ``val_fraction`` of the training rows (keeping
its best weights); predictions average the members. torch runs ``threads`` threads (default 1:
assay parallelises over processes) and the numbers repeat for a given ``random_state``.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from ..features._matrix import source_table
from ..features.sites import PROPS
from .mlp import ClassTarget, RegressionTarget, train_early_stopped

__all__ = ["GraphNetRegressor", "GraphNetClassifier", "graph_layout"]

_LABEL = re.compile(r"^graph atom (\d+) (Z|nbr (\d+) (index|distance))$")  # features/graph.py's labels


def graph_layout(names, n_features: int):
    """(Z columns (A,), neighbour-index columns (A, K), distance columns (A, K), other columns) from
    the labels of features.graph.CrystalGraph; None when the labels do not hold a complete graph."""
    if names is None or len(names) != n_features:
        return None
    z, idx, dist, other = {}, {}, {}, []
    for c, lab in enumerate(map(str, names)):
        m = _LABEL.match(lab)
        if m is None:
            if lab != "graph n atoms":
                other.append(c)
            continue
        i = int(m.group(1))
        if m.group(2) == "Z":
            z[i] = c
        else:
            (idx if m.group(4) == "index" else dist)[(i, int(m.group(3)))] = c
    if not z:
        return None
    A, K = len(z), len({k for _, k in idx})
    try:
        zc = np.array([z[i] for i in range(A)])
        ic = np.array([[idx[(i, k)] for k in range(K)] for i in range(A)], dtype=int).reshape(A, K)
        dc = np.array([[dist[(i, k)] for k in range(K)] for i in range(A)], dtype=int).reshape(A, K)
    except KeyError as exc:
        raise ValueError(f"incomplete graph columns: no column for atom/neighbour {exc}") from None
    return zc, ic, dc, np.array(other, dtype=int)


def _element_table() -> np.ndarray:
    """(119, 22) standardised Magpie properties by atomic number (row 0 and missing values: 0)."""
    T = np.asarray(source_table("magpie", True, PROPS).values, dtype=float)[:119]
    T = (T - np.nanmean(T[1:], axis=0)) / (np.nanstd(T[1:], axis=0) + 1e-9)
    T = np.nan_to_num(T, nan=0.0)
    T[0] = 0.0
    return T


def _net(n_global, n_out, hidden, n_conv, n_gauss, cutoff, table, use_graph):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Conv(nn.Module):
        """CGCNN's gated convolution; W [h_i, h_j, e_ij] is computed as W_i h_i + W_j h_j + W_e e_ij."""

        def __init__(self):
            super().__init__()
            self.self_ = nn.Linear(hidden, 2 * hidden)
            self.other = nn.Linear(hidden, 2 * hidden, bias=False)
            self.edge = nn.Linear(n_gauss, 2 * hidden, bias=False)
            self.norm = nn.LayerNorm(hidden)

        def forward(self, h, nbr, e, valid):  # h (N, H); nbr (N, K) node indices; e (N, K, G); valid (N, K)
            z = self.self_(h).unsqueeze(1) + self.other(h)[nbr] + self.edge(e)
            gate, core = z.chunk(2, dim=-1)
            msg = (torch.sigmoid(gate) * F.softplus(core) * valid.unsqueeze(-1)).sum(dim=1)
            return F.softplus(h + self.norm(msg))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            width = n_global
            if use_graph:
                self.embed = nn.Embedding(119, hidden)
                self.register_buffer("table", torch.as_tensor(table, dtype=torch.float32))
                self.atom_in = nn.Linear(hidden + self.table.shape[1], hidden)
                self.convs = nn.ModuleList([Conv() for _ in range(n_conv)])
                self.register_buffer("mu", torch.linspace(0.0, cutoff, n_gauss))
                self.gamma = 1.0 / float(cutoff / (n_gauss - 1)) ** 2
                width += hidden
            self.head = nn.Sequential(nn.Linear(max(width, 1), 2 * hidden), nn.Softplus(),
                                      nn.Linear(2 * hidden, hidden), nn.Softplus(), nn.Linear(hidden, n_out))

        def forward(self, g, z=None, nbr=None, d=None, seg=None):
            parts = [g]
            if z is not None:  # the batch's atoms, flat: z (N,), nbr (N, K) (-1: none), seg (N,) row in batch
                valid = (nbr >= 0).float()
                e = torch.exp(-self.gamma * (d.unsqueeze(-1) - self.mu) ** 2)
                h = self.atom_in(torch.cat([self.embed(z), self.table[z]], dim=-1))
                nbr = nbr.clamp(min=0)
                for conv in self.convs:
                    h = conv(h, nbr, e, valid)
                B = len(g)
                total = torch.zeros(B, h.shape[1]).index_add_(0, seg, h)
                count = torch.zeros(B).index_add_(0, seg, torch.ones(len(seg))).clamp(min=1.0)
                parts.append(total / count.unsqueeze(1))
            x = torch.cat(parts, dim=1)
            return self.head(x if x.shape[1] else torch.zeros(len(x), 1))

    return Net()


class _GraphNetBase(BaseEstimator):
    """Shared fitting of the regressor and the classifier (see the module docstring)."""

    def __init__(self, feature_names=None, hidden=64, n_conv=3, n_gaussians=32, cutoff=8.0,
                 element_features=True, lr=5e-3, weight_decay=1e-4, batch_size=32, max_epochs=200,
                 patience=25, val_fraction=0.1, n_ensemble=3, random_state=0, threads=1):
        self.feature_names = feature_names
        self.hidden = hidden
        self.n_conv = n_conv
        self.n_gaussians = n_gaussians
        self.cutoff = cutoff
        self.element_features = element_features
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction
        self.n_ensemble = n_ensemble
        self.random_state = random_state
        self.threads = threads

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # other columns median-imputed; a NaN graph row is an empty graph
        return tags

    # -- decoding ---------------------------------------------------------------------------------
    def _names(self, n_features):
        if self.feature_names is not None:
            return list(self.feature_names)
        return list(getattr(self, "feature_names_in_", [])) or None

    def _graph(self, X):
        """(z (n, A) int, nbr (n, A, K) int, dist (n, A, K)) of the graph columns; a row with NaN there
        (a structure the featuriser could not encode) is an empty graph."""
        zc, ic, dc, _ = self.layout_
        Z, I, D = X[:, zc], X[:, ic], X[:, dc]
        bad = ~(np.isfinite(Z).all(1) & np.isfinite(I).all((1, 2)) & np.isfinite(D).all((1, 2)))
        Z, I, D = np.where(bad[:, None], 0, Z), np.where(bad[:, None, None], -1, I), np.nan_to_num(D)
        z = np.rint(Z).astype(np.int64)
        i = np.rint(I).astype(np.int64)
        n_atoms = (z > 0).sum(1)
        wrong = (z < 0) | (z > 118)
        wrong[:, 1:] |= (z[:, 1:] > 0) & (z[:, :-1] == 0)  # atoms first, padding after
        wrong_i = (i < -1) | (i >= np.maximum(n_atoms, 1)[:, None, None])
        for what, w in (("atomic number", wrong.any(1)), ("neighbour index", wrong_i.any((1, 2)))):
            if w.any():
                r = int(np.flatnonzero(w)[0])
                raise ValueError(f"row {r}: graph column {what} out of range (atomic numbers 0-118, atoms before padding, neighbour "
                                 f"indices -1..{n_atoms[r] - 1}); are these CrystalGraph rows?")
        return z, i, D.astype(np.float32)

    def _inputs(self, X):
        """(global features (n, g) float32, graph arrays or None) of validated X."""
        G = X[:, self.layout_[3]] if self.layout_ is not None else X
        G = self.scaler_.transform(self.imputer_.transform(G)) if G.shape[1] else G
        G = np.clip(np.nan_to_num(G, nan=0.0, posinf=0.0, neginf=0.0), self.lo_, self.hi_)
        return G.astype(np.float32), (self._graph(X) if self.layout_ is not None else None)

    def _batch(self, G, graph, rows):
        """The network's inputs for some rows: their global features and their atoms, flat."""
        import torch

        g = torch.from_numpy(G[rows])
        if graph is None:
            return (g,)
        z, i, d = graph
        n = (z[rows] > 0).sum(1)
        r = np.repeat(rows, n)  # each atom's row, its index within its cell, its first node in the batch
        a = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        first = np.repeat(np.cumsum(n) - n, n)
        nb = i[r, a]
        nb = np.where(nb >= 0, nb + first[:, None], -1)
        return (g, torch.from_numpy(z[r, a]), torch.from_numpy(nb), torch.from_numpy(d[r, a]),
                torch.from_numpy(np.repeat(np.arange(len(rows)), n)))

    # -- fitting ----------------------------------------------------------------------------------
    def fit(self, X, y):
        import torch

        torch.set_num_threads(int(self.threads))
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan",
                             y_numeric=not isinstance(self, ClassifierMixin))
        names = self._names(X.shape[1])
        self.layout_ = graph_layout(names, X.shape[1])
        if self.layout_ is None and self.feature_names is not None:
            warnings.warn("GraphNet: no 'graph atom ...' columns among the feature names (use the 'graph' "
                          "preset); fitting an MLP on the columns instead", UserWarning, stacklevel=2)
        G = X[:, self.layout_[3]] if self.layout_ is not None else X
        self.imputer_ = SimpleImputer(strategy="median", keep_empty_features=True).fit(G) if G.shape[1] else None
        self.scaler_ = StandardScaler().fit(self.imputer_.transform(G)) if G.shape[1] else None
        self.lo_, self.hi_ = -np.inf, np.inf
        Gs, graph = self._inputs(X)
        self.lo_, self.hi_ = Gs.min(0) if len(Gs) else -np.inf, Gs.max(0) if len(Gs) else np.inf
        yt, n_out = self._prepare_y(np.asarray(y))
        table = _element_table() if self.element_features and self.layout_ is not None else np.zeros((119, 0))
        n = len(Gs)
        self.models_, self.best_epochs_ = [], []
        for member in range(int(self.n_ensemble)):
            seed = int(self.random_state) * 1000 + member
            torch.manual_seed(seed)
            rng = np.random.default_rng(seed)
            perm = rng.permutation(n)
            n_val = max(1, int(round(self.val_fraction * n))) if n >= 10 else 0
            val, tr = perm[:n_val], perm[n_val:]
            self.net_args_ = (Gs.shape[1], n_out, int(self.hidden), int(self.n_conv), int(self.n_gaussians),
                              float(self.cutoff), table, graph is not None)
            net = _net(*self.net_args_)
            self.best_epochs_.append(self._train(net, Gs, graph, yt, tr, val, rng))
            self.models_.append(net.state_dict())  # weights only: a network class made in a function cannot be pickled
        return self

    def _train(self, net, G, graph, yt, tr, val, rng) -> int:
        import torch

        opt = torch.optim.AdamW(net.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay))
        # cosine decay to lr/20 over max_epochs: converges in the few epochs a CPU budget allows
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, int(self.max_epochs)),
                                                           eta_min=float(self.lr) / 20)
        return train_early_stopped(net, self._loss(), opt, yt, tr, val, rng,
                                   train_out=lambda rows: net(*self._batch(G, graph, rows)),
                                   eval_out=lambda rows: self._forward(net, G, graph, rows),
                                   max_epochs=self.max_epochs, batch_size=self.batch_size,
                                   patience=self.patience, sched=sched)

    def _forward(self, net, G, graph, rows, bs=512):
        import torch

        return torch.cat([net(*self._batch(G, graph, rows[s:s + bs])) for s in range(0, len(rows), bs)])

    def _outputs(self, X, fn):
        import torch

        check_is_fitted(self)
        torch.set_num_threads(int(self.threads))
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        G, graph = self._inputs(X)
        rows = np.arange(len(G))
        out = []
        for state in self.models_:
            net = _net(*self.net_args_)
            net.load_state_dict(state)
            net.eval()
            with torch.no_grad():
                out.append(fn(self._forward(net, G, graph, rows)).numpy())
        return np.mean(out, axis=0)


class GraphNetRegressor(RegressorMixin, RegressionTarget, _GraphNetBase):
    """CGCNN-like regressor; the target is standardised inside."""

    def predict(self, X):
        return self._outputs(X, lambda out: out)[:, 0] * self.y_std_ + self.y_mean_


class GraphNetClassifier(ClassifierMixin, ClassTarget, _GraphNetBase):
    """CGCNN-like classifier: the members' class probabilities averaged."""

    def predict_proba(self, X):
        import torch

        return self._outputs(X, lambda out: torch.softmax(out, dim=1))
