// Span handles, attribute storage and the read-only SpanData view.

#include <cstdlib>
#include <cstring>
#include <new>
#include <typeinfo>

#include "core/internal.h"
#include "core/owned_attributes.h"
#include "otelweb/semconv.h"
#include "otelweb/diagnostics.h"
#include "otelweb/instrumentation.h"
#include "otelweb/trace/span.h"
#include "otelweb/trace/span_data.h"

namespace otelweb {
namespace internal {

// ---------------------------------------------------------------------------
// Arena

std::atomic<int64_t>& ArenaBytes() noexcept {
  static std::atomic<int64_t> bytes{0};
  return bytes;
}

void Arena::Release() noexcept {
  if (data_ == nullptr) return;
  ArenaBytes().fetch_sub(cap_, std::memory_order_relaxed);
  delete[] data_;
  data_ = nullptr;
  size_ = cap_ = 0;
}

bool Arena::Grow(size_t need) noexcept {
  size_t cap = cap_ == 0 ? 256 : cap_;
  while (cap < need) cap *= 2;
  if (cap > UINT32_MAX) {
    if (need > UINT32_MAX) return false;
    cap = UINT32_MAX;
  }
  char* d = new (std::nothrow) char[cap];
  if (d == nullptr) return false;
  if (size_ != 0) std::memcpy(d, data_, size_);
  delete[] data_;
  ArenaBytes().fetch_add(int64_t(cap) - int64_t(cap_), std::memory_order_relaxed);
  data_ = d;
  cap_ = static_cast<uint32_t>(cap);
  return true;
}

size_t Utf8Prefix(std::string_view s, size_t n) noexcept {
  if (s.size() <= n) return s.size();
  // Step back over continuation bytes so we cut before a character starts.
  size_t i = n;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  return i;
}

size_t Utf8PrefixCodePoints(std::string_view s, size_t n) noexcept {
  // The byte offset where code point n starts (values are valid UTF-8 here:
  // invalid sequences were repaired before). A string of at most n bytes has
  // at most n code points: callers only get here when it is longer.
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == n) return i;
      ++seen;
    }
  }
  return s.size();
}

namespace {

inline uint64_t KeyPrefix(std::string_view key) noexcept {
  uint64_t v = 0;
  if (key.size() >= 8) {
    std::memcpy(&v, key.data(), 8);  // one fixed-size load
  } else {
    for (size_t i = 0; i < key.size(); ++i) v |= uint64_t(static_cast<unsigned char>(key[i])) << (8 * i);
  }
  return v;
}

// Writes value bytes into the arena; false if memory ran out.
bool StoreValue(SpanRecord* r, AttrSlot& slot, const AttributeValue& v) noexcept {
  Arena& a = r->arena_;
  const uint32_t max_len = r->limits ? r->limits->attribute_value_length : SpanLimits::kUnlimited;
  slot.type = v.type();
  switch (v.type()) {
    case AttributeType::kNone:
      return false;
    case AttributeType::kBool:
      slot.v.b = v.as_bool();
      return true;
    case AttributeType::kInt:
      slot.v.i = v.as_int();
      return true;
    case AttributeType::kDouble:
      slot.v.d = v.as_double();
      return true;
    case AttributeType::kString: {
      std::string_view s = v.as_string();
      if (s.size() > max_len) s = s.substr(0, Utf8PrefixCodePoints(s, max_len));
      uint32_t off = a.Append(s.data(), s.size());
      if (off == UINT32_MAX) return false;
      slot.v.r = {off, static_cast<uint32_t>(s.size())};
      return true;
    }
    case AttributeType::kBoolArray: {
      auto arr = v.as_bool_array();
      uint32_t off = a.Append(arr.data(), arr.size());
      if (off == UINT32_MAX) return false;
      slot.v.r = {off, static_cast<uint32_t>(arr.size())};
      return true;
    }
    case AttributeType::kIntArray: {
      auto arr = v.as_int_array();
      uint32_t off = a.Append(arr.data(), arr.size() * 8, 8);
      if (off == UINT32_MAX) return false;
      slot.v.r = {off, static_cast<uint32_t>(arr.size())};
      return true;
    }
    case AttributeType::kDoubleArray: {
      auto arr = v.as_double_array();
      uint32_t off = a.Append(arr.data(), arr.size() * 8, 8);
      if (off == UINT32_MAX) return false;
      slot.v.r = {off, static_cast<uint32_t>(arr.size())};
      return true;
    }
    case AttributeType::kStringArray: {
      // Layout: n pairs of (offset, length) then the bytes.
      auto arr = v.as_string_array();
      const size_t n = arr.size();
      uint32_t table = a.Append(nullptr, n * 8, 4);
      if (table == UINT32_MAX) return false;
      for (size_t i = 0; i < n; ++i) {
        std::string_view s = arr[i];
        if (s.size() > max_len) s = s.substr(0, Utf8PrefixCodePoints(s, max_len));
        uint32_t off = a.Append(s.data(), s.size());
        if (off == UINT32_MAX) return false;
        uint32_t pair[2] = {off, static_cast<uint32_t>(s.size())};
        std::memcpy(a.At(table) + i * 8, pair, 8);
      }
      slot.v.r = {table, static_cast<uint32_t>(n)};
      return true;
    }
  }
  return false;
}

}  // namespace

