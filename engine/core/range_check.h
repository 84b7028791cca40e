// The one wording of a range error, for every setting checked against inclusive limits:
//   "<name> = <value> is out of range: allowed <lo>..<hi><note>"
// (e.g. "e_dims = 300 is out of range: allowed 16..256, even"), so model options, merge settings
// and training settings read alike whichever layer checks them.
#pragma once
#include <string>

#include "engine/core/error.h"

namespace facet {

template <typename T>
std::string out_of_range_message(const std::string& name, const T& value, const T& lo, const T& hi,
                                 const std::string& note = "") {
  return detail::concat(name, " = ", value, " is out of range: allowed ", lo, "..", hi, note);
}

// Throws facet::Error with out_of_range_message unless lo <= value <= hi.
template <typename T>
void check_range(const std::string& name, const T& value, const T& lo, const T& hi, const std::string& note = "") {
  if (value < lo || value > hi) throw Error(out_of_range_message(name, value, lo, hi, note));
}

}  // namespace facet
