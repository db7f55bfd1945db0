"""The growing tree of constrained constructive optimisation (CCO): arrays, cost, radii.

Symbols (Karch et al. 1999, Comput. Biol. Med. 29:19; Schreiner & Buxbaum 1993, IEEE TBME
40:482): segment ``j`` has length ``L_j`` [m], radius ``r_j`` [m] and carries the flow of
the terminals below it, ``Q_j = n_j q`` with ``n_j = Σ_{t below j} w_t``: terminal ``t``
gets ``w_t q`` (``q = Q / Σ_t w_t``; ``w_t = 1`` for every terminal of a plain tree, so
``n_j`` counts terminals; tumour feeders give their terminals other weights).

- Poiseuille: the hydraulic resistance of a segment is ``R_j = 8 μ L_j / (π r_j⁴)``.
- Bifurcation ratios: the two children ``l``, ``r`` of ``j`` see the same pressure drop to
  their terminals, ``Q_l R*_l / r_l⁴ = Q_r R*_r / r_r⁴``, hence
  ``r_l / r_r = (n_l R*_l / (n_r R*_r))^{1/4}``; with Murray's law
  ``r_j^γ = r_l^γ + r_r^γ`` the radius ratios to the parent are
  ``β_l = r_l/r_j = (1 + (r_r/r_l)^γ)^{-1/γ}`` and ``β_r = (1 + (r_l/r_r)^γ)^{-1/γ}``.
- Reduced resistance (resistance of the subtree of ``j`` times ``r_j⁴``), by recursion from
  the terminals (``R*_j = 8 μ L_j / π`` there):
  ``R*_j = 8 μ L_j / π + (β_l⁴ / R*_l + β_r⁴ / R*_r)^{-1}``.
- Root radius: the whole tree delivers ``Q`` at ``Δp = p_root − p_term``:
  ``r_root = (R*_root Q / Δp)^{1/4}``; every other radius is ``r_j = β_j r_parent(j)``.
- Volume functional (CCO's target): ``V = Σ_j π r_j² L_j = r_root² W_root`` with the reduced
  volume ``W_j = π L_j + β_l² W_l + β_r² W_r``.

Each segment stores ``n_j``, ``β_j`` and the parts of ``R*_j``, ``W_j`` that come from its
children (``inner_r``, ``inner_w``). Adding a terminal changes these only on the path from
the new bifurcation to the root, so both the trial evaluation (:meth:`GrowingTree.cost`,
vectorised over candidate segments × bifurcation positions, one step per tree level) and
the update (:meth:`GrowingTree.connect`) cost O(depth).
"""
from __future__ import annotations

import numpy as np

from ..tree import VascularTree


