// cpu_shim.h — run a CUDA C kernel file on the CPU (tests only; docs/model.md §12).
// Maps __global__/__device__ to plain C++, threadIdx/blockIdx/blockDim/gridDim to globals,
// and launches a 1-D grid as a loop over blocks and threads. Kernels that need
// __syncthreads or shared memory are not supported (the project's kernels use neither).
#pragma once
#include <cmath>
#include <cstddef>

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
static dim3 threadIdx, blockIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline

template <typename... Params, typename... Args>
void shim_launch(void (*kernel)(Params...), unsigned grid, unsigned block, Args... args) {
    gridDim = dim3(grid);
    blockDim = dim3(block);
    for (unsigned b = 0; b < grid; ++b) {
        blockIdx = dim3(b);
        for (unsigned t = 0; t < block; ++t) {
            threadIdx = dim3(t);
            kernel(args...);
        }
    }
}
