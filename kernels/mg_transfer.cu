// mg_transfer.cu — multigrid restriction and prolongation between a grid and its coarsening
// (perfusion/solvers/multigrid.py).
//
// Formulas (reference: perfusion/ops/mg_transfer.py, restrict_reference and
// prolong_reference). Coarse cell I holds the fine cells i = f_a I_a + o_a, o_a < f_a, per
// axis, with factor f_a = 2 on coarsened axes and 1 elsewhere; an odd fine size leaves the
// last coarse cell one fine cell thick (mc_a = ceil(n_a / f_a)).
//   restrict: r_c[I] = Σ_{i ∈ I} r[i]            (R = Pᵀ)
//   prolong:  x[i] ← x[i] + e_c[parent(i)]      (piecewise-constant P), in place
// Layout: C order, k fastest, fine (nx, ny, nz), coarse (mx, my, mz). restrict: one thread
// per coarse cell, prolong: one thread per fine cell; 1-D grid; no shared memory.

template <typename T>
__device__ void restrict_sum(const T* __restrict__ fine, T* __restrict__ coarse, int nx, int ny,
                             int nz, int fx, int fy, int fz) {
    int mx = (nx + fx - 1) / fx, my = (ny + fy - 1) / fy, mz = (nz + fz - 1) / fz;
    long long c = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= (long long)mx * my * mz) return;
    int ck = (int)(c % mz);
    int cj = (int)((c / mz) % my);
    int ci = (int)(c / ((long long)my * mz));
    T sum = (T)0;
    for (int oi = 0; oi < fx; ++oi) {
        int i = ci * fx + oi;
        if (i >= nx) break;
        for (int oj = 0; oj < fy; ++oj) {
            int j = cj * fy + oj;
            if (j >= ny) break;
            for (int ok = 0; ok < fz; ++ok) {
                int k = ck * fz + ok;
                if (k >= nz) break;
                sum += fine[((long long)i * ny + j) * nz + k];
            }
        }
    }
    coarse[c] = sum;
}

template <typename T>
__device__ void prolong_add(const T* __restrict__ coarse, T* __restrict__ fine, int nx, int ny,
                            int nz, int fx, int fy, int fz) {
    int my = (ny + fy - 1) / fy, mz = (nz + fz - 1) / fz;
    long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (v >= (long long)nx * ny * nz) return;
    int k = (int)(v % nz);
    int j = (int)((v / nz) % ny);
    int i = (int)(v / ((long long)ny * nz));
    fine[v] = fine[v] + coarse[((long long)(i / fx) * my + j / fy) * mz + k / fz];
}

extern "C" __global__ void mg_restrict_f64(const double* fine, double* coarse, int nx, int ny,
                                           int nz, int fx, int fy, int fz) {
    restrict_sum<double>(fine, coarse, nx, ny, nz, fx, fy, fz);
}

extern "C" __global__ void mg_restrict_f32(const float* fine, float* coarse, int nx, int ny,
                                           int nz, int fx, int fy, int fz) {
    restrict_sum<float>(fine, coarse, nx, ny, nz, fx, fy, fz);
}

extern "C" __global__ void mg_prolong_f64(const double* coarse, double* fine, int nx, int ny,
                                          int nz, int fx, int fy, int fz) {
    prolong_add<double>(coarse, fine, nx, ny, nz, fx, fy, fz);
}

extern "C" __global__ void mg_prolong_f32(const float* coarse, float* fine, int nx, int ny,
                                          int nz, int fx, int fy, int fz) {
    prolong_add<float>(coarse, fine, nx, ny, nz, fx, fy, fz);
}
