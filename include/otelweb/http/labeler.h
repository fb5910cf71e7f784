// Per-request metric attributes from handler code (the "labeler" of Go's
// otelhttp and Python's instrumentation): a handler adds, say, tenant=acme,
// and the request's http.server.request.duration, request.body.size and
// response.body.size points carry it. http.server.active_requests does not
// (it was counted before the handler ran, and its decrement must use the
// increment's attributes). Every server adapter built on ServerSpan
// (cpp-httplib, civetweb, microhttpd) supports it.
//
//   otelweb::http::Labeler::Current().Add("tenant", "acme");
//
// Bounds: at most kMaxLabels attributes and kLabelBytes bytes of keys and
// string values per request (no allocation); each distinct attribute set is
// one series of the histograms, counted against the stream's cardinality
// limit (2000 by default; beyond it the otel.metric.overflow=true series), so
// use low-cardinality values (a tenant, a plan), never a user id. Keys the
// instrumentation sets itself (http.request.method, url.scheme,
// http.response.status_code, http.route, error.type,
// network.protocol.version) are refused.
//
// Ownership: a Labeler is a handle to storage inside the request's
// ServerSpan, valid until the request ends; keys and values are copied.
// Thread-safety: Current() is per thread: it finds the innermost server
// request made current on the calling thread (synchronous handlers; for
// asynchronous servers use ServerSpan::labeler() or Activate() first). One
// request's Labeler must not be used by two threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "otelweb/attribute.h"

namespace otelweb::http {

inline constexpr size_t kMaxLabels = 8;
inline constexpr size_t kLabelBytes = 256;

namespace internal {
// The labels of one request (inside ServerSpan).
struct RequestLabels {
  // Left uninitialized until Add writes them (a ServerSpan per request does
  // not pay for zeroing storage it may never use).
  struct Entry {
    uint16_t key_at, key_len;
    uint16_t str_at, str_len;
    AttributeType type;
    int64_t i;
    double d;
    bool b;
  };
  Entry entries[kMaxLabels];
  uint8_t n = 0;
  uint16_t used = 0;
  char bytes[kLabelBytes];
  void Clear() noexcept {
    n = 0;
    used = 0;
  }
  // Writes the labels as KeyValues (pointing into this storage) into `out`,
  // at most `room`; returns how many.
  size_t AppendTo(KeyValue* out, size_t room) const noexcept;
};
}  // namespace internal

class Labeler {
 public:
  Labeler() noexcept = default;  // invalid: Add returns false
  explicit Labeler(internal::RequestLabels* labels) noexcept : labels_(labels) {}

  // The innermost server request current on this thread (invalid outside one,
  // or when the request's server records no metrics).
  static Labeler Current() noexcept;

  // Adds (or replaces) one attribute: a string, integer, double or boolean.
  // False, and nothing changes, when the Labeler is invalid, the key is empty
  // or set by the instrumentation, the value is an array or empty, or the
  // request's label storage is full.
  bool Add(std::string_view key, const AttributeValue& value) noexcept;

  bool valid() const noexcept { return labels_ != nullptr; }
  size_t size() const noexcept { return labels_ != nullptr ? labels_->n : 0; }

 private:
  internal::RequestLabels* labels_ = nullptr;
};

}  // namespace otelweb::http
