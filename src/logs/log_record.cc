// LogRecord: fixed-capacity storage, limits, severity names.
#include "otelweb/logs/log_record.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/config.h"
#include "otelweb/semconv.h"

namespace otelweb::logs {

std::string_view SeverityName(Severity s) noexcept {
  static constexpr std::string_view kNames[25] = {
      "",      "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2", "DEBUG3", "DEBUG4",
      "INFO",  "INFO2", "INFO3",  "INFO4",  "WARN",   "WARN2", "WARN3",  "WARN4",  "ERROR",
      "ERROR2", "ERROR3", "ERROR4", "FATAL", "FATAL2", "FATAL3", "FATAL4"};
  const auto i = static_cast<size_t>(s);
  return i < 25 ? kNames[i] : std::string_view();
}

LogRecordLimits ResolveLogRecordLimits(const LogRecordLimitsOptions& o) {
  LogRecordLimits l;
  if (o.attribute_count_limit) {
    l.attribute_count_limit = static_cast<uint16_t>(std::min<uint32_t>(*o.attribute_count_limit,
                                                                       LogRecord::kMaxAttributes));
  } else if (auto v = config::GetInt("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", 0, INT32_MAX)) {
    l.attribute_count_limit = static_cast<uint16_t>(std::min<int64_t>(*v, LogRecord::kMaxAttributes));
  }
  if (o.attribute_value_length_limit) {
    l.attribute_value_length_limit = *o.attribute_value_length_limit;
  } else if (auto v = config::GetInt("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", 0, INT32_MAX)) {
    l.attribute_value_length_limit = static_cast<uint32_t>(*v);
  }
  return l;
}

LogRecord::LogRecord(const LogRecordLimits& limits) noexcept
    : max_attrs_(limits.attribute_count_limit), max_value_len_(limits.attribute_value_length_limit) {}

void LogRecord::CopyFrom(const LogRecord& o) noexcept {
  // Everything up to the attribute array is plain data; then the used
  // attributes and the used storage bytes only.
  std::memcpy(static_cast<void*>(this), &o, offsetof(LogRecord, attrs_));
  std::memcpy(attrs_, o.attrs_, sizeof(Attr) * o.attr_count_);
  std::memcpy(storage_, o.storage_, o.used_);
}

[[gnu::always_inline]] inline uint32_t LogRecord::Store(std::string_view s, uint32_t max, uint16_t* off) noexcept {
  size_t n = s.size();
  const size_t room = kStorageBytes - used_;
  if (__builtin_expect(n > max || n > room, 0)) {
    n = std::min<size_t>(std::min<size_t>(n, max), room);
    // Cut at a UTF-8 boundary: never leave half a character.
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  }
  *off = static_cast<uint16_t>(used_);
  if (n != 0) std::memcpy(storage_ + used_, s.data(), n);
  used_ += static_cast<uint32_t>(n);
  return static_cast<uint32_t>(n);
}

void LogRecord::SetSeverity(Severity s, std::string_view text) noexcept {
  severity_ = s;
  if (text.empty()) text = SeverityName(s);
  const size_t n = std::min(text.size(), sizeof(severity_text_));
  std::memcpy(severity_text_, text.data(), n);
  severity_text_len_ = static_cast<uint8_t>(n);
}

void LogRecord::SetBody(std::string_view text) noexcept {
  body_structured_ = false;
  body_type_ = AttributeType::kString;
  body_len_ = Store(text, UINT32_MAX, &body_off_);
}

void LogRecord::SetBody(const AttributeValue& v) noexcept {
  body_structured_ = false;
  switch (v.type()) {
    case AttributeType::kString:
      SetBody(v.as_string());
      return;
    case AttributeType::kBool:
      body_b_ = v.as_bool();
      break;
    case AttributeType::kInt:
      body_i_ = v.as_int();
      break;
    case AttributeType::kDouble:
      body_d_ = v.as_double();
      break;
    case AttributeType::kNone:
      body_type_ = AttributeType::kNone;
      return;
    default:  // an array: stored as an array body
      SetStructuredBody(BodyValue(v));
      return;
  }
  body_type_ = v.type();
}

bool LogRecord::Put(const void* p, size_t n) noexcept {
  if (n > kStorageBytes - used_) return false;
  std::memcpy(storage_ + used_, p, n);
  used_ += static_cast<uint32_t>(n);
  return true;
}

bool LogRecord::EncodeBody(const BodyValue& v, int depth) noexcept {
  const uint32_t start = used_;
  auto fail = [&] {
    used_ = start;
    return false;
  };
  auto put_u32 = [&](uint32_t x) { return Put(&x, 4); };
  auto put_tag = [&](char t) { return Put(&t, 1); };
  auto scalar = [&](const AttributeValue& a) {
    switch (a.type()) {
      case AttributeType::kBool: {
        const char b = a.as_bool() ? 1 : 0;
        return put_tag(BodyView::kBool) && Put(&b, 1);
      }
      case AttributeType::kInt: {
        const int64_t i = a.as_int();
        return put_tag(BodyView::kInt) && Put(&i, 8);
      }
      case AttributeType::kDouble: {
        const double d = a.as_double();
        return put_tag(BodyView::kDouble) && Put(&d, 8);
      }
      case AttributeType::kString: {
        if (kStorageBytes - used_ < 5) return false;
        put_tag(BodyView::kString);
        const uint32_t len_at = used_;
        put_u32(0);
        uint16_t off;
        const uint32_t n = Store(a.as_string(), UINT32_MAX, &off);  // cut to what fits
        std::memcpy(storage_ + len_at, &n, 4);
        return true;
      }
      default:
        return false;
    }
  };
  if (v.kind() == BodyValue::Kind::kScalar) {
    const AttributeValue& a = v.scalar();
    if (a.type() < AttributeType::kBoolArray) return scalar(a) || fail();
    // An attribute array: an array of its scalars.
    if (!put_tag(BodyView::kArray) || !put_u32(0) || !put_u32(0)) return fail();
    const uint32_t children = used_;
    uint32_t count = 0;
    const size_t n = a.type() == AttributeType::kBoolArray     ? a.as_bool_array().size()
                     : a.type() == AttributeType::kIntArray    ? a.as_int_array().size()
                     : a.type() == AttributeType::kDoubleArray ? a.as_double_array().size()
                                                               : a.as_string_array().size();
    for (size_t i = 0; i < n; ++i) {
      AttributeValue e;
      switch (a.type()) {
        case AttributeType::kBoolArray:
          e = AttributeValue(a.as_bool_array()[i]);
          break;
        case AttributeType::kIntArray:
          e = AttributeValue(a.as_int_array()[i]);
          break;
        case AttributeType::kDoubleArray:
          e = AttributeValue(a.as_double_array()[i]);
          break;
        default:
          e = AttributeValue(a.as_string_array()[i]);
          break;
      }
      const uint32_t before = used_;
      if (!scalar(e)) {
        used_ = before;
        break;
      }
      ++count;
    }
    const uint32_t bytes = used_ - children;
    std::memcpy(storage_ + start + 1, &count, 4);
    std::memcpy(storage_ + start + 5, &bytes, 4);
    return true;
  }
  if (depth >= kMaxBodyDepth) return false;
  const bool map = v.kind() == BodyValue::Kind::kMap;
  if (!put_tag(map ? BodyView::kMap : BodyView::kArray) || !put_u32(0) || !put_u32(0)) return fail();
  const uint32_t children = used_;
  uint32_t count = 0;
  auto child = [&](std::string_view key, const BodyValue& c) {
    const uint32_t before = used_;
    if (map) {
      const auto len = static_cast<uint32_t>(key.size());
      if (!put_u32(len) || !Put(key.data(), len)) {
        used_ = before;
        return false;
      }
    }
    if (!EncodeBody(c, depth + 1)) {
      used_ = before;
      return false;
    }
    ++count;
    return true;
  };
  if (map) {
    for (const BodyEntry& e : v.entries()) {
      if (!child(e.key, e.value)) break;
    }
  } else {
    for (const BodyValue& e : v.items()) {
      if (!child({}, e)) break;
    }
  }
  const uint32_t bytes = used_ - children;
  std::memcpy(storage_ + start + 1, &count, 4);
  std::memcpy(storage_ + start + 5, &bytes, 4);
  return true;
}

void LogRecord::SetStructuredBody(const BodyValue& v) noexcept {
  if (v.kind() == BodyValue::Kind::kScalar && v.scalar().type() < AttributeType::kBoolArray) {
    SetBody(v.scalar());
    return;
  }
  body_type_ = AttributeType::kNone;
  body_structured_ = false;
  const uint32_t start = used_;
  if (!EncodeBody(v, 0)) return;  // not even the header fits: no body
  body_structured_ = true;
  body_off_ = static_cast<uint16_t>(start);
  body_len_ = used_ - start;
}

AttributeValue BodyView::scalar() const noexcept {
  switch (p_[0]) {
    case kBool:
      return AttributeValue(p_[1] != 0);
    case kInt: {
      int64_t i;
      std::memcpy(&i, p_ + 1, 8);
      return AttributeValue(i);
    }
    case kDouble: {
      double d;
      std::memcpy(&d, p_ + 1, 8);
      return AttributeValue(d);
    }
    case kString:
      return AttributeValue(std::string_view(p_ + 5, U32(p_ + 1)));
    default:
      return AttributeValue();
  }
}

AttributeValue LogRecord::body() const noexcept {
  switch (body_type_) {
    case AttributeType::kString:
      return AttributeValue(Str(body_off_, body_len_));
    case AttributeType::kBool:
      return AttributeValue(body_b_);
    case AttributeType::kInt:
      return AttributeValue(body_i_);
    case AttributeType::kDouble:
      return AttributeValue(body_d_);
    default:
      return AttributeValue();
  }
}

void LogRecord::SetEventName(std::string_view name) noexcept {
  event_len_ = static_cast<uint16_t>(Store(name, UINT16_MAX, &event_off_));
}

bool LogRecord::AddAttribute(std::string_view key, const AttributeValue& v) noexcept {
  const AttributeType t = v.type();
  if (attr_count_ >= max_attrs_ || t == AttributeType::kNone || t >= AttributeType::kBoolArray ||
      key.empty() || key.size() > kStorageBytes - used_) {
    ++dropped_attrs_;
    return false;
  }
  Attr& a = attrs_[attr_count_];
  const uint32_t saved = used_;
  a.key_len = static_cast<uint16_t>(Store(key, UINT16_MAX, &a.key_off));
  if (a.key_len != key.size()) {  // a key is never cut
    used_ = saved;
    ++dropped_attrs_;
    return false;
  }
  a.type = t;
  a.reserved = 0;
  a.str_off = 0;
  switch (t) {
    case AttributeType::kBool:
      a.i = 0;
      a.b = v.as_bool();
      break;
    case AttributeType::kInt:
      a.i = v.as_int();
      break;
    case AttributeType::kDouble:
      a.d = v.as_double();
      break;
    default:  // kString
      a.i = 0;
      a.str_len = Store(v.as_string(), max_value_len_, &a.str_off);
      break;
  }
  ++attr_count_;
  return true;
}

KeyValue LogRecord::attribute(size_t i) const noexcept {
  const Attr& a = attrs_[i];
  KeyValue kv{Str(a.key_off, a.key_len), AttributeValue()};
  switch (a.type) {
    case AttributeType::kBool:
      kv.value = AttributeValue(a.b);
      break;
    case AttributeType::kInt:
      kv.value = AttributeValue(a.i);
      break;
    case AttributeType::kDouble:
      kv.value = AttributeValue(a.d);
      break;
    default:
      kv.value = AttributeValue(Str(a.str_off, a.str_len));
      break;
  }
  return kv;
}

AttributeValue LogRecord::FindAttribute(std::string_view key) const noexcept {
  for (size_t i = 0; i < attr_count_; ++i) {
    if (Str(attrs_[i].key_off, attrs_[i].key_len) == key) return attribute(i).value;
  }
  return AttributeValue();
}

void LogRecord::SetSpanContext(const SpanContext& sc) noexcept {
  trace_id_ = sc.trace_id();
  span_id_ = sc.span_id();
  flags_ = sc.flags();
  context_set_ = true;
}

void LogRecord::SetTraceContext(const TraceId& trace, const SpanId& span, TraceFlags flags) noexcept {
  trace_id_ = trace;
  span_id_ = span;
  flags_ = flags;
  context_set_ = true;
}

void LogRecord::SetException(std::string_view type, std::string_view message) noexcept {
  exc_type_len_ = static_cast<uint16_t>(Store(type, UINT16_MAX, &exc_type_off_));
  exc_msg_len_ = static_cast<uint16_t>(Store(message, UINT16_MAX, &exc_msg_off_));
  exc_pending_ = true;
}

void LogRecord::ApplyException() noexcept {
  if (!exc_pending_) return;
  exc_pending_ = false;
  // The strings are already in the storage: attributes point at them.
  auto add = [this](std::string_view key, uint16_t off, uint16_t len) {
    if (len == 0 || FindAttribute(key).type() != AttributeType::kNone) return;
    std::string_view value = Str(off, len);
    if (!AddAttribute(key, AttributeValue(std::string_view()))) return;
    Attr& a = attrs_[attr_count_ - 1];
    a.str_off = off;
    a.str_len = static_cast<uint32_t>(std::min<size_t>(value.size(), max_value_len_));
  };
  add(semconv::kExceptionType, exc_type_off_, exc_type_len_);
  add(semconv::kExceptionMessage, exc_msg_off_, exc_msg_len_);
}

}  // namespace otelweb::logs
