// otelweb-view's OTLP receivers, JSON API and page serving (see server.h).
#include "view/server.h"

#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <chrono>
#include <thread>

#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "view/otlp_json.h"
#include "view/signals.h"
#include "view/trace_json.h"
#include "view/ui_assets.h"

namespace otelweb::view {

namespace {

// Debian's cpp-httplib is built with Brotli, and it compresses a response at
// Brotli's slowest setting whenever the client accepts "br" (browsers always
// do) and the content type is exactly one it knows (application/json,
// application/javascript, or any text/*). That made a 2 000-span trace's JSON
// take 7.8 s instead of 0.6 s. On loopback compression buys nothing: JSON and
// scripts go out with a charset parameter, which that check does not match.
constexpr const char* kJsonContentType = "application/json; charset=utf-8";

namespace tsvc = otlp_pb::collector::trace::v1;
namespace lsvc = otlp_pb::collector::logs::v1;
namespace msvc = otlp_pb::collector::metrics::v1;
using Json = nlohmann::json;

// --- google.rpc.Status, written by hand (no generated code for it) ----------

void Varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += char(v | 0x80);
    v >>= 7;
  }
  out += char(v);
}
void LenField(std::string& out, int field, std::string_view bytes) {
  Varint(out, uint64_t(field) << 3 | 2);
  Varint(out, bytes.size());
  out.append(bytes);
}
// google.rpc.Status{code, message, details: [RetryInfo{retry_delay}] when retry_seconds > 0}.
std::string StatusBytes(int code, std::string_view message, int retry_seconds = 0) {
  std::string s;
  Varint(s, 1 << 3);
  Varint(s, uint64_t(code));
  LenField(s, 2, message);
  if (retry_seconds > 0) {
    std::string duration;
    Varint(duration, 1 << 3);
    Varint(duration, uint64_t(retry_seconds));
    std::string retry_info;
    LenField(retry_info, 1, duration);
    std::string any;
    LenField(any, 1, "type.googleapis.com/google.rpc.RetryInfo");
    LenField(any, 2, retry_info);
    LenField(s, 3, any);
  }
  return s;
}

