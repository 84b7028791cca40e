// write_file_atomically: temp file + fsync + rename + directory fsync (see atomic_file.h).
// POSIX only; every failure is reported with the path and strerror(errno) so a user can tell a
// full disk from a read-only directory from a missing folder.
#include "engine/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/core/error.h"

namespace facet {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Directory holding `path` ("." for a bare file name), for the directory fsync.
std::string parent_dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Makes the rename durable. Some filesystems cannot fsync a directory (EINVAL); the rename has
// still happened there, so only real I/O errors are reported.
void fsync_dir(const std::string& path) {
  std::string dir = parent_dir(path);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // the file is in place; nothing more we can do for durability
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL && err != ENOTSUP && err != EROFS && err != EBADF)
    throw Error(detail::concat("cannot sync directory '", dir, "' after writing '", path, "': ", errno_text(err)));
}

}  // namespace

std::string atomic_temp_path(const std::string& path) {
  return path + ".tmp-" + std::to_string(static_cast<long long>(::getpid()));
}

void write_all(std::FILE* f, const void* data, size_t bytes, const std::string& path) {
  if (bytes == 0) return;
  size_t n = std::fwrite(data, 1, bytes, f);
  if (n != bytes) {
    int err = errno;
    throw Error(detail::concat("error writing '", path, "' (", n, " of ", bytes, " bytes written): ",
                               errno_text(err ? err : EIO)));
  }
}

void write_file_atomically(const std::string& path, const std::function<void(std::FILE*)>& writer) {
  FACET_CHECK(!path.empty(), "write_file_atomically: empty path");
  const std::string tmp = atomic_temp_path(path);

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int err = errno;
    throw Error(detail::concat("cannot write '", path, "': cannot create temporary file '", tmp, "': ",
                               errno_text(err)));
  }
  std::FILE* f = ::fdopen(fd, "wb");
  if (!f) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw Error(detail::concat("cannot write '", path, "': fdopen failed: ", errno_text(err)));
  }
  // Large buffer: checkpoints are written in big tensor-sized chunks anyway.
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);

  // Any failure from here on: close, remove the temp file, rethrow. `path` was never touched.
  auto abandon = [&]() {
    if (f) std::fclose(f);
    f = nullptr;
    ::unlink(tmp.c_str());
  };

  try {
    writer(f);
  } catch (...) {
    abandon();
    throw;
  }

  if (std::fflush(f) != 0 || std::ferror(f)) {
    int err = errno;
    abandon();
    throw Error(detail::concat("error writing '", path, "' (temporary '", tmp, "'): ", errno_text(err ? err : EIO)));
  }
  if (::fsync(::fileno(f)) != 0) {
    int err = errno;
    abandon();
    throw Error(detail::concat("cannot sync '", tmp, "' to disk while writing '", path, "': ", errno_text(err)));
  }
  int rc = std::fclose(f);
  f = nullptr;
  if (rc != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error(detail::concat("error closing '", tmp, "' while writing '", path, "': ", errno_text(err)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error(detail::concat("cannot replace '", path, "' with '", tmp, "': ", errno_text(err)));
  }
  fsync_dir(path);
}

void write_string_atomically(const std::string& path, const std::string& contents) {
  write_file_atomically(path, [&](std::FILE* f) { write_all(f, contents.data(), contents.size(), path); });
}

}  // namespace facet
