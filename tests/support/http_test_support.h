// Helpers for tests of the HTTP instrumentations: otelweb::testing (the
// in-memory tracer provider, bounded waits for spans, attribute readers), and
// a raw socket client for requests that regular clients refuse to send.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "otelweb/testing/diagnostics_capture.h"
#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/testing/memory_tracing.h"
#include "otelweb/testing/scoped_env.h"
#include "otelweb/testing/span_readers.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/simple_span_processor.h"

namespace otelweb::testing {

// MemoryTracing, StrAttr, IntAttr, HasAttr, ArrAttr, EventNamed,
// DiagnosticsCapture and ScopedEnv come from otelweb::testing
// (include/otelweb/testing/), as users' tests get them.

// Sends raw bytes to 127.0.0.1:port and returns what comes back until the
// peer closes or 10 s pass without a byte. The callers' requests ask for
// "Connection: close", so the wait normally ends when the server closes; the
// bound only stops a server that never answers, and leaves a slow machine
// (sanitizers, a loaded CI runner) time to parse a 1 MB header block.
inline std::string RawRequest(int port, std::string_view bytes, bool read_all = false) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t w = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
    char buf[4096];
    for (;;) {
      ssize_t r = ::recv(fd, buf, sizeof(buf), 0);
      if (r <= 0) break;
      out.append(buf, static_cast<size_t>(r));
      if (!read_all && out.find("\r\n\r\n") != std::string::npos) break;
    }
  }
  ::close(fd);
  return out;
}

}  // namespace otelweb::testing
