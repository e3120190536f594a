// rlforge: train, evaluate and inspect learning agents from the command line.
#include <CLI/CLI.hpp>

#include <csignal>
#include <string>
#include <vector>

#include "blas_environment.h"
#include "cli_errors.h"
#include "dataset_commands.h"
#include "env_commands.h"
#include "privacy_commands.h"
#include "render_commands.h"
#if RLFORGE_WITH_TORCH
#include "config_commands.h"
#include "dataset_cluster_command.h"
#include "report_commands.h"
#include "train_commands.h"
#include "explain_commands.h"
#include "export_commands.h"
#include "stress_commands.h"
#include "tune_commands.h"
#endif
#include "rlforge/envs/options.h"
#include "rlforge/envs/version.h"

int main(int argc, char** argv) {
  rlforge::cli::ensure_blas_core_type(argv);
  rlforge::cli::keep_freed_memory_mapped();
  // Past a file-size limit (ulimit -f) a write fails with EFBIG, which the writers report and
  // recover from, instead of SIGXFSZ ending the process mid-file.
  std::signal(SIGXFSZ, SIG_IGN);

  CLI::App app{"rlforge: fast simulators, vectorized rollouts and learning agents in one toolkit"};
  // The Box2D version matters to anyone comparing episodes with Gymnasium's (RLFORGE_BOX2D).
  app.set_version_flag("--version", std::string("rlforge ") + RLFORGE_VERSION_STRING + " (Box2D " RLFORGE_BOX2D_VERSION
                                        ", " RLFORGE_ABI_STDLIB ")");
  app.require_subcommand(1);
  int exit_code = 0;
#if RLFORGE_WITH_TORCH
  rlforge::cli::add_train_commands(app, exit_code);
  rlforge::cli::add_config_commands(app, exit_code);
  rlforge::cli::add_report_commands(app, exit_code);
  rlforge::cli::add_tune_commands(app, exit_code);
  rlforge::cli::add_stress_commands(app, exit_code);
  rlforge::cli::add_explain_commands(app, exit_code);
  rlforge::cli::add_export_commands(app, exit_code);
#endif
  rlforge::cli::add_env_commands(app, exit_code);
  rlforge::cli::add_privacy_commands(app, exit_code);
#if RLFORGE_WITH_TORCH
  rlforge::cli::add_render_commands(app, exit_code, rlforge::cli::trained_policy_loader());
  rlforge::cli::add_dataset_commands(app, exit_code, rlforge::cli::trained_policy_loader());
  rlforge::cli::add_dataset_cluster_command(app, exit_code);
#else
  rlforge::cli::add_render_commands(app, exit_code, nullptr);
  rlforge::cli::add_dataset_commands(app, exit_code, nullptr);
#endif

  // CLI11 would report an unknown first word as a missing subcommand; name it instead.
  const auto subcommands = app.get_subcommands({});
  auto is_command = [&](const std::string& word) {
    for (const CLI::App* sub : subcommands) {
      if (sub->get_name() == word) return true;
    }
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !is_command(argv[1])) {
    std::vector<std::string> known;
    for (const CLI::App* sub : subcommands) known.push_back(sub->get_name());
    rlforge::cli::print_error(std::string("unknown command '") + argv[1] +
                              "'; commands: " + rlforge::join_names(known));
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, as for every other error.
    rlforge::cli::print_error(std::string(e.what()) + " (see --help)");
    return 2;
  }
  return exit_code;
}
