// OTLP exporter options for one signal: code, then
// OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_*, then OTEL_EXPORTER_OTLP_*, then
// the specification's defaults.
#include <algorithm>
#include <string>

#include "core/config.h"
#include "otelweb/diagnostics.h"
#include "otelweb/otlp/exporter.h"
#include "transport.h"

namespace otelweb::otlp {

namespace internal {
// A URL for a message: no user:password@ and no query (either may hold secrets).
std::string UrlForLog(std::string_view url) {
  std::string_view u = url.substr(0, url.find_first_of("?#"));
  size_t scheme = u.find("://");
  size_t host = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t at = u.find('@', host);
  size_t slash = u.find('/', host);
  std::string r;
  if (at != std::string_view::npos && (slash == std::string_view::npos || at < slash)) {
    r = std::string(u.substr(0, host)) + "REDACTED@" + std::string(u.substr(at + 1));
  } else {
    r = std::string(u);
  }
  if (u.size() < url.size()) r += "?...";
  return r;
}

}  // namespace internal

using internal::UrlForLog;

namespace {

std::string Lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return r;
}

std::string Upper(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return r;
}

// OTEL_EXPORTER_OTLP_<SIGNAL>_<suffix>.
std::string SignalVar(Signal signal, std::string_view suffix) {
  return "OTEL_EXPORTER_OTLP_" + Upper(SignalName(signal)) + "_" + std::string(suffix);
}

// The per-signal variable, else the general one.
std::optional<config::Found> Env(const OtlpExporterOptions& o, Signal signal, const std::string& suffix) {
  if (!o.read_environment) return std::nullopt;
  std::string specific = SignalVar(signal, suffix);
  std::string general = "OTEL_EXPORTER_OTLP_" + suffix;
  return config::GetFirst({specific.c_str(), general.c_str()});
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

// Removes "user[:password]@" from a gRPC target's authority: gRPC has no
// userinfo, and the target appears in log lines and in gRPC's own error
// messages, so credentials there would leave in clear. Returns true when some
// were removed.
bool StripUserinfo(std::string* target) {
  size_t start = target->find("//");
  start = start == std::string::npos ? 0 : start + 2;
  size_t end = target->find('/', start);
  size_t at = target->rfind('@', end == std::string::npos ? std::string::npos : end);
  if (at == std::string::npos || at < start) return false;
  target->erase(start, at + 1 - start);
  return true;
}

// gRPC: [scheme://]host[:port][/path] -> host:port and whether TLS is used.
void GrpcTarget(std::string_view endpoint, bool insecure, ResolvedOtlpOptions* r) {
  std::string_view rest = endpoint;
  std::string l = Lower(endpoint.substr(0, 8));
  bool tls = !insecure;  // no scheme: the insecure setting decides
  bool uri = false;
  if (l.rfind("https://", 0) == 0) {
    tls = true;
    rest.remove_prefix(8);
  } else if (l.rfind("http://", 0) == 0) {
    tls = false;
    rest.remove_prefix(7);
  } else if (endpoint.find(':') != std::string_view::npos &&
             (endpoint.find("://") != std::string_view::npos || l.rfind("dns:", 0) == 0 ||
              l.rfind("unix:", 0) == 0 || l.rfind("ipv4:", 0) == 0 || l.rfind("ipv6:", 0) == 0)) {
    // A gRPC target URI (dns:///host:port, unix:/path, ...): given to gRPC as is.
    uri = true;
  }
  if (uri) {
    r->grpc_target = std::string(endpoint);
  } else {
    size_t slash = rest.find('/');
    if (slash != std::string_view::npos)
      rest = rest.substr(0, slash);  // the path is not used by gRPC
    r->grpc_target = std::string(rest);
  }
  r->use_tls = tls;
  if (StripUserinfo(&r->grpc_target)) {
    Log(LogLevel::kWarning,
        "OTLP exporter: the gRPC endpoint carries credentials (user:password@); gRPC cannot send "
        "them and they are removed from the target. Put them in a header instead "
        "(OTEL_EXPORTER_OTLP_HEADERS, e.g. authorization=Basic%20...)");
  }
}


// HTTP token characters (RFC 9110); gRPC metadata keys are a subset once
// lowercased ([0-9a-z_.-]).
bool IsHeaderKey(std::string_view k, bool grpc) {
  if (k.empty()) return false;
  for (char c : k) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alnum || c == '-' || c == '_' || c == '.') continue;
    if (!grpc && std::string_view("!#$%&'*+^`|~").find(c) != std::string_view::npos) continue;
    return false;
  }
  return true;
}

