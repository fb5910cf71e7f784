// Helpers of otelweb-view's tests: a Store + ViewServer on ephemeral ports,
// API calls over real sockets, OTLP requests built with the generated protos,
// and the real otelweb-view binary run as a child process.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "view/otlp_json.h"
#include "view/server.h"
#include "view/store.h"

namespace otelweb::view::testing {

using Json = nlohmann::json;
using namespace std::chrono_literals;

struct Running {
  std::unique_ptr<Store> store;
  std::unique_ptr<ViewServer> server;

  explicit Running(StoreOptions so = {}, ServerOptions o = {}) {
    o.ui_port = o.grpc_port = o.http_port = 0;
    std::string error;
    store = Store::Open(so, &error);
    EXPECT_TRUE(store) << error;
    server = ViewServer::Start(store.get(), o, &error);
    EXPECT_TRUE(server) << error;
  }
  ~Running() {
    if (server) server->Stop();
  }
  std::string http_url() const { return "http://127.0.0.1:" + std::to_string(server->http_port()) + "/v1/traces"; }
  std::string grpc_endpoint() const { return "http://127.0.0.1:" + std::to_string(server->grpc_port()); }
};

struct ApiAnswer {
  int status = 0;
  Json json;
  std::string body;
};

inline ApiAnswer Get(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(10, 0);
  auto r = c.Get(path.c_str());
  ApiAnswer a;
  if (!r) return a;
  a.status = r->status;
  a.body = r->body;
  a.json = Json::parse(r->body, nullptr, false);
  return a;
}

// One span of a hand-made request.
struct SpanSpec {
  std::string trace_hex, span_hex, parent_hex, name, service = "svc";
  int kind = 2;
  uint64_t start = 1700000000000000000ull, duration = 1000000;
  bool error = false;
  std::vector<std::pair<std::string, std::string>> attrs;  // string attributes
};

inline ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest MakeRequest(
    const std::vector<SpanSpec>& specs) {
  ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
  for (const auto& s : specs) {
    auto* rs = req.add_resource_spans();
    auto* kv = rs->mutable_resource()->add_attributes();
    kv->set_key("service.name");
    kv->mutable_value()->set_string_value(s.service);
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name("view-test");
    auto* sp = ss->add_spans();
    std::string bin;
    FromHex(s.trace_hex, 16, &bin);
    sp->set_trace_id(bin);
    FromHex(s.span_hex, 8, &bin);
    sp->set_span_id(bin);
    if (!s.parent_hex.empty()) {
      FromHex(s.parent_hex, 8, &bin);
      sp->set_parent_span_id(bin);
    }
    sp->set_name(s.name);
    sp->set_kind(::opentelemetry::proto::trace::v1::Span::SpanKind(s.kind));
    sp->set_start_time_unix_nano(s.start);
    sp->set_end_time_unix_nano(s.start + s.duration);
    if (s.error) sp->mutable_status()->set_code(::opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
    for (const auto& [k, v] : s.attrs) {
      auto* a = sp->add_attributes();
      a->set_key(k);
      a->mutable_value()->set_string_value(v);
    }
  }
  return req;
}

// "0000...0n" ids.
inline std::string TraceHex(uint64_t n) {
  char b[33];
  std::snprintf(b, sizeof b, "%016llx%016llx", 0xabcdull, (unsigned long long)n);
  return b;
}
inline std::string SpanHex(uint64_t n) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", (unsigned long long)n + 1);
  return b;
}

// The real otelweb-view binary as a child process.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    int out[2], err[2];
    EXPECT_EQ(pipe(out), 0);
    EXPECT_EQ(pipe(err), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      dup2(err[1], 2);
      close(out[0]);
      close(err[0]);
      std::vector<char*> argv;
      static std::string bin = OTELWEB_VIEW_BIN;
      argv.push_back(bin.data());
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    out_ = fdopen(out[0], "r");
    err_fd_ = err[0];
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_) fclose(out_);
    if (err_fd_ >= 0) close(err_fd_);
  }
  // The first stdout line (blocks until it is written or the child exits).
  std::string FirstLine() {
    char buf[512];
    if (!fgets(buf, sizeof buf, out_)) return "";
    std::string s = buf;
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  // Signals the child and waits (bounded); returns the exit status or -1.
  int Stop(int sig = SIGTERM) {
    kill(pid_, sig);
    return Wait(20s);
  }
  int Wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int st = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }
  std::string Stderr() {
    std::string s;
    char buf[4096];
    ssize_t n;
    while ((n = read(err_fd_, buf, sizeof buf)) > 0) s.append(buf, size_t(n));
    return s;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  int err_fd_ = -1;
  bool exited_ = false;
};

struct Ports {
  int ui = 0, grpc = 0, http = 0;
};
inline bool ParseAddressLine(const std::string& line, Ports* p) {
  std::smatch m;
  static const std::regex re(R"(^ui=http://127\.0\.0\.1:(\d+) grpc=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+)$)");
  if (!std::regex_match(line, m, re)) return false;
  p->ui = std::stoi(m[1]);
  p->grpc = std::stoi(m[2]);
  p->http = std::stoi(m[3]);
  return true;
}

}  // namespace otelweb::view::testing
