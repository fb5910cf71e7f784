// Runs a cpp-httplib server (plain or traced) on 127.0.0.1 with an ephemeral
// port in a thread of its own, for tests.
//
//   otelweb::httplib::TracedServer app(options);
//   app.Get("/x", handler);
//   otelweb::testing::RunningServer run(app);
//   auto cli = run.Client();   // connect 2 s, read 5 s
//
// Ownership: borrows the server (it must outlive this object); owns the
// listening thread, which the destructor stops and joins.
// Thread-safety: port() and Client() may be called from any thread.
#pragma once

#include <httplib.h>

#include <chrono>
#include <thread>

namespace otelweb::testing {

class RunningServer {
 public:
  explicit RunningServer(::httplib::Server& s) : s_(s) {
    s_.set_keep_alive_timeout(1);
    port_ = s_.bind_to_any_port("127.0.0.1");
    t_ = std::thread([this] { s_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !s_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ~RunningServer() {
    s_.stop();
    t_.join();
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  int port() const { return port_; }
  ::httplib::Client Client() const {
    ::httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(2);
    c.set_read_timeout(5);
    return c;
  }

 private:
  ::httplib::Server& s_;
  int port_ = 0;
  std::thread t_;
};

}  // namespace otelweb::testing
