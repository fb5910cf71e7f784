// OtlpSpanExporter: encode, compress, send, retry with backoff within one
// deadline per batch; count and report what could not be delivered.
#include <zlib.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <random>

#include "otelweb/diagnostics.h"
#include "otelweb/otlp/exporter.h"
#include "otlp/transport.h"
#include "otlp/wire.h"

namespace otelweb::otlp {

using internal::Clock;
using internal::SendResult;

namespace {

// Reads ExportTraceServiceResponse.partial_success from a protobuf answer.
bool PartialFromProtobuf(std::string_view body, int64_t* rejected, std::string* message) {
  internal::WireReader r(body);
  uint32_t f, t;
  bool any = false;
  while (r.Next(&f, &t)) {
    if (f != 1 || t != 2) {
      if (!r.Skip(t)) return false;
      continue;
    }
    std::string_view ps;
    if (!r.ReadBytes(&ps)) return false;
    internal::WireReader p(ps);
    while (p.Next(&f, &t)) {
      uint64_t v;
      std::string_view s;
      if (f == 1 && t == 0 && p.ReadVarint(&v)) {
        *rejected = int64_t(v);
        any = true;
      } else if (f == 2 && t == 2 && p.ReadBytes(&s)) {
        *message = std::string(s);
        any = true;
      } else if (!p.Skip(t)) {
        break;
      }
    }
  }
  return any;
}

// Reads partialSuccess from an OTLP/JSON answer (a small, flat object).
bool PartialFromJson(std::string_view body, int64_t* rejected, std::string* message) {
  bool any = false;
  size_t k = body.find("\"rejectedSpans\"");
  if (k != std::string_view::npos) {
    size_t p = body.find(':', k);
    if (p != std::string_view::npos) {
      ++p;
      while (p < body.size() && (body[p] == ' ' || body[p] == '"')) ++p;
      int64_t v = 0;
      while (p < body.size() && body[p] >= '0' && body[p] <= '9') v = v * 10 + (body[p++] - '0');
      *rejected = v;
      any = true;
    }
  }
  size_t m = body.find("\"errorMessage\"");
  if (m != std::string_view::npos) {
    size_t q = body.find('"', body.find(':', m) + 1);
    size_t e = q == std::string_view::npos ? q : body.find('"', q + 1);
    if (e != std::string_view::npos) {
      *message = std::string(body.substr(q + 1, e - q - 1));
      any = true;
    }
  }
  return any;
}

}  // namespace

struct OtlpSpanExporter::Impl {
  ResolvedOtlpOptions o;
  std::unique_ptr<internal::Transport> transport;
  std::string init_error;
  ProtobufEncoder encoder;
  std::vector<const SpanData*> views;
  std::string json;
  std::string gz;
  z_stream z{};
  bool z_ready = false;
  std::mt19937_64 rng{std::random_device{}()};

  std::mutex mu;
  std::condition_variable cv;
  bool shut_down = false;
  bool busy = false;

  std::atomic<uint64_t> exported{0}, rejected{0}, dropped{0}, requests{0}, retries{0}, failed{0};
  std::atomic<bool> warned_init{false};

  ~Impl() {
    if (z_ready) deflateEnd(&z);
  }

  bool Gzip(std::string_view in) {
    if (!z_ready) {
      if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
          Z_OK)
        return false;
      z_ready = true;
    } else if (deflateReset(&z) != Z_OK) {
      return false;
    }
    gz.resize(deflateBound(&z, in.size()) + 32);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(gz.data());
    z.avail_out = static_cast<uInt>(gz.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) return false;
    gz.resize(gz.size() - z.avail_out);
    return true;
  }

  std::chrono::milliseconds Backoff(uint32_t retry) {
    double base =
        double(o.initial_backoff.count()) * std::pow(o.backoff_multiplier, double(retry - 1));
    base = std::min(base, double(o.max_backoff.count()));
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    return std::chrono::milliseconds(int64_t(base * jitter(rng)));
  }

