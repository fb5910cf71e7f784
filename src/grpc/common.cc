// Shared parts of the gRPC instrumentation (common.h).
#include "grpc/common.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <tuple>
#include <utility>

#include "core/config.h"

namespace otelweb::grpc {

SemconvSet SemconvSetFromEnv() noexcept {
  try {
    std::optional<std::string> v = config::GetString("OTEL_SEMCONV_STABILITY_OPT_IN");
    if (!v) return SemconvSet::kOld;
    SemconvSet set = SemconvSet::kOld;
    for (const std::string& item : config::SplitList(*v)) {
      std::string_view s = config::Trim(item);
      if (s == "rpc/dup") return SemconvSet::kDuplicate;
      if (s == "rpc") set = SemconvSet::kNew;
    }
    return set;
  } catch (...) {
    return SemconvSet::kOld;
  }
}

std::string_view StatusCodeName(int code) noexcept {
  static constexpr std::string_view kNames[] = {
      "OK",          "CANCELLED",          "UNKNOWN",      "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
      "NOT_FOUND",   "ALREADY_EXISTS",     "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED",    "OUT_OF_RANGE", "UNIMPLEMENTED",   "INTERNAL",
      "UNAVAILABLE", "DATA_LOSS",          "UNAUTHENTICATED"};
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) return "UNKNOWN";
  return kNames[code];
}

