// The test OTLP receiver: cpp-httplib for OTLP/HTTP, grpc++ (service class
// generated from our trace_service.proto) for OTLP/gRPC.
#include "receiver.h"

#include <arpa/inet.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <optional>
#include <thread>

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace otelweb::otlp::testing {

namespace pbc = ::opentelemetry::proto::collector::trace::v1;

namespace {

std::string Base64(const std::string& bin) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bin.size(); i += 3) {
    uint32_t v =
        uint32_t(uint8_t(bin[i])) << 16 | uint32_t(uint8_t(bin[i + 1])) << 8 | uint8_t(bin[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += k[(v >> s) & 63];
  }
  size_t rest = bin.size() - i;
  if (rest > 0) {
    uint32_t v =
        uint32_t(uint8_t(bin[i])) << 16 | (rest == 2 ? uint32_t(uint8_t(bin[i + 1])) << 8 : 0);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += rest == 2 ? k[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string ReadAll(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return {};
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  std::fclose(f);
  return s;
}

void Varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += char(v | 0x80);
    v >>= 7;
  }
  out += char(v);
}
void LenField(std::string& out, uint32_t field, const std::string& bytes) {
  Varint(out, field << 3 | 2);
  Varint(out, bytes.size());
  out += bytes;
}

// google.rpc.Status{code, message, details=[Any(RetryInfo{retry_delay})]}.
std::string StatusWithRetryInfo(int code, int64_t delay_ms) {
  std::string duration;
  Varint(duration, 1 << 3);
  Varint(duration, uint64_t(delay_ms / 1000));
  Varint(duration, 2 << 3);
  Varint(duration, uint64_t(delay_ms % 1000) * 1000000);
  std::string retry_info;
  LenField(retry_info, 1, duration);
  std::string any;
  LenField(any, 1, "type.googleapis.com/google.rpc.RetryInfo");
  LenField(any, 2, retry_info);
  std::string status;
  Varint(status, 1 << 3);
  Varint(status, uint64_t(code));
  LenField(status, 2, "try later");
  LenField(status, 3, any);
  return status;
}

// Counts spans in ExportTraceServiceRequest bytes without parsing them all.
uint64_t CountSpans(std::string_view b) {
  auto read_varint = [](std::string_view& s, uint64_t* v) {
    uint64_t r = 0;
    for (int sh = 0; sh < 64 && !s.empty(); sh += 7) {
      uint8_t c = uint8_t(s[0]);
      s.remove_prefix(1);
      r |= uint64_t(c & 0x7f) << sh;
      if (!(c & 0x80)) {
        *v = r;
        return true;
      }
    }
    return false;
  };
  // Walks length-delimited field `want` at each level of `path`.
  std::function<uint64_t(std::string_view, int)> walk = [&](std::string_view s,
                                                            int depth) -> uint64_t {
    static const uint32_t path[] = {1, 2, 2};  // resource_spans, scope_spans, spans
    uint64_t n = 0;
    while (!s.empty()) {
      uint64_t tag, v;
      if (!read_varint(s, &tag)) return n;
      uint32_t type = tag & 7;
      if (type == 2) {
        if (!read_varint(s, &v) || v > s.size()) return n;
        std::string_view sub = s.substr(0, v);
        s.remove_prefix(v);
        if ((tag >> 3) == path[depth]) n += depth == 2 ? 1 : walk(sub, depth + 1);
      } else if (type == 0) {
        if (!read_varint(s, &v)) return n;
      } else if (type == 1) {
        s.remove_prefix(std::min<size_t>(8, s.size()));
      } else if (type == 5) {
        s.remove_prefix(std::min<size_t>(4, s.size()));
      } else {
        return n;
      }
    }
    return n;
  };
  return walk(b, 0);
}

}  // namespace

std::string OtlpJsonToProto3Json(const std::string& json) {
  // "traceId"/"spanId"/"parentSpanId" values: hex in OTLP/JSON, base64 in proto3 JSON.
  static const char* const kKeys[] = {"\"traceId\":\"", "\"spanId\":\"", "\"parentSpanId\":\""};
  size_t next[3];
  for (int k = 0; k < 3; ++k) next[k] = json.find(kKeys[k]);
  std::string out;
  out.reserve(json.size());
  size_t i = 0;
  for (;;) {
    int k = 0;
    for (int j = 1; j < 3; ++j) {
      if (next[j] < next[k]) k = j;
    }
    size_t at = next[k];
    if (at == std::string::npos) break;
    size_t v = at + std::strlen(kKeys[k]);
    size_t end = json.find('"', v);
    if (end == std::string::npos) break;
    out.append(json, i, v - i);
    std::string bin;
    for (size_t h = v; h + 1 < end; h += 2) bin += char(std::stoi(json.substr(h, 2), nullptr, 16));
    out += Base64(bin);
    i = end;
    next[k] = json.find(kKeys[k], end);
  }
  out.append(json, i);
  return out;
}

struct Receiver::State {
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  bool keep = true;
  std::deque<Fault> faults;
  std::chrono::milliseconds delay{0};
  int64_t partial_rejected = 0;
  std::string partial_message;
  std::vector<Request> requests;
  std::vector<SeenRequest> seen;
  uint64_t spans = 0;
  uint64_t attempts = 0;
  bool stopping = false;

  // Records the request; returns the fault to answer with, if any.
  std::optional<Fault> Take(SeenRequest sr) {
    std::chrono::milliseconds d;
    {
      std::lock_guard<std::mutex> lock(mu);
      ++attempts;
      seen.push_back(std::move(sr));
      d = delay;
    }
    if (d.count() > 0) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_for(lock, d, [&] { return stopping; });
    }
    std::lock_guard<std::mutex> lock(mu);
    if (faults.empty()) return std::nullopt;
    Fault f = faults.front();
    faults.pop_front();
    return f;
  }
  void Accept(Request req, uint64_t n) {
    std::lock_guard<std::mutex> lock(mu);
    spans += n;
    if (keep) requests.push_back(std::move(req));
    cv.notify_all();
  }
};

constexpr char kTraceMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

bool IsOtherSignalMethod(std::string_view m) {
  return m == "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export" ||
         m == "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
}

class TraceServiceImpl final : public pbc::TraceService::Service {
 public:
  explicit TraceServiceImpl(std::shared_ptr<Receiver::State> s) : s_(std::move(s)) {}
  grpc::Status Export(grpc::ServerContext* ctx, const pbc::ExportTraceServiceRequest* req,
                      pbc::ExportTraceServiceResponse* resp) override {
    SeenRequest sr;
    sr.transport = "grpc";
    sr.path = kTraceMethod;
    for (const auto& [k, v] : ctx->client_metadata()) {
      sr.headers.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
    }
    auto enc = sr.headers.find("grpc-encoding");
    sr.gzip = enc != sr.headers.end() && enc->second == "gzip";
    if (auto f = s_->Take(std::move(sr))) {
      if (f->retry_info_ms >= 0) {
        return grpc::Status(grpc::StatusCode(f->grpc_code), "injected",
                            StatusWithRetryInfo(f->grpc_code, f->retry_info_ms));
      }
      return grpc::Status(grpc::StatusCode(f->grpc_code), "injected failure");
    }
    uint64_t n = 0;
    for (const auto& rs : req->resource_spans()) {
      for (const auto& ss : rs.scope_spans()) n += uint64_t(ss.spans_size());
    }
    {
      std::lock_guard<std::mutex> lock(s_->mu);
      if (s_->partial_rejected || !s_->partial_message.empty()) {
        resp->mutable_partial_success()->set_rejected_spans(s_->partial_rejected);
        resp->mutable_partial_success()->set_error_message(s_->partial_message);
      }
    }
    s_->Accept(*req, n);
    return grpc::Status::OK;
  }

 private:
  std::shared_ptr<Receiver::State> s_;
};

// Counting-only gRPC service (keep_requests = false): spans are counted in the
// raw bytes, so the receiver's parsing does not dominate throughput figures.
// Also every metrics and logs export (recorded in `seen`, answered with an
// empty response), in both modes; then registered beside TraceServiceImpl,
// which takes the trace method.
class RawTraceService final : public grpc::CallbackGenericService {
 public:
  RawTraceService(std::shared_ptr<Receiver::State> s, bool traces) : s_(std::move(s)), traces_(traces) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    enum class What { kNone, kTraces, kOther };
    class Reactor final : public grpc::ServerGenericBidiReactor {
     public:
      Reactor(std::shared_ptr<Receiver::State> s, What what, std::string method,
              std::multimap<std::string, std::string> headers)
          : s_(std::move(s)), what_(what), method_(std::move(method)), headers_(std::move(headers)) {
        if (what_ == What::kNone) {
          Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""));
          return;
        }
        StartRead(&req_);
      }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
          return;
        }
        std::vector<grpc::Slice> slices;
        std::string bytes;
        if (req_.Dump(&slices).ok()) {
          for (const auto& sl : slices)
            bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
        }
        if (what_ == What::kOther) {
          SeenRequest sr;
          sr.transport = "grpc";
          sr.path = method_;
          sr.body = std::move(bytes);
          sr.headers = std::move(headers_);
          if (auto f = s_->Take(std::move(sr))) {
            Finish(grpc::Status(grpc::StatusCode(f->grpc_code), "injected failure"));
            return;
          }
          StartWriteAndFinish(&resp_, grpc::WriteOptions(), grpc::Status::OK);
          return;
        }
        {
          std::lock_guard<std::mutex> lock(s_->mu);
          ++s_->attempts;
        }
        s_->Accept(Request(), CountSpans(bytes));
        StartWriteAndFinish(&resp_, grpc::WriteOptions(), grpc::Status::OK);
      }
      void OnDone() override { delete this; }

     private:
      std::shared_ptr<Receiver::State> s_;
      What what_;
      std::string method_;
      std::multimap<std::string, std::string> headers_;
      grpc::ByteBuffer req_;
      grpc::ByteBuffer resp_{nullptr, 0};
    };
    What what = What::kNone;
    if (traces_ && ctx->method() == kTraceMethod) what = What::kTraces;
    if (IsOtherSignalMethod(ctx->method())) what = What::kOther;
    std::multimap<std::string, std::string> headers;
    for (const auto& [k, v] : ctx->client_metadata()) {
      headers.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
    }
    return new Reactor(s_, what, ctx->method(), std::move(headers));
  }

 private:
  std::shared_ptr<Receiver::State> s_;
  bool traces_;
};

