// The read-only view of an ended span that processors and exporters receive,
// and EndedSpan, the move-only handle that owns it until it is released.
//
// Ownership: SpanData storage is pooled by the SDK. An EndedSpan owns one
// reference to it; destroying (or Release()-ing) the handle gives the storage
// back to the pool of the thread that created the span. Views (strings,
// attributes) taken from a SpanData are valid while the EndedSpan is.
// Thread-safety: an ended span is immutable; reading it from several threads
// is safe. An EndedSpan handle itself is not to be shared without a lock.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "otelweb/attribute.h"
#include "otelweb/common.h"
#include "otelweb/trace/span.h"
#include "otelweb/trace/span_context.h"

namespace otelweb {

class Resource;
struct InstrumentationScope;

namespace internal {

// Storage of one stored attribute: key and string/array bytes live in the
// span's arena and are addressed by offset, so the arena can grow without
// invalidating anything.
struct AttrSlot {
  uint64_t key_prefix;  // first up to 8 key bytes, for quick compares
  uint32_t key_off;
  uint16_t key_len;
  AttributeType type;
  uint8_t reserved;
  union {
    bool b;
    int64_t i;
    double d;
    struct {
      uint32_t off;
      uint32_t len;  // bytes for strings, elements for arrays
    } r;
  } v;
};
static_assert(sizeof(AttrSlot) == 24);

// A growable byte buffer that keeps its capacity across reuse.
class Arena {
 public:
  Arena() noexcept = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() { Release(); }
  const char* data() const noexcept { return data_; }
  uint32_t size() const noexcept { return size_; }
  uint32_t capacity() const noexcept { return cap_; }
  // Frees the storage (the next Append allocates anew).
  void Release() noexcept;
  void clear() noexcept { size_ = 0; }
  // Appends bytes; returns their offset. Returns UINT32_MAX if the arena
  // would pass 4 GiB or memory runs out (the caller drops the value).
  uint32_t Append(const void* p, size_t n, size_t align = 1) noexcept {
    size_t off = (size_t(size_) + align - 1) & ~(align - 1);
    size_t need = off + n;
    if (need > cap_ && !Grow(need)) return UINT32_MAX;
    if (n != 0 && p != nullptr) std::memcpy(data_ + off, p, n);
    size_ = static_cast<uint32_t>(need);
    return static_cast<uint32_t>(off);
  }
  char* At(uint32_t off) noexcept { return data_ + off; }

 private:
  bool Grow(size_t need) noexcept;
  char* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t cap_ = 0;
};

struct EventRec {
  int64_t time_ns;
  uint32_t name_off, name_len;
  uint32_t attr_begin, attr_end;  // range in event_attrs
  uint32_t dropped_attrs;
};

struct LinkRec {
  SpanContext context;
  uint32_t attr_begin, attr_end;  // range in link_attrs
  uint32_t dropped_attrs;
};

struct TracerCore;
struct RecordPool;

}  // namespace internal

// Read-only view of a span. Obtained from EndedSpan (ended spans) or, in
// SpanProcessor::OnStart, for a span that has just started.
class SpanData {
 public:
  const SpanContext& context() const noexcept { return context_; }
  const TraceId& trace_id() const noexcept { return context_.trace_id(); }
  const SpanId& span_id() const noexcept { return context_.span_id(); }
  // Invalid (all zero) for a root span.
  const SpanId& parent_span_id() const noexcept { return parent_span_id_; }
  bool parent_is_remote() const noexcept { return parent_remote_; }
  std::string_view name() const noexcept { return {arena_.data() + name_off_, name_len_}; }
  SpanKind kind() const noexcept { return kind_; }
  StatusCode status() const noexcept { return status_; }
  std::string_view status_description() const noexcept {
    return {arena_.data() + status_off_, status_len_};
  }
  Timestamp start_time() const noexcept { return Timestamp(std::chrono::nanoseconds(start_ns_)); }
  Timestamp end_time() const noexcept { return Timestamp(std::chrono::nanoseconds(end_ns_)); }
  int64_t start_ns() const noexcept { return start_ns_; }
  int64_t end_ns() const noexcept { return end_ns_; }