// Header values: visible ASCII, space and tab (no CR, LF or NUL, which would
// inject headers over HTTP or make grpc++ abort the call). gRPC "-bin" keys
// carry binary values and are exempt there.
bool IsHeaderValue(std::string_view key, std::string_view v, bool grpc) {
  if (grpc && key.size() > 4 && key.substr(key.size() - 4) == "-bin") return true;
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\t' && !grpc) continue;
    if (c < 0x20 || c == 0x7f || (grpc && c > 0x7e)) return false;
  }
  return true;
}

}  // namespace

std::string_view SignalName(Signal s) noexcept {
  switch (s) {
    case Signal::kTraces:
      return "traces";
    case Signal::kMetrics:
      return "metrics";
    case Signal::kLogs:
      return "logs";
  }
  return "?";
}

std::string_view SignalHttpPath(Signal s) noexcept {
  switch (s) {
    case Signal::kTraces:
      return "v1/traces";
    case Signal::kMetrics:
      return "v1/metrics";
    case Signal::kLogs:
      return "v1/logs";
  }
  return "?";
}

std::string_view SignalGrpcMethod(Signal s) noexcept {
  switch (s) {
    case Signal::kTraces:
      return "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    case Signal::kMetrics:
      return "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    case Signal::kLogs:
      return "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
  }
  return "?";
}

std::string_view ProtocolName(Protocol p) noexcept {
  switch (p) {
    case Protocol::kGrpc:
      return "grpc";
    case Protocol::kHttpProtobuf:
      return "http/protobuf";
    case Protocol::kHttpJson:
      return "http/json";
  }
  return "?";
}

Headers ParseHeaders(std::string_view text, std::vector<std::string>* errors) {
  Headers out;
  for (auto& e : config::ParseKeyValueList(text, errors)) out.emplace_back(std::move(e.key), std::move(e.value));
  return out;
}

namespace {

// The port of an http(s):// URL or a host:port target; -1 when none is
// written.
int PortOf(std::string_view url) {
  const size_t scheme = url.find("://");
  std::string_view hostport = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  hostport = hostport.substr(0, hostport.find_first_of("/?#"));
  const size_t at = hostport.rfind('@');
  if (at != std::string_view::npos) hostport.remove_prefix(at + 1);
  const size_t bracket = hostport.rfind(']');
  const size_t colon = hostport.rfind(':');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket)) return -1;
  int port = 0;
  std::string_view digits = hostport.substr(colon + 1);
  if (digits.empty() || digits.size() > 5) return -1;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    port = port * 10 + (c - '0');
  }
  return port;
}

// The path of an http(s):// URL ("/" when none is written).
std::string_view PathOf(std::string_view url) {
  const size_t scheme = url.find("://");
  const size_t start = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  if (start == std::string_view::npos) return "/";
  return url.substr(start, url.find_first_of("?#", start) - start);
}

