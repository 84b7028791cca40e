// Element types (DType: f32, f64, f16, bf16) as the engine's API names them. The kernels define
// them (kernels/common/dtype.h), since they dispatch on them; code above the engine includes this
// header rather than reaching into kernels/.
#pragma once
#include "kernels/common/dtype.h"
