#pragma once
// Whole files written so that a reader sees the old content or the new, never a mix: a temporary
// file in the same directory, flushed to disk, then renamed over the target.

#include <string>

namespace rlforge {

// Throws DataError naming the file when it cannot be written; the old file is then unchanged.
void write_data_file_atomically(const std::string& path, const std::string& content);

}  // namespace rlforge