namespace internal {

MethodName SplitMethod(std::string_view full) noexcept {
  MethodName m;
  m.full = full;
  std::string_view s = full;
  if (!s.empty() && s.front() == '/') s.remove_prefix(1);
  m.span_name = s;
  size_t slash = s.rfind('/');
  if (slash == std::string_view::npos) {
    m.method = s;
  } else {
    m.service = s.substr(0, slash);
    m.method = s.substr(slash + 1);
  }
  return m;
}

bool IsServerError(int code) noexcept {
  switch (code) {
    case 2:   // UNKNOWN
    case 4:   // DEADLINE_EXCEEDED
    case 12:  // UNIMPLEMENTED
    case 13:  // INTERNAL
    case 14:  // UNAVAILABLE
    case 15:  // DATA_LOSS
      return true;
    default:
      return false;
  }
}

HostPort ParseAddress(std::string_view t) noexcept {
  HostPort hp;
  if (t.starts_with("ipv4:") || t.starts_with("ipv6:")) {
    t.remove_prefix(5);
  } else if (t.starts_with("dns:")) {
    t.remove_prefix(4);
    if (t.starts_with("//")) {  // dns://authority/host:port
      t.remove_prefix(2);
      size_t slash = t.find('/');
      t = slash == std::string_view::npos ? std::string_view() : t.substr(slash + 1);
    }
  } else if (t.starts_with("unix:") || t.starts_with("unix-abstract:")) {
    hp.host = t.substr(t.find(':') + 1);
    return hp;
  }
  if (size_t comma = t.find(','); comma != std::string_view::npos) t = t.substr(0, comma);
  std::string_view port;
  if (!t.empty() && t.front() == '[') {
    size_t close = t.find(']');
    if (close == std::string_view::npos) return hp;
    hp.host = t.substr(1, close - 1);
    if (close + 1 < t.size() && t[close + 1] == ':') port = t.substr(close + 2);
  } else {
    size_t colon = t.rfind(':');
    if (colon != std::string_view::npos && t.find(':') == colon) {
      hp.host = t.substr(0, colon);
      port = t.substr(colon + 1);
    } else {
      hp.host = t;  // no port, or a bare IPv6 address
    }
  }
  int p = 0;
  auto r = std::from_chars(port.data(), port.data() + port.size(), p);
  if (r.ec == std::errc() && r.ptr == port.data() + port.size() && p > 0 && p < 65536) hp.port = p;
  return hp;
}

HostPort ParseAddress(char* data, size_t size) noexcept {
  if (data == nullptr) return {};
  char* p = static_cast<char*>(std::memchr(data, '%', size));
  if (p == nullptr) return ParseAddress(std::string_view(data, size));  // the usual case: nothing to decode
  char* out = p;
  const char* end = data + size;
  for (const char* in = p; in < end;) {
    unsigned byte = 0;  // "%XX": two hex digits (from_chars takes no sign or prefix)
    if (*in == '%' && end - in >= 3 && std::from_chars(in + 1, in + 3, byte, 16).ptr == in + 3) {
      *out++ = static_cast<char>(byte);
      in += 3;
    } else {
      *out++ = *in++;  // not an escape: kept as it is
    }
  }
  return ParseAddress(std::string_view(data, static_cast<size_t>(out - data)));
}

Compiled::Compiled(const Settings& s, std::string_view scope, bool server)
    : settings_(s),
      set_(s.semconv ? *s.semconv : SemconvSetFromEnv()),
      server_(server),
      tracer_(scope, kVersion, s.tracer_provider) {
  for (std::string& e : settings_.excluded_methods) {
    if (!e.empty() && e.front() == '/') e.erase(0, 1);
  }
  if (settings_.meter_provider) {
    auto e = std::make_unique<Entry>();
    e->provider = settings_.meter_provider;
    e->m = Create(*e->provider);
    metrics_.Publish(std::move(e));
  }
}

bool Compiled::Excluded(const CallView& v) const noexcept {
  if (!settings_.excluded_methods.empty()) {
    std::string_view full = v.full_method;
    if (!full.empty() && full.front() == '/') full.remove_prefix(1);
    for (const std::string& e : settings_.excluded_methods) {
      if (e == full || e == v.service) return true;
    }
  }
  if (settings_.exclude) {
    bool excluded = false;
    instrumentation::RunGuarded(
        filter_warned_, "otelweb::grpc exclude filter (the call is traced)",
        [&] { excluded = settings_.exclude(v); }, settings_.hook_exceptions);
    return excluded;
  }
  return false;
}

void Compiled::RunRequestHook(SpanRef span, const CallView& v) const noexcept {
  if (!settings_.request_hook) return;
  instrumentation::RunGuarded(
      request_hook_warned_, server_ ? "otelweb::grpc server request hook" : "otelweb::grpc client request hook",
      [&] { settings_.request_hook(span, v); }, settings_.hook_exceptions);
}

void Compiled::RunResponseHook(SpanRef span, const CallView& v, const CallStatus& st) const noexcept {
  if (!settings_.response_hook) return;
  instrumentation::RunGuarded(
      response_hook_warned_,
      server_ ? "otelweb::grpc server response hook" : "otelweb::grpc client response hook",
      [&] { settings_.response_hook(span, v, st); }, settings_.hook_exceptions);
}

std::string_view Compiled::EndAttributes(SpanRef span, int code, std::string_view message,
                                         bool server) const noexcept {
  const bool error = server ? IsServerError(code) : code != 0;
  std::string_view error_type = error ? StatusCodeName(code) : std::string_view();
  if (!span.IsRecording()) return error_type;
  KeyValue kv[3];
  size_t n = 0;
  if (old_set()) kv[n++] = {"rpc.grpc.status_code", int64_t{code}};
  if (new_set()) kv[n++] = {"rpc.response.status_code", StatusCodeName(code)};
  if (error) kv[n++] = {"error.type", error_type};
  instrumentation::SetInstrumentationAttributes(span, Attributes(kv, n));
  if (error) span.SetStatus(StatusCode::kError, message);
  return error_type;
}

Compiled::Metrics Compiled::Create(metrics::MeterProvider& p) const {
  Metrics m;
  metrics::Meter meter = p.GetMeter(tracer_.scope_name(), kVersion);
  const char* side = server_ ? "server" : "client";
  if (old_set()) {
    // The old conventions' advice: the SDK default buckets (ms).
    m.old_ms = meter.CreateDoubleHistogram(std::string("rpc.") + side + ".duration", "ms",
                                           server_ ? "Measures the duration of inbound RPC."
                                                   : "Measures the duration of outbound RPC.");
  }
  if (new_set()) {
    metrics::InstrumentAdvice adv;
    adv.explicit_bucket_boundaries = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                      0.5,   0.75, 1,     2.5,  5,     7.5, 10};
    m.new_s = meter.CreateDoubleHistogram(std::string("rpc.") + side + ".call.duration", "s",
                                          server_ ? "Measures the duration of inbound remote procedure calls."
                                                  : "Measures the duration of outbound remote procedure calls.",
                                          adv);
  }
  m.enabled = m.old_ms.Enabled() || m.new_s.Enabled();
  return m;
}

