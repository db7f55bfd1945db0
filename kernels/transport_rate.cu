// transport_rate.cu — rate of change of free drug by interstitial diffusion and convection.
//
// Formula (reference: perfusion/ops/transport_rate.py, rate_reference). State m = v_e c_e,
// c = m · (1/v_e). Across the face between cells a (lower) and b (upper) along an axis:
//   f = D_f (c_a − c_b) + U_f ĉ,  ĉ = (c_a + c_b)/2 if |U_f| ≤ 2 D_f (cell Péclet ≤ 2), else the
//   upwind value (c_a if U_f > 0, else c_b)
//   dm_a −= f, dm_b += f;  surface outflow: dm −= r_out c, loss = r_out c.
// Layout: C order (nx, ny, nz), k fastest; face arrays as in stencil7.cu (one entry fewer
// along their axis). Boundary: no faces on the grid box (no flux). One thread per voxel.

template <typename T>
__device__ __forceinline__ T face_flux(T ca, T cb, T d, T u) {
    T upwind = u > (T)0 ? ca : cb;
    T value = (u < (T)0 ? -u : u) <= (T)2 * d ? (T)0.5 * (ca + cb) : upwind;
    return d * (ca - cb) + u * value;
}

template <typename T>
__device__ void transport_rate(const T* dx, const T* dy, const T* dz, const T* ux, const T* uy,
                               const T* uz, const T* outflow, const T* inverse_ve, const T* m,
                               T* dm, T* loss, int nx, int ny, int nz) {
    long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n = (long long)nx * ny * nz;
    if (v >= n) return;
    int k = (int)(v % nz);
    int j = (int)((v / nz) % ny);
    int i = (int)(v / ((long long)ny * nz));
    long long sx = (long long)ny * nz;
    T c = m[v] * inverse_ve[v];
    T rate = -outflow[v] * c;
    if (i > 0) rate += face_flux(m[v - sx] * inverse_ve[v - sx], c, dx[v - sx], ux[v - sx]);
    if (i < nx - 1) rate -= face_flux(c, m[v + sx] * inverse_ve[v + sx], dx[v], ux[v]);
    long long fy = ((long long)i * (ny - 1) + j) * nz + k;
    if (j > 0) rate += face_flux(m[v - nz] * inverse_ve[v - nz], c, dy[fy - nz], uy[fy - nz]);
    if (j < ny - 1) rate -= face_flux(c, m[v + nz] * inverse_ve[v + nz], dy[fy], uy[fy]);
    long long fz = ((long long)i * ny + j) * (nz - 1) + k;
    if (k > 0) rate += face_flux(m[v - 1] * inverse_ve[v - 1], c, dz[fz - 1], uz[fz - 1]);
    if (k < nz - 1) rate -= face_flux(c, m[v + 1] * inverse_ve[v + 1], dz[fz], uz[fz]);
    dm[v] = rate;
    loss[v] = outflow[v] * c;
}

extern "C" __global__ void transport_rate_f64(const double* dx, const double* dy, const double* dz,
                                              const double* ux, const double* uy, const double* uz,
                                              const double* outflow, const double* inverse_ve,
                                              const double* m, double* dm, double* loss,
                                              int nx, int ny, int nz) {
    transport_rate<double>(dx, dy, dz, ux, uy, uz, outflow, inverse_ve, m, dm, loss, nx, ny, nz);
}

extern "C" __global__ void transport_rate_f32(const float* dx, const float* dy, const float* dz,
                                              const float* ux, const float* uy, const float* uz,
                                              const float* outflow, const float* inverse_ve,
                                              const float* m, float* dm, float* loss,
                                              int nx, int ny, int nz) {
    transport_rate<float>(dx, dy, dz, ux, uy, uz, outflow, inverse_ve, m, dm, loss, nx, ny, nz);
}
