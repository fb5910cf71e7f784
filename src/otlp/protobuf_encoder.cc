// OTLP protobuf wire format written straight from span data.
//
// Nested messages are length-prefixed. Instead of computing every size first
// (a second walk over the span), each message reserves the number of length
// bytes its size usually needs, is written in place, and its length is filled
// in at the end; in the rare case the guess was wrong the body is moved by the
// difference. The output buffer and scratch space are kept between batches,
// so steady-state encoding allocates nothing.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "otelweb/otlp/exporter.h"
#include "otelweb/resource.h"
#include "otelweb/trace/tracer_provider.h"
#include "core/utf8.h"
#include "otlp/wire.h"

namespace otelweb::otlp {

namespace {

using internal::WireBuffer;

// Field tags (field number << 3 | wire type) of the OTLP messages.
enum : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kFixed32 = 5,
};
constexpr uint32_t Tag(uint32_t field, uint32_t type) { return (field << 3) | type; }

// OTLP span flags: W3C flags in the low byte, bit 8 "is-remote is known",
// bit 9 "is remote".
inline uint32_t OtlpFlags(uint8_t w3c, bool remote) {
  return w3c | 0x100u | (remote ? 0x200u : 0u);
}

// Prefetching of span records. Pointers to protected members taken in a
// derived class are the one legal way to read SpanData's storage addresses
// without touching the (cold) memory they point at.
struct Peek : SpanData {
  static void Lines(const void* p, size_t bytes) noexcept {
    const char* c = static_cast<const char*>(p);
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(c + off);
  }
  static void Record(const SpanData& s) noexcept { Lines(&s, sizeof(SpanData)); }
  static void Slots(const SpanData& s) noexcept {
    constexpr auto attrs = &Peek::attrs_;
    const auto& v = s.*attrs;
    Lines(v.data(), v.size() * sizeof(v[0]));
  }
  static const std::vector<otelweb::internal::AttrSlot>& SlotsOf(const SpanData& s) noexcept {
    constexpr auto attrs = &Peek::attrs_;
    return s.*attrs;
  }
  static const char* ArenaOf(const SpanData& s) noexcept {
    constexpr auto arena = &Peek::arena_;
    return (s.*arena).data();
  }
  static void Bytes(const SpanData& s) noexcept {
    constexpr auto arena = &Peek::arena_;
    const otelweb::internal::Arena& a = s.*arena;
    Lines(a.data(), std::min<size_t>(a.size(), 2048));
  }
};

}  // namespace

struct ProtobufEncoder::Impl {
  WireBuffer b;
  std::string scratch;  // UTF-8 repair
  struct Group {
    const Resource* resource;
    const InstrumentationScope* scope;
  };
  std::vector<Group> groups;
  std::vector<const SpanData*> spans;  // the batch's records, looked up once

  // A string field. ASCII (the common case) is checked while it is copied
  // (internal::CopyAndOr), and the write is committed only if it was ASCII;
  // otherwise the bytes are validated as UTF-8 and repaired when invalid.
  [[gnu::always_inline]] void String(uint32_t tag, std::string_view s) {
    if (__builtin_expect(tag < 0x80 && s.size() < 0x80, 1)) {
      char* p = b.Tail(s.size() + 2);
      p[0] = static_cast<char>(tag);
      p[1] = static_cast<char>(s.size());
      if ((internal::CopyAndOr(p + 2, s.data(), s.size()) & internal::kNonAsciiBits) == 0) {
        b.Commit(p + 2 + s.size());
        return;
      }
    }
    StringSlow(tag, s);
  }
  [[gnu::noinline]] void StringSlow(uint32_t tag, std::string_view s) {
    if (internal::IsAscii(s) || IsValidUtf8(s)) {
      b.LenField(tag, s.data(), s.size());
    } else {
      scratch.clear();
      AppendSanitizedUtf8(scratch, s);
      b.LenField(tag, scratch.data(), scratch.size());
    }
  }
  // A string field omitted when empty (proto3 default).
  void OptString(uint32_t tag, std::string_view s) {
    if (!s.empty()) String(tag, s);
  }
  void OptUint(uint32_t tag, uint64_t v) {
    if (v != 0) {
      b.Varint(tag);
      b.Varint(v);
    }
  }

