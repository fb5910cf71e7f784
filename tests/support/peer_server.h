// A plain (uninstrumented) cpp-httplib server on 127.0.0.1 for client tests:
// fixed routes, and the headers, method and count of requests it received.
//
//   /ok 200 "ok" | /missing 404 | /boom 500 | /slow 200 after 800 ms |
//   /redirect -> /ok | /any (GET POST PUT PATCH DELETE OPTIONS) answers the
//   method | POST /echo answers the body | /chunked answers "abc" "defg" in
//   two chunks (no Content-Length) | /text 4000 x 'a' as text/plain (gzip-
//   encoded when the client accepts it; kTextBody)
//
// Ownership: owns its server and listening thread; the destructor stops
// both. Thread-safety: the accessors may be called from any thread.
#pragma once

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

namespace otelweb::testing {

class PeerServer {
 public:
  static constexpr size_t kTextBody = 4000;
  PeerServer() {
    auto record = [this](const ::httplib::Request& req) {
      std::lock_guard<std::mutex> l(mu_);
      last_ = req.headers;
      method_ = req.method;
      ++count_;
    };
    svr_.Get("/ok", [record](const ::httplib::Request& req, ::httplib::Response& res) {
      record(req);
      res.set_content("ok", "text/plain");
    });
    svr_.Get("/missing", [record](const ::httplib::Request& req, ::httplib::Response& res) {
      record(req);
      res.status = 404;
    });
    svr_.Get("/boom", [record](const ::httplib::Request& req, ::httplib::Response& res) {
      record(req);
      res.status = 500;
    });
    svr_.Get("/slow", [record](const ::httplib::Request& req, ::httplib::Response& res) {
      record(req);
      std::this_thread::sleep_for(std::chrono::milliseconds(800));
      res.set_content("late", "text/plain");
    });
    svr_.Get("/redirect", [record](const ::httplib::Request& req, ::httplib::Response& res) {
      record(req);
      res.set_redirect("/ok");
    });
    svr_.Post("/echo", [record](const ::httplib::Request& req, ::httplib::Response& res) {
      record(req);
      res.set_content(req.body, "application/octet-stream");
    });
    svr_.Get("/chunked", [record](const ::httplib::Request& req, ::httplib::Response& res) {
      record(req);
      res.set_chunked_content_provider("text/plain", [](size_t offset, ::httplib::DataSink& sink) {
        if (offset == 0) sink.write("abc", 3);
        if (offset == 3) sink.write("defg", 4);
        if (offset >= 7) sink.done();
        return true;
      });
    });
    svr_.Get("/text", [record](const ::httplib::Request& req, ::httplib::Response& res) {
      record(req);
      res.set_content(std::string(kTextBody, 'a'), "text/plain");
    });
    auto any = [record](const ::httplib::Request& req, ::httplib::Response& res) {
      record(req);
      res.set_content(req.method, "text/plain");
    };
    svr_.Get("/any", any);
    svr_.Post("/any", any);
    svr_.Put("/any", any);
    svr_.Patch("/any", any);
    svr_.Delete("/any", any);
    svr_.Options("/any", any);
    svr_.set_keep_alive_timeout(1);
    port_ = svr_.bind_to_any_port("127.0.0.1");
    t_ = std::thread([this] { svr_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !svr_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ~PeerServer() {
    svr_.stop();
    t_.join();
  }
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  ::httplib::Headers last() {
    std::lock_guard<std::mutex> l(mu_);
    return last_;
  }
  // The last request's value of header `name`, or "<absent>".
  std::string Header(const std::string& name) {
    auto h = last();
    auto it = h.find(name);
    return it == h.end() ? "<absent>" : it->second;
  }
  size_t HeaderCount(const std::string& name) { return last().count(name); }
  std::string method() {
    std::lock_guard<std::mutex> l(mu_);
    return method_;
  }
  int count() {
    std::lock_guard<std::mutex> l(mu_);
    return count_;
  }

 private:
  ::httplib::Server svr_;
  int port_ = 0;
  std::thread t_;
  std::mutex mu_;
  ::httplib::Headers last_;
  std::string method_;
  int count_ = 0;
};

// A loopback port with nothing listening (bound, then closed): connections
// to it are refused.
inline int ClosedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

}  // namespace otelweb::testing