  // One error line per failed batch would flood the log while a collector is
  // down: the first failure is logged, then at most one line per
  // kFailLogInterval summing up the batches dropped since (counters hold all).
  static constexpr std::chrono::seconds kFailLogInterval{30};
  std::mutex fail_mu;
  Clock::time_point last_fail_log{};
  uint64_t unlogged_batches = 0, unlogged_spans = 0;

  void Fail(size_t n, const std::string& why) {
    dropped += n;
    ++failed;
    std::string line;
    {
      std::lock_guard<std::mutex> lock(fail_mu);
      const auto now = Clock::now();
      if (last_fail_log != Clock::time_point{} && now - last_fail_log < kFailLogInterval) {
        ++unlogged_batches;
        unlogged_spans += n;
        return;
      }
      line = "OTLP exporter (" + std::string(ProtocolName(o.protocol)) + "): dropped " +
             std::to_string(n) + " spans: " + why;
      if (unlogged_batches != 0) {
        line += " (and " + std::to_string(unlogged_spans) + " spans in " + std::to_string(unlogged_batches) +
                " other batches since the last message)";
      }
      last_fail_log = now;
      unlogged_batches = unlogged_spans = 0;
    }
    Log(LogLevel::kError, line);
  }

  ExportResult Export(std::span<EndedSpan> batch) {
    if (batch.empty()) return ExportResult::kSuccess;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (shut_down) {
        dropped += batch.size();
        return ExportResult::kFailure;
      }
      busy = true;
    }
    struct Done {
      Impl* i;
      ~Done() {
        std::lock_guard<std::mutex> lock(i->mu);
        i->busy = false;
        i->cv.notify_all();
      }
    } done{this};
    if (!transport) {
      Fail(batch.size(), init_error);
      return ExportResult::kFailure;
    }
    auto deadline = Clock::now() + o.timeout;
    // Encode.
    std::string_view body;
    if (o.protocol == Protocol::kHttpJson) {
      views.clear();
      for (const EndedSpan& s : batch) views.push_back(s.get());
      json = EncodeJson(views);
      body = json;
    } else {
      body = encoder.Encode(std::span<const EndedSpan>(batch.data(), batch.size()));
    }
    // HTTP bodies are compressed here; gRPC compresses in the channel.
    bool gzip = o.compression == Compression::kGzip;
    if (gzip && o.protocol != Protocol::kGrpc) {
      if (!Gzip(body)) {
        Fail(batch.size(), "gzip compression failed");
        return ExportResult::kFailure;
      }
      body = gz;
    }
    for (uint32_t attempt = 1;; ++attempt) {
      ++requests;
      if (attempt > 1) ++retries;
      SendResult r = transport->Send(body, gzip, deadline);
      if (r.kind == SendResult::Kind::kOk) {
        int64_t rej = 0;
        std::string msg;
        bool partial = o.protocol == Protocol::kHttpJson
                           ? PartialFromJson(r.response, &rej, &msg)
                           : PartialFromProtobuf(r.response, &rej, &msg);
        if (partial && (rej > 0 || !msg.empty())) {
          rej = std::clamp<int64_t>(rej, 0, int64_t(batch.size()));
          rejected += uint64_t(rej);
          Log(LogLevel::kWarning, "OTLP receiver accepted the batch partially: " +
                                      std::to_string(rej) + " of " + std::to_string(batch.size()) +
                                      " spans rejected" + (msg.empty() ? "" : ": " + msg));
        }
        exported += batch.size() - uint64_t(rej);
        return ExportResult::kSuccess;
      }
      bool stopping;
      {
        std::lock_guard<std::mutex> lock(mu);
        stopping = shut_down;
      }
      if (stopping) {
        Fail(batch.size(), "exporter shut down during export (" + r.error + ")");
        return ExportResult::kFailure;
      }
      if (r.kind == SendResult::Kind::kFatal) {
        Fail(batch.size(), r.error + " (not retryable)");
        return ExportResult::kFailure;
      }
      if (attempt >= o.max_attempts) {
        Fail(batch.size(), r.error + " (after " + std::to_string(attempt) + " attempts)");
        return ExportResult::kFailure;
      }
      auto wait = r.retry_after ? *r.retry_after : Backoff(attempt);
      if (Clock::now() + wait >= deadline) {
        Fail(batch.size(), r.error + " (the next attempt would pass the " +
                               std::to_string(o.timeout.count()) + " ms export timeout)");
        return ExportResult::kFailure;
      }
      std::unique_lock<std::mutex> lock(mu);
      if (cv.wait_for(lock, wait, [&] { return shut_down; })) {
        lock.unlock();
        Fail(batch.size(), "exporter shut down while waiting to retry (" + r.error + ")");
        return ExportResult::kFailure;
      }
    }
  }
};

