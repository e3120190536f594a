#include "rlforge/data/datasheet.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "rlforge/data/atomic_file.h"
#include "rlforge/data/episode_dataset.h"
#include "rlforge/data/errors.h"

namespace fs = std::filesystem;

namespace rlforge {

namespace {

std::string number(double v, int digits = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

struct Spread {
  double mean = 0, std = 0, min = 0, max = 0;
};

Spread spread_of(const std::vector<double>& v) {
  Spread s;
  if (v.empty()) return s;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  for (const double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (const double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / static_cast<double>(v.size()));
  return s;
}

// CRC-32 of the whole data file, as `crc32` or Python's zlib.crc32 print it.
std::string file_crc32(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot read it");
  std::vector<char> buffer(1 << 20);
  uint32_t crc = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n > 0) crc = static_cast<uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(buffer.data()), n));
  }
  char hex[16];
  std::snprintf(hex, sizeof hex, "%08x", crc);
  return hex;
}

}  // namespace

std::string dataset_datasheet(const std::string& dir_or_file) {
  const EpisodeDataset ds = EpisodeDataset::open(dir_or_file);  // both checksums
  std::vector<double> returns, lengths;
  int64_t terminated = 0;
  for (int64_t i = 0; i < ds.num_episodes(); ++i) {
    const EpisodeDataset::Episode e = ds.episode(i);
    returns.push_back(e.episode_return);
    lengths.push_back(static_cast<double>(e.length));
    terminated += e.terminated;
  }
  const Spread r = spread_of(returns), l = spread_of(lengths);

  // Actions: a histogram for Discrete, each element's mean and spread for Box.
  const Space& actions = ds.action_space();
  const auto width = static_cast<int64_t>(actions.size());
  std::vector<float> row(static_cast<std::size_t>(width));
  std::vector<int64_t> counts(actions.is_discrete() ? static_cast<std::size_t>(actions.n()) : 0, 0);
  std::vector<double> sum(static_cast<std::size_t>(width), 0.0), square(static_cast<std::size_t>(width), 0.0);
  for (int64_t step = 0; step < ds.num_steps(); ++step) {
    ds.gather_actions(&step, 1, row.data());
    if (actions.is_discrete()) {
      const auto a = static_cast<std::size_t>(row[0]);
      if (a < counts.size()) ++counts[a];
    } else {
      for (std::size_t k = 0; k < row.size(); ++k) {
        sum[k] += row[k];
        square[k] += static_cast<double>(row[k]) * row[k];
      }
    }
  }
  const double steps = static_cast<double>(std::max<int64_t>(ds.num_steps(), 1));
  const std::string crc = file_crc32(ds.path());

  std::ostringstream md;
  md << "---\n"
     << "env_id: " << ds.env_id() << "\n"
     << "episodes: " << ds.num_episodes() << "\n"
     << "steps: " << ds.num_steps() << "\n"
     << "mean_return: " << r.mean << "\n"
     << "std_return: " << r.std << "\n"
     << "episodes_bin_crc32: \"" << crc << "\"\n"
     << "format_version: " << ds.format_version() << "\n"
     << "---\n\n";
  md << "# Datasheet: episodes of " << ds.env_id() << "\n\n"
     << "Written by rlforge from the dataset itself (sections after Gebru et al., \"Datasheets for Datasets\").\n\n";
  md << "## Motivation\n\n"
     << "Recorded with `rlforge dataset record` as demonstrations for behaviour cloning or as frames for self-supervised "
        "pretraining (docs: data/README.md). Who recorded it and why is not stored in the file; add it here.\n\n";
  md << "## Composition\n\n"
     << "- " << ds.num_episodes() << " episodes, " << ds.num_steps() << " steps (" << terminated << " episodes ended by "
     << "the env, " << ds.num_episodes() - terminated << " cut by the episode limit or the recording's end)\n"
     << "- Observations: " << ds.observation_space().describe() << "; actions: " << actions.describe() << "\n"
     << "- Each step holds the observation, the action, the reward and the next observation\n"
     << "- Episode return: mean " << number(r.mean) << ", std " << number(r.std) << ", min " << number(r.min) << ", max "
     << number(r.max) << "\n"
     << "- Episode length: mean " << number(l.mean) << ", std " << number(l.std) << ", min " << number(l.min) << ", max "
     << number(l.max) << "\n";
  if (actions.is_discrete()) {
    md << "- Actions taken:";
    for (std::size_t a = 0; a < counts.size(); ++a) {
      md << (a ? "," : "") << " " << a << ": " << counts[a] << " (" << number(100.0 * static_cast<double>(counts[a]) / steps, 3)
         << "%)";
    }
    md << "\n";
  } else {
    md << "- Action elements (mean ± std):";
    for (std::size_t k = 0; k < sum.size(); ++k) {
      const double mean = sum[k] / steps;
      md << (k ? "," : "") << " [" << k << "] " << number(mean, 3) << " ± "
         << number(std::sqrt(std::max(0.0, square[k] / steps - mean * mean)), 3);
    }
    md << "\n";
  }
  md << "\n## Collection process\n\n"
     << "- Environment: `" << ds.env_id() << "` (rlforge's simulator; Gymnasium's dynamics and seeding)\n"
     << "- Policy: " << ds.policy_description() << "\n"
     << "- Created: " << ds.created() << "\n"
     << "- Episode seeds: as `rlforge dataset record` printed them (the seed given, then consecutive ones)\n\n";
  md << "## Preprocessing\n\nNone: observations and actions are stored as the env gave and took them.\n\n";
  md << "## Uses\n\n"
     << "- Behaviour cloning (`agent.algo: supervised`, `data.dataset`), self-supervised pretraining, offline analysis\n"
     << "- A cloned policy is at best as good as the recorded one: the returns above bound what cloning reaches\n\n";
  md << "## Distribution and maintenance\n\n"
     << "- Files: `episodes.bin` (format " << ds.format_version() << ", data/README.md), `info.yaml`, this datasheet\n"
     << "- `episodes.bin` CRC-32: `" << crc << "`; the file also carries header and payload checksums that every "
        "reader checks (`rlforge dataset info`)\n";
  return md.str();
}

std::string write_dataset_datasheet(const std::string& dir_or_file) {
  const fs::path p(dir_or_file);
  const fs::path dir = fs::is_directory(p) ? p : p.parent_path();
  const std::string path = (dir / "DATASHEET.md").string();
  write_data_file_atomically(path, dataset_datasheet(dir_or_file));
  return path;
}

}  // namespace rlforge
