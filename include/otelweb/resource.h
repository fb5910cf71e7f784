// Resource: the attributes that describe the process producing telemetry
// (service.name, telemetry.sdk.*, process.*, host.name, ...).
//
// Ownership: a value type holding its own copies of keys and values.
// Thread-safety: immutable after construction; safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "otelweb/attribute.h"

namespace otelweb {

// An owned attribute value (what resources and snapshots hold).
struct OwnedValue {
  AttributeType type = AttributeType::kNone;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<bool> bools;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;

  OwnedValue() = default;
  explicit OwnedValue(const AttributeValue& v);
  explicit OwnedValue(const AttributeView& v);
  std::string ToString() const;
  friend bool operator==(const OwnedValue&, const OwnedValue&) = default;
};

struct OwnedKeyValue {
  std::string key{};
  OwnedValue value{};
};

class Resource {
 public:
  Resource() = default;
  explicit Resource(std::vector<OwnedKeyValue> attributes, std::string schema_url = {});

  // The SDK's default resource: telemetry.sdk.{name,language,version},
  // process.pid, process.executable.name, host.name and
  // service.name = "unknown_service:<executable>".
  static Resource Default();
  // Default() merged with OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME,
  // then `code` (code wins). Invalid environment entries are skipped with a
  // warning naming the variable.
  static Resource Create(const std::vector<OwnedKeyValue>& code = {});

  // Attributes of `other` win; schema URLs: if both are set and differ, the
  // result keeps this resource's URL (the spec leaves it to the SDK) and a
  // warning is printed.
  Resource Merge(const Resource& other) const;

  const std::vector<OwnedKeyValue>& attributes() const noexcept { return attrs_; }
  const OwnedValue* Find(std::string_view key) const noexcept;
  std::string_view schema_url() const noexcept { return schema_url_; }
  // The value of service.name ("" if absent).
  std::string_view service_name() const noexcept;

 private:
  std::vector<OwnedKeyValue> attrs_;
  std::string schema_url_;
};

// Parses an OTEL_RESOURCE_ATTRIBUTES-style list "k1=v1,k2=v2": entries split
// on ',', key and value trimmed, then both percent-decoded (config::ParseKeyValueList,
// the same parser as OTEL_EXPORTER_OTLP_HEADERS). Entries without '=',
// with an empty key or with a bad percent escape are skipped and reported in
// *errors (if given). Exposed for tests and fuzzing.
std::vector<OwnedKeyValue> ParseResourceAttributes(std::string_view text,
                                                   std::vector<std::string>* errors = nullptr);

}  // namespace otelweb