class GrowingTree:
    """A binary tree under construction from one root node; room for ``capacity`` terminals."""

    def __init__(self, root, first_terminal, capacity: int, viscosity: float, gamma: float):
        segments = max(2 * capacity - 1, 1)
        self.points = np.zeros((2 * capacity + 1, 3))
        self.points[0], self.points[1] = root, first_terminal
        self.node_count, self.count = 2, 1
        self.up = np.zeros(segments, dtype=np.int64)
        self.down = np.zeros(segments, dtype=np.int64)
        self.parent = np.full(segments, -1, dtype=np.int64)
        self.left = np.full(segments, -1, dtype=np.int64)
        self.right = np.full(segments, -1, dtype=np.int64)
        self.n = np.zeros(segments)             # terminals below (float: used in ratios)
        self.length = np.zeros(segments)
        self.beta = np.ones(segments)           # r_j / r_parent(j)
        self.inner_r = np.zeros(segments)       # R*_j − 8 μ L_j / π
        self.inner_w = np.zeros(segments)       # W_j − π L_j
        self.start = np.zeros((segments, 3))
        self.vector = np.zeros((segments, 3))
        self.dots = np.zeros((segments, 3))
        self.up[0], self.down[0], self.n[0] = 0, 1, 1.0
        self._refresh(0)
        self.k_r = 8.0 * viscosity / np.pi
        self.gamma = gamma

    def squared_distances(self, positions: np.ndarray) -> np.ndarray:
        """Squared distances (B, m) [m²] from ``positions`` (B, 3) to every segment axis."""
        m = self.count
        a, d = self.start[:m], self.vector[:m]
        rel_d = positions @ d.T - self.dots[:m, 0]                       # (x − a)·d
        rel_rel = ((positions**2).sum(axis=1)[:, None] - 2.0 * positions @ a.T
                   + self.dots[:m, 1])                                   # |x − a|²
        dd = self.dots[:m, 2]
        t = np.clip(rel_d / dd, 0.0, 1.0)
        return np.maximum(rel_rel - t * (2.0 * rel_d - t * dd), 0.0)

    def _refresh(self, *segments: int) -> None:
        """Cache start, direction and their dot products (a·d, a·a, d·d) of ``segments``."""
        for e in segments:
            a = self.points[self.up[e]]
            d = self.points[self.down[e]] - a
            self.start[e], self.vector[e] = a, d
            self.dots[e] = a @ d, a @ a, d @ d
            self.length[e] = np.sqrt(d @ d)

    def fermat_sites(self, segments: np.ndarray, terminal, iterations: int,
                     shortest: float, weight: float = 1.0) -> np.ndarray:
        """Bifurcation sites (C, 3) joining ``terminal`` to ``segments`` (C,): the point
        minimising the local volume ``r_u² L_u + r_d² L_d + r_t² L_t`` of the three new
        segments, radii held fixed in each step (Kamiya & Togawa's geometric optimisation;
        Weiszfeld iteration for the weighted Fermat point), radius ratios from the sites;
        ``weight`` is the new terminal's ``w_t``."""
        s = segments
        corners = np.stack([self.points[self.up[s]], self.points[self.down[s]],
                            np.broadcast_to(terminal, (len(s), 3))], axis=1)   # (C, 3, 3)
        site = corners.mean(axis=1)
        n_s, inner = self.n[s], self.inner_r[s]
        for _ in range(iterations):
            lengths = np.maximum(np.linalg.norm(corners - site[:, None], axis=2), shortest)
            _, _, b2_d, b2_t = self._split(n_s, self.k_r * lengths[:, 1] + inner, weight,
                                           self.k_r * lengths[:, 2])
            weights = np.stack([np.ones(len(s)), b2_d, b2_t], axis=1) / lengths
            site = np.einsum("ck,ckx->cx", weights, corners) / weights.sum(axis=1)[:, None]
        return site

    def _split(self, n_p, r_p, n_q, r_q):
        """β⁴ and β² of the two children p, q of one bifurcation, from their n and R*."""
        a_p = (n_p * r_p) ** (self.gamma / 4.0)     # ∝ r_p^γ
        a_q = (n_q * r_q) ** (self.gamma / 4.0)
        b2_p = (a_p / (a_p + a_q)) ** (2.0 / self.gamma)
        b2_q = (a_q / (a_p + a_q)) ** (2.0 / self.gamma)
        return b2_p * b2_p, b2_q * b2_q, b2_p, b2_q

    def path_terms(self, segments: np.ndarray, weight: float = 1.0) -> dict:
        """What :meth:`cost` needs of the ancestors of ``segments`` (C,): (D, C) tables,
        one row per tree level, aligned so that the last row is the root segment for every
        candidate; rows above a shallow candidate's path are padded with terms that leave
        the recursion unchanged (no length, a sibling without flow); ``weight`` is the new
        terminal's ``w_t``."""
        rows, current = [], self.parent[segments]
        while (current >= 0).any():
            rows.append(current)
            current = np.where(current >= 0, self.parent[np.maximum(current, 0)], -1)
        depth = len(rows)
        upward = np.array(rows, dtype=np.int64).reshape(depth, len(segments))
        children = np.concatenate([segments[None], upward[:-1]]) if depth else upward
        shift = depth - (upward >= 0).sum(axis=0)                  # padding rows per column
        source = np.arange(depth)[:, None] - shift[None]
        column = np.arange(len(segments))[None]
        real = source >= 0
        ancestor = np.where(real, upward[np.maximum(source, 0), column], 0)
        child = np.where(real, children[np.maximum(source, 0), column], segments[None])
        sibling = np.where(real, self.left[ancestor] + self.right[ancestor] - child, 0)
        n_q = np.where(real, self.n[sibling], 0.0)
        r_q = np.where(real, self.k_r * self.length[sibling] + self.inner_r[sibling], 1.0)
        return {"a_q": (n_q * r_q) ** (self.gamma / 4.0), "r_q": r_q,
                "w_q": np.where(real, np.pi * self.length[sibling] + self.inner_w[sibling], 0.0),
                "l_r": np.where(real, self.k_r * self.length[ancestor], 0.0),
                "l_w": np.where(real, np.pi * self.length[ancestor], 0.0),
                "n_p": self.n[child] + weight}

    def cost(self, segments: np.ndarray, sites: np.ndarray, terminal: np.ndarray,
             terms: dict, weight: float = 1.0) -> np.ndarray:
        """Reduced tree volume ``sqrt(R*_root) W_root`` (∝ V at fixed Q, Δp) if ``terminal``
        is joined to segment ``segments[c]`` through a bifurcation at ``sites[c, p]``.

        ``segments`` (C,), ``sites`` (C, P, 3), ``terms`` from :meth:`path_terms` (same
        ``weight``, the new terminal's ``w_t``).
        Returns (C, P).
        """
        k_r, s = self.k_r, segments
        up_x = self.points[self.up[s]][:, None, :]
        down_x = self.points[self.down[s]][:, None, :]
        l_up = np.linalg.norm(sites - up_x, axis=2)
        l_down = np.linalg.norm(down_x - sites, axis=2)
        l_new = np.linalg.norm(terminal - sites, axis=2)
        r_down = k_r * l_down + self.inner_r[s][:, None]
        r_new = k_r * l_new
        b4_d, b4_t, b2_d, b2_t = self._split(self.n[s][:, None], r_down, weight, r_new)
        r_cur = k_r * l_up + 1.0 / (b4_d / r_down + b4_t / r_new)
        w_cur = np.pi * l_up + b2_d * (np.pi * l_down + self.inner_w[s][:, None]) \
            + b2_t * np.pi * l_new
        e2, g4 = 2.0 / self.gamma, self.gamma / 4.0
        for a_q, r_q, w_q, l_r, l_w, n_p in zip(*(terms[key][:, :, None] for key in
                                                   ("a_q", "r_q", "w_q", "l_r", "l_w",
                                                    "n_p"))):
            a_p = (n_p * r_cur) ** g4          # one tree level, all candidates at once
            total = a_p + a_q
            b2_p = (a_p / total) ** e2
            b2_q = (a_q / total) ** e2
            r_cur = l_r + 1.0 / (b2_p * b2_p / r_cur + b2_q * b2_q / r_q)
            w_cur = l_w + b2_p * w_cur + b2_q * w_q
        return np.sqrt(r_cur) * w_cur

    def connect(self, segment: int, site, terminal, weight: float = 1.0) -> None:
        """Split ``segment`` at ``site`` and hang a new terminal segment of weight ``w_t``
        there (O(depth))."""
        s, m = segment, self.count
        bif, tip = self.node_count, self.node_count + 1
        self.points[bif], self.points[tip] = site, terminal
        self.node_count += 2
        down_part, new = m, m + 1
        self.count += 2
        for e, (u, d) in ((down_part, (bif, self.down[s])), (new, (bif, tip))):
            self.up[e], self.down[e], self.parent[e] = u, d, s
        for child in (self.left[s], self.right[s]):
            if child >= 0:
                self.parent[child] = down_part
        self.left[down_part], self.right[down_part] = self.left[s], self.right[s]
        self.n[down_part], self.n[new] = self.n[s], weight
        self.inner_r[down_part], self.inner_w[down_part] = self.inner_r[s], self.inner_w[s]
        self.down[s], self.left[s], self.right[s] = bif, down_part, new
        self._refresh(s, down_part, new)
        while s >= 0:
            self.n[s] += weight
            self._rebalance(s)
            s = self.parent[s]

    def _rebalance(self, s: int) -> None:
        """Recompute β of the children of ``s`` and its inner R*, W from them."""
        p, q = self.left[s], self.right[s]
        r_p = self.k_r * self.length[p] + self.inner_r[p]
        r_q = self.k_r * self.length[q] + self.inner_r[q]
        b4_p, b4_q, b2_p, b2_q = self._split(self.n[p], r_p, self.n[q], r_q)
        self.beta[p], self.beta[q] = b4_p**0.25, b4_q**0.25
        self.inner_r[s] = 1.0 / (b4_p / r_p + b4_q / r_q)
        self.inner_w[s] = (b2_p * (np.pi * self.length[p] + self.inner_w[p])
                           + b2_q * (np.pi * self.length[q] + self.inner_w[q]))

    def order(self) -> np.ndarray:
        """Segment ids in topological (breadth-first) order from the root segment."""
        order, head = [0], 0
        while head < len(order):
            s = order[head]
            head += 1
            if self.left[s] >= 0:
                order += [int(self.left[s]), int(self.right[s])]
        return np.array(order, dtype=np.int64)

    def radii(self, flow: float, pressure_drop: float) -> np.ndarray:
        """Radii [m] of every segment (by id) so that the tree delivers ``flow`` at
        ``pressure_drop``, terminal ``t`` receiving ``w_t q``."""
        root_reduced = self.k_r * self.length[0] + self.inner_r[0]
        radii = np.zeros(self.count)
        order = self.order()
        radii[0] = (root_reduced * flow / pressure_drop) ** 0.25
        for s in order[1:]:
            radii[s] = self.beta[s] * radii[self.parent[s]]
        return radii

    def volume(self, flow: float, pressure_drop: float) -> float:
        """Tree volume Σ π r² L [m³] at the final flow."""
        root_reduced = self.k_r * self.length[0] + self.inner_r[0]
        return float(np.sqrt(root_reduced * flow / pressure_drop)
                     * (np.pi * self.length[0] + self.inner_w[0]))

    def to_tree(self, flow: float, pressure_drop: float, name: str) -> VascularTree:
        """The finished tree, segments in topological order."""
        order = self.order()
        radii = self.radii(flow, pressure_drop)
        segments = np.stack([self.up[order], self.down[order]], axis=1)
        return VascularTree(self.points[: self.node_count].copy(), segments, radii[order], name)
