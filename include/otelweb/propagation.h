// Context propagation over text headers: W3C Trace Context (traceparent,
// tracestate), W3C Baggage, and a composite of several.
//
// Ownership: propagators are shared (std::shared_ptr). Carriers are borrowed
// for the duration of one Inject/Extract call.
// Thread-safety: propagators are stateless and thread-safe. A carrier is used
// by one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "otelweb/context.h"

namespace otelweb {

// Read side of a header container. Keys are given lowercase; a carrier over a
// case-insensitive container (HTTP headers) should match case-insensitively.
class TextMapGetter {
 public:
  virtual ~TextMapGetter() = default;
  // The value for key; when the header occurs several times, implementations
  // should join the values with ',' (tracestate and baggage may be split over
  // several lines) — the `scratch` string may be used for that.
  virtual std::string_view Get(std::string_view key, std::string& scratch) const noexcept = 0;
};

// Write side of a header container.
class TextMapSetter {
 public:
  virtual ~TextMapSetter() = default;
  virtual void Set(std::string_view key, std::string_view value) noexcept = 0;
};

// A carrier over any map-like container with find()/operator[] on std::string
// keys (std::map, std::unordered_map, ...). Lookups are exact (keys lowercase).
template <typename Map>
class MapCarrier final : public TextMapGetter, public TextMapSetter {
 public:
  explicit MapCarrier(Map& m) noexcept : m_(m) {}
  std::string_view Get(std::string_view key, std::string& scratch) const noexcept override {
    (void)scratch;
    if constexpr (requires { typename Map::key_compare; }) {
      // Ordered map with a few entries (the usual header map): a scan that
      // compares lengths first beats a tree walk of full string compares.
      if (m_.size() <= 8) {
        for (const auto& [k, v] : m_) {
          if (k.size() == key.size() && std::string_view(k) == key) return v;
        }
        return {};
      }
    }
    auto it = m_.find(typename Map::key_type(key));
    if (it == m_.end()) return {};
    return it->second;
  }
  void Set(std::string_view key, std::string_view value) noexcept override {
    try {
      if constexpr (requires { typename Map::key_compare; }) {
        // A key already there (a reused carrier) is overwritten in place,
        // found by the same short scan as Get: no key string is built.
        if (m_.size() <= 8) {
          for (auto& [k, v] : m_) {
            if (k.size() == key.size() && std::string_view(k) == key) {
              v = value;
              return;
            }
          }
        }
      }
      m_[typename Map::key_type(key)] = value;
    } catch (...) {
    }
  }

 private:
  Map& m_;
};

// Specialisation-free fast path for the common std::map<std::string, std::string,
// std::less<>> carriers (heterogeneous lookup, no key allocation).
template <>
inline std::string_view MapCarrier<std::map<std::string, std::string, std::less<>>>::Get(
    std::string_view key, std::string&) const noexcept {
  auto it = m_.find(key);
  return it == m_.end() ? std::string_view{} : std::string_view(it->second);
}

class TextMapPropagator {
 public:
  virtual ~TextMapPropagator() = default;
  // Writes the context's fields into the carrier. Writes nothing for an
  // invalid span context / empty baggage.
  virtual void Inject(const Context& ctx, TextMapSetter& carrier) const noexcept = 0;
  // Returns `base` with what the carrier holds added. Invalid input is
  // ignored (never thrown): `base` comes back unchanged.
  virtual Context Extract(const TextMapGetter& carrier, const Context& base) const noexcept = 0;
  // The header names it reads and writes (lowercase).
  virtual std::vector<std::string_view> Fields() const = 0;
};

// W3C Trace Context Level 1/2: traceparent + tracestate.
class W3CTraceContextPropagator final : public TextMapPropagator {
 public:
  void Inject(const Context& ctx, TextMapSetter& carrier) const noexcept override;
  Context Extract(const TextMapGetter& carrier, const Context& base) const noexcept override;
  std::vector<std::string_view> Fields() const override;
};

// W3C Baggage.
class W3CBaggagePropagator final : public TextMapPropagator {
 public:
  void Inject(const Context& ctx, TextMapSetter& carrier) const noexcept override;
  Context Extract(const TextMapGetter& carrier, const Context& base) const noexcept override;
  std::vector<std::string_view> Fields() const override;
};

// Runs several propagators in order (extraction: later ones see earlier
// results).
class CompositePropagator final : public TextMapPropagator {
 public:
  explicit CompositePropagator(std::vector<std::shared_ptr<TextMapPropagator>> parts);
  void Inject(const Context& ctx, TextMapSetter& carrier) const noexcept override;
  Context Extract(const TextMapGetter& carrier, const Context& base) const noexcept override;
  std::vector<std::string_view> Fields() const override;

 private:
  std::vector<std::shared_ptr<TextMapPropagator>> parts_;
};

// Parses one traceparent value into a (remote) SpanContext. Returns false on
// anything the W3C grammar rejects. Exposed for tests and fuzzing.
bool ParseTraceparent(std::string_view value, SpanContext* out) noexcept;
// Formats "00-<trace>-<span>-<flags>" into out (55 bytes).
void FormatTraceparent(const SpanContext& sc, char out[55]) noexcept;

// Builds a propagator from an OTEL_PROPAGATORS-style list ("tracecontext",
// "baggage", "none"; unknown names are skipped with a warning). An empty list
// means the default: tracecontext,baggage.
std::shared_ptr<TextMapPropagator> MakePropagators(std::string_view names);

// The global propagator used by instrumentations (default:
// tracecontext,baggage; InstallTracing sets it from OTEL_PROPAGATORS).
std::shared_ptr<TextMapPropagator> GetTextMapPropagator() noexcept;
void SetTextMapPropagator(std::shared_ptr<TextMapPropagator> p) noexcept;

}  // namespace otelweb
