// OTLP/JSON conversions of otelweb-view (see otlp_json.h).
#include "view/otlp_json.h"

#include <google/protobuf/util/json_util.h>

#include <cstring>

namespace otelweb::view {

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view bin) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < bin.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(bin[i])) << 16 | uint32_t(uint8_t(bin[i + 1])) << 8 | uint8_t(bin[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kB64[(v >> s) & 63];
  }
  size_t rest = bin.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t(uint8_t(bin[i])) << 16 | (rest == 2 ? uint32_t(uint8_t(bin[i + 1])) << 8 : 0);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += rest == 2 ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool FromBase64(std::string_view in, std::string* out) {
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const char* p = std::strchr(kB64, c);
    int v = (c == '-') ? 62 : (c == '_') ? 63 : (p && c) ? int(p - kB64) : -1;
    if (v < 0) return false;
    acc = acc << 6 | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *out += char((acc >> bits) & 0xff);
    }
  }
  return true;
}

bool IsIdKey(const std::string& k, size_t* bytes) {
  if (k == "traceId" || k == "trace_id") {
    *bytes = 16;
    return true;
  }
  if (k == "spanId" || k == "parentSpanId" || k == "span_id" || k == "parent_span_id") {
    *bytes = 8;
    return true;
  }
  return false;
}

// Rewrites hex ids as base64 (in) or base64 ids as hex (out), recursively.
bool RewriteIds(nlohmann::json& j, bool to_base64, std::string* error, int depth = 0) {
  if (depth > 64) {
    *error = "the JSON document nests deeper than 64 levels";
    return false;
  }
  if (j.is_array()) {
    for (auto& e : j) {
      if (!RewriteIds(e, to_base64, error, depth + 1)) return false;
    }
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      size_t bytes = 0;
      if (IsIdKey(it.key(), &bytes) && it.value().is_string()) {
        const std::string& s = it.value().get_ref<const std::string&>();
        std::string bin;
        if (to_base64) {
          if (!s.empty() && !FromHex(s, bytes, &bin)) {
            *error = "\"" + it.key() + "\" must be " + std::to_string(bytes * 2) +
                     " hex digits (OTLP/JSON), got \"" + s.substr(0, 64) + "\"";
            return false;
          }
          it.value() = Base64(bin);
        } else {
          FromBase64(s, &bin);
          it.value() = Hex(bin);
        }
      } else if (!RewriteIds(it.value(), to_base64, error, depth + 1)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

std::string Hex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    out += d[uint8_t(c) >> 4];
    out += d[uint8_t(c) & 15];
  }
  return out;
}

bool FromHex(std::string_view hex, size_t bytes, std::string* out) {
  if (hex.size() != bytes * 2) return false;
  out->clear();
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int a = nib(hex[i]), b = nib(hex[i + 1]);
    if (a < 0 || b < 0) return false;
    *out += char(a << 4 | b);
  }
  return true;
}

bool ParseOtlpJson(nlohmann::json& doc, google::protobuf::Message* message, std::string* error) {
  if (!doc.is_object()) {
    *error = "an OTLP/JSON request must be a JSON object";
    return false;
  }
  if (!RewriteIds(doc, true, error)) return false;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(doc.dump(), message, opts);
  if (!st.ok()) {
    *error = "not an OTLP/JSON " + message->GetDescriptor()->name() + ": " + std::string(st.message());
    return false;
  }
  return true;
}

bool ParseOtlpJson(std::string_view json, google::protobuf::Message* message, std::string* error) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded()) {
    *error = "the body is not valid JSON (send OTLP/JSON, or Content-Type: application/x-protobuf for protobuf)";
    return false;
  }
  return ParseOtlpJson(doc, message, error);
}

std::string ToOtlpJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.always_print_enums_as_ints = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, opts);
  nlohmann::json doc = nlohmann::json::parse(out, nullptr, false);
  std::string err;
  RewriteIds(doc, false, &err);
  return doc.dump();
}

nlohmann::json ToJson(const ::opentelemetry::proto::common::v1::AnyValue& v) {
  using V = ::opentelemetry::proto::common::v1::AnyValue;
  switch (v.value_case()) {
    case V::kStringValue: return v.string_value();
    case V::kBoolValue: return v.bool_value();
    case V::kIntValue: {
      constexpr int64_t kSafe = int64_t(1) << 53;
      if (v.int_value() > kSafe || v.int_value() < -kSafe) return std::to_string(v.int_value());
      return v.int_value();
    }
    case V::kDoubleValue: return v.double_value();
    case V::kBytesValue: return Base64(v.bytes_value());
    case V::kArrayValue: {
      auto a = nlohmann::json::array();
      for (const auto& e : v.array_value().values()) a.push_back(ToJson(e));
      return a;
    }
    case V::kKvlistValue: return ToJson(v.kvlist_value().values());
    default: return nullptr;
  }
}

nlohmann::json ToJson(
    const google::protobuf::RepeatedPtrField<::opentelemetry::proto::common::v1::KeyValue>& attributes) {
  auto o = nlohmann::json::object();
  for (const auto& kv : attributes) o[kv.key()] = ToJson(kv.value());
  return o;
}

}  // namespace otelweb::view