struct Servers {
  std::unique_ptr<httplib::Server> http;
  std::thread http_thread;
  std::unique_ptr<RawTraceService> raw;
  std::unique_ptr<TraceServiceImpl> service;
  std::unique_ptr<grpc::Server> grpc;
};

// Kept beside the state so that the destructor can stop everything.
static std::mutex g_servers_mu;
static std::map<Receiver::State*, std::unique_ptr<Servers>> g_servers;

Receiver::Receiver(ReceiverOptions options)
    : options_(std::move(options)), s_(std::make_shared<State>()) {
  s_->keep = options_.keep_requests;
  auto sv = std::make_unique<Servers>();
  // OTLP/HTTP.
  if (tls()) {
    sv->http = std::make_unique<httplib::SSLServer>(
        options_.cert_file.c_str(), options_.key_file.c_str(),
        options_.client_ca_file.empty() ? nullptr : options_.client_ca_file.c_str());
  } else {
    sv->http = std::make_unique<httplib::Server>();
  }
  sv->http->set_keep_alive_timeout(1);
  sv->http->set_tcp_nodelay(
      true);  // else Nagle + delayed ACK stall every answer with a body by 40 ms
  auto s = s_;
  // Metrics and logs: recorded and answered with an empty (successful) response.
  for (const char* path : {"/v1/metrics", "/v1/logs"}) {
    sv->http->Post(path, [s](const httplib::Request& req, httplib::Response& res) {
      SeenRequest sr;
      sr.transport = "http";
      sr.path = req.path;
      sr.content_type = req.get_header_value("Content-Type");
      sr.gzip = req.get_header_value("Content-Encoding") == "gzip";
      sr.body = req.body;
      for (const auto& [k, v] : req.headers) {
        std::string key = k;
        for (char& c : key) c = char(std::tolower(static_cast<unsigned char>(c)));
        sr.headers.emplace(key, v);
      }
      bool json = sr.content_type == "application/json";
      if (auto f = s->Take(std::move(sr))) {
        res.status = f->http_status;
        if (!f->retry_after.empty()) res.set_header("Retry-After", f->retry_after);
        return;
      }
      res.set_content(json ? "{}" : "", json ? "application/json" : "application/x-protobuf");
    });
  }
  sv->http->Post("/v1/traces", [s](const httplib::Request& req, httplib::Response& res) {
    SeenRequest sr;
    sr.transport = "http";
    sr.path = req.path;
    sr.content_type = req.get_header_value("Content-Type");
    sr.gzip = req.get_header_value("Content-Encoding") == "gzip";
    for (const auto& [k, v] : req.headers) {
      std::string key = k;
      for (char& c : key) c = char(std::tolower(static_cast<unsigned char>(c)));
      sr.headers.emplace(key, v);
    }
    bool json = sr.content_type == "application/json";
    if (auto f = s->Take(std::move(sr))) {
      res.status = f->http_status;
      if (!f->retry_after.empty()) res.set_header("Retry-After", f->retry_after);
      return;
    }
    Request r;
    uint64_t n = 0;
    if (json && !s->keep) {
      // Counting only: one "startTimeUnixNano" per span (events and links have none).
      for (size_t at = req.body.find("\"startTimeUnixNano\""); at != std::string::npos;
           at = req.body.find("\"startTimeUnixNano\"", at + 1)) {
        ++n;
      }
    } else if (json) {
      auto st = google::protobuf::util::JsonStringToMessage(OtlpJsonToProto3Json(req.body), &r);
      if (!st.ok()) {
        res.status = 400;
        res.set_content(st.ToString(), "text/plain");
        return;
      }
      for (const auto& rs : r.resource_spans()) {
        for (const auto& ss : rs.scope_spans()) n += uint64_t(ss.spans_size());
      }
    } else if (s->keep) {
      if (!r.ParseFromString(req.body)) {
        res.status = 400;
        return;
      }
      for (const auto& rs : r.resource_spans()) {
        for (const auto& ss : rs.scope_spans()) n += uint64_t(ss.spans_size());
      }
    } else {
      n = CountSpans(req.body);
    }
    pbc::ExportTraceServiceResponse resp;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      if (s->partial_rejected || !s->partial_message.empty()) {
        resp.mutable_partial_success()->set_rejected_spans(s->partial_rejected);
        resp.mutable_partial_success()->set_error_message(s->partial_message);
      }
    }
    s->Accept(std::move(r), n);
    if (json) {
      // Written by hand: libprotobuf's JSON printer builds a type resolver per call.
      std::string out = "{}";
      if (resp.has_partial_success()) {
        out = "{\"partialSuccess\":{\"rejectedSpans\":\"" +
              std::to_string(resp.partial_success().rejected_spans()) + "\",\"errorMessage\":\"" +
              resp.partial_success().error_message() + "\"}}";
      }
      res.set_content(out, "application/json");
    } else {
      res.set_content(resp.SerializeAsString(), "application/x-protobuf");
    }
  });
  if (options_.http_port > 0) {
    http_port_ = sv->http->bind_to_port("127.0.0.1", options_.http_port) ? options_.http_port : -1;
  } else {
    http_port_ = sv->http->bind_to_any_port("127.0.0.1");
  }
  httplib::Server* hs = sv->http.get();
  sv->http_thread = std::thread([hs] { hs->listen_after_bind(); });
  // stop() is a no-op until the server runs: wait for it (bounded).
  for (int i = 0; i < 5000 && !hs->is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));

  // OTLP/gRPC.
  sv->service = std::make_unique<TraceServiceImpl>(s_);
  grpc::ServerBuilder b;
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (tls()) {
    grpc::SslServerCredentialsOptions ssl(
        options_.client_ca_file.empty()
            ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = options_.client_ca_file.empty() ? "" : ReadAll(options_.client_ca_file);
    ssl.pem_key_cert_pairs.push_back({ReadAll(options_.key_file), ReadAll(options_.cert_file)});
    creds = grpc::SslServerCredentials(ssl);
  } else {
    creds = grpc::InsecureServerCredentials();
  }
  b.AddListeningPort("127.0.0.1:" + std::to_string(options_.grpc_port), creds, &grpc_port_);
  if (options_.keep_requests) b.RegisterService(sv->service.get());
  sv->raw = std::make_unique<RawTraceService>(s_, /*traces=*/!options_.keep_requests);
  b.RegisterCallbackGenericService(sv->raw.get());
  b.SetMaxReceiveMessageSize(64 << 20);
  sv->grpc = b.BuildAndStart();
  std::lock_guard<std::mutex> lock(g_servers_mu);
  g_servers[s_.get()] = std::move(sv);
}