// The common mix-ups of protocol, port and endpoint variables, each with what
// to change (the endpoint is still used as configured: these are hints).
void HintMixUps(const ResolvedOtlpOptions& r, std::string_view endpoint, const std::string& source,
                bool append_path) {
  if (endpoint.empty()) return;
  const std::string shown = UrlForLog(endpoint);
  const std::string protocol_var = SignalVar(r.signal, "PROTOCOL");
  const int port = PortOf(endpoint);
  const bool grpc = r.protocol == Protocol::kGrpc;
  if (!grpc && port == 4317) {
    Log(LogLevel::kWarning, "OTLP exporter: " + std::string(ProtocolName(r.protocol)) + " to '" + shown +
                                "', port 4317, which is the OTLP/gRPC port (a collector answers HTTP there with "
                                "errors like 'Unsupported protocol' or a closed connection). Use port 4318 for "
                                "OTLP over HTTP, or set OTEL_EXPORTER_OTLP_PROTOCOL=grpc (or " + protocol_var +
                                ")");
  } else if (grpc && port == 4318) {
    Log(LogLevel::kWarning, "OTLP exporter: grpc to '" + shown +
                                "', port 4318, which is the OTLP/HTTP port (gRPC fails there with protocol "
                                "errors). Use port 4317 for gRPC, or set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf "
                                "(or " + protocol_var + ")");
  }
  if (grpc) {
    const std::string l = Lower(endpoint.substr(0, 8));
    const bool scheme = l.rfind("http://", 0) == 0 || l.rfind("https://", 0) == 0;
    const std::string_view host = std::string_view(r.grpc_target).substr(0, r.grpc_target.rfind(':'));
    if (!scheme && r.use_tls && (host == "localhost" || host == "127.0.0.1" || host == "[::1]")) {
      Log(LogLevel::kWarning, "OTLP exporter: gRPC endpoint '" + shown + "' has no scheme, so TLS is used, and a "
                                  "local collector usually listens without TLS (the failure then reads like a TLS "
                                  "handshake error). Write http://" + r.grpc_target +
                                  " or set OTEL_EXPORTER_OTLP_INSECURE=true for plaintext");
    }
    return;
  }
  const std::string_view path = PathOf(endpoint);
  const std::string signal_path = "/" + std::string(SignalHttpPath(r.signal));
  const std::string specific = SignalVar(r.signal, "ENDPOINT");
  auto ends_with_signal_path = [&](std::string_view p) {
    for (std::string_view known : {"/v1/traces", "/v1/metrics", "/v1/logs"}) {
      if (p.size() >= known.size() && p.substr(p.size() - known.size()) == known) return true;
      if (p.size() > known.size() && p.substr(p.size() - known.size() - 1) == std::string(known) + "/") return true;
    }
    return false;
  };
  if (append_path && ends_with_signal_path(path)) {
    Log(LogLevel::kWarning, "OTLP exporter: " + source + "='" + shown + "' already ends in a signal's path, and " +
                                source + " is a base URL to which " + signal_path + " is appended (requests go to '" +
                                UrlForLog(r.url) + "'). Give the base URL only (without /v1/...), or set the "
                                "full URL in " + specific);
  } else if (!append_path && source == specific && (path == "/" || path.empty())) {
    Log(LogLevel::kWarning, "OTLP exporter: " + specific + "='" + shown + "' has no path and is used as is: " +
                                "requests go to '" + UrlForLog(r.url) + "', not " + signal_path + ". Write the "
                                "full URL (…" + signal_path + ") in " + specific + ", or give the base URL in "
                                "OTEL_EXPORTER_OTLP_ENDPOINT");
  }
}

}  // namespace

