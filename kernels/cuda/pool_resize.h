// CUDA twins of kernels/cpu/pool_resize.h: TF-semantics max pooling and half-pixel bilinear
// resize on NHWC images, F32 and BF16 (math in f32). Backward passes gather per input pixel (one
// thread owns each dx element), so they overwrite dx and are deterministic without atomics.
#pragma once
#include <cstdint>

#include "kernels/common/dtype.h"

namespace facet::cuda {

void max_pool2d(DType dt, const void* x, void* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t kh,
                int64_t kw, int64_t sh, int64_t sw, int64_t pad_top, int64_t pad_left, int64_t OH, int64_t OW,
                void* stream);
void max_pool2d_backward(DType dt, const void* x, const void* dy, void* dx, int64_t N, int64_t H, int64_t W,
                         int64_t C, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pad_top,
                         int64_t pad_left, int64_t OH, int64_t OW, void* stream);

void resize_bilinear(DType dt, const void* x, void* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t OH,
                     int64_t OW, void* stream);
void resize_bilinear_backward(DType dt, const void* dy, void* dx, int64_t N, int64_t H, int64_t W, int64_t C,
                              int64_t OH, int64_t OW, void* stream);

}  // namespace facet::cuda
