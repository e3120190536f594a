#include "launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "child_process.h"
#include "cli_errors.h"

namespace rlforge::cli {

namespace {

// This process's own arguments without --nproc and its value.
std::vector<std::string> arguments_without_nproc() {
  const std::vector<std::string> args = own_arguments();
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && args[i] == "--nproc") {
      ++i;  // and its value
    } else if (i == 0 || args[i].rfind("--nproc=", 0) != 0) {
      kept.push_back(args[i]);
    }
  }
  return kept;
}

// A TCP port on the loopback interface that nothing listens on right now.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("--nproc: cannot open a socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("--nproc: cannot find a free port: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

volatile sig_atomic_t forwarded_signal = 0;
extern "C" void remember_signal(int sig) { forwarded_signal = sig; }

}  // namespace

int launch_local_ranks(int nproc) {
  if (nproc < 1) throw std::runtime_error("--nproc: expected at least 1 process, got " + std::to_string(nproc));
  const std::vector<std::string> args = arguments_without_nproc();
  const int port = free_port();
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  std::vector<pid_t> pids(static_cast<std::size_t>(nproc), -1);
  for (int rank = 0; rank < nproc; ++rank) {
    pid_t pid = -1;
    try {
      std::vector<std::pair<std::string, std::string>> env{{"MASTER_ADDR", "127.0.0.1"},
                                                           {"MASTER_PORT", std::to_string(port)},
                                                           {"RANK", std::to_string(rank)},
                                                           {"LOCAL_RANK", std::to_string(rank)},
                                                           {"WORLD_SIZE", std::to_string(nproc)},
                                                           {"LOCAL_WORLD_SIZE", std::to_string(nproc)}};
      // c10d logs its socket errors through glog as well; the ranks' own one-line errors say it.
      if (std::getenv("GLOG_minloglevel") == nullptr) env.emplace_back("GLOG_minloglevel", "3");
      pid = start_self(args, env);
    } catch (const std::exception& e) {
      for (const pid_t p : pids) {
        if (p > 0) ::kill(p, SIGKILL);
      }
      throw std::runtime_error(std::string("--nproc: ") + e.what());
    }
    pids[static_cast<std::size_t>(rank)] = pid;
  }

  int running = nproc, result = 0, forwarded = 0;
  bool failed = false;
  auto stop_others = [&](int sig) {
    for (const pid_t p : pids) {
      if (p > 0) ::kill(p, sig);
    }
  };
  std::chrono::steady_clock::time_point kill_at{};
  while (running > 0) {
    if (forwarded_signal != 0 && forwarded == 0) {
      forwarded = forwarded_signal;
      stop_others(forwarded);  // each rank finishes its update, writes its checkpoint and stops
    }
    // Reap every rank that has ended by now, not only the first: when one rank dies, the others
    // fail moments later ("another rank exited"), and waitpid returns children in the order they
    // were started, not the order they ended. Naming the first reaped one would name a symptom.
    std::vector<std::pair<int, int>> ended;  // (rank, wait status)
    bool no_children = false;
    for (;;) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid < 0 && errno != EINTR) no_children = true;
      if (pid <= 0) break;
      int rank = 0;
      while (rank < nproc && pids[static_cast<std::size_t>(rank)] != pid) ++rank;
      if (rank == nproc) continue;
      pids[static_cast<std::size_t>(rank)] = -1;
      --running;
      ended.emplace_back(rank, status);
    }
    if (ended.empty()) {
      if (no_children) break;
      if (failed && std::chrono::steady_clock::now() >= kill_at) {
        stop_others(SIGKILL);
        kill_at = std::chrono::steady_clock::time_point::max();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    // The cause first: a rank killed by a signal before one that exited with an error.
    std::stable_sort(ended.begin(), ended.end(), [](const auto& a, const auto& b) {
      return WIFSIGNALED(a.second) && !WIFSIGNALED(b.second);
    });
    for (const auto& [rank, status] : ended) {
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      const bool stopped = WIFEXITED(status) && WEXITSTATUS(status) == 130;
      if (stopped && result == 0) result = 130;
      if (!ok && !stopped && !failed) {
        failed = true;
        result = 1;
        print_error("rank " + std::to_string(rank) + " of " + std::to_string(nproc) + " " + describe_exit(status) +
                    "; stopped the other ranks");
        stop_others(SIGTERM);
        kill_at = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      }
    }
  }
  return result;
}

}  // namespace rlforge::cli
