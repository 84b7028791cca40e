// Checkpoints in the safetensors format (Hugging Face), so that Python tools can read our
// weights with `safetensors.numpy.load_file` and we can read theirs. Layout (docs/formats-checkpoint.md):
//   u64 little-endian N | N bytes of UTF-8 JSON header, space-padded to 8 bytes | data buffer
// Header: {"__metadata__": {str: str}, "<name>": {"dtype", "shape", "data_offsets": [b, e]}, ...}.
// facet adds to __metadata__: "facet.format" = "facet-checkpoint-1", "facet.crc32" (CRC-32 of the
// data buffer) and "facet.header_crc32" (CRC-32 of the tensor table and other metadata), so that a
// flipped bit anywhere in the file is caught on load. Files without them (written by other
// tools) load without the CRC checks.
// Writes are atomic (engine/io/atomic_file.h): a crash leaves the previous checkpoint intact.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/device.h"
#include "engine/tensor/tensor.h"

namespace facet {

class Context;

inline constexpr const char* kCheckpointFormat = "facet-checkpoint-1";

// Saves `tensors` (any device; copied to host) with `metadata` to `path`, atomically. Tensor
// names must be unique, non-empty and not "__metadata__". Metadata keys "facet.format",
// "facet.crc32" and "facet.header_crc32" are reserved and (re)computed here.
void save_safetensors(Context& ctx, const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

struct LoadedTensors {
  std::map<std::string, std::string> metadata;               // includes the facet.* keys
  std::vector<std::pair<std::string, Tensor>> tensors;       // in file (data offset) order
  const Tensor* find(const std::string& name) const;         // nullptr when absent
};

// Reads and fully validates a safetensors file; tensors are placed on `device`. Throws
// facet::Error naming the file (and tensor, expected vs actual) on any inconsistency.
LoadedTensors load_safetensors(Context& ctx, const std::string& path, Device device = Device::cpu());

// Loads `path` into existing tensors (any device). The file's tensor names must equal the names
// in `dest` exactly; dtypes and shapes must match. Nothing in `dest` is modified unless the whole
// file validates and matches.
void load_into(Context& ctx, const std::string& path, const std::vector<std::pair<std::string, Tensor>>& dest);

}  // namespace facet