void StoreAttribute(SpanRecord* r, std::vector<AttrSlot>& slots, uint32_t begin, uint32_t count_limit,
                    uint32_t* dropped, std::string_view key, const AttributeValue& value,
                    bool owned) noexcept {
  if (value.type() == AttributeType::kNone || key.empty() || key.size() > UINT16_MAX) return;
  const uint64_t prefix = KeyPrefix(key);
  // Span attributes keep a bloom bit per key: most keys are new, and a clear
  // bit proves it without scanning (event and link lists are short: scanned).
  const bool is_span_attrs = &slots == &r->attrs_;
  const uint64_t bit = uint64_t(1) << (((prefix ^ key.size()) * 0x9E3779B97F4A7C15ull) >> 58);
  const bool maybe_dup = !is_span_attrs || (r->key_bloom & bit) != 0;
  const char* base = r->arena_.data();
  for (size_t i = maybe_dup ? begin : slots.size(), n = slots.size(); i < n; ++i) {
    AttrSlot& s = slots[i];
    if (s.key_prefix == prefix && s.key_len == key.size() &&
        (key.size() <= 8 || std::memcmp(base + s.key_off, key.data(), key.size()) == 0)) {
      AttrSlot tmp = s;
      if (StoreValue(r, tmp, value)) s = tmp;
      return;
    }
  }
  if (slots.size() - begin >= count_limit) {
    // Full. An instrumentation's own attribute takes the place of the most
    // recent attribute that is not one (that one is counted as dropped), so
    // that captured headers and user attributes never push out http.route,
    // the status code or error.type.
    if (owned) {
      for (size_t i = slots.size(); i > begin; --i) {
        AttrSlot& victim = slots[i - 1];
        if (victim.reserved != 0) continue;
        AttrSlot s;
        s.key_prefix = prefix;
        s.key_len = static_cast<uint16_t>(key.size());
        s.reserved = 1;
        s.key_off = r->arena_.Append(key.data(), key.size());
        if (s.key_off == UINT32_MAX || !StoreValue(r, s, value)) break;
        victim = s;
        if (is_span_attrs) r->key_bloom |= bit;
        break;
      }
    }
    ++*dropped;
    return;
  }
  AttrSlot s;
  s.key_prefix = prefix;
  s.key_len = static_cast<uint16_t>(key.size());
  s.reserved = owned ? 1 : 0;
  s.key_off = r->arena_.Append(key.data(), key.size());
  if (s.key_off == UINT32_MAX || !StoreValue(r, s, value)) {
    ++*dropped;
    return;
  }
  try {
    slots.push_back(s);
    if (is_span_attrs) r->key_bloom |= bit;
  } catch (...) {
    ++*dropped;
  }
}

}  // namespace internal

using internal::SpanRecord;

