// Reading stored attributes back, and names of the core enums.
#include <cstdio>
#include <cstring>
#include <string>

#include "otelweb/attribute.h"
#include "otelweb/trace/span.h"

namespace otelweb {

std::string_view AttributeTypeName(AttributeType t) noexcept {
  switch (t) {
    case AttributeType::kNone: return "none";
    case AttributeType::kBool: return "bool";
    case AttributeType::kInt: return "int";
    case AttributeType::kDouble: return "double";
    case AttributeType::kString: return "string";
    case AttributeType::kBoolArray: return "bool[]";
    case AttributeType::kIntArray: return "int[]";
    case AttributeType::kDoubleArray: return "double[]";
    case AttributeType::kStringArray: return "string[]";
  }
  return "unknown";
}

std::string_view SpanKindName(SpanKind k) noexcept {
  switch (k) {
    case SpanKind::kInternal: return "INTERNAL";
    case SpanKind::kServer: return "SERVER";
    case SpanKind::kClient: return "CLIENT";
    case SpanKind::kProducer: return "PRODUCER";
    case SpanKind::kConsumer: return "CONSUMER";
  }
  return "UNSPECIFIED";
}

std::string_view StatusCodeName(StatusCode c) noexcept {
  switch (c) {
    case StatusCode::kUnset: return "UNSET";
    case StatusCode::kOk: return "OK";
    case StatusCode::kError: return "ERROR";
  }
  return "UNSET";
}

bool AttributeView::bool_at(uint32_t i) const noexcept { return base_[off_ + i] != 0; }

int64_t AttributeView::int_at(uint32_t i) const noexcept {
  int64_t v;
  std::memcpy(&v, base_ + off_ + size_t(i) * 8, 8);
  return v;
}

double AttributeView::double_at(uint32_t i) const noexcept {
  double v;
  std::memcpy(&v, base_ + off_ + size_t(i) * 8, 8);
  return v;
}

std::string_view AttributeView::string_at(uint32_t i) const noexcept {
  uint32_t pair[2];
  std::memcpy(pair, base_ + off_ + size_t(i) * 8, 8);
  return {base_ + pair[0], pair[1]};
}

namespace {
void AppendDouble(std::string& out, double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  out += buf;
}
}  // namespace

std::string AttributeView::ToString() const {
  std::string out;
  switch (type_) {
    case AttributeType::kNone: return "";
    case AttributeType::kBool: return b_ ? "true" : "false";
    case AttributeType::kInt: return std::to_string(i_);
    case AttributeType::kDouble: AppendDouble(out, d_); return out;
    case AttributeType::kString:
      out += '"';
      out += as_string();
      out += '"';
      return out;
    default: break;
  }
  out += '[';
  for (uint32_t i = 0; i < len_; ++i) {
    if (i) out += ", ";
    switch (type_) {
      case AttributeType::kBoolArray: out += bool_at(i) ? "true" : "false"; break;
      case AttributeType::kIntArray: out += std::to_string(int_at(i)); break;
      case AttributeType::kDoubleArray: AppendDouble(out, double_at(i)); break;
      case AttributeType::kStringArray:
        out += '"';
        out += string_at(i);
        out += '"';
        break;
      default: break;
    }
  }
  out += ']';
  return out;
}

}  // namespace otelweb