  // AnyValue scalars (always written: the oneof records which one is set).
  void AnyBool(bool v) {
    b.Varint(Tag(2, kVarint));
    b.Varint(v ? 1 : 0);
  }
  void AnyInt(int64_t v) {
    b.Varint(Tag(3, kVarint));
    b.Varint(static_cast<uint64_t>(v));
  }
  void AnyDouble(double v) {
    b.Varint(Tag(4, kFixed64));
    uint64_t u;
    std::memcpy(&u, &v, 8);
    b.Fixed64(u);
  }
  void AnyString(std::string_view v) { String(Tag(1, kLen), v); }

  // Writes `field` = AnyValue from an AttributeView.
  void ValueView(uint32_t tag, const AttributeView& v) {
    size_t any = b.Begin(tag, 1);
    switch (v.type()) {
      case AttributeType::kBool:
        AnyBool(v.as_bool());
        break;
      case AttributeType::kInt:
        AnyInt(v.as_int());
        break;
      case AttributeType::kDouble:
        AnyDouble(v.as_double());
        break;
      case AttributeType::kString:
        AnyString(v.as_string());
        break;
      case AttributeType::kNone:
        break;
      default: {
        size_t arr = b.Begin(Tag(5, kLen), 1);
        for (uint32_t i = 0; i < v.array_size(); ++i) {
          size_t el = b.Begin(Tag(1, kLen), 1);
          switch (v.type()) {
            case AttributeType::kBoolArray:
              AnyBool(v.bool_at(i));
              break;
            case AttributeType::kIntArray:
              AnyInt(v.int_at(i));
              break;
            case AttributeType::kDoubleArray:
              AnyDouble(v.double_at(i));
              break;
            case AttributeType::kStringArray:
              AnyString(v.string_at(i));
              break;
            default:
              break;
          }
          b.End(el, 1);
        }
        b.End(arr, 1);
      }
    }
    b.End(any, 1);
  }

  // One scalar attribute with sizes computed up front and written in one go;
  // key and string value are checked for ASCII as they are copied. False
  // (nothing committed: the caller writes the attribute again at the same
  // place through the UTF-8 checking path) when either is not ASCII.
  [[gnu::always_inline]] bool ScalarKeyValue(uint32_t tag, const otelweb::internal::AttrSlot& a,
                                             const char* base) {
    const char* key = base + a.key_off;
    const size_t key_len = a.key_len;
    const char* str = nullptr;
    size_t str_len = 0;
    size_t any_len;
    switch (a.type) {
      case AttributeType::kBool:
        any_len = 2;
        break;
      case AttributeType::kInt:
        any_len = 1 + internal::VarintSize(static_cast<uint64_t>(a.v.i));
        break;
      case AttributeType::kDouble:
        any_len = 9;
        break;
      default:
        str = base + a.v.r.off;
        str_len = a.v.r.len;
        any_len = 1 + internal::VarintSize(str_len) + str_len;
    }
    size_t kv_len =
        1 + internal::VarintSize(key_len) + key_len + 1 + internal::VarintSize(any_len) + any_len;
    char* p = b.Tail(kv_len + 16);
    p = WireBuffer::PutVarint(p, tag);
    p = WireBuffer::PutVarint(p, kv_len);
    *p++ = static_cast<char>(Tag(1, kLen));
    p = WireBuffer::PutVarint(p, key_len);
    uint64_t seen = internal::CopyAndOr(p, key, key_len);
    p += key_len;
    *p++ = static_cast<char>(Tag(2, kLen));
    p = WireBuffer::PutVarint(p, any_len);
    switch (a.type) {
      case AttributeType::kBool:
        *p++ = static_cast<char>(Tag(2, kVarint));
        *p++ = a.v.b ? 1 : 0;
        break;
      case AttributeType::kInt:
        *p++ = static_cast<char>(Tag(3, kVarint));
        p = WireBuffer::PutVarint(p, static_cast<uint64_t>(a.v.i));
        break;
      case AttributeType::kDouble:
        *p++ = static_cast<char>(Tag(4, kFixed64));
        std::memcpy(p, &a.v.d, 8);
        p += 8;
        break;
      default:
        *p++ = static_cast<char>(Tag(1, kLen));
        p = WireBuffer::PutVarint(p, str_len);
        seen |= internal::CopyAndOr(p, str, str_len);
        p += str_len;
    }
    if (__builtin_expect((seen & internal::kNonAsciiBits) != 0, 0)) return false;
    b.Commit(p);
    return true;
  }

