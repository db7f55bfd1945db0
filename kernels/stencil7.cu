// stencil7.cu — masked, variable-coefficient 7-point finite-volume operator.
//
// Formula (per unit cell volume; reference: perfusion/ops/stencil7.py, apply_reference and
// diagonal_reference):
//   y_i = d_i x_i + Σ_axes Σ_{j = i ± e_a} T_a,ij (x_i − x_j)        (apply)
//   D_i = d_i + Σ_axes Σ_{j = i ± e_a} T_a,ij                        (diagonal)
// Layout: C order, (nx, ny, nz), k fastest; voxel index v = (i ny + j) nz + k. Face arrays
// are C order with one entry fewer along their axis: Tx (nx−1, ny, nz), Ty (nx, ny−1, nz),
// Tz (nx, ny, nz−1); face (i+½, j, k) is Tx[(i ny + j) nz + k].
// Boundary: faces of the grid box do not exist (no flux); masked-out voxels carry T = 0 on
// their faces and d = 1 (identity), which the caller arranges.
// One thread per voxel, 1-D grid; no shared memory.

template <typename T>
__device__ void stencil7(const T* __restrict__ tx, const T* __restrict__ ty,
                         const T* __restrict__ tz, const T* __restrict__ d,
                         const T* __restrict__ x, T* __restrict__ y,
                         int nx, int ny, int nz, int diagonal_only) {
    long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n = (long long)nx * ny * nz;
    if (v >= n) return;
    int k = (int)(v % nz);
    int j = (int)((v / nz) % ny);
    int i = (int)(v / ((long long)ny * nz));
    long long sx = (long long)ny * nz;
    T xi = diagonal_only ? (T)1 : x[v];
    T sum = d[v] * xi;
    if (i > 0) { T t = tx[v - sx]; sum += t * (xi - (diagonal_only ? (T)0 : x[v - sx])); }
    if (i < nx - 1) { T t = tx[v]; sum += t * (xi - (diagonal_only ? (T)0 : x[v + sx])); }
    long long fy = ((long long)i * (ny - 1) + j) * nz + k;
    if (j > 0) { T t = ty[fy - nz]; sum += t * (xi - (diagonal_only ? (T)0 : x[v - nz])); }
    if (j < ny - 1) { T t = ty[fy]; sum += t * (xi - (diagonal_only ? (T)0 : x[v + nz])); }
    long long fz = ((long long)i * ny + j) * (nz - 1) + k;
    if (k > 0) { T t = tz[fz - 1]; sum += t * (xi - (diagonal_only ? (T)0 : x[v - 1])); }
    if (k < nz - 1) { T t = tz[fz]; sum += t * (xi - (diagonal_only ? (T)0 : x[v + 1])); }
    y[v] = sum;
}

extern "C" __global__ void stencil7_apply_f64(const double* tx, const double* ty, const double* tz,
                                              const double* d, const double* x, double* y,
                                              int nx, int ny, int nz) {
    stencil7<double>(tx, ty, tz, d, x, y, nx, ny, nz, 0);
}

extern "C" __global__ void stencil7_apply_f32(const float* tx, const float* ty, const float* tz,
                                              const float* d, const float* x, float* y,
                                              int nx, int ny, int nz) {
    stencil7<float>(tx, ty, tz, d, x, y, nx, ny, nz, 0);
}

extern "C" __global__ void stencil7_diagonal_f64(const double* tx, const double* ty,
                                                 const double* tz, const double* d, double* y,
                                                 int nx, int ny, int nz) {
    stencil7<double>(tx, ty, tz, d, d, y, nx, ny, nz, 1);
}

extern "C" __global__ void stencil7_diagonal_f32(const float* tx, const float* ty,
                                                 const float* tz, const float* d, float* y,
                                                 int nx, int ny, int nz) {
    stencil7<float>(tx, ty, tz, d, d, y, nx, ny, nz, 1);
}
