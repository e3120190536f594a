#include "launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cli_errors.h"

namespace rlforge::cli {

namespace {

// This process's own arguments, from /proc/self/cmdline, without --nproc and its value.
std::vector<std::string> own_arguments() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (std::size_t start = 0; start < all.size();) {
    const std::size_t end = all.find('\0', start);
    args.push_back(all.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && args[i] == "--nproc") {
      ++i;  // and its value
    } else if (i == 0 || args[i].rfind("--nproc=", 0) != 0) {
      kept.push_back(args[i]);
    }
  }
  if (kept.empty()) throw std::runtime_error("--nproc: cannot read this program's command line");
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

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    // "was killed by signal 9 (SIGKILL: Killed)": the number and name for a search, the text for a reader.
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return "was killed by signal " + std::to_string(sig) + " (" + (abbrev ? std::string("SIG") + abbrev + ": " : "") +
           strsignal(sig) + ")";
  }
  return "ended";
}

}  // namespace

int launch_local_ranks(int nproc) {
  if (nproc < 1) throw std::runtime_error("--nproc: expected at least 1 process, got " + std::to_string(nproc));
  const std::vector<std::string> args = own_arguments();
  const int port = free_port();
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  std::vector<pid_t> pids(static_cast<std::size_t>(nproc), -1);
  for (int rank = 0; rank < nproc; ++rank) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      for (const pid_t p : pids) {
        if (p > 0) ::kill(p, SIGKILL);
      }
      throw std::runtime_error(std::string("--nproc: cannot start a process: ") + std::strerror(errno));
    }
    if (pid == 0) {
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      setenv("MASTER_ADDR", "127.0.0.1", 1);
      setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      setenv("RANK", std::to_string(rank).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      // c10d logs its socket errors through glog as well; the ranks' own one-line errors say it.
      setenv("GLOG_minloglevel", "3", 0);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv("/proc/self/exe", argv.data());
      std::fprintf(stderr, "rlforge: error: rank %d: cannot start %s: %s\n", rank, args[0].c_str(), std::strerror(errno));
      ::_exit(127);
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
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR)) {
      if (failed && std::chrono::steady_clock::now() >= kill_at) {
        stop_others(SIGKILL);
        kill_at = std::chrono::steady_clock::time_point::max();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (pid < 0) break;
    int rank = 0;
    while (rank < nproc && pids[static_cast<std::size_t>(rank)] != pid) ++rank;
    if (rank == nproc) continue;
    pids[static_cast<std::size_t>(rank)] = -1;
    --running;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    const bool stopped = WIFEXITED(status) && WEXITSTATUS(status) == 130;
    if (stopped && result == 0) result = 130;
    if (!ok && !stopped && !failed) {
      failed = true;
      result = 1;
      print_error("rank " + std::to_string(rank) + " of " + std::to_string(nproc) + " " + describe(status) +
                  "; stopped the other ranks");
      stop_others(SIGTERM);
      kill_at = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    }
  }
  return result;
}

}  // namespace rlforge::cli
