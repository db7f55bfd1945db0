// transport_rate.cu — rate of change of free drug by interstitial diffusion and convection.
//
// Formula (reference: perfusion/ops/transport_rate.py, rate_reference). State m = v_e c_e,
// c = m · (1/v_e). Across the face between cells a (lower) and b (upper) along an axis the
// flux is f = A_f c_a − B_f c_b, with A_f, B_f precomputed by face_coefficients() from the
// diffusion D_f and convection U_f of the face (hybrid scheme: central average where the cell
// Péclet number |U_f|/D_f ≤ 2, upwind elsewhere);
//   dm_a −= f, dm_b += f;  surface outflow: dm −= r_out c, loss = r_out c.
// Layout: C order (nx, ny, nz), k fastest; face arrays as in stencil7.cu (one entry fewer
// along their axis). Boundary: no faces on the grid box (no flux). One thread per voxel.

template <typename T>
__device__ __forceinline__ T face_flux(T ca, T cb, T a, T b) {
    return a * ca - b * cb;
}

template <typename T>
__device__ void transport_rate(const T* ax, const T* ay, const T* az, const T* bx, const T* by,
                               const T* bz, const T* outflow, const T* inverse_ve, const T* m,
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
    if (i > 0) rate += face_flux(m[v - sx] * inverse_ve[v - sx], c, ax[v - sx], bx[v - sx]);
    if (i < nx - 1) rate -= face_flux(c, m[v + sx] * inverse_ve[v + sx], ax[v], bx[v]);
    long long fy = ((long long)i * (ny - 1) + j) * nz + k;
    if (j > 0) rate += face_flux(m[v - nz] * inverse_ve[v - nz], c, ay[fy - nz], by[fy - nz]);
    if (j < ny - 1) rate -= face_flux(c, m[v + nz] * inverse_ve[v + nz], ay[fy], by[fy]);
    long long fz = ((long long)i * ny + j) * (nz - 1) + k;
    if (k > 0) rate += face_flux(m[v - 1] * inverse_ve[v - 1], c, az[fz - 1], bz[fz - 1]);
    if (k < nz - 1) rate -= face_flux(c, m[v + 1] * inverse_ve[v + 1], az[fz], bz[fz]);
    dm[v] = rate;
    loss[v] = outflow[v] * c;
}

extern "C" __global__ void transport_rate_f64(const double* ax, const double* ay, const double* az,
                                              const double* bx, const double* by, const double* bz,
                                              const double* outflow, const double* inverse_ve,
                                              const double* m, double* dm, double* loss,
                                              int nx, int ny, int nz) {
    transport_rate<double>(ax, ay, az, bx, by, bz, outflow, inverse_ve, m, dm, loss, nx, ny, nz);
}

extern "C" __global__ void transport_rate_f32(const float* ax, const float* ay, const float* az,
                                              const float* bx, const float* by, const float* bz,
                                              const float* outflow, const float* inverse_ve,
                                              const float* m, float* dm, float* loss,
                                              int nx, int ny, int nz) {
    transport_rate<float>(ax, ay, az, bx, by, bz, outflow, inverse_ve, m, dm, loss, nx, ny, nz);
}
