// pointwise.cu — per-voxel plasma–tissue exchange, cell uptake, lymph and local elimination
// over one step Δt (the exponential-implicit step of perfusion/transport/exchange.py).
//
// Formula (reference: perfusion/ops/pointwise.py, step_reference):
//   s = (F_pE + drag_in) c_p,  a = (F_pE + drag_out + ℓ)/v_e + k_e + CL_int
//   m_lin = m + (s − a m) Δt φ₁(−aΔt),  c_lin = c − k_c c Δt φ₁(−k_cΔt)
//   Ū solves Ū = U(m_lin − β Ū, c_lin + δ Ū), β = Δtφ₁(−aΔt), δ = Δtφ₁(−k_cΔt):
//     kind 0 none: Ū = 0; kind 1 linear: U = k_in m − k_out c (closed form);
//     kind 2 saturable: U = V_max [c_e/(c_e + v_e K_e) − c/(c + K_i)] (bracketed Newton)
//   m ← m_lin − βŪ,  c ← c_lin + δŪ,  ∫m = mΔt + (s − Ū − a m)Δt²φ₂(−aΔt), ∫c likewise
//   from_plasma = sΔt − (F_pE + drag_out)∫m/v_e,  lymph = ℓ∫m/v_e,  eliminated = k_e∫m + k_c∫c,
//   metabolised = CL_int∫m (first-order metabolism; saturable metabolism is reference-only)
// φ₁(z) = (eᶻ − 1)/z, φ₂(z) = (eᶻ − 1 − z)/z² (series for |z| < 1e-4).
// Layout: flat arrays of n voxels; active is one byte per voxel (uptake only where ≠ 0).
// Boundary: none (pointwise). One thread per voxel; each runs its own Newton iteration.
// Newton stopping rule (the reference's, perfusion/transport/uptake.py): converged when
// |g(Ū)| ≤ tolerance at one of the first `iterations` iterates; a collapsed bracket
// (hi − lo ≤ 0) is not an exit. Otherwise unconverged[v] = 1 (else 0) and the launcher
// (perfusion/ops/pointwise.py) raises ConvergenceError, as the reference does.

template <typename T>
__device__ __forceinline__ void phi_functions(T z, T& phi1, T& phi2) {
    if ((z < (T)0 ? -z : z) < (T)1e-4) {
        phi1 = (T)1 + z / (T)2 + z * z / (T)6;
        phi2 = (T)0.5 + z / (T)6 + z * z / (T)24;
    } else {
        T e = expm1(z);
        phi1 = e / z;
        phi2 = (e - z) / (z * z);
    }
}

template <typename T>
__device__ T saturable_mean(T m_lin, T beta, T c_lin, T delta, T v_e, T vmax, T k_e, T k_i,
                            T tolerance, int iterations, bool& converged) {
    T lo = -c_lin / delta, hi = m_lin / beta, u = (T)0;
    T ke = v_e * k_e;
    converged = false;
    for (int it = 0; it < iterations; ++it) {
        T ce = (m_lin - beta * u) / v_e;
        T cc = c_lin + delta * u;
        T g = u - vmax * (ce / (ce + ke) - cc / (cc + k_i));
        if ((g < (T)0 ? -g : g) <= tolerance) {
            converged = true;
            break;
        }
        T slope = (T)1 + vmax * (beta * ke / (v_e * (ce + ke) * (ce + ke))
                                 + delta * k_i / ((cc + k_i) * (cc + k_i)));
        if (g < (T)0) lo = u;
        if (g > (T)0) hi = u;
        T step = u - g / slope;
        T margin = (T)1e-6 * (hi - lo);
        u = (step >= lo - margin && step <= hi + margin) ? step : (T)0.5 * (lo + hi);
    }
    return u;
}

