// Whole-file reads with errors that name the file (see read_file.h).
#include "engine/io/read_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/core/error.h"

namespace facet {

namespace {

std::ifstream open_for_reading(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": cannot be read (it is a folder)");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot be read (" + (errno ? std::strerror(errno) : "cannot open") + ")");
  return in;
}

template <typename Container>
Container read_all(const std::string& path) {
  std::ifstream in = open_for_reading(path);
  Container out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(path + ": read error");
  return out;
}

}  // namespace

std::vector<uint8_t> read_file_bytes(const std::string& path) { return read_all<std::vector<uint8_t>>(path); }

std::string read_text_file(const std::string& path) { return read_all<std::string>(path); }

}  // namespace facet