  void KeyValueView(uint32_t tag, const AttributeView& v) {
    size_t kv = b.Begin(tag, 1);
    String(Tag(1, kLen), v.key());
    ValueView(Tag(2, kLen), v);
    b.End(kv, 1);
  }

  void KeyValueOwned(uint32_t tag, const OwnedKeyValue& kv) {
    size_t m = b.Begin(tag, 1);
    String(Tag(1, kLen), kv.key);
    const OwnedValue& v = kv.value;
    size_t any = b.Begin(Tag(2, kLen), 1);
    switch (v.type) {
      case AttributeType::kBool:
        AnyBool(v.b);
        break;
      case AttributeType::kInt:
        AnyInt(v.i);
        break;
      case AttributeType::kDouble:
        AnyDouble(v.d);
        break;
      case AttributeType::kString:
        AnyString(v.s);
        break;
      case AttributeType::kNone:
        break;
      default: {
        size_t arr = b.Begin(Tag(5, kLen), 1);
        auto el = [&](auto&& write) {
          size_t e = b.Begin(Tag(1, kLen), 1);
          write();
          b.End(e, 1);
        };
        for (bool x : v.bools) el([&] { AnyBool(x); });
        for (int64_t x : v.ints) el([&] { AnyInt(x); });
        for (double x : v.doubles) el([&] { AnyDouble(x); });
        for (const std::string& x : v.strings) el([&] { AnyString(x); });
        b.End(arr, 1);
      }
    }
    b.End(any, 1);
    b.End(m, 1);
  }

  // Span fields 1-8 (ids, trace state, parent, name, kind, times).
  [[gnu::noinline]] void SpanHeadSlow(const SpanData& s) {
    b.LenField(Tag(1, kLen), s.trace_id().bytes().data(), 16);
    b.LenField(Tag(2, kLen), s.span_id().bytes().data(), 8);
    OptString(Tag(3, kLen), s.context().trace_state().header());
    if (s.parent_span_id().IsValid())
      b.LenField(Tag(4, kLen), s.parent_span_id().bytes().data(), 8);
    String(Tag(5, kLen), s.name());
    b.Varint(Tag(6, kVarint));
    b.Varint(static_cast<uint32_t>(s.kind()));
    b.Varint(Tag(7, kFixed64));
    b.Fixed64(static_cast<uint64_t>(s.start_ns()));
    b.Varint(Tag(8, kFixed64));
    b.Fixed64(static_cast<uint64_t>(s.end_ns()));
  }

