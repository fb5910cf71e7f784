// otelweb-view's servers: the OTLP receivers (gRPC; HTTP with protobuf and
// JSON, gzip) feeding a Store, and the UI port (the JSON API of docs/view.md
// and the web page's files).
//
// Statuses (docs/view.md "What is accepted"): success 200 / OK with the
// service's response; a body that does not decode 400 / INVALID_ARGUMENT with
// an OTLP Status body; over the size limit (after decompression) 413 /
// RESOURCE_EXHAUSTED; an unknown Content-Type 415; the store's queue full
// 503 + Retry-After / UNAVAILABLE + RetryInfo (the sender retries; nothing
// accepted is dropped).
//
// Ownership: a ViewServer owns its servers and threads, not the Store (which
// must outlive it). Thread-safety: Stop() may be called from any thread, once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "view/store.h"

namespace otelweb::view {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int ui_port = 16686, grpc_port = 4317, http_port = 4318;  // 0 = a free port
  std::string ui_dir;                                        // "" = the compiled-in page
  size_t max_request_bytes = size_t(32) << 20;               // after decompression
  int retry_after_seconds = 1;                               // asked of senders when the queue is full
  int http_threads = 16;                                     // OTLP/HTTP workers (keep-alive connections)
};

class ViewServer {
 public:
  // nullptr with `*error` naming the flag to change when a port cannot be bound.
  static std::unique_ptr<ViewServer> Start(Store* store, const ServerOptions& options, std::string* error);
  ~ViewServer();
  ViewServer(const ViewServer&) = delete;
  ViewServer& operator=(const ViewServer&) = delete;

  int ui_port() const;
  int grpc_port() const;
  int http_port() const;
  // "ui=http://HOST:PORT grpc=HOST:PORT http=HOST:PORT"
  std::string AddressLine() const;
  void Stop();

  struct Impl;

 private:
  explicit ViewServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Stores every line of an OTLP JSON lines file (traces, logs or metrics
// requests, the otlp/file exporter's format). False with `*error` naming the
// first bad line.
bool LoadOtlpJsonLines(Store* store, const std::string& path, std::string* error, size_t* lines_loaded);

}  // namespace otelweb::view
