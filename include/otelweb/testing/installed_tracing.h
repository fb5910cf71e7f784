// InstalledMemoryTracing: tracing set up the way a program sets it up
// (otelweb::InstallTracing, the global provider and propagators), with a
// simple processor exporting every ended span, on the ending thread, into an
// InMemorySpanStore. Unlike MemoryTracing (which only swaps the global
// provider), it goes through InstallTracing and its TracingHandle, so a test
// can drop the handle and install again the way an application does, and
// check that instrumentation follows:
//
//   InstalledMemoryTracing first;          // InstallTracing #1
//   ... make spans ...
//   first.Drop();                          // the TracingHandle is destroyed
//   InstalledMemoryTracing second;         // InstallTracing #2
//   ... make spans ...
//   second.Shutdown();
//   EXPECT_EQ(second.store->size(), 1u);   // first.store still holds #1's
//
// Header-only; it calls InstallTracing, so link otelweb::otelweb (the
// umbrella) as well as otelweb::testing.
//
// Ownership: owns the TracingHandle (dropping or destroying it shuts the
// provider down and resets the global provider if it is still this one) and
// shares the store with the exporter; the store outlives Drop().
// Thread-safety: construct, Drop, Shutdown and destroy on one thread (they
// replace globals); the store may be read from any thread while others end
// spans.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <thread>
#include <utility>

#include "otelweb/otelweb.h"
#include "otelweb/testing/in_memory_exporter.h"

namespace otelweb::testing {

class InstalledMemoryTracing {
 public:
  // `options`: anything else to install with (sampler, propagators, ...);
  // its exporter and processor are replaced by the in-memory ones.
  explicit InstalledMemoryTracing(TracingOptions options = {})
      : handle(Install(std::move(options), store)) {}
  InstalledMemoryTracing(const InstalledMemoryTracing&) = delete;
  InstalledMemoryTracing& operator=(const InstalledMemoryTracing&) = delete;

  // Destroys the TracingHandle, as a program that lets it go does (flush,
  // shut down, global reset to the no-op provider if it is still this one).
  void Drop() noexcept { TracingHandle gone = std::move(handle); }
  // TracingHandle::Shutdown (the same, returning its result).
  OperationResult Shutdown() noexcept { return handle.Shutdown(); }

  // Waits (at most `timeout`) until the store holds at least n spans; returns
  // how many it holds (server spans end after the response is written).
  size_t WaitFor(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (store->size() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return store->size();
  }

  std::shared_ptr<InMemorySpanStore> store = std::make_shared<InMemorySpanStore>();
  TracingHandle handle;

 private:
  static TracingHandle Install(TracingOptions options, std::shared_ptr<InMemorySpanStore> store) {
    options.exporter = std::make_unique<InMemorySpanExporter>(std::move(store));
    options.simple_processor = true;
    return InstallTracing(std::move(options));
  }
};

}  // namespace otelweb::testing
