// A plain cpp-httplib server on 127.0.0.1 answering GET /hello, with
// keep-alive and TCP_NODELAY: the far end of the client loopback benchmarks.
// Ownership: owns the server and its thread; the destructor stops both.
// Thread-safety: construct and destroy on one thread; port() from any.
#pragma once

#include <httplib.h>

#include <chrono>
#include <thread>

namespace otelweb::bench {

class LoopbackHelloServer {
 public:
  LoopbackHelloServer() {
    svr_.Get("/hello", [](const ::httplib::Request&, ::httplib::Response& res) {
      res.set_content("hello", "text/plain");
    });
    svr_.set_keep_alive_max_count(1000000);
    svr_.set_tcp_nodelay(true);
    port_ = svr_.bind_to_any_port("127.0.0.1");
    t_ = std::thread([this] { svr_.listen_after_bind(); });
    for (int i = 0; i < 500 && !svr_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ~LoopbackHelloServer() {
    svr_.stop();
    t_.join();
  }
  LoopbackHelloServer(const LoopbackHelloServer&) = delete;
  LoopbackHelloServer& operator=(const LoopbackHelloServer&) = delete;

  int port() const { return port_; }

 private:
  ::httplib::Server svr_;
  int port_ = 0;
  std::thread t_;
};

}  // namespace otelweb::bench
