// mg_smooth.cu — residual and red-black Gauss–Seidel half-sweep of the 7-point operator
// (the multigrid smoother; perfusion/solvers/multigrid.py).
//
// Formulas (reference: perfusion/ops/mg_smooth.py, residual_reference and smooth_reference):
//   (A x)_i = d_i x_i + Σ_axes Σ_{j = i ± e_a} T_a,ij (x_i − x_j)
//   residual: r_i = b_i − (A x)_i                                      (every cell)
//   smooth:   x_i ← x_i + w_i (b_i − (A x)_i)   where w_i ≠ 0, in place
// The caller passes w = D⁻¹ on the cells of one colour ((i + j + k) mod 2 = c) and 0 on the
// others: a cell of one colour has neighbours of the other colour only, so this is an exact
// Gauss–Seidel half-sweep and the in-place update is race-free.
// Layout: C order, (nx, ny, nz), k fastest; voxel index v = (i ny + j) nz + k. Unlike
// stencil7.cu the face arrays have the grid's shape: T_a[v] couples v with v + s_a
// (s = (ny nz, nz, 1)) and is zero on the last layer along a. Boundary: no faces on the grid
// box (no flux); masked-out voxels carry T = 0 and d = 1. One thread per voxel, 1-D grid; no
// shared memory.

template <typename T>
__device__ __forceinline__ T residual_at(const T* __restrict__ tx, const T* __restrict__ ty,
                                         const T* __restrict__ tz, const T* __restrict__ d,
                                         const T* __restrict__ b, const T* x, long long v,
                                         int i, int j, int k, int nx, int ny, int nz) {
    long long sx = (long long)ny * nz;
    T xi = x[v];
    T ax = d[v] * xi;
    if (i > 0) ax += tx[v - sx] * (xi - x[v - sx]);
    if (i < nx - 1) ax += tx[v] * (xi - x[v + sx]);
    if (j > 0) ax += ty[v - nz] * (xi - x[v - nz]);
    if (j < ny - 1) ax += ty[v] * (xi - x[v + nz]);
    if (k > 0) ax += tz[v - 1] * (xi - x[v - 1]);
    if (k < nz - 1) ax += tz[v] * (xi - x[v + 1]);
    return b[v] - ax;
}

template <typename T>
__device__ void residual(const T* tx, const T* ty, const T* tz, const T* d, const T* b,
                         const T* x, T* r, int nx, int ny, int nz) {
    long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (v >= (long long)nx * ny * nz) return;
    int k = (int)(v % nz);
    int j = (int)((v / nz) % ny);
    int i = (int)(v / ((long long)ny * nz));
    r[v] = residual_at<T>(tx, ty, tz, d, b, x, v, i, j, k, nx, ny, nz);
}

template <typename T>
__device__ void smooth(const T* tx, const T* ty, const T* tz, const T* d, const T* weight,
                       const T* b, T* x, int nx, int ny, int nz) {
    long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (v >= (long long)nx * ny * nz) return;
    T w = weight[v];
    if (w == (T)0) return;
    int k = (int)(v % nz);
    int j = (int)((v / nz) % ny);
    int i = (int)(v / ((long long)ny * nz));
    x[v] = x[v] + w * residual_at<T>(tx, ty, tz, d, b, x, v, i, j, k, nx, ny, nz);
}

extern "C" __global__ void mg_residual_f64(const double* tx, const double* ty, const double* tz,
                                           const double* d, const double* b, const double* x,
                                           double* r, int nx, int ny, int nz) {
    residual<double>(tx, ty, tz, d, b, x, r, nx, ny, nz);
}

extern "C" __global__ void mg_residual_f32(const float* tx, const float* ty, const float* tz,
                                           const float* d, const float* b, const float* x,
                                           float* r, int nx, int ny, int nz) {
    residual<float>(tx, ty, tz, d, b, x, r, nx, ny, nz);
}

extern "C" __global__ void mg_smooth_f64(const double* tx, const double* ty, const double* tz,
                                         const double* d, const double* weight,
                                         const double* b, double* x, int nx, int ny, int nz) {
    smooth<double>(tx, ty, tz, d, weight, b, x, nx, ny, nz);
}

extern "C" __global__ void mg_smooth_f32(const float* tx, const float* ty, const float* tz,
                                         const float* d, const float* weight,
                                         const float* b, float* x, int nx, int ny, int nz) {
    smooth<float>(tx, ty, tz, d, weight, b, x, nx, ny, nz);
}
