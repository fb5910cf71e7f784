// Private: a set of instruments an instrumentation records into, resolved
// once from an explicit meter provider, or from the global one and again
// whenever the global is replaced (metrics::MeterProviderGeneration()).
// Used by the HTTP server and client metrics and the SQLite metrics.
//
// `M` is a plain struct of instrument handles with
//   static M Create(metrics::MeterProvider& provider, std::string_view scope);
//   bool enabled;   // false: nothing would record (Get() then returns null)
//
// Ownership: the cache owns every set it resolved (earlier ones stay alive
// with it: a thread may still be recording into one) and shares the provider
// each was made from.
// Thread-safety: Get() may be called from any thread; in steady state it is
// one acquire load and one generation compare, no lock and no allocation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "otelweb/instrumentation.h"
#include "otelweb/metrics/meter_provider.h"

namespace otelweb::metrics::internal {

template <typename M>
class InstrumentCache {
 public:
  InstrumentCache(std::shared_ptr<MeterProvider> provider, std::string scope)
      : explicit_(std::move(provider)), scope_(std::move(scope)) {
    if (explicit_) {
      auto e = std::make_unique<Entry>();
      e->provider = explicit_;
      e->m = M::Create(*explicit_, scope_);
      entry_.Publish(std::move(e));
    }
  }

  // The instruments to record into, or null when nothing records (the no-op
  // global provider, or every view dropped them).
  const M* Get() const noexcept {
    const Entry* e = entry_.Get();
    if (explicit_) return e != nullptr && e->m.enabled ? &e->m : nullptr;
    const uint64_t gen = MeterProviderGeneration();
    if (e == nullptr || e->generation != gen) {
      try {
        e = entry_.PublishUnless([gen](const Entry& cur) { return cur.generation == gen; },
                                 [&] {
                                   auto n = std::make_unique<Entry>();
                                   n->generation = gen;
                                   n->provider = GetMeterProvider();
                                   n->m = M::Create(*n->provider, scope_);
                                   return n;
                                 });
      } catch (...) {
        return nullptr;
      }
    }
    return e != nullptr && e->m.enabled ? &e->m : nullptr;
  }

 private:
  struct Entry {
    uint64_t generation = 0;
    std::shared_ptr<MeterProvider> provider;
    M m;
  };
  std::shared_ptr<MeterProvider> explicit_;
  std::string scope_;
  mutable instrumentation::Published<Entry> entry_;
};

}  // namespace otelweb::metrics::internal