namespace {

using internal::Arena;
using internal::AttrSlot;
using internal::CopyBytes;
using internal::KeyPrefix;
using internal::StoreAttribute;

// The common case of SpanRef::SetAttribute, inline: a key the span does not
// have yet (its bloom bit is clear), room in the list and in the arena, a
// scalar or a string within the value length limit. The key and value bytes
// go into the arena exactly as StoreAttribute puts them; anything else goes
// to StoreAttribute.
// `owned`: as StoreAttribute's (an instrumentation's own attribute).
[[gnu::always_inline]] inline void StoreSpanAttribute(SpanRecord* r, std::string_view key,
                                                      const AttributeValue& value,
                                                      bool owned = false) noexcept {
  const AttributeType type = value.type();
  const size_t klen = key.size();
  const uint64_t prefix = KeyPrefix(key);
  const uint64_t bit = uint64_t(1) << (((prefix ^ klen) * 0x9E3779B97F4A7C15ull) >> 58);
  std::vector<AttrSlot>& slots = r->attrs_;
  const SpanLimits* limits = r->limits;
  const size_t vlen = type == AttributeType::kString ? value.as_string().size() : 0;
  Arena& a = r->arena_;
  const size_t need = size_t(a.size()) + klen + vlen;
  if (type == AttributeType::kNone || type > AttributeType::kString || klen - 1 >= UINT16_MAX ||
      slots.size() >= limits->attribute_count || slots.size() == slots.capacity() ||
      vlen > limits->attribute_value_length || need > a.capacity()) [[unlikely]] {
    StoreAttribute(r, slots, 0, limits->attribute_count, &r->dropped_attrs_, key, value, owned);
    return;
  }
  if ((r->key_bloom & bit) != 0) {
    // The bit is shared with an earlier key (with ten keys, about every
    // other span has such a pair): a key whose first 8 bytes and length
    // match no slot is still new; otherwise StoreAttribute compares in full.
    for (const AttrSlot& o : slots) {
      if (o.key_prefix == prefix && o.key_len == klen) [[unlikely]] {
        StoreAttribute(r, slots, 0, limits->attribute_count, &r->dropped_attrs_, key, value, owned);
        return;
      }
    }
  }
  AttrSlot s;
  s.key_prefix = prefix;
  s.key_len = static_cast<uint16_t>(klen);
  s.type = type;
  s.reserved = owned ? 1 : 0;
  s.key_off = a.Append(nullptr, klen);
  CopyBytes(a.At(s.key_off), key.data(), klen);
  switch (type) {
    case AttributeType::kBool:
      s.v.b = value.as_bool();
      break;
    case AttributeType::kInt:
      s.v.i = value.as_int();
      break;
    case AttributeType::kDouble:
      s.v.d = value.as_double();
      break;
    default: {
      const uint32_t off = a.Append(nullptr, vlen);
      CopyBytes(a.At(off), value.as_string().data(), vlen);
      s.v.r = {off, static_cast<uint32_t>(vlen)};
      break;
    }
  }
  slots.push_back(s);  // within capacity: cannot throw
  r->key_bloom |= bit;
}

}  // namespace

void internal::StoreOwnedSpanAttributes(SpanRecord* r, Attributes attrs) noexcept {
  for (const KeyValue& kv : attrs) StoreSpanAttribute(r, kv.key, kv.value, /*owned=*/true);
}

// ---------------------------------------------------------------------------
// SpanRef / Span

namespace {
inline SpanRecord* Live(SpanRecord* r, uint32_t gen) noexcept {
  return (r != nullptr && r->gen.load(std::memory_order_relaxed) == gen) ? r : nullptr;
}
}  // namespace

bool SpanRef::IsRecording() const noexcept { return Live(record_, gen_) != nullptr; }

void SpanRef::SetAttributeImpl(std::string_view key, AttributeValue value) noexcept {
  SpanRecord* r = Live(record_, gen_);
  if (r == nullptr) return;
  StoreSpanAttribute(r, key, value);
}

void SpanRef::SetAttributesImpl(Attributes attrs) noexcept {
  SpanRecord* r = Live(record_, gen_);
  if (r == nullptr) return;
  for (const KeyValue& kv : attrs) StoreSpanAttribute(r, kv.key, kv.value);
}

