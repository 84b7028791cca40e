// Whole-file reads for the small files a run reads back (JSON settings and state, TFLite models,
// face images): the one place that turns "cannot open" and "read error" into a facet::Error
// naming the file and the system's reason. Writes go through engine/io/atomic_file.h.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace facet {

// The file's bytes. Throws facet::Error "<path>: cannot be read (<reason>)" when it is missing,
// a folder or unreadable, and "<path>: read error" when reading fails half-way.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// The same, as text (no newline conversion).
std::string read_text_file(const std::string& path);

}  // namespace facet
