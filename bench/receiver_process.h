// An OTLP receiver (otlp::testing::Receiver) in a forked child process, so
// that a benchmark counts only its own process's CPU. Used by
// bench/http_overhead.cc and bench/otlp_throughput.cc.
//
// Call it before this process starts threads or installs telemetry (fork()
// copies only the calling thread). The child runs until this process exits:
// it holds the read end of a pipe whose write end only this process has, and
// leaves when a read returns end-of-file.
#pragma once

#include <sched.h>
#include <unistd.h>

#include <string>

#include "receiver.h"

namespace otelweb::bench {

// Runs a receiver for `protocol`, writes its endpoint and a newline to
// `out_fd`, and serves until a read of `in_fd` returns end-of-file or an
// error. Returns false when the endpoint could not be written.
inline bool ServeReceiver(const std::string& protocol, int out_fd, int in_fd) {
  otlp::testing::ReceiverOptions ro;
  ro.keep_requests = false;
  otlp::testing::Receiver rx(ro);
  std::string ep = protocol == "grpc" ? rx.grpc_endpoint() : rx.http_url();
  ep += '\n';
  if (write(out_fd, ep.data(), ep.size()) < 0) return false;
  char c;
  while (read(in_fd, &c, 1) > 0) {
  }
  return true;
}

// Forks a child that runs ServeReceiver until this process exits. Returns
// the endpoint for `protocol` ("grpc": host:port; otherwise the http:// base
// URL), or "" when pipe() or fork() failed. `cpu` >= 0 pins the child to that
// CPU.
inline std::string StartReceiverProcess(const std::string& protocol, int cpu = -1) {
  int to_parent[2], from_parent[2];
  if (pipe(to_parent) != 0) return {};
  if (pipe(from_parent) != 0) {
    close(to_parent[0]);
    close(to_parent[1]);
    return {};
  }
  pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {to_parent[0], to_parent[1], from_parent[0], from_parent[1]}) close(fd);
    return {};
  }
  if (pid == 0) {
    close(to_parent[0]);
    close(from_parent[1]);
    if (cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      sched_setaffinity(0, sizeof(set), &set);
    }
    ServeReceiver(protocol, to_parent[1], from_parent[0]);
    _exit(0);  // the parent is gone
  }
  close(to_parent[1]);
  close(from_parent[0]);  // from_parent[1] stays open for this process's life
  std::string ep;
  char c;
  while (read(to_parent[0], &c, 1) == 1 && c != '\n') ep += c;
  close(to_parent[0]);
  return ep;
}

}  // namespace otelweb::bench
