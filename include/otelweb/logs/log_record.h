// LogRecord: one log record of the OpenTelemetry logs data model
// (specification/logs/data-model.md): timestamps, severity, body, attributes,
// event name and the trace context it belongs to. Fixed capacity, so that
// emitting a record never allocates.
//
// Capacity: at most kMaxAttributes attributes (fewer under
// OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT) and kStorageBytes bytes for the body,
// the event name, attribute keys and string values together. What does not
// fit is dropped and counted (dropped_attributes_count, as OTLP carries it);
// a string body that does not fit is truncated (at a UTF-8 boundary). Array
// attribute values are not stored (counted as dropped). A structured body
// (array or map, BodyValue) is stored encoded in the same storage; elements
// that do not fit are left out, nesting deeper than kMaxBodyDepth too.
//
// Ownership: a value type that owns its bytes (it may be copied with memcpy
// semantics; CopyFrom copies only the used part). scope() and resource()
// point into the LoggerProvider that made the record: scopes live as long as
// the process, the resource as long as the provider.
// Thread-safety: a plain value; one writer at a time.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "otelweb/attribute.h"
#include "otelweb/common.h"
#include "otelweb/trace/span_context.h"

namespace otelweb {
class Resource;
struct InstrumentationScope;
}  // namespace otelweb

namespace otelweb::logs {

// SeverityNumber (data model, "Field: SeverityNumber"): 1-4 TRACE, 5-8 DEBUG,
// 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL; 0 is unspecified.
enum class Severity : uint8_t {
  kUnspecified = 0,
  kTrace = 1, kTrace2, kTrace3, kTrace4,
  kDebug = 5, kDebug2, kDebug3, kDebug4,
  kInfo = 9, kInfo2, kInfo3, kInfo4,
  kWarn = 13, kWarn2, kWarn3, kWarn4,
  kError = 17, kError2, kError3, kError4,
  kFatal = 21, kFatal2, kFatal3, kFatal4,
};
// The short name of the severity's range: "TRACE", "DEBUG", "INFO", "WARN",
// "ERROR", "FATAL" (with a digit for the 2..4 steps: "INFO2"); "" for 0.
std::string_view SeverityName(Severity s) noexcept;

// Attribute limits of log records (OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT,
// OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT). Unset: environment, else the
// defaults (the count is capped at LogRecord::kMaxAttributes; no length limit
// beyond the record's storage).
struct LogRecordLimitsOptions {
  std::optional<uint32_t> attribute_count_limit{};
  std::optional<uint32_t> attribute_value_length_limit{};
};
struct LogRecordLimits {
  uint16_t attribute_count_limit = 16;
  uint32_t attribute_value_length_limit = UINT32_MAX;
};
LogRecordLimits ResolveLogRecordLimits(const LogRecordLimitsOptions& options);

struct BodyEntry;

// A structured body for LogRecord::SetBody (the data model's AnyValue: a
// scalar, an array or a map of them, nested). Borrowed: it points at the
// initializer lists, spans and strings it was made from, so build it in the
// SetBody call, where they all live:
//   r.SetBody(logs::BodyValue::Map({{"user", "ann"}, {"ids", logs::BodyValue::Array({1, 2})}}));
// Scalars convert implicitly from anything an AttributeValue accepts; an
// AttributeValue array becomes an array body.
class BodyValue {
 public:
  enum class Kind : uint8_t { kScalar, kArray, kMap };
  template <typename T>
    requires std::is_constructible_v<AttributeValue, T&&>
  BodyValue(T&& v) noexcept : scalar_(std::forward<T>(v)) {}  // NOLINT(google-explicit-constructor)
  static BodyValue Array(std::initializer_list<BodyValue> items) noexcept {
    return Array(std::span<const BodyValue>(items.begin(), items.size()));
  }
  static BodyValue Array(std::span<const BodyValue> items) noexcept {
    BodyValue v;
    v.kind_ = Kind::kArray;
    v.items_ = items.data();
    v.size_ = items.size();
    return v;
  }
  static BodyValue Map(std::initializer_list<BodyEntry> entries) noexcept;
  static BodyValue Map(std::span<const BodyEntry> entries) noexcept;

  Kind kind() const noexcept { return kind_; }
  const AttributeValue& scalar() const noexcept { return scalar_; }
  std::span<const BodyValue> items() const noexcept { return {items_, kind_ == Kind::kArray ? size_ : 0}; }
  std::span<const BodyEntry> entries() const noexcept;