  // The same fields with one reserve and raw stores, for the usual span: no
  // trace state, an ASCII name under 128 bytes. False (nothing committed:
  // SpanHeadSlow writes them at the same place) otherwise.
  [[gnu::always_inline]] bool SpanHeadFast(const SpanData& s) {
    const std::string_view name = s.name();
    if (!s.context().trace_state().header().empty() || name.size() >= 0x80) return false;
    char* p = b.Tail(80 + name.size());
    p[0] = static_cast<char>(Tag(1, kLen));
    p[1] = 16;
    std::memcpy(p + 2, s.trace_id().bytes().data(), 16);
    p[18] = static_cast<char>(Tag(2, kLen));
    p[19] = 8;
    std::memcpy(p + 20, s.span_id().bytes().data(), 8);
    p += 28;
    if (s.parent_span_id().IsValid()) {
      p[0] = static_cast<char>(Tag(4, kLen));
      p[1] = 8;
      std::memcpy(p + 2, s.parent_span_id().bytes().data(), 8);
      p += 10;
    }
    p[0] = static_cast<char>(Tag(5, kLen));
    p[1] = static_cast<char>(name.size());
    const uint64_t seen = internal::CopyAndOr(p + 2, name.data(), name.size());
    if (__builtin_expect((seen & internal::kNonAsciiBits) != 0, 0)) return false;
    p += 2 + name.size();
    const uint32_t kind = static_cast<uint32_t>(s.kind());
    if (kind >= 0x80) return false;  // never (SpanKind is 1-5), but then one byte is right
    p[0] = static_cast<char>(Tag(6, kVarint));
    p[1] = static_cast<char>(kind);
    p[2] = static_cast<char>(Tag(7, kFixed64));
    const uint64_t start_ns = static_cast<uint64_t>(s.start_ns());
    const uint64_t end_ns = static_cast<uint64_t>(s.end_ns());
    std::memcpy(p + 3, &start_ns, 8);
    p[11] = static_cast<char>(Tag(8, kFixed64));
    std::memcpy(p + 12, &end_ns, 8);
    b.Commit(p + 20);
    return true;
  }

  void SpanMsg(const SpanData& s) {
    size_t m = b.Begin(Tag(2, kLen), 2);
    if (!SpanHeadFast(s)) SpanHeadSlow(s);
    {
      // Scalars straight from the span's attribute slots (the hot case);
      // arrays through the public view.
      const auto& slots = Peek::SlotsOf(s);
      const char* base = Peek::ArenaOf(s);
      for (size_t i = 0, n = slots.size(); i < n; ++i) {
        const otelweb::internal::AttrSlot& a = slots[i];
        if (a.type >= AttributeType::kBoolArray || a.type == AttributeType::kNone) {
          KeyValueView(Tag(9, kLen), s.attribute(i));
          continue;
        }
        if (!ScalarKeyValue(Tag(9, kLen), a, base)) KeyValueView(Tag(9, kLen), s.attribute(i));
      }
    }
    OptUint(Tag(10, kVarint), s.dropped_attributes());
    for (size_t e = 0, n = s.event_count(); e < n; ++e) {
      size_t ev = b.Begin(Tag(11, kLen), 2);
      b.Varint(Tag(1, kFixed64));
      b.Fixed64(static_cast<uint64_t>(s.event_time_ns(e)));
      String(Tag(2, kLen), s.event_name(e));
      for (size_t j = 0, k = s.event_attribute_count(e); j < k; ++j) {
        KeyValueView(Tag(3, kLen), s.event_attribute(e, j));
      }
      OptUint(Tag(4, kVarint), s.event_dropped_attributes(e));
      b.End(ev, 2);
    }
    OptUint(Tag(12, kVarint), s.dropped_events());
    for (size_t l = 0, n = s.link_count(); l < n; ++l) {
      const SpanContext& lc = s.link_context(l);
      size_t lk = b.Begin(Tag(13, kLen), 2);
      b.LenField(Tag(1, kLen), lc.trace_id().bytes().data(), 16);
      b.LenField(Tag(2, kLen), lc.span_id().bytes().data(), 8);
      OptString(Tag(3, kLen), lc.trace_state().header());
      for (size_t j = 0, k = s.link_attribute_count(l); j < k; ++j) {
        KeyValueView(Tag(4, kLen), s.link_attribute(l, j));
      }
      OptUint(Tag(5, kVarint), s.link_dropped_attributes(l));
      b.Varint(Tag(6, kFixed32));
      b.Fixed32(OtlpFlags(lc.flags().value, lc.is_remote()));
      b.End(lk, 2);
    }
    OptUint(Tag(14, kVarint), s.dropped_links());
    {  // always present, as in the JSON rendering
      size_t st = b.Begin(Tag(15, kLen), 1);
      OptString(Tag(2, kLen), s.status_description());
      OptUint(Tag(3, kVarint), static_cast<uint32_t>(s.status()));
      b.End(st, 1);
    }
    b.Varint(Tag(16, kFixed32));
    b.Fixed32(OtlpFlags(s.context().flags().value, s.parent_is_remote()));
    b.End(m, 2);
  }