void SpanRef::AddEventImpl(std::string_view name, Attributes attrs, Timestamp ts) noexcept {
  SpanRecord* r = Live(record_, gen_);
  if (r == nullptr) return;
  if (r->events_.size() >= r->limits->event_count) {
    ++r->dropped_events_;
    return;
  }
  internal::EventRec e;
  e.time_ns = (ts.time_since_epoch().count() != 0 ? ts : Now()).time_since_epoch().count();
  e.name_off = r->arena_.Append(name.data(), name.size());
  if (e.name_off == UINT32_MAX) {
    ++r->dropped_events_;
    return;
  }
  e.name_len = static_cast<uint32_t>(name.size());
  e.attr_begin = static_cast<uint32_t>(r->event_attrs_.size());
  e.dropped_attrs = 0;
  r->has_events_or_links = true;  // before anything is kept: Clear must see it
  for (const KeyValue& kv : attrs) {
    internal::StoreAttribute(r, r->event_attrs_, e.attr_begin, r->limits->attributes_per_event,
                             &e.dropped_attrs, kv.key, kv.value);
  }
  e.attr_end = static_cast<uint32_t>(r->event_attrs_.size());
  try {
    r->events_.push_back(e);
  } catch (...) {
    ++r->dropped_events_;
  }
}

namespace internal {
void AddLinkTo(SpanRecord* r, const SpanContext& ctx, Attributes attrs) noexcept {
  if (!ctx.IsValid()) return;
  if (r->links_.size() >= r->limits->link_count) {
    ++r->dropped_links_;
    return;
  }
  r->has_events_or_links = true;
  try {
    LinkRec l{ctx, static_cast<uint32_t>(r->link_attrs_.size()), 0, 0};
    for (const KeyValue& kv : attrs) {
      StoreAttribute(r, r->link_attrs_, l.attr_begin, r->limits->attributes_per_link, &l.dropped_attrs,
                     kv.key, kv.value);
    }
    l.attr_end = static_cast<uint32_t>(r->link_attrs_.size());
    r->links_.push_back(std::move(l));
  } catch (...) {
    ++r->dropped_links_;
  }
}
}  // namespace internal

void SpanRef::AddLinkImpl(const SpanContext& ctx, Attributes attrs) noexcept {
  SpanRecord* r = Live(record_, gen_);
  if (r != nullptr) internal::AddLinkTo(r, ctx, attrs);
}

void SpanRef::SetStatusImpl(StatusCode code, std::string_view description) noexcept {
  SpanRecord* r = Live(record_, gen_);
  if (r == nullptr || code == StatusCode::kUnset || r->status_ == StatusCode::kOk) return;
  r->status_ = code;
  r->status_off_ = r->status_len_ = 0;
  if (code == StatusCode::kError && !description.empty()) {
    uint32_t off = r->arena_.Append(description.data(), description.size());
    if (off != UINT32_MAX) {
      r->status_off_ = off;
      r->status_len_ = static_cast<uint32_t>(description.size());
    }
  }
}

void SpanRef::UpdateNameImpl(std::string_view name) noexcept {
  SpanRecord* r = Live(record_, gen_);
  if (r == nullptr) return;
  uint32_t off = r->arena_.Append(name.data(), name.size());
  if (off == UINT32_MAX) return;
  r->name_off_ = off;
  r->name_len_ = static_cast<uint32_t>(name.size());
}

void SpanRef::RecordException(std::string_view type, std::string_view message,
                              Attributes extra) noexcept {
  if (!IsRecording()) return;
  KeyValue buf[16];
  size_t n = 0;
  buf[n++] = {semconv::kExceptionType, type};
  buf[n++] = {semconv::kExceptionMessage, message};
  for (const KeyValue& kv : extra) {
    if (n == 16) break;
    buf[n++] = kv;
  }
  AddEventImpl("exception", Attributes(buf, n), {});
}

void SpanRef::RecordException(const std::exception& e, Attributes extra) noexcept {
  if (!IsRecording()) return;
  std::string type = instrumentation::TypeName(typeid(e));
  RecordException(type.empty() ? std::string_view("std::exception") : std::string_view(type),
                  e.what(), extra);
}

void SpanRef::RecordCurrentException(Attributes extra) noexcept {
  if (!IsRecording()) return;
  std::exception_ptr p = std::current_exception();
  if (!p) return;
  try {
    std::rethrow_exception(p);
  } catch (const std::exception& e) {
    RecordException(e, extra);
  } catch (...) {
    RecordException(instrumentation::CurrentExceptionTypeName(), "", extra);
  }
}

