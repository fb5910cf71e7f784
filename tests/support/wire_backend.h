// A plain HTTP/1.1 backend on a raw socket (127.0.0.1, ephemeral port) that
// records each request's header block byte for byte, as it was on the wire,
// and answers 200 "ok" with Connection: close. No HTTP library sits between
// the socket and the record, so nothing is decoded, folded or re-cased.
//
// Ownership: owns its listening socket and accept thread; the destructor stops
// both (bounded: the accept loop polls every 50 ms). Thread-safety: the
// accessors may be called from any thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace otelweb::testing {

class WireBackend {
 public:
  static constexpr std::string_view kDefaultAnswer =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  // `answer`: the bytes sent back to every request (default: 200 "ok").
  explicit WireBackend(std::string answer = std::string(kDefaultAnswer)) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    t_ = std::thread([this] { Run(); });
  }
  ~WireBackend() {
    stop_ = true;
    t_.join();
    ::close(fd_);
  }
  WireBackend(const WireBackend&) = delete;
  WireBackend& operator=(const WireBackend&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // Header blocks received so far (request line and headers, CRLF-separated).
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  // Every value of header `name` (ASCII case-insensitive) in request `i`, as
  // sent: the bytes after "name:" with surrounding spaces and tabs removed.
  std::vector<std::string> Values(size_t i, std::string_view name) {
    std::vector<std::string> out;
    auto reqs = requests();
    if (i >= reqs.size()) return out;
    std::string_view rest = reqs[i];
    while (!rest.empty()) {
      size_t eol = rest.find("\r\n");
      std::string_view line = rest.substr(0, eol);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos && EqualsIgnoreCase(line.substr(0, colon), name)) {
        std::string_view v = line.substr(colon + 1);
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
        out.emplace_back(v);
      }
      if (eol == std::string_view::npos) break;
      rest.remove_prefix(eol + 2);
    }
    return out;
  }

 private:
  static bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      char x = a[i], y = b[i];
      if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
      if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
      if (x != y) return false;
    }
    return true;
  }
  void Run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string head;
      char buf[4096];
      // At most 5 s and 1 MiB per request: bounded whatever the client does.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (head.find("\r\n\r\n") == std::string::npos && head.size() < (1 << 20) &&
             std::chrono::steady_clock::now() < deadline) {
        pollfd q{c, POLLIN, 0};
        if (::poll(&q, 1, 50) <= 0) continue;
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      size_t end = head.find("\r\n\r\n");
      {
        std::lock_guard<std::mutex> l(mu_);
        requests_.push_back(head.substr(0, end));
      }
      (void)::send(c, answer_.data(), answer_.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  std::string answer_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread t_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

}  // namespace otelweb::testing
