"""Numerical core: RAM model matrices, ML discrepancy functions and Fisher scoring.

The model is written in RAM form (McArdle & McDonald, 1984): all observed and latent variables
``v = A v + u`` with ``Cov(u) = S`` and ``E(u) = m``, so ``Sigma = G S G'`` and ``mu = G m``
with ``G = F (I - A)^-1``. Both fit functions are scaled as ``-2 logL / N`` (plus a constant):

* complete data: ``log|Sigma| + tr(S_obs Sigma^-1) + (ybar - mu)' Sigma^-1 (ybar - mu)``;
* missing data (FIML): the same, summed over missing-data patterns on the observed parts.

Both are minimised by Fisher scoring with step halving, using analytic first derivatives and
the expected information.

References
----------
McArdle, J. J., & McDonald, R. P. (1984). Some algebraic properties of the reticular action
model for moment structures. *British Journal of Mathematical and Statistical Psychology*,
37(2), 234-251.

Lee, S.-Y., & Jennrich, R. I. (1979). A study of algorithms for covariance structure analysis
with specific comparisons using factor analysis. *Psychometrika*, 44(1), 99-113.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from analysis.sem.partable import ParameterTable

__all__ = [
    "CompleteData",
    "Discrepancy",
    "ImpliedModel",
    "MissingData",
    "Moments",
    "RamModel",
    "fisher_scoring",
]

_LOG_2PI = np.log(2 * np.pi)


@dataclass
class Moments:
    """Model-implied quantities at one parameter vector."""

    A: np.ndarray
    S: np.ndarray
    m: np.ndarray
    E: np.ndarray  # (I - A)^-1, all variables
    G: np.ndarray  # observed rows of E
    sigma: np.ndarray  # implied covariance of the observed variables
    mu: np.ndarray  # implied means of the observed variables
    K: np.ndarray  # E S G': covariances of all variables with the observed ones
    mean_all: np.ndarray  # E m: implied means of all variables

    def covariance_all(self) -> np.ndarray:
        """Implied covariance matrix of observed and latent variables."""
        return self.E @ self.S @ self.E.T


class RamModel:
    """A parameter table laid out as RAM matrices, with derivatives of the implied moments."""

    def __init__(self, table: ParameterTable) -> None:
        self.table = table
        self.p = len(table.observed)
        self.t = len(table.variables)
        position = {name: i for i, name in enumerate(table.variables)}
        # Thresholds ('|'), scale factors ('~*~') and defined parameters are not RAM paths.
        rows = [i for i, op in enumerate(table.op) if op in ("=~", "~", "~~", "~1")]
        kind, target, source = [], [], []
        for i in rows:
            op, lhs, rhs = table.op[i], table.lhs[i], table.rhs[i]
            if op == "=~":
                entry = (0, position[rhs], position[lhs])
            elif op == "~":
                entry = (0, position[lhs], position[rhs])
            elif op == "~~":
                entry = (1, position[lhs], position[rhs])
            else:
                entry = (2, position[lhs], position[lhs])
            kind.append(entry[0])
            target.append(entry[1])
            source.append(entry[2])
        self.rows = np.array(rows, dtype=int)
        self.kind = np.array(kind, dtype=int)
        self.target = np.array(target, dtype=int)
        self.source = np.array(source, dtype=int)
        self.n_free = table.n_free
        free = table.free[self.rows]
        self.is_free = free >= 0
        self.free_of_row = free
        is_free = self.is_free
        self._a = (self.kind == 0) & is_free
        self._s = (self.kind == 1) & is_free
        self._m = (self.kind == 2) & is_free
        # Free-parameter index of each derivative block, in the order they are stacked.
        self._order = np.concatenate([free[self._a], free[self._s], free[self._m]])
        self._simple = len(np.unique(self._order)) == len(self._order) == self.n_free
        self._s_diag = self.target[self._s] == self.source[self._s]
        self._eye = np.eye(self.t)
        # Index arrays used on every evaluation.
        kinds = [self.kind == k for k in range(3)]
        self._kinds = kinds
        self._a_index = (self.target[kinds[0]], self.source[kinds[0]])
        self._s_index = (self.target[kinds[1]], self.source[kinds[1]])
        self._m_index = self.target[kinds[2]]
        self._free_a = (self.target[self._a], self.source[self._a])
        self._free_s = (self.target[self._s], self.source[self._s])
        self._free_m = self.target[self._m]
        n_a, n_s = int(self._a.sum()), int(self._s.sum())
        self._order_a = self._order[:n_a]
        self._order_s = self._order[n_a : n_a + n_s]
        self._order_m = self._order[n_a + n_s :]
        self._has_means = bool(kinds[2].any())

    # -- parameter vectors ----------------------------------------------------------------
    def row_values(self, theta: np.ndarray, fixed: np.ndarray) -> np.ndarray:
        """Value of every (non-``:=``) row: ``fixed`` with the free rows taken from ``theta``."""
        values = fixed[self.rows].copy()
        values[self.is_free] = theta[self.free_of_row[self.is_free]]
        return values

    def moments(self, theta: np.ndarray, fixed: np.ndarray) -> Moments:
        values = self.row_values(theta, fixed)
        t = self.t
        A = np.zeros((t, t))
        S = np.zeros((t, t))
        m = np.zeros(t)
        a, s, mm = self._kinds
        A[self._a_index] = values[a]
        S[self._s_index] = values[s]
        S[self._s_index[::-1]] = values[s]
        if self._has_means:
            m[self._m_index] = values[mm]
        E = np.linalg.inv(self._eye - A)
        G = E[: self.p]
        GS = G @ S
        sigma = GS @ G.T
        sigma = (sigma + sigma.T) / 2
        K = E @ GS.T
        mean_all = E @ m
        return Moments(A, S, m, E, G, sigma, mean_all[: self.p], K, mean_all)

    def jacobian(self, mom: Moments) -> tuple[np.ndarray, np.ndarray]:
        """Derivatives of the implied covariance (q, p, p) and means (q, p) by free parameter."""
        G, K = mom.G, mom.K
        ta, sa = self._free_a
        GA = G[:, ta].T
        dA = GA[:, :, None] * K[sa][:, None, :]
        dA += dA.transpose(0, 2, 1)
        ts, ss = self._free_s
        dS = G[:, ts].T[:, :, None] * G[:, ss].T[:, None, :]
        dS += dS.transpose(0, 2, 1)
        dS[self._s_diag] *= 0.5
        q, p = self.n_free, self.p
        d_sigma = np.zeros((q, p, p))
        d_mu = np.zeros((q, p))
        if self._simple:
            d_sigma[self._order_a] = dA
            d_sigma[self._order_s] = dS
            if self._has_means:
                d_mu[self._order_a] = GA * mom.mean_all[sa][:, None]
                d_mu[self._order_m] = G[:, self._free_m].T
            return d_sigma, d_mu
        np.add.at(d_sigma, self._order_a, dA)
        np.add.at(d_sigma, self._order_s, dS)
        if self._has_means:
            np.add.at(d_mu, self._order_a, GA * mom.mean_all[sa][:, None])
            np.add.at(d_mu, self._order_m, G[:, self._free_m].T)
        return d_sigma, d_mu


class CompleteData:
    """Sample moments of complete data (covariance with N divisor)."""

    def __init__(self, cov: np.ndarray, mean: np.ndarray, n: int, *, meanstructure: bool):
        self.cov = cov
        self.mean = mean
        self.n = n
        self.meanstructure = meanstructure
        sign, logdet = np.linalg.slogdet(cov)
        self.logdet = logdet if sign > 0 else np.nan
        self.p = cov.shape[0]

    def saturated_value(self) -> float:
        return self.logdet + self.p

    def evaluate(self, mom: Moments, *, derivatives: bool):
        """Fit function (and the pieces of its gradient); ``inf`` if Sigma is not positive
        definite."""
        try:
            chol = np.linalg.cholesky(mom.sigma)
        except np.linalg.LinAlgError:
            return np.inf, None
        inv_chol = np.linalg.inv(chol)
        sigma_inv = inv_chol.T @ inv_chol
        logdet = 2 * np.log(np.diag(chol)).sum()
        cross = self.cov
        resid = None
        if self.meanstructure:
            resid = self.mean - mom.mu
            cross = cross + np.outer(resid, resid)
        value = logdet + np.sum(sigma_inv * cross)
        if not derivatives:
            return value, None
        W = sigma_inv - sigma_inv @ cross @ sigma_inv
        v = 2 * sigma_inv @ resid if resid is not None else None
        return value, (W, v, sigma_inv)

    def gradient(self, parts, d_sigma: np.ndarray, d_mu: np.ndarray) -> np.ndarray:
        W, v, _ = parts
        grad = np.tensordot(d_sigma, W, axes=([1, 2], [0, 1]))
        if v is not None:
            grad -= d_mu @ v
        return grad

    def information(self, parts, d_sigma: np.ndarray, d_mu: np.ndarray) -> np.ndarray:
        """Expected information of the fit function (half the Hessian's expectation x 2)."""
        sigma_inv = parts[2]
        q = d_sigma.shape[0]
        U = np.matmul(sigma_inv, d_sigma)
        info = U.reshape(q, -1) @ U.transpose(0, 2, 1).reshape(q, -1).T
        if self.meanstructure:
            info += 2 * d_mu @ sigma_inv @ d_mu.T
        return info


class MissingData:
    """Raw data with missing values, grouped by missing-data pattern (for FIML).

    Patterns are held as stacked arrays embedded in the full variable space (zeros where a
    pattern is missing), so that the casewise likelihood of all patterns is computed with a
    few batched matrix operations: a pattern's covariance matrix gets ones on the diagonal of
    its missing variables, whose inverse then holds the observed block's inverse.
    """

    def __init__(self, data: np.ndarray) -> None:
        self.n, self.p = data.shape
        self.meanstructure = True
        observed = ~np.isnan(data)
        codes = observed @ (1 << np.arange(self.p, dtype=np.int64)) if self.p < 63 else None
        if codes is None:
            _, inverse = np.unique(observed, axis=0, return_inverse=True)
        else:
            _, inverse = np.unique(codes, return_inverse=True)
        inverse = inverse.ravel()
        order = np.argsort(inverse, kind="stable")
        starts = np.flatnonzero(np.diff(inverse[order], prepend=-1))
        filled = np.where(observed, data, 0.0)[order]
        self.counts = np.diff(np.append(starts, self.n)).astype(float)
        self.masks = observed[order][starts]
        self.means = np.add.reduceat(filled, starts, axis=0) / self.counts[:, None]
        second = np.add.reduceat(
            (filled[:, :, None] * filled[:, None, :]).reshape(self.n, -1), starts, axis=0
        )
        n_patterns = len(starts)
        second = second.reshape(n_patterns, self.p, self.p) / self.counts[:, None, None]
        self.covs = second - self.means[:, :, None] * self.means[:, None, :]
        mask = self.masks.astype(float)
        self._outer_mask = mask[:, :, None] * mask[:, None, :]
        self._filler = np.zeros_like(self._outer_mask)
        diagonal = np.arange(self.p)
        self._filler[:, diagonal, diagonal] = 1 - mask
        self._n_observed = self.masks.sum(axis=1)
        self.complete = bool(self.masks.all())

    @cached_property
    def patterns(self) -> list[tuple[np.ndarray, int, np.ndarray, np.ndarray]]:
        """Per pattern: observed indices, count, mean and covariance (N divisor)."""
        out = []
        for mask, n_k, mean, cov in zip(
            self.masks, self.counts, self.means, self.covs, strict=True
        ):
            idx = np.flatnonzero(mask)
            out.append((idx, int(n_k), mean[idx], cov[np.ix_(idx, idx)]))
        return out

    def evaluate(self, mom: Moments, *, derivatives: bool):
        return self.evaluate_moments(mom.sigma, mom.mu, derivatives=derivatives)

    def evaluate_moments(self, sigma: np.ndarray, mu: np.ndarray, *, derivatives: bool):
        stacked = sigma[None] * self._outer_mask + self._filler
        try:
            chol = np.linalg.cholesky(stacked)
        except np.linalg.LinAlgError:
            return np.inf, None
        logdet = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        inverse = np.linalg.inv(stacked) - self._filler
        resid = (self.means - mu) * self.masks
        cross = self.covs + resid[:, :, None] * resid[:, None, :]
        trace = np.einsum("kij,kij->k", inverse, cross)
        value = self.counts @ (self._n_observed * _LOG_2PI + logdet + trace) / self.n
        if not derivatives:
            return value, None
        weights = self.counts / self.n
        W = np.tensordot(weights, inverse - inverse @ cross @ inverse, axes=1)
        v = 2 * weights @ np.einsum("kij,kj->ki", inverse, resid)
        return value, (W, v, inverse)

    def loglik(self, sigma: np.ndarray, mu: np.ndarray) -> float:
        return -self.n / 2 * self.evaluate_moments(sigma, mu, derivatives=False)[0]

    def gradient(self, parts, d_sigma: np.ndarray, d_mu: np.ndarray) -> np.ndarray:
        W, v, _ = parts
        return np.tensordot(d_sigma, W, axes=([1, 2], [0, 1])) - d_mu @ v

    def information(self, parts, d_sigma: np.ndarray, d_mu: np.ndarray) -> np.ndarray:
        inverse = parts[2]
        q = d_sigma.shape[0]
        weights = self.counts / self.n
        U = np.matmul(inverse[:, None], d_sigma[None])
        flat = U.reshape(len(inverse), q, -1)
        flat_t = U.transpose(0, 1, 3, 2).reshape(len(inverse), q, -1)
        info = np.einsum("k,kaj,kbj->ab", weights, flat, flat_t, optimize=True)
        info += 2 * d_mu @ np.tensordot(weights, inverse, axes=1) @ d_mu.T
        return info

    def saturated_moments(self, *, tol: float = 1e-10, max_iter: int = 5000):
        """ML estimates of the unrestricted mean vector and covariance matrix by EM.

        Each E-step is batched over patterns: with ``Q`` a pattern's embedded inverse of its
        observed block, ``R = Sigma Q`` regresses every variable on the observed ones, so the
        expected values are ``mu + R (y - mu)`` and the conditional covariance ``Sigma - R Sigma``.
        """
        weights = self.counts / self.n
        counts = self.counts @ self.masks
        mu = self.counts @ self.means / counts
        second = self.covs + self.means[:, :, None] * self.means[:, None, :]
        deviation = (self.means - mu) * self.masks
        variance = self.counts @ (np.diagonal(self.covs, axis1=1, axis2=2) + deviation**2)
        sigma = np.diag(variance / counts)
        for _ in range(max_iter):
            inverse = np.linalg.inv(sigma[None] * self._outer_mask + self._filler) - self._filler
            R = sigma[None] @ inverse
            intercept = mu - R @ mu
            fitted = np.einsum("kij,kj->ki", R, self.means)
            expected = intercept + fitted
            conditional = sigma[None] - R @ sigma[None]
            new_mu = weights @ expected
            outer = (
                intercept[:, :, None] * intercept[:, None, :]
                + intercept[:, :, None] * fitted[:, None, :]
                + fitted[:, :, None] * intercept[:, None, :]
                + R @ second @ R.transpose(0, 2, 1)
            )
            new_sigma = np.tensordot(weights, conditional + outer, axes=1)
            new_sigma -= np.outer(new_mu, new_mu)
            new_sigma = (new_sigma + new_sigma.T) / 2
            change = max(np.abs(new_mu - mu).max(), np.abs(new_sigma - sigma).max())
            mu, sigma = new_mu, new_sigma
            if change < tol:
                break
        return sigma, mu


class ImpliedModel(Protocol):
    """What :func:`fisher_scoring` needs of a model: implied moments and their Jacobian.

    :class:`RamModel` is one; so are the models of WLSMV and of several groups.
    """

    def moments(self, theta: np.ndarray, fixed: Any, /) -> Any: ...

    def jacobian(self, moments: Any, /) -> tuple[Any, Any]: ...


class Discrepancy(Protocol):
    """What :func:`fisher_scoring` needs of the data: the fit function, gradient, information.

    :class:`CompleteData` and :class:`MissingData` are ones; so are DWLS and the multiple-group
    sum.
    """

    def evaluate(self, moments: Any, /, *, derivatives: bool) -> tuple[float, Any]: ...

    def gradient(self, parts: Any, d_sigma: Any, d_mu: Any, /) -> np.ndarray: ...

    def information(self, parts: Any, d_sigma: Any, d_mu: Any, /) -> np.ndarray: ...


def fisher_scoring(
    model: ImpliedModel,
    data: Discrepancy,
    theta: np.ndarray,
    fixed: Any,
    *,
    max_iter: int = 500,
    tol: float = 1e-10,
    metric: np.ndarray | None = None,
) -> tuple[np.ndarray, int, bool, float]:
    """Minimise the fit function from ``theta``.

    Returns the estimate, the number of iterations, whether it converged, and the minimum.
    ``metric`` replaces the expected information by a fixed matrix (cheaper per iteration; used
    for bootstrap refits, where it is the information at the full-sample estimate).
    """
    mom = model.moments(theta, fixed)
    value, parts = data.evaluate(mom, derivatives=True)
    if not np.isfinite(value):
        return theta, 0, False, value
    for iteration in range(1, max_iter + 1):
        d_sigma, d_mu = model.jacobian(mom)
        grad = data.gradient(parts, d_sigma, d_mu)
        info = metric if metric is not None else data.information(parts, d_sigma, d_mu)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, grad, rcond=None)[0]
        decrement = float(grad @ step)
        if not np.isfinite(decrement):
            return theta, iteration, False, value
        if decrement < 0:  # not a descent direction (info not positive definite): use gradient
            step = grad * (1.0 / max(np.abs(grad).max(), 1.0))
            decrement = float(grad @ step)
        if decrement < tol:
            return theta, iteration, True, value
        alpha = 1.0
        while True:
            candidate = theta - alpha * step
            new_mom = model.moments(candidate, fixed)
            new_value, new_parts = data.evaluate(new_mom, derivatives=True)
            if np.isfinite(new_value) and new_value <= value + 1e-12 * abs(value):
                break
            alpha /= 2
            if alpha < 1e-10:
                converged = decrement < 1e-6
                return theta, iteration, converged, value
        theta, mom, value, parts = candidate, new_mom, new_value, new_parts
    return theta, max_iter, False, value
