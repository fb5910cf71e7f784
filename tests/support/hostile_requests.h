// Shared pieces of the hostile-request suites (issue 12 §1, §2) of the
// civetweb and libmicrohttpd adapters (cpp-httplib's suite,
// src/httplib/hostile_requests_test.cc, is the model): requests an internet
// client can send, and a probe that measures a request's cost (process CPU
// time, least of a few runs) and the size of its span, so that each hostile
// request is compared with a same-size benign one in the same run.
// Ownership: plain values; the probe borrows the MemoryTracing.
// Thread-safety: one test thread.
#pragma once

#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "otelweb/testing/memory_tracing.h"
#include "otelweb/trace/span_data.h"

namespace otelweb::testing::hostile {

inline double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// What a span weighs once exported, roughly: its name and every attribute's
// key and rendered value, 40 bytes per event and link.
inline size_t SpanBytes(const SpanData& s) {
  size_t n = s.name().size() + 40 * (s.event_count() + s.link_count());
  for (size_t i = 0; i < s.attribute_count(); ++i) {
    AttributeView a = s.attribute(i);
    n += a.key().size() + a.ToString().size();
  }
  return n;
}

// About `bytes` of inert header lines (lines of at most 4000 bytes).
inline std::string Padding(size_t bytes) {
  std::string out;
  for (int i = 0; out.size() < bytes; ++i) {
    std::string line = "x-pad" + std::to_string(i) + ": ";
    size_t room = std::min<size_t>(4000, bytes - std::min(bytes, out.size() + line.size() + 2));
    line.append(std::max<size_t>(room, 1), 'p');
    out += line + "\r\n";
  }
  return out;
}

inline std::string Get(const std::string& target, const std::string& lines) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Tenant: acme\r\n" + lines +
         "\r\n";
}

// Repeats "<name>: <value>" lines until about `bytes`.
inline std::string Lines(const std::string& name, const std::string& value, size_t bytes) {
  std::string out;
  while (out.size() < bytes) out += name + ": " + value + "\r\n";
  return out;
}

// `sep`-separated `entry(i)` up to about `bytes`.
inline std::string List(const std::function<std::string(int)>& entry, size_t bytes, char sep = ',') {
  std::string out;
  for (int i = 0; out.size() < bytes; ++i) {
    if (!out.empty()) out += sep;
    out += entry(i);
  }
  return out;
}

// Malformed traceparent values: each must start a new trace.
inline std::vector<std::string> MalformedTraceparents() {
  return {
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0",     // short flags
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-011",   // long flags
      "00-00000000000000000000000000000000-b7ad6b7169203331-01",    // zero trace id
      "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",    // zero span id
      "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",    // version ff
      "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",    // upper case
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x",  // v00 with more
      "0g-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",    // not hex
      std::string(3000, 'f'),                                        // long
  };
}

struct Cost {
  double cpu = 1e9;   // least process CPU seconds of the runs
  size_t span = 0;    // bytes of the request's span (0: no span)
  std::string reply;  // the last reply
};

// Sends requests with `send` (the raw bytes; returns the reply) and reads the
// spans they make from `t`.
class Probe {
 public:
  Probe(const MemoryTracing& t, std::function<std::string(const std::string&)> send)
      : t_(t), send_(std::move(send)) {}

  Cost Measure(const std::string& request, int runs = 3) const {
    Cost c;
    for (int i = 0; i < runs; ++i) {
      const size_t before = t_.spans().size();
      const double t0 = ProcessCpuSeconds();
      c.reply = send_(request);
      c.cpu = std::min(c.cpu, ProcessCpuSeconds() - t0);
      c.span = t_.WaitFor(before + 1, std::chrono::milliseconds(500)) ? SpanBytes(*t_.spans()[before]) : 0;
    }
    return c;
  }

