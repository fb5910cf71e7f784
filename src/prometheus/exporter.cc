// The Prometheus pull exporter: text format conversion and the /metrics server.
#include "otelweb/prometheus/exporter.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <chrono>
#include <thread>

#include "core/config.h"
#include "metrics/exp_histogram.h"
#include "otelweb/diagnostics.h"

namespace otelweb::prometheus {

namespace {

using metrics::HistogramPoint;
using metrics::MetricData;
using metrics::MetricPointKind;
using metrics::NumberPoint;

std::string Sanitize(std::string_view s, bool allow_colon) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (allow_colon && c == ':');
    out += ok ? c : '_';
  }
  if (!out.empty() && std::isdigit(static_cast<unsigned char>(out[0])))
    out.insert(out.begin(), '_');
  // Collapse runs of '_' (as the compatibility spec's normalisation does).
  std::string collapsed;
  for (char c : out) {
    if (c == '_' && !collapsed.empty() && collapsed.back() == '_') continue;
    collapsed += c;
  }
  return collapsed;
}

std::string UnitWord(std::string_view unit) {
  static const std::map<std::string, std::string, std::less<>> kWords = {
      {"s", "seconds"},      {"ms", "milliseconds"}, {"us", "microseconds"}, {"ns", "nanoseconds"},
      {"min", "minutes"},    {"h", "hours"},         {"d", "days"},          {"By", "bytes"},
      {"KiBy", "kibibytes"}, {"MiBy", "mebibytes"},  {"GiBy", "gibibytes"},  {"KBy", "kilobytes"},
      {"MBy", "megabytes"},  {"GBy", "gigabytes"},   {"m", "meters"},        {"V", "volts"},
      {"A", "amperes"},      {"J", "joules"},        {"W", "watts"},         {"g", "grams"},
      {"Cel", "celsius"},    {"Hz", "hertz"},        {"%", "percent"}};
  // Annotations in curly braces carry no unit.
  std::string u;
  int depth = 0;
  for (char c : unit) {
    if (c == '{') ++depth;
    if (depth == 0) u += c;
    if (c == '}' && depth > 0) --depth;
  }
  if (u.empty()) return {};
  auto it = kWords.find(u);
  if (it != kWords.end()) return it->second;
  size_t slash = u.find('/');
  if (slash != std::string::npos) {  // "m/s" -> meters_per_second
    std::string a = u.substr(0, slash), b = u.substr(slash + 1);
    auto ia = kWords.find(a);
    std::string per = b == "s"   ? "second"
                      : b == "m" ? "minute"
                      : b == "h" ? "hour"
                      : b == "d" ? "day"
                                 : b;
    return (ia != kWords.end() ? ia->second : a) + "_per_" + per;
  }
  return u;
}

std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Value(const OwnedValue& v) {
  switch (v.type) {
    case AttributeType::kString:
      return v.s;
    case AttributeType::kBool:
      return v.b ? "true" : "false";
    case AttributeType::kInt:
      return std::to_string(v.i);
    default:
      return v.ToString();
  }
}

std::string Num(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", d);
  return b;
}

// {k="v",...} with the scope labels and an optional extra label (le).
std::string Labels(const std::vector<OwnedKeyValue>& attrs,
                   const metrics::InstrumentationScope& scope, std::string_view extra_key = {},
                   std::string_view extra_value = {}) {
  // Keys that collide after sanitising are joined with ';' (compatibility spec).
  std::map<std::string, std::string> labels;
  for (const auto& kv : attrs) {
    std::string k = Sanitize(kv.key, false);
    auto [it, fresh] = labels.emplace(k, Value(kv.value));
    if (!fresh) it->second += ";" + Value(kv.value);
  }
  labels["otel_scope_name"] = scope.name;
  if (!scope.version.empty()) labels["otel_scope_version"] = scope.version;
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"" + Escape(v) + "\"";
  }
  if (!extra_key.empty()) {
    if (!first) out += ',';
    out += std::string(extra_key) + "=\"" + std::string(extra_value) + "\"";
  }
  return out + "}";
}

}  // namespace

std::string PrometheusName(std::string_view name, std::string_view unit, bool gauge_ratio) {
  std::string n = Sanitize(name, true);
  std::string word = (gauge_ratio && unit == "1") ? "ratio" : UnitWord(unit);
  if (!word.empty() && !(n.size() > word.size() && n.ends_with("_" + word)))
    n += "_" + Sanitize(word, false);
  return n;
}

