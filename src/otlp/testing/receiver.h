// A real OTLP trace receiver for tests and benchmarks: OTLP/gRPC and OTLP/HTTP
// (protobuf and JSON, gzip or not) on 127.0.0.1 ephemeral ports, optionally
// with TLS or mutual TLS, able to inject failures (HTTP status, gRPC code,
// Retry-After, RetryInfo) and delays. Metrics and logs exports (HTTP
// /v1/metrics and /v1/logs, the gRPC MetricsService and LogsService Export
// methods) are accepted and recorded in seen() with their bytes, unparsed.
//
// Ownership: owns its servers and their threads; the destructor stops them.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace otelweb::otlp::testing {

using Request = ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

struct ReceiverOptions {
  // TLS: PEM files of the server's certificate and key; with `client_ca_file`
  // set, clients must present a certificate signed by it (mutual TLS).
  std::string cert_file, key_file, client_ca_file;
  // Parse requests (false: count spans with a light wire-format walk only).
  bool keep_requests = true;
  // Fixed ports (0: ephemeral), e.g. to start a collector "late" on a port an
  // exporter already targets.
  int http_port = 0;
  int grpc_port = 0;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// What the receiver answers to the next requests instead of success.
struct Fault {
  int http_status = 503;
  int grpc_code = 14;          // UNAVAILABLE
  std::string retry_after;     // HTTP Retry-After value, "" for none
  int64_t retry_info_ms = -1;  // gRPC RetryInfo delay, < 0 for none
};

struct SeenRequest {
  std::string transport;  // "grpc", "http"
  // The HTTP path ("/v1/traces", "/v1/metrics", "/v1/logs") or the gRPC
  // method ("/opentelemetry.proto.collector.trace.v1.TraceService/Export", ...).
  std::string path;
  // The request body of a metrics or logs export (accepted, not parsed: the
  // receiver has no metrics/logs protos yet). Empty for traces.
  std::string body;
  std::string content_type;
  bool gzip = false;
  std::multimap<std::string, std::string> headers;  // lowercased keys
};

// OTLP/JSON -> proto3 JSON (hex ids to base64), for libprotobuf's parser.
std::string OtlpJsonToProto3Json(const std::string& json);

class Receiver {
 public:
  explicit Receiver(ReceiverOptions options = {});
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  int http_port() const { return http_port_; }
  int grpc_port() const { return grpc_port_; }
  bool tls() const { return !options_.cert_file.empty(); }
  std::string http_url() const;       // http(s)://127.0.0.1:<port>/v1/traces
  std::string http_base() const;      // http(s)://127.0.0.1:<port>
  std::string grpc_endpoint() const;  // http(s)://127.0.0.1:<port>

  // The next `n` requests (any transport) get `fault`.
  void FailNext(int n, Fault fault);
  // Every request waits this long before answering.
  void SetDelay(std::chrono::milliseconds d);
  // Successful answers carry this partial_success.
  void SetPartialSuccess(int64_t rejected, std::string message);

  std::vector<Request> requests() const;
  std::vector<SeenRequest> seen() const;
  uint64_t spans() const;     // spans in successfully answered requests
  uint64_t attempts() const;  // every request, failed ones included
  bool WaitForSpans(uint64_t n, std::chrono::milliseconds timeout) const;

  struct State;

 private:
  ReceiverOptions options_;
  std::shared_ptr<State> s_;
  int http_port_ = 0;
  int grpc_port_ = 0;
};

// Writes a throwaway CA, a server certificate for 127.0.0.1/localhost and a
// client certificate into `dir` (openssl CLI): ca.pem, server.pem,
// server-key.pem, client.pem, client-key.pem. False on failure.
bool MakeTestPki(const std::string& dir);

}  // namespace otelweb::otlp::testing
