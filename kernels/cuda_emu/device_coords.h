// The running emulated thread's coordinates, under the names CUDA device code uses. The grid
// runner (scheduler.cpp) sets them before it starts or resumes a thread; launches are serialised,
// so one copy per process is enough.
#pragma once
#include <vector_types.h>

inline uint3 threadIdx;
inline uint3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;
