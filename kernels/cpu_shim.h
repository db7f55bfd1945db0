// cpu_shim.h — run a CUDA C kernel file on the CPU (perfusion/compute/native.py; docs/model.md §12).
// Maps __global__/__device__ to plain C++, threadIdx/blockIdx/blockDim/gridDim to thread-local
// globals, and launches a 1-D grid as a loop over blocks, parallelised by OpenMP
// (`#pragma omp parallel for`; each block's threads run in order on one CPU thread). Built
// without -fopenmp the pragma is ignored and the blocks run in order. Kernels that need
// __syncthreads, shared memory or atomics are not supported (the project's kernels use none:
// each thread writes only its own elements, so the blocks may run in any order).
#pragma once
#include <cmath>
#include <cstddef>
#ifdef _OPENMP
#include <omp.h>
#endif

struct dim3 {   // an aggregate, so that the thread-local copies need no guard on each access
    unsigned x, y, z;
};
static thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline

// The kernel is a template argument, so that each call is direct and can be inlined.
template <auto kernel, typename... Args>
void shim_launch(unsigned grid, unsigned block, Args... args) {
#pragma omp parallel for schedule(static)
    for (long long b = 0; b < (long long)grid; ++b) {
        gridDim = dim3{grid, 1, 1};
        blockDim = dim3{block, 1, 1};
        blockIdx = dim3{(unsigned)b, 1, 1};
        for (unsigned t = 0; t < block; ++t) {
            threadIdx = dim3{t, 1, 1};
            kernel(args...);
        }
    }
}

// The OpenMP thread count for later launches (n ≥ 1), and the count a launch would use.
extern "C" void shim_set_threads(int n) {
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

extern "C" int shim_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