template <typename T>
__device__ void pointwise(const T* clearance, const T* drag_in, const T* drag_out, const T* lymph,
                          const T* elimination, const T* metabolism, const T* inverse_ve,
                          const T* plasma, const unsigned char* active, const T* v_e, T* m, T* c,
                          T* from_plasma, T* lymph_out, T* eliminated, T* metabolised, T dt,
                          int kind, T k_in, T k_out, T vmax,
                          T k_e, T k_i, T k_c, T tolerance, int iterations,
                          unsigned char* unconverged, int n) {
    long long v = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (v >= n) return;
    T m0 = m[v], c0 = c[v];
    T source = (clearance[v] + drag_in[v]) * plasma[v];
    T a = (clearance[v] + drag_out[v] + lymph[v]) * inverse_ve[v] + elimination[v] + metabolism[v];
    T phi1m, phi2m, phi1c, phi2c;
    phi_functions<T>(-a * dt, phi1m, phi2m);
    phi_functions<T>(-k_c * dt, phi1c, phi2c);
    T beta = dt * phi1m, delta = dt * phi1c;
    T m_lin = m0 + (source - a * m0) * beta;
    T c_lin = c0 - k_c * c0 * delta;
    T u = (T)0;
    bool converged = true;
    if (active[v] && kind == 1) {
        u = (k_in * m_lin - k_out * c_lin) / ((T)1 + k_in * beta + k_out * delta);
    } else if (active[v] && kind == 2) {
        u = saturable_mean<T>(m_lin, beta, c_lin, delta, v_e[v], vmax, k_e, k_i, tolerance,
                              iterations, converged);
    }
    unconverged[v] = converged ? 0 : 1;
    T free_integral = m0 * dt + (source - u - a * m0) * dt * dt * phi2m;
    T bound_integral = c0 * dt + (u - k_c * c0) * dt * dt * phi2c;
    T mean_ce = free_integral * inverse_ve[v];
    from_plasma[v] = source * dt - (clearance[v] + drag_out[v]) * mean_ce;
    lymph_out[v] = lymph[v] * mean_ce;
    eliminated[v] = elimination[v] * free_integral + k_c * bound_integral;
    metabolised[v] = metabolism[v] * free_integral;
    m[v] = m_lin - beta * u;
    c[v] = c_lin + delta * u;
}

extern "C" __global__ void pointwise_step_f64(const double* clearance, const double* drag_in,
        const double* drag_out, const double* lymph, const double* elimination, const double* metabolism,
        const double* inverse_ve, const double* plasma, const unsigned char* active, const double* v_e,
        double* m, double* c, double* from_plasma, double* lymph_out, double* eliminated, double* metabolised,
        double dt, int kind, double k_in,
        double k_out, double vmax, double k_e, double k_i, double k_c, double tolerance, int iterations,
        unsigned char* unconverged, int n) {
    pointwise<double>(clearance, drag_in, drag_out, lymph, elimination, metabolism, inverse_ve,
                   plasma, active, v_e, m, c, from_plasma, lymph_out, eliminated, metabolised, dt,
                   kind, k_in, k_out, vmax,
                   k_e, k_i, k_c, tolerance, iterations, unconverged, n);
}

extern "C" __global__ void pointwise_step_f32(const float* clearance, const float* drag_in,
        const float* drag_out, const float* lymph, const float* elimination, const float* metabolism,
        const float* inverse_ve, const float* plasma, const unsigned char* active, const float* v_e,
        float* m, float* c, float* from_plasma, float* lymph_out, float* eliminated, float* metabolised,
        float dt, int kind, float k_in,
        float k_out, float vmax, float k_e, float k_i, float k_c, float tolerance, int iterations,
        unsigned char* unconverged, int n) {
    pointwise<float>(clearance, drag_in, drag_out, lymph, elimination, metabolism, inverse_ve,
                   plasma, active, v_e, m, c, from_plasma, lymph_out, eliminated, metabolised, dt,
                   kind, k_in, k_out, vmax,
                   k_e, k_i, k_c, tolerance, iterations, unconverged, n);
}