  template <typename Get>
  std::string_view Run(size_t n, Get get) {
    b.Clear();
    groups.clear();
    // Each record is looked up once; the (resource, scope) groups in order of
    // first appearance.
    spans.resize(n);
    const Resource* last_r = nullptr;
    const InstrumentationScope* last_s = nullptr;
    for (size_t i = 0; i < n; ++i) {
      const SpanData& s = get(i);
      spans[i] = &s;
      if (&s.resource() == last_r && &s.scope() == last_s) continue;
      last_r = &s.resource();
      last_s = &s.scope();
      bool seen = false;
      for (const Group& g : groups) seen |= (g.resource == last_r && g.scope == last_s);
      if (!seen) groups.push_back({last_r, last_s});
    }
    const bool one_group = groups.size() == 1;
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const Resource* r = groups[gi].resource;
      bool first_of_resource = true;
      for (size_t k = 0; k < gi; ++k) first_of_resource &= (groups[k].resource != r);
      if (!first_of_resource) continue;
      size_t rs = b.Begin(Tag(1, kLen), 3);  // ResourceSpans
      size_t res = b.Begin(Tag(1, kLen), 2);
      for (const OwnedKeyValue& kv : r->attributes()) KeyValueOwned(Tag(1, kLen), kv);
      b.End(res, 2);
      for (size_t g = gi; g < groups.size(); ++g) {
        if (groups[g].resource != r) continue;
        const InstrumentationScope* sc = groups[g].scope;
        size_t ss = b.Begin(Tag(2, kLen), 3);  // ScopeSpans
        size_t scope = b.Begin(Tag(1, kLen), 1);
        OptString(Tag(1, kLen), sc->name);
        OptString(Tag(2, kLen), sc->version);
        b.End(scope, 1);
        for (size_t i = 0; i < n; ++i) {
          // Encoding is bound by reading span records the CPU has not seen
          // yet: fetch the next ones while this one is written.
          if (i + 3 < n) Peek::Record(*spans[i + 3]);
          if (i + 2 < n) Peek::Slots(*spans[i + 2]);
          if (i + 1 < n) Peek::Bytes(*spans[i + 1]);
          const SpanData& s = *spans[i];
          if (one_group || (&s.resource() == r && &s.scope() == sc)) SpanMsg(s);
        }
        OptString(Tag(3, kLen), sc->schema_url);
        b.End(ss, 3);
      }
      OptString(Tag(3, kLen), r->schema_url());
      b.End(rs, 3);
    }
    return b.View();
  }
};

ProtobufEncoder::ProtobufEncoder() : impl_(new Impl) {}
ProtobufEncoder::~ProtobufEncoder() = default;

const std::string& ProtobufEncoder::Encode(std::span<const SpanData* const> spans) {
  impl_->Run(spans.size(), [&](size_t i) -> const SpanData& { return *spans[i]; });
  return impl_->b.Finish();
}

const std::string& ProtobufEncoder::Encode(std::span<const EndedSpan> spans) {
  impl_->Run(spans.size(), [&](size_t i) -> const SpanData& { return *spans[i]; });
  return impl_->b.Finish();
}

std::string_view ProtobufEncoder::EncodeView(std::span<const SpanData* const> spans) {
  return impl_->Run(spans.size(), [&](size_t i) -> const SpanData& { return *spans[i]; });
}

std::string_view ProtobufEncoder::EncodeView(std::span<const EndedSpan> spans) {
  return impl_->Run(spans.size(), [&](size_t i) -> const SpanData& { return *spans[i]; });
}

}  // namespace otelweb::otlp
