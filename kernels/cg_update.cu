// cg_update.cu — fused vector updates of the Jacobi-preconditioned conjugate gradient.
//
// Formulas (reference: perfusion/ops/cg_update.py, update_solution_reference and
// update_direction_reference):
//   update_solution:  x ← x + α p,  r ← r − α q,  z ← D⁻¹ r        (one pass instead of three)
//   update_direction: p ← z + β p
// Layout: any contiguous arrays of n elements (the flattened grid); α, β in the working
// precision. One thread per element, 1-D grid; no boundary treatment (elementwise).

template <typename T>
__device__ void update_solution(T* x, T* r, T* z, const T* p, const T* q, const T* inverse_diagonal,
                                T alpha, int n) {
    long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (v >= n) return;
    x[v] = x[v] + alpha * p[v];
    T residual = r[v] - alpha * q[v];
    r[v] = residual;
    z[v] = inverse_diagonal[v] * residual;
}

template <typename T>
__device__ void update_direction(T* p, const T* z, T beta, int n) {
    long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (v >= n) return;
    p[v] = z[v] + beta * p[v];
}

extern "C" __global__ void cg_update_solution_f64(double* x, double* r, double* z, const double* p,
                                                  const double* q, const double* inverse_diagonal,
                                                  double alpha, int n) {
    update_solution<double>(x, r, z, p, q, inverse_diagonal, alpha, n);
}

extern "C" __global__ void cg_update_solution_f32(float* x, float* r, float* z, const float* p,
                                                  const float* q, const float* inverse_diagonal,
                                                  float alpha, int n) {
    update_solution<float>(x, r, z, p, q, inverse_diagonal, alpha, n);
}

extern "C" __global__ void cg_update_direction_f64(double* p, const double* z, double beta, int n) {
    update_direction<double>(p, z, beta, n);
}

extern "C" __global__ void cg_update_direction_f32(float* p, const float* z, float beta, int n) {
    update_direction<float>(p, z, beta, n);
}
