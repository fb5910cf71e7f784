// Per-request metric attributes (otelweb/http/labeler.h): fixed storage in
// the request's ServerSpan, found through a thread-local pointer that
// ServerSpan::Activate/Deactivate set and restore.
#include "otelweb/http/labeler.h"

#include <cstring>

#include "otelweb/semconv.h"

namespace otelweb::http {
namespace internal {

thread_local RequestLabels* t_current_labels = nullptr;

size_t RequestLabels::AppendTo(KeyValue* out, size_t room) const noexcept {
  size_t k = 0;
  for (size_t i = 0; i < n && k < room; ++i, ++k) {
    const Entry& e = entries[i];
    out[k].key = std::string_view(bytes + e.key_at, e.key_len);
    switch (e.type) {
      case AttributeType::kString:
        out[k].value = AttributeValue(std::string_view(bytes + e.str_at, e.str_len));
        break;
      case AttributeType::kInt:
        out[k].value = AttributeValue(e.i);
        break;
      case AttributeType::kDouble:
        out[k].value = AttributeValue(e.d);
        break;
      default:
        out[k].value = AttributeValue(e.b);
        break;
    }
  }
  return k;
}

}  // namespace internal

Labeler Labeler::Current() noexcept { return Labeler(internal::t_current_labels); }

bool Labeler::Add(std::string_view key, const AttributeValue& value) noexcept {
  if (labels_ == nullptr || key.empty()) return false;
  for (std::string_view reserved :
       {semconv::kHttpRequestMethod, semconv::kUrlScheme, semconv::kHttpResponseStatusCode,
        semconv::kHttpRoute, semconv::kErrorType, semconv::kNetworkProtocolVersion})
    if (key == reserved) return false;
  const AttributeType type = value.type();
  if (type != AttributeType::kString && type != AttributeType::kInt &&
      type != AttributeType::kDouble && type != AttributeType::kBool)
    return false;
  internal::RequestLabels& l = *labels_;
  internal::RequestLabels::Entry* e = nullptr;
  for (size_t i = 0; i < l.n; ++i)
    if (std::string_view(l.bytes + l.entries[i].key_at, l.entries[i].key_len) == key)
      e = &l.entries[i];
  const size_t str_len = type == AttributeType::kString ? value.as_string().size() : 0;
  const size_t need = (e == nullptr ? key.size() : 0) + str_len;
  if (e == nullptr && l.n == kMaxLabels) return false;
  if (need > kLabelBytes - l.used) return false;
  if (e == nullptr) {
    e = &l.entries[l.n++];
    e->key_at = l.used;
    e->key_len = static_cast<uint16_t>(key.size());
    std::memcpy(l.bytes + l.used, key.data(), key.size());
    l.used = static_cast<uint16_t>(l.used + key.size());
  }
  e->type = type;
  switch (type) {
    case AttributeType::kString:
      e->str_at = l.used;
      e->str_len = static_cast<uint16_t>(str_len);
      if (str_len != 0) std::memcpy(l.bytes + l.used, value.as_string().data(), str_len);
      l.used = static_cast<uint16_t>(l.used + str_len);
      break;
    case AttributeType::kInt:
      e->i = value.as_int();
      break;
    case AttributeType::kDouble:
      e->d = value.as_double();
      break;
    default:
      e->b = value.as_bool();
      break;
  }
  return true;
}

}  // namespace otelweb::http