const Compiled::Metrics* Compiled::metrics() const noexcept {
  const Entry* e = metrics_.Get();
  if (settings_.meter_provider) return e != nullptr && e->m.enabled ? &e->m : nullptr;
  uint64_t gen = metrics::MeterProviderGeneration();
  if (e == nullptr || e->generation != gen) [[unlikely]] {
    try {
      e = metrics_.PublishUnless([gen](const Entry& cur) { return cur.generation == gen; },
                                 [&] {
                                   auto n = std::make_unique<Entry>();
                                   n->generation = gen;
                                   n->provider = metrics::GetMeterProvider();
                                   n->m = Create(*n->provider);
                                   return n;
                                 });
    } catch (...) {
      return nullptr;
    }
  }
  return e != nullptr && e->m.enabled ? &e->m : nullptr;
}

void Compiled::RecordDuration(const MethodName& m, int code, HostPort server, double seconds,
                              const Context& span_context) const noexcept {
  const Metrics* mx = metrics();
  if (mx == nullptr) return;
  Scope current(span_context);  // the exemplar names the call's span
  if (seconds < 0) seconds = 0;
  const bool error = server_ ? IsServerError(code) : code != 0;
  if (old_set()) {
    KeyValue kv[6];
    size_t n = 0;
    kv[n++] = {"rpc.system", "grpc"};
    kv[n++] = {"rpc.service", m.service};
    kv[n++] = {"rpc.method", m.method};
    kv[n++] = {"rpc.grpc.status_code", int64_t{code}};
    if (!server.host.empty()) kv[n++] = {"server.address", server.host};
    if (server.port > 0) kv[n++] = {"server.port", int64_t{server.port}};
    mx->old_ms.Record(seconds * 1000.0, Attributes(kv, n));
  }
  if (new_set()) {
    KeyValue kv[6];
    size_t n = 0;
    kv[n++] = {"rpc.system.name", "grpc"};
    kv[n++] = {"rpc.method", m.span_name};
    kv[n++] = {"rpc.response.status_code", StatusCodeName(code)};
    if (error) kv[n++] = {"error.type", StatusCodeName(code)};
    if (!server.host.empty()) kv[n++] = {"server.address", server.host};
    if (server.port > 0) kv[n++] = {"server.port", int64_t{server.port}};
    mx->new_s.Record(seconds, Attributes(kv, n));
  }
}

void CallBlocks::Reserve(size_t n) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  while (cached_ < n && cached_ < kMaxCached) {
    void* p = std::malloc(size_);
    if (p == nullptr) return;
    head_ = new (p) Node{head_};
    ++cached_;
  }
}

void* CallBlocks::Take() noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++taken_;
    if (head_ != nullptr) {
      Node* n = head_;
      head_ = n->next;
      --cached_;
      return n;
    }
    ++misses_;
  }
  return std::malloc(size_);
}

void CallBlocks::Give(void* p) noexcept {
  if (p == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_ < kMaxCached) {
      head_ = new (p) Node{head_};
      ++cached_;
      return;
    }
  }
  std::free(p);
}

CallBlocks::Stats CallBlocks::stats() const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return {taken_, misses_, cached_};
}

std::string_view MetadataGetter::Get(std::string_view key, std::string& scratch) const noexcept {
  if (m_ == nullptr) return {};
  try {
    auto range = m_->equal_range(::grpc::string_ref(key.data(), key.size()));
    std::string_view first;
    size_t count = 0;
    for (auto it = range.first; it != range.second; ++it) {
      std::string_view v(it->second.data(), it->second.size());
      if (count == 0) {
        first = v;
      } else {
        if (count == 1) scratch.assign(first);
        scratch.append(",").append(v);
      }
      ++count;
    }
    return count > 1 ? std::string_view(scratch) : first;
  } catch (...) {
    return {};
  }
}

void MetadataSetter::Set(std::string_view key, std::string_view value) noexcept {
  if (m_ == nullptr) return;
  try {
    // Key and value are built in the map's node (no temporaries); the lookup
    // for an entry to replace is skipped when the map is empty (the usual
    // case: the application set no metadata of its own).
    if (!m_->empty()) m_->erase(std::string(key));
    m_->emplace(std::piecewise_construct, std::forward_as_tuple(key), std::forward_as_tuple(value));
  } catch (...) {
  }
}

}  // namespace internal
}  // namespace otelweb::grpc