  // `hostile` against a benign GET of `benign_target` padded to the same
  // size: CPU within `cpu_factor` (plus `cpu_slack` seconds), span within
  // `span_slack` bytes. Returns the hostile reply.
  std::string ExpectBounded(const char* kind, const std::string& hostile, const std::string& benign_target,
                            size_t span_slack, double cpu_factor = 4.0, double cpu_slack = 0.02) const {
    const std::string base = Get(benign_target, "");
    const size_t extra = hostile.size() > base.size() ? hostile.size() - base.size() : 0;
    const Cost b = Measure(Get(benign_target, Padding(extra)));
    const Cost h = Measure(hostile);
    SCOPED_TRACE(kind);
    EXPECT_NE(b.reply.find(" 200 "), std::string::npos) << b.reply.substr(0, 200);
    EXPECT_LT(h.cpu, cpu_factor * b.cpu + cpu_slack)
        << kind << ": " << hostile.size() << " bytes cost " << h.cpu << " s of CPU against " << b.cpu
        << " s for the same size of inert headers";
    EXPECT_LE(h.span, b.span + span_slack) << kind << ": span of " << h.span << " bytes against " << b.span;
    return h.reply;
  }

 private:
  const MemoryTracing& t_;
  std::function<std::string(const std::string&)> send_;
};

// The kinds every adapter's suite sends (to a route "/r" answering 200).
// Long URLs, query floods, percent-encodings and dot segments.
inline void ExpectUrlKindsBounded(const Probe& probe) {
  probe.ExpectBounded("long path", Get("/r/" + std::string(7000, 'p'), ""), "/r", 3 * 7100);
  std::string query = "/r?" + List([](int i) { return "a" + std::to_string(i) + "=1"; }, 7000, '&');
  probe.ExpectBounded("many query parameters", Get(query, ""), "/r", 3 * 7100);
  std::string secrets = "/r?" + List([](int) { return std::string("token=abcdef"); }, 7000, '&');
  probe.ExpectBounded("secret parameter flood", Get(secrets, ""), "/r", 3 * 7100);
  std::string enc = "/r?" + List([](int) { return std::string("%74%6f%6b%65%6e=%41%42"); }, 7000, '&');
  probe.ExpectBounded("encoded secret names", Get(enc, ""), "/r", 3 * 7100);
  probe.ExpectBounded("broken escapes", Get("/r?" + std::string(3500, '%') + std::string(3500, 'z'), ""), "/r",
                      3 * 7100);
  std::string dots = "/r";
  while (dots.size() < 7000) dots += "/../.";
  probe.ExpectBounded("dot segments", Get(dots, ""), "/r", 3 * 7100);
}

// Baggage and tracestate floods; malformed traceparents are never taken as a
// parent (each still gets its span and a 200).
inline void ExpectContextKindsBounded(const Probe& probe, const MemoryTracing& t,
                                      const std::function<std::string(const std::string&)>& send) {
  const std::string baggage = List([](int i) { return "k" + std::to_string(i) + "=v"; }, 4000);
  probe.ExpectBounded("baggage flood", Get("/r", Lines("baggage", baggage, 64 * 1024)), "/r", 0);
  const std::string ts = List([](int i) { return "v" + std::to_string(i) + "=x"; }, 4000);
  probe.ExpectBounded("tracestate flood",
                      Get("/r", "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n" +
                                    Lines("tracestate", ts, 64 * 1024)),
                      "/r", 0);
  for (const std::string& tp : MalformedTraceparents()) {
    const size_t before = t.spans().size();
    const std::string r = send(Get("/r", "traceparent: " + tp + "\r\n"));
    EXPECT_NE(r.find(" 200 "), std::string::npos) << tp;
    ASSERT_TRUE(t.WaitFor(before + 1)) << tp;
    EXPECT_FALSE(t.spans()[before]->parent_span_id().IsValid()) << "'" << tp << "' was accepted as a parent";
  }
}

// 96 KiB of header names that make the capture pattern "x-(a+)+y" backtrack
// in a backtracking engine, and one header repeated 60 times.
inline void ExpectHeaderKindsBounded(const Probe& probe) {
  std::string names;
  for (int i = 0; names.size() < 96 * 1024; ++i) names += "x-" + std::string(40, 'a') + std::to_string(i) + ": v\r\n";
  probe.ExpectBounded("pathological header names", Get("/r", names), "/r", 0);
  probe.ExpectBounded("one user agent, 60 times", Get("/r", Lines("User-Agent", std::string(1000, 'u'), 60 * 1024)),
                      "/r", 8 * 1024);
}

}  // namespace otelweb::testing::hostile
