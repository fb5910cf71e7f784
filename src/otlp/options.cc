// OTLP exporter options: code, then OTEL_EXPORTER_OTLP_TRACES_*, then
// OTEL_EXPORTER_OTLP_*, then the specification's defaults.
#include <algorithm>
#include <string>

#include "otelweb/config.h"
#include "otelweb/diagnostics.h"
#include "otelweb/exporters/otlp.h"

namespace otelweb::otlp {

namespace {

std::string Lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return r;
}

// The per-signal variable, else the general one.
std::optional<config::Found> Env(const OtlpExporterOptions& o, const std::string& suffix) {
  if (!o.read_environment) return std::nullopt;
  std::string traces = "OTEL_EXPORTER_OTLP_TRACES_" + suffix;
  std::string general = "OTEL_EXPORTER_OTLP_" + suffix;
  return config::GetFirst({traces.c_str(), general.c_str()});
}

bool ParseProtocol(std::string_view v, Protocol* out) {
  std::string l = Lower(config::Trim(v));
  if (l == "grpc")
    *out = Protocol::kGrpc;
  else if (l == "http/protobuf")
    *out = Protocol::kHttpProtobuf;
  else if (l == "http/json")
    *out = Protocol::kHttpJson;
  else
    return false;
  return true;
}

bool HasHttpScheme(std::string_view url) {
  std::string l = Lower(url.substr(0, 8));
  return l.rfind("http://", 0) == 0 || l.rfind("https://", 0) == 0;
}

// gRPC: [scheme://]host[:port][/path] -> host:port and whether TLS is used.
void GrpcTarget(std::string_view endpoint, bool insecure, ResolvedOtlpOptions* r) {
  std::string_view rest = endpoint;
  std::string l = Lower(endpoint.substr(0, 8));
  bool tls = !insecure;  // no scheme: the insecure setting decides
  if (l.rfind("https://", 0) == 0) {
    tls = true;
    rest.remove_prefix(8);
  } else if (l.rfind("http://", 0) == 0) {
    tls = false;
    rest.remove_prefix(7);
  }
  size_t slash = rest.find('/');
  if (slash != std::string_view::npos)
    rest = rest.substr(0, slash);  // the path is not used by gRPC
  r->grpc_target = std::string(rest);
  r->use_tls = tls;
}

}  // namespace