OtlpSpanExporter::OtlpSpanExporter(OtlpExporterOptions options) : impl_(new Impl) {
  impl_->o = ResolveOptions(options);
  std::string error;
  try {
    impl_->transport = impl_->o.protocol == Protocol::kGrpc
                           ? internal::MakeGrpcTransport(impl_->o, &error)
                           : internal::MakeHttpTransport(impl_->o, &error);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!impl_->transport) {
    impl_->init_error = "OTLP exporter cannot start: " + error;
    Log(LogLevel::kError, impl_->init_error + "; spans will be dropped");
  }
}

OtlpSpanExporter::~OtlpSpanExporter() { Shutdown(std::chrono::milliseconds(0)); }

ExportResult OtlpSpanExporter::Export(std::span<EndedSpan> batch) noexcept {
  try {
    return impl_->Export(batch);
  } catch (const std::exception& e) {
    impl_->Fail(batch.size(), std::string("exception: ") + e.what());
  } catch (...) {
    impl_->Fail(batch.size(), "unknown exception");
  }
  return ExportResult::kFailure;
}

OperationResult OtlpSpanExporter::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  // Export is synchronous: nothing is buffered here. Wait for a running export.
  std::unique_lock<std::mutex> lock(impl_->mu);
  if (!impl_->cv.wait_for(lock, timeout, [&] { return !impl_->busy; }))
    return OperationResult::Timeout();
  return OperationResult::Ok();
}

OperationResult OtlpSpanExporter::Shutdown(std::chrono::milliseconds timeout) noexcept {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->shut_down) return OperationResult::AlreadyShutDown();
    impl_->shut_down = true;
    impl_->cv.notify_all();
  }
  if (impl_->transport) impl_->transport->Cancel();
  std::unique_lock<std::mutex> lock(impl_->mu);
  if (!impl_->cv.wait_for(lock, timeout, [&] { return !impl_->busy; }))
    return OperationResult::Timeout();
  lock.unlock();
  if (impl_->transport) impl_->transport->Close();  // no export runs or will run
  return OperationResult::Ok();
}

std::string_view OtlpSpanExporter::Name() const noexcept {
  switch (impl_->o.protocol) {
    case Protocol::kGrpc:
      return "otlp-grpc";
    case Protocol::kHttpProtobuf:
      return "otlp-http-protobuf";
    case Protocol::kHttpJson:
      return "otlp-http-json";
  }
  return "otlp";
}

OtlpExporterCounters OtlpSpanExporter::counters() const noexcept {
  OtlpExporterCounters c;
  c.spans_exported = impl_->exported.load();
  c.spans_rejected = impl_->rejected.load();
  c.spans_dropped = impl_->dropped.load();
  c.requests = impl_->requests.load();
  c.retries = impl_->retries.load();
  c.batches_failed = impl_->failed.load();
  return c;
}

const ResolvedOtlpOptions& OtlpSpanExporter::options() const noexcept { return impl_->o; }

}  // namespace otelweb::otlp
