#pragma once
// Checkpoints and exported TorchScript policies are zip archives (LibTorch's format: every tensor
// a stored entry, a few small records deflated, each with its CRC-32). LibTorch reads them without
// checking those CRCs, so a flipped bit in a weight would load silently; this verifies the whole
// archive first. Plain C++ and zlib, no LibTorch.

#include <string>

namespace rlforge {

// Throws std::runtime_error "PATH: not an rlforge KIND (...)" for a file that is no zip archive at
// all, and "PATH: damaged KIND: WHAT" when it is not a complete zip archive (truncated, a damaged
// header or directory), an entry lies outside the file or cannot be inflated, or its data does not
// match its CRC-32. `kind` names the file in messages ("checkpoint", "exported policy").
void verify_zip_archive(const std::string& path, const std::string& kind = "checkpoint");

}  // namespace rlforge