namespace {

// ` # {trace_id="…",span_id="…"} value timestamp` (OpenMetrics exemplar).
std::string ExemplarSuffix(const metrics::Exemplar& e) {
  if (!e.trace_id.IsValid()) return {};
  std::string out = " # {trace_id=\"" + e.trace_id.ToHex() + "\",span_id=\"" + e.span_id.ToHex() +
                    "\"} " + (e.is_int ? std::to_string(e.as_int) : Num(e.as_double));
  int64_t ns = e.time.time_since_epoch().count();
  char ts[40];
  std::snprintf(ts, sizeof ts, " %lld.%09lld", static_cast<long long>(ns / 1000000000),
                static_cast<long long>(ns % 1000000000));
  return out + ts;
}

double ExemplarValue(const metrics::Exemplar& e) {
  return e.is_int ? static_cast<double>(e.as_int) : e.as_double;
}

// The latest exemplar whose value falls in bucket i: (b[i-1], b[i]].
const metrics::Exemplar* BucketExemplar(const HistogramPoint& p, size_t i) {
  const metrics::Exemplar* best = nullptr;
  for (const auto& e : p.exemplars) {
    double v = ExemplarValue(e);
    bool above = i == 0 || v > p.boundaries[i - 1];
    bool below = i >= p.boundaries.size() || v <= p.boundaries[i];
    if (above && below && e.trace_id.IsValid() && (best == nullptr || e.time > best->time))
      best = &e;
  }
  return best;
}

const metrics::Exemplar* LatestExemplar(const std::vector<metrics::Exemplar>& ex) {
  const metrics::Exemplar* best = nullptr;
  for (const auto& e : ex)
    if (e.trace_id.IsValid() && (best == nullptr || e.time > best->time)) best = &e;
  return best;
}

std::string Format(const metrics::ResourceMetrics& rm, bool openmetrics) {
  std::string out;
  // target_info: the resource (an info metric in OpenMetrics).
  out += openmetrics ? "# TYPE target info\ntarget_info{"
                     : "# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info{";
  {
    std::map<std::string, std::string> labels;
    for (const auto& kv : rm.resource.attributes())
      labels[Sanitize(kv.key, false)] = Value(kv.value);
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out += ',';
      first = false;
      out += k + "=\"" + Escape(v) + "\"";
    }
  }
  out += "} 1\n";
  // One family per name, its samples together (OpenMetrics forbids
  // interleaving; two scopes may report the same name).
  std::vector<std::string> order;
  std::map<std::string, std::pair<std::string, std::string>> families;  // name -> header, samples
  for (const auto& sm : rm.scope_metrics) {
    for (const MetricData& m : sm.metrics) {
      bool counter = m.point_kind == MetricPointKind::kSum && m.monotonic;
      const bool exponential = m.point_kind == MetricPointKind::kExponentialHistogram;
      bool gauge = !counter && m.point_kind != MetricPointKind::kHistogram && !exponential;
      std::string name = PrometheusName(m.name, m.unit, gauge);
      if (counter && !name.ends_with("_total")) name += "_total";
      if (counter && m.temporality != metrics::AggregationTemporality::kCumulative)
        continue;  // needs cumulative
      // OpenMetrics names a counter family without its _total suffix.
      std::string family =
          openmetrics && counter ? name.substr(0, name.size() - std::string_view("_total").size())
                                 : name;
      auto [it, fresh] = families.try_emplace(family);
      if (fresh) {
        order.push_back(family);
        std::string& h = it->second.first;
        if (!m.description.empty()) h += "# HELP " + family + " " + Escape(m.description) + "\n";
        h += "# TYPE " + family + (counter ? " counter\n" : gauge ? " gauge\n" : " histogram\n");
      }
      std::string& body = it->second.second;
      for (const NumberPoint& p : m.number_points) {
        body += name + Labels(p.attributes, sm.scope) + " " +
                (p.is_int ? std::to_string(p.as_int) : Num(p.as_double));
        if (openmetrics && counter)
          if (const metrics::Exemplar* e = LatestExemplar(p.exemplars)) body += ExemplarSuffix(*e);
        body += "\n";
      }
      for (const HistogramPoint& p : m.histogram_points) {
        if (exponential) {
          // The text formats have no native histograms: the exponential
          // buckets become classic ones whose `le` are the buckets' upper
          // boundaries (exact, as both are inclusive upper bounds): the
          // negative buckets from the most negative, the zero bucket (le=0),
          // the positive ones, +Inf.
          uint64_t cum = 0;
          auto bucket = [&](double le, uint64_t n) {
            cum += n;
            body += name + "_bucket" + Labels(p.attributes, sm.scope, "le", Num(le)) + " " +
                    std::to_string(cum) + "\n";
          };
          const auto& neg = p.negative.bucket_counts;
          for (size_t k = neg.size(); k-- > 0;)
            bucket(-metrics::internal::exph::LowerBoundary(p.negative.offset + static_cast<int64_t>(k), p.scale), neg[k]);
          if (p.zero_count != 0 || !neg.empty()) bucket(0, p.zero_count);
          const auto& pos = p.positive.bucket_counts;
          for (size_t k = 0; k < pos.size(); ++k)
            bucket(metrics::internal::exph::LowerBoundary(p.positive.offset + static_cast<int64_t>(k) + 1, p.scale), pos[k]);
          body += name + "_bucket" + Labels(p.attributes, sm.scope, "le", "+Inf") + " " +
                  std::to_string(p.count) + "\n";
          body += name + "_sum" + Labels(p.attributes, sm.scope) + " " + Num(p.sum) + "\n";
          body += name + "_count" + Labels(p.attributes, sm.scope) + " " +
                  std::to_string(p.count) + "\n";
          continue;
        }
        uint64_t cum = 0;
        for (size_t i = 0; i < p.bucket_counts.size(); ++i) {
          cum += p.bucket_counts[i];
          std::string le = i < p.boundaries.size() ? Num(p.boundaries[i]) : "+Inf";
          body += name + "_bucket" + Labels(p.attributes, sm.scope, "le", le) + " " +
                  std::to_string(cum);
          if (openmetrics)
            if (const metrics::Exemplar* e = BucketExemplar(p, i)) body += ExemplarSuffix(*e);
          body += "\n";
        }
        body += name + "_sum" + Labels(p.attributes, sm.scope) + " " + Num(p.sum) + "\n";
        body +=
            name + "_count" + Labels(p.attributes, sm.scope) + " " + std::to_string(p.count) + "\n";
      }
    }
  }
  for (const auto& f : order) {
    const auto& [header, body] = families[f];
    out += header;
    out += body;
  }
  if (openmetrics) out += "# EOF\n";
  return out;
}

}  // namespace