Receiver::~Receiver() {
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->stopping = true;
    s_->cv.notify_all();
  }
  std::unique_ptr<Servers> sv;
  {
    std::lock_guard<std::mutex> lock(g_servers_mu);
    sv = std::move(g_servers[s_.get()]);
    g_servers.erase(s_.get());
  }
  if (!sv) return;
  sv->http->stop();
  if (sv->http_thread.joinable()) sv->http_thread.join();
  if (sv->grpc) sv->grpc->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

std::string Receiver::http_base() const {
  return std::string(tls() ? "https" : "http") + "://127.0.0.1:" + std::to_string(http_port_);
}
std::string Receiver::http_url() const { return http_base() + "/v1/traces"; }
std::string Receiver::grpc_endpoint() const {
  return std::string(tls() ? "https" : "http") + "://127.0.0.1:" + std::to_string(grpc_port_);
}

void Receiver::FailNext(int n, Fault fault) {
  std::lock_guard<std::mutex> lock(s_->mu);
  for (int i = 0; i < n; ++i) s_->faults.push_back(fault);
}
void Receiver::SetDelay(std::chrono::milliseconds d) {
  std::lock_guard<std::mutex> lock(s_->mu);
  s_->delay = d;
}
void Receiver::SetPartialSuccess(int64_t rejected, std::string message) {
  std::lock_guard<std::mutex> lock(s_->mu);
  s_->partial_rejected = rejected;
  s_->partial_message = std::move(message);
}
std::vector<Request> Receiver::requests() const {
  std::lock_guard<std::mutex> lock(s_->mu);
  return s_->requests;
}
std::vector<SeenRequest> Receiver::seen() const {
  std::lock_guard<std::mutex> lock(s_->mu);
  return s_->seen;
}
uint64_t Receiver::spans() const {
  std::lock_guard<std::mutex> lock(s_->mu);
  return s_->spans;
}
uint64_t Receiver::attempts() const {
  std::lock_guard<std::mutex> lock(s_->mu);
  return s_->attempts;
}
bool Receiver::WaitForSpans(uint64_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(s_->mu);
  return s_->cv.wait_for(lock, timeout, [&] { return s_->spans >= n; });
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    socklen_t len = sizeof a;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

bool MakeTestPki(const std::string& dir) {
  std::string script = "set -e; cd '" + dir +
                       "'; "
                       "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem "
                       "-days 2 -subj '/CN=otelweb test CA' "
                       ">/dev/null 2>&1; "
                       "openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr "
                       "-subj '/CN=localhost' "
                       ">/dev/null 2>&1; "
                       "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > server.ext; "
                       "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem "
                       "-CAcreateserial -out server.pem -days 2 "
                       "-extfile server.ext >/dev/null 2>&1; "
                       "openssl req -newkey rsa:2048 -nodes -keyout client-key.pem -out client.csr "
                       "-subj '/CN=otelweb client' "
                       ">/dev/null 2>&1; "
                       "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem "
                       "-CAcreateserial -out client.pem -days 2 "
                       ">/dev/null 2>&1";
  std::string cmd = "timeout 60 bash -c \"" + script + "\"";  // the script has no double quote
  return std::system(cmd.c_str()) == 0;
}

}  // namespace otelweb::otlp::testing
