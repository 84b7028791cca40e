// Crash-safe file replacement: write everything to `<path>.tmp-<pid>` in the same directory,
// flush and fsync it, rename it over `path`, then fsync the directory so the rename itself is
// durable. A reader therefore sees either the old file or the complete new one, never a torn
// mix, even if the process dies or the machine loses power half-way through a checkpoint.
// Used for checkpoints (safetensors) and for the small JSON state files written beside them.
#pragma once
#include <cstdio>
#include <functional>
#include <string>

namespace facet {

// Calls `writer` with a FILE* open for binary writing on the temporary file, then publishes it
// as `path`. If the writer throws, or any write/flush/fsync/rename fails, the temporary file is
// removed, `path` is left exactly as it was, and the error propagates: the writer's own
// exception unchanged, or a facet::Error naming the path and the system's reason (strerror).
void write_file_atomically(const std::string& path, const std::function<void(std::FILE*)>& writer);

// Convenience for text/JSON state files.
void write_string_atomically(const std::string& path, const std::string& contents);

// Writes all `bytes` of `data` or throws a facet::Error naming `path` (for use inside writers).
void write_all(std::FILE* f, const void* data, size_t bytes, const std::string& path);

// The temporary name write_file_atomically uses for `path` in this process (for tests/cleanup).
std::string atomic_temp_path(const std::string& path);

}  // namespace facet
