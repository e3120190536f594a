#pragma once
// Running this program's own command line again in child processes: the ranks of
// `rlforge train --nproc`, the seeds of `rlforge train --seeds`.

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace rlforge::cli {

// This process's arguments (argv[0] first), as /proc/self/cmdline holds them.
std::vector<std::string> own_arguments();

// Starts `program` with `args` (argv[0] first) and the variables `env` added to this process's
// environment; with `output` set, the child's stdout and stderr go to that file (appended to).
// The child takes SIGINT and SIGTERM's default actions. Throws when it cannot fork.
pid_t start_process(const std::string& program, const std::vector<std::string>& args,
                    const std::vector<std::pair<std::string, std::string>>& env, const std::string& output = {});
// The same for this program (/proc/self/exe).
pid_t start_self(const std::vector<std::string>& args, const std::vector<std::pair<std::string, std::string>>& env,
                 const std::string& output = {});

// "exited with status 3", "was killed by signal 9 (SIGKILL: Killed)": for a waitpid status.
std::string describe_exit(int status);

}  // namespace rlforge::cli