 private:
  BodyValue() noexcept = default;
  Kind kind_ = Kind::kScalar;
  AttributeValue scalar_{};
  const BodyValue* items_ = nullptr;
  const BodyEntry* entries_ = nullptr;
  size_t size_ = 0;
};

struct BodyEntry {
  std::string_view key;
  BodyValue value;
};

inline BodyValue BodyValue::Map(std::initializer_list<BodyEntry> entries) noexcept {
  return Map(std::span<const BodyEntry>(entries.begin(), entries.size()));
}
inline BodyValue BodyValue::Map(std::span<const BodyEntry> entries) noexcept {
  BodyValue v;
  v.kind_ = Kind::kMap;
  v.entries_ = entries.data();
  v.size_ = entries.size();
  return v;
}
inline std::span<const BodyEntry> BodyValue::entries() const noexcept {
  return {entries_, kind_ == Kind::kMap ? size_ : 0};
}

// A stored structured body, read back (what exporters walk): a scalar, or an
// array / map whose elements ForEach visits in order. Points into the record.
class BodyView {
 public:
  BodyView() noexcept = default;
  explicit BodyView(const char* node) noexcept : p_(node) {}
  BodyValue::Kind kind() const noexcept {
    return p_[0] == kArray ? BodyValue::Kind::kArray
           : p_[0] == kMap ? BodyValue::Kind::kMap
                           : BodyValue::Kind::kScalar;
  }
  // The value of a scalar (kNone for arrays and maps).
  AttributeValue scalar() const noexcept;
  // Elements of an array, entries of a map (0 for a scalar).
  size_t size() const noexcept { return kind() == BodyValue::Kind::kScalar ? 0 : U32(p_ + 1); }
  // f(std::string_view key, BodyView value) for each element (key empty for
  // array elements), in order.
  template <typename F>
  void ForEach(F&& f) const {
    if (kind() == BodyValue::Kind::kScalar) return;
    const bool map = p_[0] == kMap;
    const char* q = p_ + kContainerHeader;
    for (size_t i = 0, n = size(); i < n; ++i) {
      std::string_view key;
      if (map) {
        const uint32_t len = U32(q);
        key = std::string_view(q + 4, len);
        q += 4 + len;
      }
      f(key, BodyView(q));
      q += NodeSize(q);
    }
  }

  // The encoding (internal): a tag byte, then bool: 1 byte; int, double: 8;
  // string: u32 length + bytes; array, map: u32 count + u32 byte length of
  // the elements (map elements: u32 key length + key + node).
  enum : char { kBool = 1, kInt, kDouble, kString, kArray, kMap };
  static constexpr size_t kContainerHeader = 9;
  static uint32_t U32(const char* p) noexcept {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  static size_t NodeSize(const char* p) noexcept {
    switch (p[0]) {
      case kBool:
        return 2;
      case kInt:
      case kDouble:
        return 9;
      case kString:
        return 5 + U32(p + 1);
      default:
        return kContainerHeader + U32(p + 5);
    }
  }

 private:
  const char* p_ = nullptr;
};

class LogRecord {
 public:
  static constexpr int kMaxBodyDepth = 8;
  static constexpr size_t kMaxAttributes = 16;
  static constexpr size_t kStorageBytes = 1024;

  // A record with nothing set (no timestamps, severity 0, empty body), using
  // `limits`. Cheap: the storage is not cleared.
  explicit LogRecord(const LogRecordLimits& limits = {}) noexcept;
  LogRecord(const LogRecord& o) noexcept { CopyFrom(o); }
  LogRecord& operator=(const LogRecord& o) noexcept {
    if (this != &o) CopyFrom(o);
    return *this;
  }
  // Copies the fields and the used part of the storage only.
  void CopyFrom(const LogRecord& o) noexcept;

  // --- setters (what a bridge fills) ---
  void SetTimestamp(Timestamp t) noexcept { timestamp_ = t; }
  void SetObservedTimestamp(Timestamp t) noexcept { observed_ = t; }
  // Sets the number and, when `text` is empty, the range's name as text.
  void SetSeverity(Severity s, std::string_view text = {}) noexcept;
  // Body: a string (copied; truncated to what fits), or a scalar.
  void SetBody(std::string_view text) noexcept;
  void SetBody(const AttributeValue& value) noexcept;
  void SetBody(const char* text) noexcept { SetBody(std::string_view(text != nullptr ? text : "")); }
  void SetBody(const std::string& text) noexcept { SetBody(std::string_view(text)); }
  // A structured body (array or map; a scalar BodyValue sets that scalar).
  // Encoded into the storage; what does not fit is left out. (A template
  // only so that SetBody(42) still picks the AttributeValue overload.)
  template <typename B>
    requires std::same_as<B, BodyValue>
  void SetBody(const B& value) noexcept {
    SetStructuredBody(value);
  }
  void SetStructuredBody(const BodyValue& value) noexcept;
  void SetEventName(std::string_view name) noexcept;
  // Adds an attribute (keys are not de-duplicated: bridges add distinct
  // keys). Returns false when it was dropped (limit, storage, array type).
  bool AddAttribute(std::string_view key, const AttributeValue& value) noexcept;
  // The trace context the record belongs to. Unset, Logger::Emit stamps the
  // emitting thread's current span context.
  void SetSpanContext(const SpanContext& sc) noexcept;
  void SetTraceContext(const TraceId& trace, const SpanId& span, TraceFlags flags) noexcept;
  // exception.type / exception.message (semantic conventions); added at
  // Emit unless the record already has attributes with those keys (user
  // attributes win, as the SDK specification asks).
  void SetException(std::string_view type, std::string_view message) noexcept;

