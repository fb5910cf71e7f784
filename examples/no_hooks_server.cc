// A server with no framework hooks at all, traced with the framework-neutral
// layer (otelweb/http.h): the pattern for Boost.Beast, libmicrohttpd, Poco or
// a hand-written loop. This one is a minimal blocking HTTP/1.1 server on POSIX
// sockets (one request per connection) so that it needs nothing but libc.
//
//   ./example_no_hooks_server [port] [max_requests]     (defaults: 8080, unlimited;
//                                                        port 0: any free port)
//   curl localhost:8080/hello/world
//
// The three calls that matter are marked STEP 1..3.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <otelweb/http/server.h>

#include <otelweb/http/client.h>
#include <otelweb/graceful_stop.h>
#include <otelweb/otelweb.h>

namespace {

// The request as our little parser sees it, and a HeaderReader over it (the
// carrier for traceparent and the source for header capture).
struct Request {
  std::string method, target, version;
  std::vector<std::pair<std::string, std::string>> headers;
};

class RequestHeaders final : public otelweb::http::HeaderReader {
 public:
  explicit RequestHeaders(const Request& r) : r_(r) {}
  void ForEach(Visitor visit, void* ctx) const noexcept override {
    for (const auto& [k, v] : r_.headers) {
      if (!visit(ctx, k, v)) return;
    }
  }

 private:
  const Request& r_;
};

bool ReadRequest(int fd, Request* req) {
  std::string buf;
  char chunk[2048];
  while (buf.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0 || buf.size() > 65536) return false;
    buf.append(chunk, static_cast<size_t>(n));
  }
  std::string_view head(buf.data(), buf.find("\r\n\r\n"));
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t a = line.find(' ');
  size_t b = line.rfind(' ');
  if (a == std::string_view::npos || b == a) return false;
  req->method = line.substr(0, a);
  req->target = line.substr(a + 1, b - a - 1);
  req->version = line.substr(b + 1);
  while (eol != std::string_view::npos) {
    size_t start = eol + 2;
    eol = head.find("\r\n", start);
    std::string_view h = head.substr(start, eol == std::string_view::npos ? eol : eol - start);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    req->headers.emplace_back(std::string(h.substr(0, colon)), std::string(value));
  }
  return true;
}

void Reply(int fd, int status, std::string_view reason, std::string_view body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                    "\r\nContent-Type: text/plain\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  out.append(body);
  send(fd, out.data(), out.size(), MSG_NOSIGNAL);
}

}  // namespace

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 8080;
  long max_requests = argc > 2 ? std::atol(argv[2]) : -1;
  auto tracing = otelweb::InstallTracing({.service_name = "no-hooks-example"});

  // Build once: compiles the excluded-URL and header-capture settings.
  otelweb::http::ServerInstrumenter instrumenter({}, "NOHOOKS");

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(lfd, 16) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  socklen_t addr_len = sizeof(addr);
  if (getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &addr_len) == 0) {
    port = ntohs(addr.sin_port);  // the one the system chose for port 0
  }
  std::printf("listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);

  // SIGTERM / Ctrl-C: shutting the listening socket down makes accept()
  // return, the loop ends and `tracing` flushes on the way out
  // (otelweb/graceful_stop.h).
  std::atomic<bool> stopping{false};
  otelweb::StopGracefullyOnSignals([&stopping, lfd] {
    stopping.store(true);
    shutdown(lfd, SHUT_RDWR);
  });
  for (long served = 0; !stopping.load() && (max_requests < 0 || served < max_requests); ++served) {
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    int fd = accept(lfd, reinterpret_cast<sockaddr*>(&peer), &len);
    if (fd < 0) continue;
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    otelweb::Timestamp arrival = otelweb::Now();
    Request req;
    if (!ReadRequest(fd, &req)) {
      close(fd);
      continue;
    }
    char peer_ip[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &peer.sin_addr, peer_ip, sizeof(peer_ip));
    RequestHeaders headers(req);
    otelweb::http::ServerRequestView view;
    view.method = req.method;
    view.target = req.target;
    view.protocol_version = req.version;
    view.peer_address = peer_ip;
    view.peer_port = ntohs(peer.sin_port);
    view.local_port = port;
    view.headers = &headers;

    // STEP 1: start the span (extracts traceparent, makes the span current).
    otelweb::http::ServerSpan span;
    span.Start(instrumenter, view, arrival);

    int status = 404;
    std::string body = "not found\n";
    std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
    if (req.method == "GET" && path.rfind("/hello/", 0) == 0) {
      // STEP 2: the route is known once our own dispatch matched.
      span.SetRoute("/hello/:name");
      status = 200;
      body = "hello " + std::string(path.substr(7)) + "\n";
    }
    Reply(fd, status, status == 200 ? "OK" : "Not Found", body);
    close(fd);

    // STEP 3: end it after the response was written.
    otelweb::http::ServerResponseView res;
    res.status_code = status;
    span.End(res, &view);
  }
  close(lfd);
  return 0;
}
