// Resource detection and OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME.
#include "otelweb/resource.h"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <string>

#include "otelweb/common.h"
#include "core/config.h"
#include "otelweb/diagnostics.h"

namespace otelweb {

OwnedValue::OwnedValue(const AttributeValue& v) : type(v.type()) {
  switch (v.type()) {
    case AttributeType::kNone: break;
    case AttributeType::kBool: b = v.as_bool(); break;
    case AttributeType::kInt: i = v.as_int(); break;
    case AttributeType::kDouble: d = v.as_double(); break;
    case AttributeType::kString: s = std::string(v.as_string()); break;
    case AttributeType::kBoolArray: bools.assign(v.as_bool_array().begin(), v.as_bool_array().end()); break;
    case AttributeType::kIntArray: ints.assign(v.as_int_array().begin(), v.as_int_array().end()); break;
    case AttributeType::kDoubleArray: doubles.assign(v.as_double_array().begin(), v.as_double_array().end()); break;
    case AttributeType::kStringArray:
      for (auto sv : v.as_string_array()) strings.emplace_back(sv);
      break;
  }
}

OwnedValue::OwnedValue(const AttributeView& v) : type(v.type()) {
  switch (v.type()) {
    case AttributeType::kNone: break;
    case AttributeType::kBool: b = v.as_bool(); break;
    case AttributeType::kInt: i = v.as_int(); break;
    case AttributeType::kDouble: d = v.as_double(); break;
    case AttributeType::kString: s = std::string(v.as_string()); break;
    case AttributeType::kBoolArray:
      for (uint32_t k = 0; k < v.array_size(); ++k) bools.push_back(v.bool_at(k));
      break;
    case AttributeType::kIntArray:
      for (uint32_t k = 0; k < v.array_size(); ++k) ints.push_back(v.int_at(k));
      break;
    case AttributeType::kDoubleArray:
      for (uint32_t k = 0; k < v.array_size(); ++k) doubles.push_back(v.double_at(k));
      break;
    case AttributeType::kStringArray:
      for (uint32_t k = 0; k < v.array_size(); ++k) strings.emplace_back(v.string_at(k));
      break;
  }
}

std::string OwnedValue::ToString() const {
  auto dbl = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return std::string(buf);
  };
  std::string out;
  switch (type) {
    case AttributeType::kNone: return "";
    case AttributeType::kBool: return b ? "true" : "false";
    case AttributeType::kInt: return std::to_string(i);
    case AttributeType::kDouble: return dbl(d);
    case AttributeType::kString: return s;
    case AttributeType::kBoolArray:
      for (bool x : bools) out += (out.empty() ? "" : ",") + std::string(x ? "true" : "false");
      break;
    case AttributeType::kIntArray:
      for (auto x : ints) out += (out.empty() ? "" : ",") + std::to_string(x);
      break;
    case AttributeType::kDoubleArray:
      for (auto x : doubles) out += (out.empty() ? "" : ",") + dbl(x);
      break;
    case AttributeType::kStringArray:
      for (auto& x : strings) out += (out.empty() ? "" : ",") + x;
      break;
  }
  return "[" + out + "]";
}

Resource::Resource(std::vector<OwnedKeyValue> attributes, std::string schema_url)
    : schema_url_(std::move(schema_url)) {
  // Later duplicates replace earlier ones.
  for (auto& kv : attributes) {
    bool replaced = false;
    for (auto& e : attrs_) {
      if (e.key == kv.key) {
        e.value = std::move(kv.value);
        replaced = true;
        break;
      }
    }
    if (!replaced) attrs_.push_back(std::move(kv));
  }
}

namespace {

OwnedKeyValue KV(std::string key, AttributeValue v) { return {std::move(key), OwnedValue(v)}; }

std::string ExecutablePath() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

Resource Resource::Default() {
  std::string path = ExecutablePath();
  std::string exe = path.substr(path.find_last_of('/') + 1);
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = 0;
  std::vector<OwnedKeyValue> a;
  a.push_back(KV("service.name", "unknown_service" + (exe.empty() ? std::string() : ":" + exe)));
  a.push_back(KV("telemetry.sdk.name", "otelweb"));
  a.push_back(KV("telemetry.sdk.language", "cpp"));
  a.push_back(KV("telemetry.sdk.version", std::string(kVersion)));
  a.push_back(KV("process.pid", static_cast<int64_t>(getpid())));
  if (!exe.empty()) a.push_back(KV("process.executable.name", exe));
  if (!path.empty()) a.push_back(KV("process.executable.path", path));
  // process.command_args is left out on purpose: command lines often hold secrets.
  if (host[0] != 0) a.push_back(KV("host.name", std::string(host)));
  return Resource(std::move(a));
}

std::vector<OwnedKeyValue> ParseResourceAttributes(std::string_view text, std::vector<std::string>* errors) {
  std::vector<OwnedKeyValue> out;
  for (auto& e : config::ParseKeyValueList(text, errors)) out.push_back(KV(std::move(e.key), e.value));
  return out;
}

Resource Resource::Create(const std::vector<OwnedKeyValue>& code) {
  Resource r = Default();
  if (auto env = config::GetString("OTEL_RESOURCE_ATTRIBUTES")) {
    std::vector<std::string> errors;
    auto attrs = ParseResourceAttributes(*env, &errors);
    for (auto& e : errors) Log(LogLevel::kWarning, "OTEL_RESOURCE_ATTRIBUTES: " + e + "; entry skipped");
    r = r.Merge(Resource(std::move(attrs)));
  }
  if (auto name = config::GetString("OTEL_SERVICE_NAME")) {
    r = r.Merge(Resource({KV("service.name", *name)}));
  }
  if (!code.empty()) r = r.Merge(Resource(code));
  return r;
}

Resource Resource::Merge(const Resource& other) const {
  std::vector<OwnedKeyValue> a = attrs_;
  for (const auto& kv : other.attrs_) a.push_back(kv);
  std::string schema = schema_url_;
  if (schema.empty()) {
    schema = other.schema_url_;
  } else if (!other.schema_url_.empty() && other.schema_url_ != schema_url_) {
    Log(LogLevel::kWarning, "merging resources with different schema URLs ('" + schema_url_ + "' and '" +
                                other.schema_url_ + "'); keeping the first");
  }
  return Resource(std::move(a), std::move(schema));
}

const OwnedValue* Resource::Find(std::string_view key) const noexcept {
  for (const auto& kv : attrs_) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

std::string_view Resource::service_name() const noexcept {
  const OwnedValue* v = Find("service.name");
  return v && v->type == AttributeType::kString ? std::string_view(v->s) : std::string_view();
}

}  // namespace otelweb