Headers ParseHeaders(std::string_view text, std::vector<std::string>* errors) {
  Headers out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = config::Trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string key, value;
    if (eq == std::string_view::npos) {
      if (errors) errors->push_back("'" + std::string(item) + "' has no '='");
      continue;
    }
    if (!config::PercentDecode(config::Trim(item.substr(0, eq)), &key) ||
        !config::PercentDecode(config::Trim(item.substr(eq + 1)), &value)) {
      if (errors) errors->push_back("'" + std::string(item) + "' has a bad percent escape");
      continue;
    }
    if (key.empty()) {
      if (errors) errors->push_back("'" + std::string(item) + "' has an empty key");
      continue;
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

ResolvedOtlpOptions ResolveOptions(const OtlpExporterOptions& o) {
  ResolvedOtlpOptions r;

  // Protocol.
  if (o.protocol) {
    r.protocol = *o.protocol;
  } else if (auto e = Env(o, "PROTOCOL")) {
    if (!ParseProtocol(e->value, &r.protocol)) {
      config::WarnInvalid(e->name, e->value, "grpc, http/protobuf or http/json");
      r.protocol = Protocol::kHttpProtobuf;
    }
  }

  // Insecure (gRPC endpoints without a scheme).
  bool insecure = false;
  if (o.insecure) {
    insecure = *o.insecure;
  } else if (auto e = Env(o, "INSECURE")) {
    if (!config::ParseBool(e->value, &insecure))
      config::WarnInvalid(e->name, e->value, "true or false");
  }

  // Endpoint.
  bool http = r.protocol != Protocol::kGrpc;
  std::string endpoint;
  bool append_path = false;
  std::string source = "code";
  if (o.endpoint && !o.endpoint->empty()) {
    endpoint = *o.endpoint;
  } else if (o.read_environment) {
    if (auto v = config::GetString("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
      endpoint = *v;  // used as is
      source = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    } else if (auto g = config::GetString("OTEL_EXPORTER_OTLP_ENDPOINT")) {
      endpoint = *g;  // a base URL: the signal's path is appended (HTTP)
      append_path = true;
      source = "OTEL_EXPORTER_OTLP_ENDPOINT";
    }
  }
  if (http) {
    if (!endpoint.empty() && !HasHttpScheme(endpoint)) {
      if (source == "code") {
        Log(LogLevel::kWarning,
            "OTLP exporter: endpoint '" + endpoint +
                "' is not an http:// or https:// URL; using http://localhost:4318/v1/traces");
      } else {
        config::WarnInvalid(source, endpoint, "an http:// or https:// URL");
      }
      endpoint.clear();
    }
    if (endpoint.empty()) {
      r.url = "http://localhost:4318/v1/traces";
    } else if (append_path) {
      r.url = endpoint;
      if (r.url.back() != '/') r.url += '/';
      r.url += "v1/traces";
    } else {
      // A signal URL without a path means the root path.
      r.url = endpoint;
      size_t scheme = r.url.find("://");
      if (r.url.find('/', scheme + 3) == std::string::npos) r.url += '/';
    }
    r.use_tls = Lower(r.url.substr(0, 8)) == "https://";
  } else {
    if (endpoint.empty()) endpoint = "http://localhost:4317";
    r.url = endpoint;
    GrpcTarget(endpoint, insecure, &r);
  }

  // Headers.
  if (o.headers) {
    r.headers = *o.headers;
  } else if (auto e = Env(o, "HEADERS")) {
    std::vector<std::string> errors;
    r.headers = ParseHeaders(e->value, &errors);
    if (!errors.empty()) {
      std::string m = "invalid entries in " + e->name + " skipped:";
      for (const auto& s : errors) m += " " + s + ";";
      Log(LogLevel::kWarning, m);
    }
  }

  // Timeout (milliseconds).
  if (o.timeout) {
    r.timeout = *o.timeout;
  } else if (auto e = Env(o, "TIMEOUT")) {
    int64_t ms;
    if (config::ParseInt(e->value, &ms) && ms >= 0 && ms <= (int64_t{1} << 40)) {
      r.timeout = std::chrono::milliseconds(ms);
    } else {
      config::WarnInvalid(e->name, e->value, "a non-negative number of milliseconds");
    }
  }

  // Compression.
  if (o.compression) {
    r.compression = *o.compression;
  } else if (auto e = Env(o, "COMPRESSION")) {
    std::string l = Lower(e->value);
    if (l == "gzip")
      r.compression = Compression::kGzip;
    else if (l == "none")
      r.compression = Compression::kNone;
    else
      config::WarnInvalid(e->name, e->value, "gzip or none");
  }

  // TLS files.
  auto file = [&](const std::optional<std::string>& code, const char* suffix, std::string* out) {
    if (code)
      *out = *code;
    else if (auto e = Env(o, suffix))
      *out = e->value;
  };
  file(o.certificate_file, "CERTIFICATE", &r.certificate_file);
  file(o.client_key_file, "CLIENT_KEY", &r.client_key_file);
  file(o.client_certificate_file, "CLIENT_CERTIFICATE", &r.client_certificate_file);

  r.max_attempts = std::max<uint32_t>(1, o.max_attempts);
  r.initial_backoff = o.initial_backoff;
  r.max_backoff = o.max_backoff;
  r.backoff_multiplier = o.backoff_multiplier >= 1.0 ? o.backoff_multiplier : 1.0;
  return r;
}

}  // namespace otelweb::otlp
