// Helpers for tests of the HTTP server instrumentations: an in-memory tracer
// provider, bounded waits for spans, attribute readers, and a raw socket
// client for requests that regular clients refuse to send.
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

#include "otelweb/testing/in_memory_exporter.h"
#include "otelweb/trace/simple_span_processor.h"
#include "otelweb/trace/batch_span_processor.h"
#include "otelweb/trace/sampler.h"
#include "otelweb/trace/span_data.h"
#include "otelweb/trace/tracer_provider.h"

namespace otelweb::testing {

// A provider exporting every span synchronously to an in-memory store.
struct MemoryTracing {
  std::shared_ptr<InMemorySpanStore> store = std::make_shared<InMemorySpanStore>();
  std::shared_ptr<TracerProvider> provider;
  MemoryTracing() {
    TracerProviderOptions o;
    o.sampler = AlwaysOnSampler();
    o.processors.push_back(
        std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemorySpanExporter>(store)));
    provider = std::make_shared<TracerProvider>(std::move(o));
  }
  // Waits (at most `timeout`) until at least n spans were exported. Server
  // spans end after the response is written, so a client can see the response
  // before the span is exported.
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (store->size() < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
  }
  // Waits for n spans, then a little more to catch unexpected extra ones.
  // Sorted by start time: server spans end (and are exported) on whichever
  // worker thread served them, after the client already has the response, so
  // export order is not request order; start order is, for a sequential client.
  std::vector<const SpanData*> Exactly(size_t n) const {
    WaitFor(n);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    std::vector<const SpanData*> v = store->spans();
    std::stable_sort(v.begin(), v.end(), [](const SpanData* a, const SpanData* b) {
      return a->start_ns() < b->start_ns();
    });
    return v;
  }
};

inline bool HasAttr(const SpanData* s, std::string_view key) {
  AttributeView v;
  return s->FindAttribute(key, &v);
}
inline std::string StrAttr(const SpanData* s, std::string_view key) {
  AttributeView v;
  if (!s->FindAttribute(key, &v)) return "<absent>";
  if (v.type() != AttributeType::kString) return "<not a string: " + v.ToString() + ">";
  return std::string(v.as_string());
}
inline int64_t IntAttr(const SpanData* s, std::string_view key) {
  AttributeView v;
  if (!s->FindAttribute(key, &v) || v.type() != AttributeType::kInt) return -1;
  return v.as_int();
}
inline std::vector<std::string> ArrAttr(const SpanData* s, std::string_view key) {
  std::vector<std::string> out;
  AttributeView v;
  if (!s->FindAttribute(key, &v) || v.type() != AttributeType::kStringArray) return out;
  for (uint32_t i = 0; i < v.array_size(); ++i) out.emplace_back(v.string_at(i));
  return out;
}
inline const SpanData* EventNamed(const SpanData* s, std::string_view name, size_t* index) {
  for (size_t i = 0; i < s->event_count(); ++i) {
    if (s->event_name(i) == name) {
      *index = i;
      return s;
    }
  }
  return nullptr;
}

// Sends raw bytes to 127.0.0.1:port and returns what comes back until the
// peer closes or 2 s pass.
inline std::string RawRequest(int port, std::string_view bytes, bool read_all = false) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  timeval tv{2, 0};
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
