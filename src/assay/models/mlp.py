"""A PyTorch multilayer perceptron behind scikit-learn's estimator contract.

Inputs are median-imputed, standardised and clipped to the training range inside ``fit`` (fitted
on the training rows only);
regression targets are standardised too. Each ensemble member holds out its own random
``val_fraction`` of the training rows, trains with AdamW and stops when the validation loss has
not improved for ``patience`` epochs, keeping its best weights. Predictions average the members.
CPU only; torch's intra-op threads are the ``threads`` parameter (default 1: assay parallelises
across processes, and one thread keeps the numbers reproducible).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data


def _hidden(h) -> tuple[int, ...]:
    if isinstance(h, str):
        return tuple(int(x) for x in h.split("-") if x)
    return tuple(int(x) for x in h)


def train_early_stopped(net, loss_fn, opt, yt, tr, val, rng, *, train_out, eval_out, max_epochs, batch_size,
                        patience, sched=None) -> int:
    """Minibatch training of one network with early stopping on the ``val`` rows, keeping the best
    weights; returns the best epoch. Shared by the MLP and the graph network so that both stop
    the same way. ``train_out`` / ``eval_out`` map a numpy array of rows to the network's output."""
    import torch

    best, best_state, best_epoch, waited, bs = np.inf, None, 0, 0, int(batch_size)
    for epoch in range(int(max_epochs)):
        net.train()
        order = tr[rng.permutation(len(tr))]
        for i in range(0, len(order), bs):
            rows = order[i:i + bs]
            if len(rows) < 2:
                continue
            opt.zero_grad()
            loss = loss_fn(train_out(rows), yt[rows])
            loss.backward()
            opt.step()
        if sched is not None:
            sched.step()
        if len(val) == 0:
            continue
        net.eval()
        with torch.no_grad():
            v = float(loss_fn(eval_out(val), yt[val]))
        if v < best - 1e-6:
            best, best_epoch, waited = v, epoch, 0
            best_state = {k: t.detach().clone() for k, t in net.state_dict().items()}
        else:
            waited += 1
            if waited >= patience:
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return best_epoch


class _TorchMLPBase(BaseEstimator):
    """Shared fitting of the regressor and the classifier (see the module docstring)."""

    def __init__(self, hidden="256-128", dropout=0.1, lr=1e-3, weight_decay=1e-5, batch_size=256,
                 max_epochs=200, patience=15, val_fraction=0.1, n_ensemble=3, random_state=0, threads=1):
        self.hidden = hidden
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.val_fraction = val_fraction
        self.n_ensemble = n_ensemble
        self.random_state = random_state
        self.threads = threads

    # -- subclass hooks ------------------------------------------------------------------------
    def _loss(self):
        raise NotImplementedError

    def _prepare_y(self, y):
        """(target tensor, number of network outputs)."""
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------------
    def __setstate__(self, state):
        state.setdefault("threads", 1)  # models saved before the parameter existed ran one thread
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # median-imputed inside fit
        return tags

    def _net(self, n_in: int, n_out: int):
        import torch.nn as nn

        layers, width = [], n_in
        for h in _hidden(self.hidden):
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(float(self.dropout))]
            width = h
        layers.append(nn.Linear(width, n_out))
        return nn.Sequential(*layers)

    def _transform(self, X, clip: bool = True):
        """Impute, standardise, and clip to the training range (see estimators.ClipToTrainingRange)."""
        Z = np.nan_to_num(self.scaler_.transform(self.imputer_.transform(X)), nan=0.0,
                          posinf=0.0, neginf=0.0)
        if clip:
            Z = np.clip(Z, self.lo_, self.hi_)
        return Z.astype(np.float32)

    def _validated(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)

    def _set_threads(self):
        import torch

        torch.set_num_threads(int(self.threads))

    def fit(self, X, y):
        import torch

        self._set_threads()
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan",
                             y_numeric=not isinstance(self, ClassifierMixin))
        self.imputer_ = SimpleImputer(strategy="median", keep_empty_features=True).fit(X)
        self.scaler_ = StandardScaler().fit(self.imputer_.transform(X))
        Z = self._transform(X, clip=False)
        self.lo_, self.hi_ = Z.min(axis=0), Z.max(axis=0)
        Xt = torch.from_numpy(Z)
        yt, n_out = self._prepare_y(np.asarray(y))
        n = len(Xt)
        self.models_, self.best_epochs_ = [], []
        for member in range(int(self.n_ensemble)):
            seed = int(self.random_state) * 1000 + member
            torch.manual_seed(seed)
            rng = np.random.default_rng(seed)
            perm = rng.permutation(n)
            n_val = max(1, int(round(self.val_fraction * n))) if n >= 10 else 0
            val, tr = perm[:n_val], perm[n_val:]
            net = self._net(Xt.shape[1], n_out)
            opt = torch.optim.AdamW(net.parameters(), lr=float(self.lr),
                                    weight_decay=float(self.weight_decay))
            best_epoch = train_early_stopped(
                net, self._loss(), opt, yt, tr, val, rng, train_out=lambda rows: net(Xt[torch.from_numpy(rows)]),
                eval_out=lambda rows: net(Xt[rows]), max_epochs=self.max_epochs, batch_size=self.batch_size,
                patience=self.patience)
            self.models_.append(net)
            self.best_epochs_.append(best_epoch)
        return self

    def _raw(self, X):
        import torch

        self._set_threads()
        Xt = torch.from_numpy(self._transform(self._validated(X)))
        with torch.no_grad():
            return np.mean([m(Xt).numpy() for m in self.models_], axis=0)


class RegressionTarget:
    """Loss and target encoding of assay's torch regressors (this MLP, the graph network)."""

    def _loss(self):
        import torch.nn as nn

        return nn.SmoothL1Loss(beta=0.5)  # robust to the heavy tails of materials targets

    def _prepare_y(self, y):
        import torch

        y = y.astype(float)
        self.y_mean_, self.y_std_ = float(np.mean(y)), float(np.std(y)) or 1.0
        return torch.from_numpy(((y - self.y_mean_) / self.y_std_).astype(np.float32)).reshape(-1, 1), 1


class ClassTarget:
    """Loss, label encoding and argmax prediction of assay's torch classifiers."""

    def _loss(self):
        import torch.nn as nn

        return nn.CrossEntropyLoss()

    def _prepare_y(self, y):
        import torch

        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        return torch.from_numpy(codes.astype(np.int64)), len(self.classes_)

    def predict(self, X):
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class TorchMLPRegressor(RegressorMixin, RegressionTarget, _TorchMLPBase):
    def predict(self, X):
        return self._raw(X)[:, 0] * self.y_std_ + self.y_mean_


class TorchMLPClassifier(ClassifierMixin, ClassTarget, _TorchMLPBase):
    def predict_proba(self, X):
        """Mean of the members' probabilities."""
        import torch

        self._set_threads()
        Xt = torch.from_numpy(self._transform(self._validated(X)))
        with torch.no_grad():
            return np.mean([torch.softmax(m(Xt), dim=1).numpy() for m in self.models_], axis=0)