  // --- getters (what processors and exporters read) ---
  Timestamp timestamp() const noexcept { return timestamp_; }
  Timestamp observed_timestamp() const noexcept { return observed_; }
  Severity severity() const noexcept { return severity_; }
  std::string_view severity_text() const noexcept { return {severity_text_, severity_text_len_}; }
  // The body as a value (type kNone when unset or structured); strings point
  // into the record.
  AttributeValue body() const noexcept;
  // An array or map body (SetBody(BodyValue)), read with BodyView.
  bool has_structured_body() const noexcept { return body_structured_; }
  BodyView structured_body() const noexcept { return BodyView(storage_ + body_off_); }
  std::string_view event_name() const noexcept { return Str(event_off_, event_len_); }
  size_t attribute_count() const noexcept { return attr_count_; }
  KeyValue attribute(size_t i) const noexcept;
  // Attribute value by key (type kNone when absent).
  AttributeValue FindAttribute(std::string_view key) const noexcept;
  uint32_t dropped_attributes_count() const noexcept { return dropped_attrs_; }
  const TraceId& trace_id() const noexcept { return trace_id_; }
  const SpanId& span_id() const noexcept { return span_id_; }
  TraceFlags trace_flags() const noexcept { return flags_; }
  bool has_span_context() const noexcept { return context_set_; }
  const InstrumentationScope* scope() const noexcept { return scope_; }
  const Resource* resource() const noexcept { return resource_; }

  // Set by the Logger.
  void SetScope(const InstrumentationScope* scope, const Resource* resource) noexcept {
    scope_ = scope;
    resource_ = resource;
  }
  // Adds the pending exception.* attributes (Logger::Emit calls it).
  void ApplyException() noexcept;

 private:
  struct Attr {
    uint16_t key_off, key_len;
    AttributeType type;
    uint8_t reserved;
    uint16_t str_off;
    union {
      bool b;
      int64_t i;
      double d;
      uint32_t str_len;
    };
  };
  std::string_view Str(uint16_t off, uint32_t len) const noexcept { return {storage_ + off, len}; }
  // Copies up to `max` bytes of s into the storage (at a UTF-8 boundary when
  // cut); returns the copied length, and the offset in *off.
  uint32_t Store(std::string_view s, uint32_t max, uint16_t* off) noexcept;
  // Appends the encoding of `v` (BodyView's format); false (and nothing
  // appended) when not even its header fits.
  bool EncodeBody(const BodyValue& v, int depth) noexcept;
  bool Put(const void* p, size_t n) noexcept;

  Timestamp timestamp_{};
  Timestamp observed_{};
  TraceId trace_id_{};
  SpanId span_id_{};
  TraceFlags flags_{};
  bool context_set_ = false;
  Severity severity_ = Severity::kUnspecified;
  uint8_t severity_text_len_ = 0;
  char severity_text_[14];
  AttributeType body_type_ = AttributeType::kNone;
  bool body_structured_ = false;
  uint16_t body_off_ = 0;
  uint32_t body_len_ = 0;
  union {
    bool body_b_;
    int64_t body_i_ = 0;
    double body_d_;
  };
  uint16_t event_off_ = 0, event_len_ = 0;
  uint16_t exc_type_off_ = 0, exc_type_len_ = 0, exc_msg_off_ = 0, exc_msg_len_ = 0;
  bool exc_pending_ = false;
  uint16_t attr_count_ = 0;
  uint16_t max_attrs_;
  uint32_t max_value_len_;
  uint32_t dropped_attrs_ = 0;
  uint32_t used_ = 0;
  const InstrumentationScope* scope_ = nullptr;
  const Resource* resource_ = nullptr;
  Attr attrs_[kMaxAttributes];
  char storage_[kStorageBytes];
};

}  // namespace otelweb::logs