std::string DumpJson(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string HostPort(const std::string& host, int port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

constexpr int kInvalidArgument = 3, kResourceExhausted = 8, kUnavailable = 14;

const char* QueueFullMessage() {
  return "otelweb-view's store is behind (its queue is full): retry after the Retry-After delay";
}

// --- OTLP/HTTP -------------------------------------------------------------

template <typename Request, typename Response>
void HandleHttpExport(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader,
                      Store* store, const ServerOptions& opt, Admit (Store::*add)(const Request&)) {
  std::string ct = req.get_header_value("Content-Type");
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  bool json = ct == "application/json";
  bool proto = ct == "application/x-protobuf" || ct == "application/protobuf";
  auto fail = [&](int http, int code, const std::string& message) {
    res.status = http;
    if (json) {
      res.set_content(DumpJson(Json{{"code", code}, {"message", message}}), kJsonContentType);
    } else {
      res.set_content(StatusBytes(code, message), "application/x-protobuf");
    }
  };
  if (!json && !proto) {
    json = true;
    fail(415, kInvalidArgument,
         "unsupported Content-Type \"" + ct + "\": send application/x-protobuf or application/json (OTLP/HTTP)");
    return;
  }
  std::string body;
  bool too_big = false;
  bool ok = reader([&](const char* data, size_t n) {
    if (body.size() + n > opt.max_request_bytes) {
      too_big = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (too_big || res.status == 413) {
    fail(413, kResourceExhausted,
         "the request exceeds otelweb-view's limit of " + std::to_string(opt.max_request_bytes) +
             " bytes (after decompression): send smaller batches");
    return;
  }
  if (!ok) {
    std::string enc = req.get_header_value("Content-Encoding");
    if (res.status == 415) {
      fail(415, kInvalidArgument, "unsupported Content-Encoding \"" + enc + "\": send gzip or no encoding");
    } else {
      fail(400, kInvalidArgument, "the request body could not be read" +
                                      (enc.empty() ? std::string() : " (is it really " + enc + "?)"));
    }
    return;
  }
  // Parsed on an arena: a request of 512 spans is thousands of small
  // messages and strings, freed at once (malloc was a fifth of ingest's CPU).
  google::protobuf::Arena arena;
  Request& request = *google::protobuf::Arena::CreateMessage<Request>(&arena);
  if (json) {
    std::string error;
    if (!ParseOtlpJson(body, &request, &error)) {
      fail(400, kInvalidArgument, error);
      return;
    }
  } else if (!request.ParseFromString(body)) {
    fail(400, kInvalidArgument,
         "the body is not a protobuf " + request.GetDescriptor()->full_name() +
             " (for OTLP/JSON send Content-Type: application/json)");
    return;
  }
  switch ((store->*add)(request)) {
    case Admit::kStored: break;
    case Admit::kQueueFull:
      res.set_header("Retry-After", std::to_string(opt.retry_after_seconds));
      fail(503, kUnavailable, QueueFullMessage());
      return;
    case Admit::kStopped:
      res.set_header("Retry-After", std::to_string(opt.retry_after_seconds));
      fail(503, kUnavailable, "otelweb-view is stopping");
      return;
  }
  Response response;
  res.status = 200;
  if (json) {
    res.set_content(ToOtlpJson(response), kJsonContentType);
  } else {
    res.set_content(response.SerializeAsString(), "application/x-protobuf");
  }
}

// --- OTLP/gRPC ---------------------------------------------------------------

grpc::Status GrpcAdmit(Admit a, const ServerOptions& opt) {
  switch (a) {
    case Admit::kStored: return grpc::Status::OK;
    case Admit::kQueueFull:
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, QueueFullMessage(),
                          StatusBytes(kUnavailable, QueueFullMessage(), opt.retry_after_seconds));
    case Admit::kStopped:
    default:
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "otelweb-view is stopping",
                          StatusBytes(kUnavailable, "otelweb-view is stopping", opt.retry_after_seconds));
  }
}

class TraceService final : public tsvc::TraceService::Service {
 public:
  TraceService(Store* s, const ServerOptions& o) : store_(s), opt_(o) {}
  grpc::Status Export(grpc::ServerContext*, const tsvc::ExportTraceServiceRequest* req,
                      tsvc::ExportTraceServiceResponse*) override {
    return GrpcAdmit(store_->AddTraces(*req), opt_);
  }

 private:
  Store* store_;
  ServerOptions opt_;
};

class LogsService final : public lsvc::LogsService::Service {
 public:
  LogsService(Store* s, const ServerOptions& o) : store_(s), opt_(o) {}
  grpc::Status Export(grpc::ServerContext*, const lsvc::ExportLogsServiceRequest* req,
                      lsvc::ExportLogsServiceResponse*) override {
    return GrpcAdmit(store_->AddLogs(*req), opt_);
  }

 private:
  Store* store_;
  ServerOptions opt_;
};

class MetricsService final : public msvc::MetricsService::Service {
 public:
  MetricsService(Store* s, const ServerOptions& o) : store_(s), opt_(o) {}
  grpc::Status Export(grpc::ServerContext*, const msvc::ExportMetricsServiceRequest* req,
                      msvc::ExportMetricsServiceResponse*) override {
    return GrpcAdmit(store_->AddMetrics(*req), opt_);
  }

 private:
  Store* store_;
  ServerOptions opt_;
};

// --- JSON API ------------------------------------------------------------------

void ApiError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(DumpJson(Json{{"error", message}}), kJsonContentType);
}

bool ParseInt(const std::string& s, int64_t* v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && *v >= 0;
}

// The filters of /api/traces and /api/export; false after answering 400.
bool ParseQuery(const httplib::Request& req, httplib::Response& res, TraceQuery* q, int max_limit) {
  q->service = req.get_param_value("service");
  q->name = req.get_param_value("name");
  if (req.has_param("error")) {
    std::string e = req.get_param_value("error");
    if (e != "1" && e != "0" && e != "true" && e != "false") {
      ApiError(res, 400, "error=" + e + ": use error=1 (traces with an ERROR span) or leave it out");
      return false;
    }
    q->error_only = e == "1" || e == "true";
  }
  struct IntParam {
    const char* name;
    int64_t* out;
  };
  int64_t limit = q->limit, offset = 0;
  for (IntParam p : {IntParam{"minDuration", &q->min_duration}, IntParam{"maxDuration", &q->max_duration},
                     IntParam{"start", &q->start}, IntParam{"end", &q->end}, IntParam{"limit", &limit},
                     IntParam{"offset", &offset}}) {
    if (!req.has_param(p.name)) continue;
    std::string v = req.get_param_value(p.name);
    if (!ParseInt(v, p.out)) {
      ApiError(res, 400,
               std::string(p.name) + "=" + v + ": use a non-negative integer (nanoseconds for durations and times)");
      return false;
    }
  }
  if (limit < 1 || limit > max_limit) {
    ApiError(res, 400, "limit=" + std::to_string(limit) + ": use 1 to " + std::to_string(max_limit));
    return false;
  }
  if (offset > 100000000) offset = 100000000;
  q->limit = int(limit);
  q->offset = int(offset);
  for (size_t i = 0; i < req.get_param_value_count("attr"); ++i) {
    std::string a = req.get_param_value("attr", i);
    if (a.find('=') == std::string::npos || a.front() == '=') {
      ApiError(res, 400, "attr=" + a + ": use attr=key%3Dvalue (URL-encoded key=value)");
      return false;
    }
    q->attrs.push_back(a);
  }
  if (req.has_param("sort")) {
    std::string s = req.get_param_value("sort");
    if (s != "newest" && s != "duration") {
      ApiError(res, 400, "sort=" + s + ": use sort=newest or sort=duration");
      return false;
    }
    q->sort_by_duration = s == "duration";
  }
  return true;
}

// One ExportTraceServiceRequest of stored spans, grouped by resource and scope.
tsvc::ExportTraceServiceRequest ToRequest(std::vector<StoredSpan>& spans) {
  tsvc::ExportTraceServiceRequest req;
  std::map<std::string, otlp_pb::trace::v1::ScopeSpans*> by_ctx;
  for (auto& s : spans) {
    const auto& context = *s.context;
    std::string key = context.SerializeAsString();
    auto it = by_ctx.find(key);
    if (it == by_ctx.end()) {
      auto* rs = req.add_resource_spans();
      *rs->mutable_resource() = context.resource();
      rs->set_schema_url(context.schema_url());
      auto* ss = rs->add_scope_spans();
      if (context.scope_spans_size()) {
        *ss->mutable_scope() = context.scope_spans(0).scope();
        ss->set_schema_url(context.scope_spans(0).schema_url());
      }
      it = by_ctx.emplace(key, ss).first;
    }
    *it->second->add_spans() = std::move(s.span);
  }
  return req;
}

bool TraceIdParam(const std::string& hex, httplib::Response& res, std::string* id) {
  if (!FromHex(hex, 16, id)) {
    ApiError(res, 400, "trace id \"" + hex + "\": use the 32 hex digits of a trace id");
    return false;
  }
  return true;
}

std::string ContentTypeOf(const std::string& path) {
  auto ends = [&](const char* e) {
    size_t n = std::strlen(e);
    return path.size() >= n && path.compare(path.size() - n, n, e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "application/javascript; charset=utf-8";  // not compressed: see kJsonContentType
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json") || ends(".map")) return kJsonContentType;
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".woff2")) return "font/woff2";
  return "application/octet-stream";
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

void RegisterApi(httplib::Server& srv, Store* store, const ServerOptions& opt) {
  RegisterSignalsApi(srv, store);  // logs, metrics, service map (signals.cc)
  srv.Get("/api/services", [store](const httplib::Request&, httplib::Response& res) {
    res.set_content(DumpJson(Json{{"services", store->Services()}}), kJsonContentType);
  });
  srv.Get("/api/stats", [store](const httplib::Request&, httplib::Response& res) {
    StoreStats s = store->Stats();
    res.set_content(DumpJson(Json{{"traces", s.traces},
                                  {"spans", s.spans},
                                  {"logs", s.logs},
                                  {"metricPoints", s.metric_points},
                                  {"dbBytes", s.db_bytes},
                                  {"capBytes", s.cap_bytes},
                                  {"generation", s.generation},
                                  {"duplicateSpans", s.duplicate_spans}}),
                    kJsonContentType);
  });
  srv.Get("/api/traces", [store](const httplib::Request& req, httplib::Response& res) {
    TraceQuery q;
    if (!ParseQuery(req, res, &q, 1000)) return;
    std::vector<TraceSummary> out;
    int64_t total = 0;
    std::string error;
    if (!store->QueryTraces(q, &out, &total, &error)) {
      ApiError(res, 500, "query failed: " + error);
      return;
    }
    Json traces = Json::array();
    for (const auto& t : out) {
      traces.push_back({{"traceId", Hex(t.trace_id)},
                        {"rootName", t.root_name},
                        {"rootService", t.root_service},
                        {"services", t.services},
                        {"spanCount", t.span_count},
                        {"errorCount", t.error_count},
                        {"startTimeUnixNano", std::to_string(t.start)},
                        {"durationNano", t.duration}});
    }
    res.set_content(DumpJson(Json{{"traces", traces}, {"total", total}}), kJsonContentType);
  });
  srv.Get(R"(/api/traces/([^/]+)/otlp)", [store](const httplib::Request& req, httplib::Response& res) {
    std::string id;
    if (!TraceIdParam(req.matches[1], res, &id)) return;
    std::vector<StoredSpan> spans;
    if (!store->GetTrace(id, &spans)) return ApiError(res, 404, "no trace " + std::string(req.matches[1]));
    res.set_header("Content-Disposition", "attachment; filename=\"" + Hex(id) + ".json\"");
    res.set_content(ToOtlpJson(ToRequest(spans)), kJsonContentType);
  });
  srv.Get(R"(/api/traces/([^/]+))", [store](const httplib::Request& req, httplib::Response& res) {
    std::string id;
    if (!TraceIdParam(req.matches[1], res, &id)) return;
    std::vector<StoredSpan> spans;
    if (!store->GetTrace(id, &spans)) return ApiError(res, 404, "no trace " + std::string(req.matches[1]));
    res.set_content(TraceJson(id, spans), kJsonContentType);
  });
  srv.Get("/api/export", [store](const httplib::Request& req, httplib::Response& res) {
    TraceQuery q;
    q.limit = 1000;
    if (!ParseQuery(req, res, &q, 100000)) return;
    std::vector<TraceSummary> out;
    int64_t total = 0;
    std::string error;
    if (!store->QueryTraces(q, &out, &total, &error)) return ApiError(res, 500, "query failed: " + error);
    std::string body;
    for (const auto& t : out) {
      std::vector<StoredSpan> spans;
      if (!store->GetTrace(t.trace_id, &spans)) continue;
      body += ToOtlpJson(ToRequest(spans));
      body += '\n';
    }
    res.set_header("Content-Disposition", "attachment; filename=\"otelweb-traces.jsonl\"");
    res.set_content(body, "application/x-ndjson");
  });
  srv.Get(R"(/api(/.*)?)", [](const httplib::Request& req, httplib::Response& res) {
    ApiError(res, 404, "no API " + req.path + " (see docs/view.md for the API)");
  });
  // The page: files, and index.html for every other path (client-side routing).
  std::string dir = opt.ui_dir;
  srv.Get(R"(/.*)", [dir](const httplib::Request& req, httplib::Response& res) {
    std::string path = req.path == "/" ? "/index.html" : req.path;
    bool safe = path.find("..") == std::string::npos;
    if (!dir.empty()) {
      std::string body;
      if (safe && ReadFile(dir + path, &body)) {
        res.set_content(body, ContentTypeOf(path));
      } else if (ReadFile(dir + "/index.html", &body)) {
        res.set_content(body, "text/html; charset=utf-8");
      } else {
        res.status = 404;
        res.set_content("no index.html in --ui-dir " + dir + " (build the page: see docs/view.md)", "text/plain");
      }
      return;
    }
    const UiAsset* index = nullptr;
    for (const UiAsset& a : UiAssets()) {
      if (a.path == path) {
        res.set_content(std::string(a.body), std::string(a.content_type));
        return;
      }
      if (a.path == "/index.html") index = &a;
    }
    if (index) {
      res.set_content(std::string(index->body), std::string(index->content_type));
    } else {
      res.status = 404;
    }
  });
}

}  // namespace

struct ViewServer::Impl {
  Store* store = nullptr;
  ServerOptions opt;
  httplib::Server http, ui;
  std::thread http_thread, ui_thread;
  std::unique_ptr<TraceService> traces;
  std::unique_ptr<LogsService> logs;
  std::unique_ptr<MetricsService> metrics;
  std::unique_ptr<grpc::Server> grpc;
  int ui_port = 0, grpc_port = 0, http_port = 0;
  bool stopped = false;
};

ViewServer::ViewServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ViewServer::~ViewServer() { Stop(); }
int ViewServer::ui_port() const { return impl_->ui_port; }
int ViewServer::grpc_port() const { return impl_->grpc_port; }
int ViewServer::http_port() const { return impl_->http_port; }

std::string ViewServer::AddressLine() const {
  const std::string& h = impl_->opt.host;
  return "ui=http://" + HostPort(h, impl_->ui_port) + " grpc=" + HostPort(h, impl_->grpc_port) +
         " http=" + HostPort(h, impl_->http_port);
}

void ViewServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->http.stop();
  impl_->ui.stop();
  if (impl_->http_thread.joinable()) impl_->http_thread.join();
  if (impl_->ui_thread.joinable()) impl_->ui_thread.join();
  if (impl_->grpc) impl_->grpc->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

namespace {

int Bind(httplib::Server& srv, const std::string& host, int port) {
  if (port == 0) return srv.bind_to_any_port(host);
  return srv.bind_to_port(host, port) ? port : -1;
}

std::string PortError(const char* what, const std::string& host, int port, const char* flag) {
  return "cannot listen on " + HostPort(host, port) + " for " + what +
         " (the port is in use, or the address is not this machine's): choose another port with " + flag +
         " PORT (0 picks a free port)";
}

// Whether host:port can be bound now (gRPC would log its own multi-line
// error first; this keeps a port in use to our one line).
bool CanBind(const std::string& host, int port) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) return false;
  bool ok = false;
  int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ok = bind(fd, res->ai_addr, res->ai_addrlen) == 0;
    close(fd);
  }
  freeaddrinfo(res);
  return ok;
}

}  // namespace