ResolvedOtlpOptions ResolveOptions(const OtlpExporterOptions& o, Signal signal) {
  ResolvedOtlpOptions r;
  r.signal = signal;
  const std::string default_url = "http://localhost:4318/" + std::string(SignalHttpPath(signal));

  // Protocol.
  if (o.protocol) {
    r.protocol = *o.protocol;
  } else if (auto e = Env(o, signal, "PROTOCOL")) {
    if (!ParseProtocol(e->value, &r.protocol)) {
      config::WarnInvalid(e->name, e->value, "grpc, http/protobuf or http/json");
      r.protocol = Protocol::kHttpProtobuf;
    }
  }

  // Insecure (gRPC endpoints without a scheme).
  bool insecure = false;
  if (o.insecure) {
    insecure = *o.insecure;
  } else if (auto e = Env(o, signal, "INSECURE")) {
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
    const std::string specific = SignalVar(signal, "ENDPOINT");
    if (auto v = config::GetString(specific.c_str())) {
      endpoint = *v;  // used as is
      source = specific;
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
            "OTLP exporter: endpoint '" + UrlForLog(endpoint) +
                "' is not an http:// or https:// URL; using " + default_url);
      } else {
        config::WarnInvalid(source, UrlForLog(endpoint), "an http:// or https:// URL");
      }
      endpoint.clear();
    }
    if (endpoint.empty()) {
      r.url = default_url;
    } else if (append_path) {
      r.url = endpoint;
      if (r.url.back() != '/') r.url += '/';
      r.url += SignalHttpPath(signal);
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
  HintMixUps(r, endpoint, source, append_path);

  // Headers.
  if (o.headers) {
    r.headers = *o.headers;
  } else if (auto e = Env(o, signal, "HEADERS")) {
    std::vector<std::string> errors;
    r.headers = ParseHeaders(e->value, &errors);
    if (!errors.empty()) {
      std::string m = "invalid entries in " + e->name + " skipped:";
      for (const auto& s : errors) m += " " + s + ";";
      Log(LogLevel::kWarning, m);
    }
  }

  {
    // Headers a transport cannot send as given are dropped here, named by
    // key only: a bad value must neither crash grpc++ (it aborts on invalid
    // metadata) nor inject lines into an HTTP request.
    const bool grpc = r.protocol == Protocol::kGrpc;
    Headers ok;
    for (auto& [k, v] : r.headers) {
      std::string key = grpc ? Lower(k) : k;
      if (!IsHeaderKey(key, grpc)) {
        Log(LogLevel::kWarning, "OTLP exporter: header '" + config::KeyForMessage(k) + "' skipped: not a valid " +
                                    (grpc ? "gRPC metadata" : "HTTP header") + " name");
      } else if (!IsHeaderValue(key, v, grpc)) {
        Log(LogLevel::kWarning, "OTLP exporter: header '" + config::KeyForMessage(k) +
                                    "' skipped: its value has control or non-ASCII characters");
      } else {
        ok.emplace_back(std::move(key), std::move(v));
      }
    }
    r.headers = std::move(ok);
  }

  // Timeout (milliseconds). Zero means no limit (the spec): a day, in
  // practice; a shutdown still interrupts the export (kShutdownCeiling).
  auto apply_timeout = [&](int64_t ms, const std::string& name) {
    if (ms == 0) {
      r.timeout = std::chrono::hours(24);
      return;
    }
    r.timeout = std::chrono::milliseconds(ms);
    if (ms < 100) {
      Log(LogLevel::kWarning, name + "=" + std::to_string(ms) + " is " + std::to_string(ms) +
                                  " milliseconds, too short for most exports: the unit is milliseconds (" +
                                  std::to_string(ms * 1000) + " for " + std::to_string(ms) + " s)");
    }
  };
  if (o.timeout) {
    if (o.timeout->count() >= 0) {
      apply_timeout(o.timeout->count(), "OTLP exporter timeout");
    } else {
      Log(LogLevel::kWarning, "OTLP exporter: a negative timeout is invalid; using " +
                                  std::to_string(r.timeout.count()) + " ms (0 means no limit)");
    }
  } else if (auto e = Env(o, signal, "TIMEOUT")) {
    int64_t ms;
    if (config::ParseInt(e->value, &ms) && ms >= 0 && ms <= (int64_t{1} << 40)) {
      apply_timeout(ms, std::string(e->name));
    } else {
      config::WarnInvalid(e->name, e->value, "milliseconds, 0 for no limit");
    }
  }

  // Compression.
  if (o.compression) {
    r.compression = *o.compression;
  } else if (auto e = Env(o, signal, "COMPRESSION")) {
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
    else if (auto e = Env(o, signal, suffix))
      *out = e->value;
  };
  file(o.certificate_file, "CERTIFICATE", &r.certificate_file);
  file(o.client_key_file, "CLIENT_KEY", &r.client_key_file);
  file(o.client_certificate_file, "CLIENT_CERTIFICATE", &r.client_certificate_file);

  // Largest request (one setting for every signal, in the OTEL_CPP_ family).
  if (o.max_request_bytes) {
    if (*o.max_request_bytes >= kMinMaxRequestBytes) {
      r.max_request_bytes = *o.max_request_bytes;
    } else {
      Log(LogLevel::kWarning, "OTLP exporter: max_request_bytes must be at least " +
                                  std::to_string(kMinMaxRequestBytes) + "; using " +
                                  std::to_string(r.max_request_bytes));
    }
  } else if (o.read_environment) {
    if (std::optional<int64_t> v = config::GetInt(kEnvMaxRequestBytes, int64_t(kMinMaxRequestBytes),
                                                  int64_t{1} << 40)) {
      r.max_request_bytes = static_cast<size_t>(*v);
    }
  }

  r.max_attempts = std::max<uint32_t>(1, o.max_attempts);
  r.initial_backoff = o.initial_backoff;
  r.max_backoff = o.max_backoff;
  r.backoff_multiplier = o.backoff_multiplier >= 1.0 ? o.backoff_multiplier : 1.0;
  return r;
}

}  // namespace otelweb::otlp
