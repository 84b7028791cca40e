// A reader for the subset of Python's pickle format that DeepFaceLab writes into its face images
// (DFLIMG/DFLJPG.py: `pickle.dumps(dict)`, protocol 3 or 4 depending on the Python version, with
// numpy arrays inside). It decodes plain data only: None, bool, int (up to 64 bits), float, str,
// bytes/bytearray, list, tuple, dict, and numpy arrays and scalars of bool/int/uint/float dtypes.
// Callables are never run: GLOBAL/STACK_GLOBAL accept only the numpy reconstruction names
// (numpy.core.multiarray._reconstruct / scalar, numpy.ndarray, numpy.dtype, numpy's protocol-5
// _frombuffer, and _codecs.encode for protocol-2 bytes); any other name, and any opcode outside
// protocols 2-5's data subset, is an error. Every read is bounds-checked, the memo is supported,
// and a container that contains itself is refused, so every value is a finite tree (possibly
// with shared nodes) that callers can walk. Errors name `what` (the file) and the byte offset.
// Opcode meanings: CPython's Lib/pickletools.py; numpy's reduce/setstate: numpy/core/src/multiarray/methods.c.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace facet::faces {

struct PyValue;

// A numpy array, decoded to a little-endian, C-ordered copy of its data.
struct PyArray {
  char kind = 'f';        // numpy kind: 'f' float, 'i' signed, 'u' unsigned, 'b' bool
  int itemsize = 0;       // bytes per element (f: 2/4/8, i/u: 1/2/4/8, b: 1)
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // prod(shape) * itemsize bytes, little-endian, C order
  int64_t size() const;
  double at(int64_t i) const;  // element i (flat, C order) as a double
};

struct PyValue {
  enum class Type { None, Bool, Int, Float, Str, Bytes, List, Tuple, Dict, Array,
                    // internal, never in a finished value: a numpy callable or dtype under construction
                    Global, Dtype };
  Type type = Type::None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                        // Str (UTF-8), Bytes, Global ("module.name")
  std::vector<const PyValue*> items;    // List, Tuple; Dict: key, value, key, value, ...
  std::shared_ptr<PyArray> array;       // Array (also the partly built array of _reconstruct)
  std::string dtype_byteorder = "<";    // Dtype: '<', '>', '|', '='

  bool is_number() const { return type == Type::Int || type == Type::Float || type == Type::Bool; }
  double number() const;                          // Int/Float/Bool, or a 1-element Array
  const PyValue* get(const std::string& key) const;  // Dict with str keys (last one wins); nullptr if absent
  const char* type_name() const;
};

// The decoded pickle: owns every value; `root` is the top-level object.
class Pickle {
 public:
  const PyValue* root = nullptr;
  PyValue* make();

 private:
  std::vector<std::unique_ptr<PyValue>> values_;
};

// Throws facet::Error naming `what` and the problem (with its byte offset) for anything malformed,
// truncated, outside the supported subset, or nesting deeper than a sane limit.
Pickle parse_pickle(const uint8_t* data, size_t size, const std::string& what);

}  // namespace facet::faces
