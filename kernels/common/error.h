// facet's one error type. Every layer throws facet::Error (the CUDA, cuDNN and cuBLAS checks
// included, with the failing call and its file and line), so a program embedding the engine
// catches one documented type. It lives here, in the lowest layer, so kernels can throw it too.
#pragma once
#include <stdexcept>
#include <string>

namespace facet {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace facet
