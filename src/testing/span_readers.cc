// Attribute and event readers for assertions on ended spans.
#include "otelweb/testing/span_readers.h"

namespace otelweb::testing {

bool HasAttr(const SpanData* s, std::string_view key) {
  AttributeView v;
  return s->FindAttribute(key, &v);
}

std::string StrAttr(const SpanData* s, std::string_view key) {
  AttributeView v;
  if (!s->FindAttribute(key, &v)) return "<absent>";
  if (v.type() != AttributeType::kString) return "<not a string: " + v.ToString() + ">";
  return std::string(v.as_string());
}

int64_t IntAttr(const SpanData* s, std::string_view key) {
  AttributeView v;
  if (!s->FindAttribute(key, &v) || v.type() != AttributeType::kInt) return -1;
  return v.as_int();
}

std::optional<double> DoubleAttr(const SpanData* s, std::string_view key) {
  AttributeView v;
  if (!s->FindAttribute(key, &v) || v.type() != AttributeType::kDouble) return std::nullopt;
  return v.as_double();
}

std::optional<bool> BoolAttr(const SpanData* s, std::string_view key) {
  AttributeView v;
  if (!s->FindAttribute(key, &v) || v.type() != AttributeType::kBool) return std::nullopt;
  return v.as_bool();
}

std::vector<std::string> ArrAttr(const SpanData* s, std::string_view key) {
  std::vector<std::string> out;
  AttributeView v;
  if (!s->FindAttribute(key, &v) || v.type() != AttributeType::kStringArray) return out;
  for (uint32_t i = 0; i < v.array_size(); ++i) out.emplace_back(v.string_at(i));
  return out;
}

const SpanData* EventNamed(const SpanData* s, std::string_view name, size_t* index) {
  for (size_t i = 0; i < s->event_count(); ++i) {
    if (s->event_name(i) == name) {
      *index = i;
      return s;
    }
  }
  return nullptr;
}

}  // namespace otelweb::testing
