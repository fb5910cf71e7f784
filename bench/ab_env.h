// The A/B arms of issue 18 for the benchmark programs (otelweb_paced_cpu,
// otelweb_http_overhead; bench/ab18.sh runs them interleaved). Read once, at
// start-up, from the environment, before any provider exists; every unset
// variable keeps today's behaviour.
//
//   OTELWEB_AB_PROCESSOR = batch (default) | simple
//       simple: SimpleSpanProcessor, the record exported on the thread that
//       ended it and back in that thread's pool at once (records never leave
//       the producing thread: the bound for any hand-back policy)
//   OTELWEB_AB_EXPORT    = default | off | noop | read
//       off: the batch worker never calls the exporter; noop: an exporter
//       that only counts; read: one that reads what an encoder would read
//       (the program's default exporter otherwise)
//   OTELWEB_AB_WAKE      = batch (default) | timer | every
//       timer: producers never wake the worker, it exports every schedule
//       delay (OTEL_BSP_SCHEDULE_DELAY; this arm sets 5 ms and a queue of
//       8192 unless those variables are set); every: woken by each enqueue
//       that finds it asleep (a zero schedule delay)
//   OTELWEB_AB_HANDBACK  = return (default) | free
//       free: the worker deletes exported records; producers allocate anew
//   OTELWEB_AB_LAYOUT    = packed (default) | padded
//       padded: each thread's record pool and counters on their own lines
//   OTELWEB_AB_ATTRS     = on (default) | off
//       off: span attribute count limit 0 (attributes are built by the
//       instrumentation but none is stored)
//   OTELWEB_AB_HTTP_THREADS = N (otelweb_http_overhead only; both servers):
//       cpp-httplib's worker pool size (default: its own, 8)
//
// Errors: an unknown value prints what is accepted and exits with status 2.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/ab_switches.h"

namespace otelweb::bench {

struct AbArms {
  bool simple_processor = false;
  std::string exporter = "default";  // default | off | noop | read
  bool attrs_off = false;
  int http_threads = 0;  // 0: cpp-httplib's default
  std::string description;  // "processor=batch export=default ..." for the output
};

inline const char* AbEnv(const char* name, const char* dflt) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : dflt;
}

[[noreturn]] inline void AbRefuse(const char* name, const char* value, const char* accepted) {
  std::fprintf(stderr, "%s=%s is not understood; use one of: %s (see bench/ab_env.h)\n", name, value, accepted);
  std::exit(2);
}

// Reads the OTELWEB_AB_* variables and sets the library's switches.
inline AbArms ReadAbArms() {
  AbArms a;
  auto& sw = internal::ab::Get();
  std::string p = AbEnv("OTELWEB_AB_PROCESSOR", "batch");
  if (p == "simple") a.simple_processor = true;
  else if (p != "batch") AbRefuse("OTELWEB_AB_PROCESSOR", p.c_str(), "batch, simple");
  a.exporter = AbEnv("OTELWEB_AB_EXPORT", "default");
  if (a.exporter == "off") sw.export_off = true;
  else if (a.exporter != "default" && a.exporter != "noop" && a.exporter != "read") {
    AbRefuse("OTELWEB_AB_EXPORT", a.exporter.c_str(), "default, off, noop, read");
  }
  std::string w = AbEnv("OTELWEB_AB_WAKE", "batch");
  if (w == "timer") {
    sw.wake = internal::ab::Wake::kTimerOnly;
    setenv("OTEL_BSP_SCHEDULE_DELAY", "5", 0);  // read by the batch processor
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "8192", 0);
  } else if (w == "every") {
    sw.wake = internal::ab::Wake::kEveryEnqueue;
  } else if (w != "batch") {
    AbRefuse("OTELWEB_AB_WAKE", w.c_str(), "batch, timer, every");
  }
  std::string h = AbEnv("OTELWEB_AB_HANDBACK", "return");
  if (h == "free") sw.handback = internal::ab::Handback::kFree;
  else if (h != "return") AbRefuse("OTELWEB_AB_HANDBACK", h.c_str(), "return, free");
  std::string l = AbEnv("OTELWEB_AB_LAYOUT", "packed");
  if (l == "padded") sw.padded_thread_state = true;
  else if (l != "packed") AbRefuse("OTELWEB_AB_LAYOUT", l.c_str(), "packed, padded");
  std::string at = AbEnv("OTELWEB_AB_ATTRS", "on");
  if (at == "off") a.attrs_off = true;
  else if (at != "on") AbRefuse("OTELWEB_AB_ATTRS", at.c_str(), "on, off");
  std::string t = AbEnv("OTELWEB_AB_HTTP_THREADS", "0");
  a.http_threads = std::atoi(t.c_str());
  if (a.http_threads < 0 || a.http_threads > 256 || (a.http_threads == 0 && t != "0")) {
    AbRefuse("OTELWEB_AB_HTTP_THREADS", t.c_str(), "a thread count from 1 to 256");
  }
  a.description = "processor=" + p + " export=" + a.exporter + " wake=" + w + " handback=" + h + " layout=" + l +
                  " attrs=" + at + " http_threads=" + (a.http_threads == 0 ? std::string("default") : t);
  return a;
}

}  // namespace otelweb::bench
