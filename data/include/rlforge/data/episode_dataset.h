#pragma once
// Recorded episodes on disk: written step by step by EpisodeDatasetWriter, read back through a
// memory map by EpisodeDataset without loading the file.
//
// A dataset is a directory DIR holding `episodes.bin` (the data; format below and in
// data/README.md) and `info.yaml` (a summary for people; nothing reads it back). Both are
// published together: the writer fills a hidden temporary sibling directory and renames it to
// DIR in finish(), so DIR either holds a complete dataset or does not exist.
//
// episodes.bin, version 1, little-endian, every section starting at a multiple of 64 bytes:
//   header     magic "RLFDATA\n", format version (u32), header size, step and episode counts,
//              file size, CRC-32 of the header and of everything after it, section offsets, then
//              env id, observation and action Space, policy description and creation time
//   obs        per episode its length + 1 observations back to back: the one before each step,
//              then the final one, each observation_space().byte_size() bytes in its own dtype
//              (uint8 frames stay uint8); step t of episode e is row t + e, its next row t + e + 1
//   actions    per step, as the env took it: one int64 (Discrete) or size() float32 (Box)
//   rewards    per step, float64
//   episodes   per episode: first step (i64), length (i64), return (f64), terminated (u8), pad

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rlforge/data/errors.h"
#include "rlforge/envs/env.h"
#include "rlforge/envs/space.h"

namespace rlforge {

// The name of the data file inside a dataset directory.
inline constexpr const char* kEpisodeDataFile = "episodes.bin";
inline constexpr uint32_t kEpisodeDatasetVersion = 1;

class EpisodeDatasetWriter {
 public:
  // Refuses (DataError) a `dir` that exists and is not an empty directory, so an existing dataset
  // is never overwritten; missing parent directories are created (and removed again when the
  // writer is abandoned).
  EpisodeDatasetWriter(const std::string& dir, const std::string& env_id,
                       const Space& observation_space, const Space& action_space,
                       std::string policy_description);
  ~EpisodeDatasetWriter();  // without finish(): removes the temporary directory, leaves nothing
  EpisodeDatasetWriter(const EpisodeDatasetWriter&) = delete;
  EpisodeDatasetWriter& operator=(const EpisodeDatasetWriter&) = delete;

  // One step: the observation before the action (observation_space().byte_size() bytes), the
  // action as the env took it (its dtype and element count must match the action space) and the
  // reward the step returned.
  void add_step(const void* observation, ActionRef action, double reward);
  // Closes the episode with the observation after its last step; terminated=false: truncated.
  void end_episode(const void* final_observation, bool terminated);
  // Writes the header and info.yaml, syncs and publishes DIR. Throws DataError on I/O errors, with
  // an episode still open, or with no episode at all.
  void finish();

  int64_t num_steps() const;
  int64_t num_episodes() const;
  // The absolute path the dataset is published at.
  std::string directory() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Read-only: its const methods may be called from several threads at once.
class EpisodeDataset {
 public:
  struct Episode {
    int64_t first_step, length;
    bool terminated;
    double episode_return;
  };

  // `dir_or_file`: a dataset directory or its episodes.bin. Checks magic, version, sizes, the
  // episode table and both checksums, and refuses with a DataError that names the file and says
  // which check failed (not a dataset, unsupported version, truncated, corrupt). Checking the
  // payload checksum reads the file once (through the page cache, nothing is kept);
  // verify_payload=false checks only the header's, for very large files opened often.
  static EpisodeDataset open(const std::string& dir_or_file, bool verify_payload = true);

  // Copies share the read-only mapping.
  EpisodeDataset(const EpisodeDataset&) = default;
  EpisodeDataset(EpisodeDataset&&) noexcept = default;
  EpisodeDataset& operator=(const EpisodeDataset&) = default;
  EpisodeDataset& operator=(EpisodeDataset&&) noexcept = default;
  ~EpisodeDataset();

  const std::string& path() const;  // the episodes.bin file
  uint32_t format_version() const;
  const std::string& env_id() const;
  const Space& observation_space() const;
  const Space& action_space() const;
  const std::string& policy_description() const;
  const std::string& created() const;  // UTC, ISO 8601
  int64_t num_steps() const;
  int64_t num_episodes() const;

  Episode episode(int64_t i) const;
  int64_t episode_of_step(int64_t step) const;

  // Rows for a batch of global step indices, copied into caller memory. Indices are checked
  // (DataError naming the index and the count). Observations keep their dtype,
  // observation_space().byte_size() bytes per row.
  void gather_observations(const int64_t* steps, int64_t n, void* out) const;
  // The observation after each step (the episode's final observation at its last step).
  void gather_next_observations(const int64_t* steps, int64_t n, void* out) const;
  // Actions as float32, action_space().size() values per row (Discrete: the index, one value).
  void gather_actions(const int64_t* steps, int64_t n, float* out) const;
  void gather_rewards(const int64_t* steps, int64_t n, float* out) const;

  // Without copying: the observation before `step` and after it, in the mapping.
  const void* observation(int64_t step) const;
  const void* next_observation(int64_t step) const;

 private:
  struct Impl;
  explicit EpisodeDataset(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// Mean and population standard deviation of the episode returns.
struct ReturnStatistics {
  double mean = 0, std = 0, min = 0, max = 0;
};
ReturnStatistics return_statistics(const EpisodeDataset& dataset);

}  // namespace rlforge