std::string FormatPrometheusText(const metrics::ResourceMetrics& rm) { return Format(rm, false); }

std::string FormatOpenMetricsText(const metrics::ResourceMetrics& rm) { return Format(rm, true); }

bool AcceptsOpenMetrics(std::string_view accept) noexcept {
  return accept.find("application/openmetrics-text") != std::string_view::npos;
}

struct PrometheusExporter::Impl {
  ::httplib::Server server;
  std::thread thread;
  std::atomic<bool> listener_returned{false};
  int port = 0;

  // cpp-httplib's stop() does nothing before listen_after_bind() has marked
  // the server running, and the listener would then never return: waits
  // (bounded by `limit`) until it runs or its thread has returned.
  void WaitForListener(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!server.is_running() && !listener_returned.load(std::memory_order_acquire) &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
};

PrometheusExporter::PrometheusExporter(PrometheusExporterOptions options)
    : impl_(std::make_unique<Impl>()) {
  std::string host = options.host
                         ? *options.host
                         : config::GetString("OTEL_EXPORTER_PROMETHEUS_HOST").value_or("localhost");
  int port = 9464;
  if (options.port) {
    port = *options.port;
  } else if (auto p = config::GetInt("OTEL_EXPORTER_PROMETHEUS_PORT", 0, 65535)) {
    port = static_cast<int>(*p);
  }
  Impl* impl = impl_.get();
  impl_->server.Get("/metrics", [this](const ::httplib::Request& req, ::httplib::Response& res) {
    if (AcceptsOpenMetrics(req.get_header_value("Accept"))) {
      res.set_content(Scrape(ScrapeFormat::kOpenMetrics),
                      "application/openmetrics-text; version=1.0.0; charset=utf-8");
    } else {
      res.set_content(Scrape(), "text/plain; version=0.0.4; charset=utf-8");
    }
  });
  if (port == 0) {
    impl_->port = impl_->server.bind_to_any_port(host);
  } else {
    impl_->port = impl_->server.bind_to_port(host, port) ? port : -1;
  }
  if (impl_->port <= 0) {
    impl_->port = 0;
    Log(LogLevel::kError,
        "otelweb prometheus: cannot listen on " + host + ":" + std::to_string(port) +
            "; /metrics is not served. Set OTEL_EXPORTER_PROMETHEUS_PORT to a free port.");
    return;
  }
  impl_->thread = std::thread([impl] {
    impl->server.listen_after_bind();
    impl->listener_returned.store(true, std::memory_order_release);
  });
  // /metrics is served once the constructor returns (on a normal machine in
  // about a millisecond; a shutdown waits longer, see OnShutdown).
  impl_->WaitForListener(std::chrono::seconds(2));
}

PrometheusExporter::~PrometheusExporter() { OnShutdown(std::chrono::milliseconds(0)); }

OperationResult PrometheusExporter::OnShutdown(std::chrono::milliseconds) noexcept {
  if (impl_->thread.joinable()) {
    // A listener thread not yet running after the constructor's 2 s (a very
    // slow or stalled machine) would miss this stop() and never return.
    impl_->WaitForListener(std::chrono::seconds(30));
    impl_->server.stop();
    impl_->thread.join();
  }
  return OperationResult::Ok();
}

int PrometheusExporter::port() const noexcept { return impl_->port; }

std::string PrometheusExporter::Scrape(ScrapeFormat format) {
  metrics::ResourceMetrics rm;
  Collect(&rm);  // not registered: target_info only
  return format == ScrapeFormat::kOpenMetrics ? FormatOpenMetricsText(rm)
                                              : FormatPrometheusText(rm);
}

}  // namespace otelweb::prometheus
