#pragma once
// Datasheets for recorded episode datasets (Gebru et al., "Datasheets for Datasets", CACM 2021):
// DATASHEET.md in the dataset's directory, with Gebru et al.'s sections filled from the dataset
// itself (how it was made, what it holds, its statistics, its checksum) and a YAML front matter
// of the key figures. `rlforge dataset record` writes it; `rlforge dataset datasheet DIR` again.

#include <string>

namespace rlforge {

// Opens the dataset (checking both checksums) and returns the datasheet's Markdown; DataError
// naming the file when the dataset is damaged.
std::string dataset_datasheet(const std::string& dir_or_file);
// DATASHEET.md beside episodes.bin, written atomically; returns its path.
std::string write_dataset_datasheet(const std::string& dir_or_file);

}  // namespace rlforge