Context SpanRef::AsContext(const Context& base) const noexcept {
  return internal::ContextAccess::Make(context_, record_, gen_, base);
}

void Span::EndImpl(Timestamp end_time) noexcept {
  SpanRecord* r = record_;
  record_ = nullptr;
  if (r->gen.load(std::memory_order_relaxed) != gen_) return;
  if (end_time.time_since_epoch().count() != 0) {
    r->end_ns_ = end_time.time_since_epoch().count();
    if (r->end_ns_ < r->start_ns_) r->end_ns_ = r->start_ns_;
  } else {
    r->end_ns_ = internal::SpanEndNs(r->start_ns_, r->start_tsc);
  }
  r->gen.store(gen_ + 1, std::memory_order_relaxed);
  internal::ThreadState& ts = internal::State();
  ts.counters->Bump(ts.counters->ended);
  internal::ProcessorList* pl = r->tracer_->provider->processors.load(std::memory_order_acquire);
  const size_t n = pl ? pl->all.size() : 0;
  if (n == 0) {
    internal::RecycleRecord(r);
    return;
  }
  r->refs.store(static_cast<uint32_t>(n), std::memory_order_relaxed);
  if (n == 1) {
    pl->all[0]->OnEnd(EndedSpan(r));
    return;
  }
  for (SpanProcessor* p : pl->all) p->OnEnd(EndedSpan(r));
}

SpanRef GetCurrentSpan() noexcept { return internal::CurrentContextRef().span(); }

// ---------------------------------------------------------------------------
// EndedSpan

const SpanData& EndedSpan::operator*() const noexcept { return *rec_; }
const SpanData* EndedSpan::get() const noexcept { return rec_; }
void EndedSpan::Release() noexcept {
  if (rec_ != nullptr) internal::UnrefRecord(std::exchange(rec_, nullptr));
}

// ---------------------------------------------------------------------------
// SpanData

struct AttributeViewAccess {
  static AttributeView Make(const internal::AttrSlot& s, const char* base) noexcept {
    AttributeView v;
    v.key_ = std::string_view(base + s.key_off, s.key_len);
    v.base_ = base;
    v.type_ = s.type;
    switch (s.type) {
      case AttributeType::kBool: v.b_ = s.v.b; break;
      case AttributeType::kInt: v.i_ = s.v.i; break;
      case AttributeType::kDouble: v.d_ = s.v.d; break;
      default:
        v.off_ = s.v.r.off;
        v.len_ = s.v.r.len;
        break;
    }
    return v;
  }
};

AttributeView SpanData::MakeView(const internal::AttrSlot& s) const noexcept {
  return AttributeViewAccess::Make(s, arena_.data());
}

AttributeView SpanData::attribute(size_t i) const noexcept { return MakeView(attrs_[i]); }

bool SpanData::FindAttribute(std::string_view key, AttributeView* out) const noexcept {
  for (const auto& s : attrs_) {
    if (s.key_len == key.size() && std::memcmp(arena_.data() + s.key_off, key.data(), key.size()) == 0) {
      if (out) *out = MakeView(s);
      return true;
    }
  }
  return false;
}

Timestamp SpanData::event_time(size_t i) const noexcept {
  return Timestamp(std::chrono::nanoseconds(events_[i].time_ns));
}
std::string_view SpanData::event_name(size_t i) const noexcept {
  return {arena_.data() + events_[i].name_off, events_[i].name_len};
}
size_t SpanData::event_attribute_count(size_t i) const noexcept {
  return events_[i].attr_end - events_[i].attr_begin;
}
AttributeView SpanData::event_attribute(size_t i, size_t j) const noexcept {
  return MakeView(event_attrs_[events_[i].attr_begin + j]);
}
size_t SpanData::link_attribute_count(size_t i) const noexcept {
  return links_[i].attr_end - links_[i].attr_begin;
}
AttributeView SpanData::link_attribute(size_t i, size_t j) const noexcept {
  return MakeView(link_attrs_[links_[i].attr_begin + j]);
}
const Resource& SpanData::resource() const noexcept { return tracer_->provider->resource; }
const InstrumentationScope& SpanData::scope() const noexcept { return tracer_->scope; }

}  // namespace otelweb
