// Tensor shapes: any rank, row-major, images NHWC.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace facet {

using Shape = std::vector<int64_t>;

inline int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

inline std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

// Normalises a possibly negative axis against a rank.
inline int norm_axis(int axis, int rank) { return axis < 0 ? axis + rank : axis; }

}  // namespace facet