  size_t attribute_count() const noexcept { return attrs_.size(); }
  AttributeView attribute(size_t i) const noexcept;
  // The attribute with this key, if any (a linear search).
  bool FindAttribute(std::string_view key, AttributeView* out) const noexcept;
  uint32_t dropped_attributes() const noexcept { return dropped_attrs_; }

  size_t event_count() const noexcept { return events_.size(); }
  Timestamp event_time(size_t i) const noexcept;
  int64_t event_time_ns(size_t i) const noexcept { return events_[i].time_ns; }
  std::string_view event_name(size_t i) const noexcept;
  size_t event_attribute_count(size_t i) const noexcept;
  AttributeView event_attribute(size_t i, size_t j) const noexcept;
  uint32_t event_dropped_attributes(size_t i) const noexcept { return events_[i].dropped_attrs; }
  uint32_t dropped_events() const noexcept { return dropped_events_; }

  size_t link_count() const noexcept { return links_.size(); }
  const SpanContext& link_context(size_t i) const noexcept { return links_[i].context; }
  size_t link_attribute_count(size_t i) const noexcept;
  AttributeView link_attribute(size_t i, size_t j) const noexcept;
  uint32_t link_dropped_attributes(size_t i) const noexcept { return links_[i].dropped_attrs; }
  uint32_t dropped_links() const noexcept { return dropped_links_; }

  const Resource& resource() const noexcept;
  const InstrumentationScope& scope() const noexcept;

 protected:
  SpanData() = default;
  ~SpanData() = default;
  SpanData(const SpanData&) = delete;
  SpanData& operator=(const SpanData&) = delete;

  AttributeView MakeView(const internal::AttrSlot& s) const noexcept;

  SpanContext context_;
  SpanId parent_span_id_;
  bool parent_remote_ = false;
  SpanKind kind_ = SpanKind::kInternal;
  StatusCode status_ = StatusCode::kUnset;
  uint32_t name_off_ = 0, name_len_ = 0;
  uint32_t status_off_ = 0, status_len_ = 0;
  int64_t start_ns_ = 0, end_ns_ = 0;
  uint32_t dropped_attrs_ = 0, dropped_events_ = 0, dropped_links_ = 0;
  const internal::TracerCore* tracer_ = nullptr;
  std::vector<internal::AttrSlot> attrs_;
  std::vector<internal::EventRec> events_;
  std::vector<internal::AttrSlot> event_attrs_;
  std::vector<internal::LinkRec> links_;
  std::vector<internal::AttrSlot> link_attrs_;
  internal::Arena arena_;
};

// Owns one reference to an ended span's storage. Move-only.
class EndedSpan {
 public:
  EndedSpan() noexcept = default;
  explicit EndedSpan(internal::SpanRecord* rec) noexcept : rec_(rec) {}
  EndedSpan(EndedSpan&& o) noexcept : rec_(std::exchange(o.rec_, nullptr)) {}
  EndedSpan& operator=(EndedSpan&& o) noexcept {
    if (this != &o) {
      Release();
      rec_ = std::exchange(o.rec_, nullptr);
    }
    return *this;
  }
  EndedSpan(const EndedSpan&) = delete;
  EndedSpan& operator=(const EndedSpan&) = delete;
  ~EndedSpan() { Release(); }

  explicit operator bool() const noexcept { return rec_ != nullptr; }
  const SpanData& operator*() const noexcept;
  const SpanData* operator->() const noexcept { return &**this; }
  const SpanData* get() const noexcept;
  // Gives the storage back now (a no-op on an empty handle).
  void Release() noexcept;
  internal::SpanRecord* release_record() noexcept { return std::exchange(rec_, nullptr); }

 private:
  internal::SpanRecord* rec_ = nullptr;
};

}  // namespace otelweb
