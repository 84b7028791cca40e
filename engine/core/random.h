// Counter-based random numbers for code above the engine: the Philox4x32-10 stream the ops draw
// from (kernels/common/philox.h; Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC'11). philox_word(seed, i) and philox_uniform(seed, i) are pure functions of (seed, i), so
// a sampler or generator seeded by its caller gives the same numbers however its work is split.
#pragma once
#include "kernels/common/philox.h"