std::unique_ptr<ViewServer> ViewServer::Start(Store* store, const ServerOptions& options, std::string* error) {
  auto impl = std::make_unique<Impl>();
  Impl* s = impl.get();
  s->store = store;
  s->opt = options;
  const ServerOptions& opt = s->opt;

  // OTLP/HTTP: a fixed pool of workers; an idle keep-alive connection holds
  // one for at most 2 s.
  int threads = opt.http_threads;
  s->http.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  s->http.set_keep_alive_timeout(2);
  s->http.set_tcp_nodelay(true);
  s->http.set_payload_max_length(opt.max_request_bytes);
  s->http.Post("/v1/traces", [s](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& r) {
    HandleHttpExport<tsvc::ExportTraceServiceRequest, tsvc::ExportTraceServiceResponse>(req, res, r, s->store, s->opt,
                                                                                         &Store::AddTraces);
  });
  s->http.Post("/v1/logs", [s](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& r) {
    HandleHttpExport<lsvc::ExportLogsServiceRequest, lsvc::ExportLogsServiceResponse>(req, res, r, s->store, s->opt,
                                                                                      &Store::AddLogs);
  });
  s->http.Post("/v1/metrics", [s](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& r) {
    HandleHttpExport<msvc::ExportMetricsServiceRequest, msvc::ExportMetricsServiceResponse>(
        req, res, r, s->store, s->opt, &Store::AddMetrics);
  });
  s->http_port = Bind(s->http, opt.host, opt.http_port);
  if (s->http_port <= 0) {
    *error = PortError("OTLP/HTTP", opt.host, opt.http_port, "--http-port");
    return nullptr;
  }

  // The page and the API: short requests (the page polls /api/stats; no
  // long-lived streams hold a worker).
  s->ui.new_task_queue = [] { return new httplib::ThreadPool(8); };
  s->ui.set_keep_alive_timeout(2);
  s->ui.set_tcp_nodelay(true);
  RegisterApi(s->ui, store, opt);
  s->ui_port = Bind(s->ui, opt.host, opt.ui_port);
  if (s->ui_port <= 0) {
    *error = PortError("the UI", opt.host, opt.ui_port, "--ui-port");
    return nullptr;
  }

  // OTLP/gRPC.
  if (opt.grpc_port != 0 && !CanBind(opt.host, opt.grpc_port)) {
    *error = PortError("OTLP/gRPC", opt.host, opt.grpc_port, "--grpc-port");
    return nullptr;
  }
  s->traces = std::make_unique<TraceService>(store, opt);
  s->logs = std::make_unique<LogsService>(store, opt);
  s->metrics = std::make_unique<MetricsService>(store, opt);
  grpc::ServerBuilder b;
  b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // a port in use is an error, not shared
  b.SetMaxReceiveMessageSize(int(std::min<size_t>(opt.max_request_bytes, INT32_MAX)));
  b.AddListeningPort(HostPort(opt.host, opt.grpc_port), grpc::InsecureServerCredentials(), &s->grpc_port);
  b.RegisterService(s->traces.get());
  b.RegisterService(s->logs.get());
  b.RegisterService(s->metrics.get());
  s->grpc = b.BuildAndStart();
  if (!s->grpc || s->grpc_port == 0) {
    *error = PortError("OTLP/gRPC", opt.host, opt.grpc_port, "--grpc-port");
    return nullptr;
  }

  s->http_thread = std::thread([s] { s->http.listen_after_bind(); });
  s->ui_thread = std::thread([s] { s->ui.listen_after_bind(); });
  // cpp-httplib's stop() does nothing until listen_after_bind() has marked the
  // server running, so a Stop() right after Start() would leave both threads
  // listening and hang in join(): return once both run (at most 5 s; a thread
  // that cannot start leaves its server stopped, which Stop() joins at once).
  for (int i = 0; i < 5000 && !(s->http.is_running() && s->ui.is_running()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return std::unique_ptr<ViewServer>(new ViewServer(std::move(impl)));
}

bool LoadOtlpJsonLines(Store* store, const std::string& path, std::string* error, size_t* lines_loaded) {
  std::ifstream f(path);
  if (!f) {
    *error = "cannot read " + path + " (check the path given to --load)";
    return false;
  }
  std::string line;
  size_t n = 0, loaded = 0;
  auto add = [&](auto fn) {
    for (;;) {
      Admit a = fn();
      if (a == Admit::kQueueFull) {
        store->Flush(std::chrono::seconds(5));
        continue;
      }
      return a == Admit::kStored;
    }
  };
  while (std::getline(f, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json doc = Json::parse(line, nullptr, false);
    std::string err;
    bool ok = false;
    if (doc.is_object() && doc.contains("resourceSpans")) {
      tsvc::ExportTraceServiceRequest r;
      ok = ParseOtlpJson(doc, &r, &err) && add([&] { return store->AddTraces(r); });
    } else if (doc.is_object() && doc.contains("resourceLogs")) {
      lsvc::ExportLogsServiceRequest r;
      ok = ParseOtlpJson(doc, &r, &err) && add([&] { return store->AddLogs(r); });
    } else if (doc.is_object() && doc.contains("resourceMetrics")) {
      msvc::ExportMetricsServiceRequest r;
      ok = ParseOtlpJson(doc, &r, &err) && add([&] { return store->AddMetrics(r); });
    } else {
      err = "not an OTLP/JSON request (expected an object with resourceSpans, resourceLogs or resourceMetrics)";
    }
    if (!ok) {
      *error = path + ":" + std::to_string(n) + ": " + err;
      return false;
    }
    ++loaded;
  }
  store->Flush(std::chrono::seconds(60));
  if (lines_loaded) *lines_loaded = loaded;
  return true;
}

}  // namespace otelweb::view
