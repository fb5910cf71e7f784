// ExportClient: compress, send, retry with backoff within one deadline per
// request; count and report what could not be delivered. Signal-neutral.
#include "otlp/export_client.h"

#include "core/drop_summary.h"

#include <cmath>
#include <new>

#include "otelweb/diagnostics.h"
#include "otlp/wire.h"

namespace otelweb::otlp::internal {

namespace {

// Reads Export*ServiceResponse.partial_success from a protobuf answer (field 1
// in all three signals' responses; rejected_* = 1, error_message = 2).
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

// Reads partialSuccess from an OTLP/JSON answer (a small, flat object);
// `rejected_key` is the signal's field ("rejectedSpans", ...).
bool PartialFromJson(std::string_view body, std::string_view rejected_key, int64_t* rejected,
                     std::string* message) {
  bool any = false;
  size_t k = body.find(rejected_key);
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

std::string_view Noun(Signal s) {
  switch (s) {
    case Signal::kTraces:
      return "spans";
    case Signal::kMetrics:
      return "data points";
    case Signal::kLogs:
      return "log records";
  }
  return "items";
}

std::string_view JsonRejectedKey(Signal s) {
  switch (s) {
    case Signal::kTraces:
      return "\"rejectedSpans\"";
    case Signal::kMetrics:
      return "\"rejectedDataPoints\"";
    case Signal::kLogs:
      return "\"rejectedLogRecords\"";
  }
  return "\"rejected\"";
}

}  // namespace

ExportClient::ExportClient(ResolvedOtlpOptions options) : o_(std::move(options)), noun_(Noun(o_.signal)) {
  BuildTransport();
  otelweb::internal::RegisterForFork(this);
}

void ExportClient::BuildTransport() noexcept {
  std::string error;
  try {
    transport_ = o_.protocol == Protocol::kGrpc ? MakeGrpcTransport(o_, &error) : MakeHttpTransport(o_, &error);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!transport_) {
    try {
      init_error_ = "OTLP exporter cannot start: " + error;
      Log(LogLevel::kError, init_error_ + "; " + std::string(noun_) + " will be dropped");
    } catch (...) {
    }
  }
}

void ExportClient::AfterForkInChild() noexcept {
  new (&mu_) std::mutex();
  new (&cv_) std::condition_variable();
  new (&fail_mu_) std::mutex();
  busy_ = false;
  z_ = z_stream{};  // the parent may have been compressing: forget its state
  z_ready_ = false;
  for (auto* c : {&exported_, &rejected_, &dropped_, &requests_, &retries_, &failed_}) c->store(0);
  unlogged_batches_ = unlogged_items_ = 0;
  if (shut_down_) return;
  (void)transport_.release();  // the parent's connection: never touched from the child
  init_error_.clear();
  if (o_.protocol == Protocol::kGrpc) {
    // gRPC 1.51 keeps process-wide threads that the child does not have: a
    // new channel would never connect. Fail each send at once, counted.
    try {
      init_error_ = "the OTLP/gRPC exporter cannot export from a child process after fork() (gRPC's threads "
                    "stay in the parent)";
      Log(LogLevel::kError, init_error_ + "; this process's " + std::string(noun_) +
                                " are dropped. Set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf in programs that "
                                "fork after setting telemetry up, or set it up after the fork.");
    } catch (...) {
    }
    return;
  }
  BuildTransport();
}

ExportClient::~ExportClient() {
  otelweb::internal::UnregisterForFork(this);
  (void)Shutdown(std::chrono::milliseconds(0));
  if (z_ready_) deflateEnd(&z_);
}

bool ExportClient::Gzip(std::string_view in) {
  if (!z_ready_) {
    if (deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      return false;
    z_ready_ = true;
  } else if (deflateReset(&z_) != Z_OK) {
    return false;
  }
  gz_.resize(deflateBound(&z_, in.size()) + 32);
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z_.avail_in = static_cast<uInt>(in.size());
  z_.next_out = reinterpret_cast<Bytef*>(gz_.data());
  z_.avail_out = static_cast<uInt>(gz_.size());
  if (deflate(&z_, Z_FINISH) != Z_STREAM_END) return false;
  gz_.resize(gz_.size() - z_.avail_out);
  return true;
}

std::chrono::milliseconds ExportClient::Backoff(uint32_t retry) {
  double base = double(o_.initial_backoff.count()) * std::pow(o_.backoff_multiplier, double(retry - 1));
  base = std::min(base, double(o_.max_backoff.count()));
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  return std::chrono::milliseconds(int64_t(base * jitter(rng_)));
}

void ExportClient::Fail(size_t n, const std::string& why) noexcept {
  try {
    dropped_ += n;
    ++failed_;
    const std::string reason = "OTLP exporter (" + std::string(ProtocolName(o_.protocol)) + "): " + why;
    otelweb::internal::NoteExportFailure(noun_, reason);
    std::string line;
    {
      std::lock_guard<std::mutex> lock(fail_mu_);
      const auto now = Clock::now();
      // After the first line, a processor's drop summary (every
      // OTEL_CPP_DROP_SUMMARY_INTERVAL) reports failures with the latest
      // reason; without one, this exporter says it itself every 30 s.
      const bool summarised = last_fail_log_ != Clock::time_point{} && otelweb::internal::SummaryReporters(noun_) > 0;
      if (summarised || (last_fail_log_ != Clock::time_point{} && now - last_fail_log_ < kFailLogInterval)) {
        ++unlogged_batches_;
        unlogged_items_ += n;
        return;
      }
      line = "OTLP exporter (" + std::string(ProtocolName(o_.protocol)) + "): dropped " + std::to_string(n) +
             " " + std::string(noun_) + ": " + why;
      if (last_fail_log_ == Clock::time_point{} && otelweb::internal::SummaryReporters(noun_) > 0) {
        line += " (later failures are summed up in the processor's drop summary, see " +
                std::string(otelweb::internal::kEnvDropSummaryInterval) + ")";
      }
      if (unlogged_batches_ != 0) {
        line += " (and " + std::to_string(unlogged_items_) + " " + std::string(noun_) + " in " +
                std::to_string(unlogged_batches_) + " other batches since the last message)";
      }
      last_fail_log_ = now;
      unlogged_batches_ = unlogged_items_ = 0;
    }
    Log(LogLevel::kError, line);
  } catch (...) {
  }
}

void ExportClient::FailOversized(size_t bytes) noexcept {
  try {
    std::string item(noun_);
    if (!item.empty() && item.back() == 's') item.pop_back();
    Fail(1, "one " + item + " alone encodes to " + std::to_string(bytes) +
                " bytes, over the maximum request size of " + std::to_string(o_.max_request_bytes) +
                " bytes; lower the attribute limits (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT) or raise " +
                kEnvMaxRequestBytes + " if the collector accepts larger requests");
  } catch (...) {
  }
}

std::string_view ExportClient::ExporterName() const noexcept {
  switch (o_.protocol) {
    case Protocol::kGrpc:
      return "otlp-grpc";
    case Protocol::kHttpProtobuf:
      return "otlp-http-protobuf";
    case Protocol::kHttpJson:
      return "otlp-http-json";
  }
  return "otlp";
}

bool ExportClient::Accepting(size_t items) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  if (!shut_down_) return true;
  dropped_ += items;
  return false;
}

ExportResult ExportClient::Send(std::string_view body, size_t items) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) {
      dropped_ += items;
      return ExportResult::kFailure;
    }
    busy_ = true;
  }
  struct Done {
    ExportClient* c;
    ~Done() {
      std::lock_guard<std::mutex> lock(c->mu_);
      c->busy_ = false;
      c->cv_.notify_all();
    }
  } done{this};
  try {
    return SendLocked(body, items);
  } catch (const std::exception& e) {
    Fail(items, std::string("exception: ") + e.what());
  } catch (...) {
    Fail(items, "unknown exception");
  }
  return ExportResult::kFailure;
}

ExportResult ExportClient::SendLocked(std::string_view body, size_t items) {
  if (!transport_) {
    Fail(items, init_error_);
    return ExportResult::kFailure;
  }
  const auto deadline = Clock::now() + o_.timeout;
  // HTTP bodies are compressed here; gRPC compresses in the channel.
  const bool gzip = o_.compression == Compression::kGzip;
  if (gzip && o_.protocol != Protocol::kGrpc) {
    if (!Gzip(body)) {
      Fail(items, "gzip compression failed");
      return ExportResult::kFailure;
    }
    body = gz_;
  }
  for (uint32_t attempt = 1;; ++attempt) {
    ++requests_;
    if (attempt > 1) ++retries_;
    SendResult r = transport_->Send(body, gzip, deadline);
    if (r.kind == SendResult::Kind::kOk) {
      int64_t rej = 0;
      std::string msg;
      bool partial = o_.protocol == Protocol::kHttpJson
                         ? PartialFromJson(r.response, JsonRejectedKey(o_.signal), &rej, &msg)
                         : PartialFromProtobuf(r.response, &rej, &msg);
      if (partial && (rej > 0 || !msg.empty())) {
        rej = std::clamp<int64_t>(rej, 0, int64_t(items));
        rejected_ += uint64_t(rej);
        Log(LogLevel::kWarning, "OTLP receiver accepted the batch partially: " + std::to_string(rej) + " of " +
                                    std::to_string(items) + " " + std::string(noun_) + " rejected" +
                                    (msg.empty() ? "" : ": " + msg));
      }
      exported_ += items - uint64_t(rej);
      return ExportResult::kSuccess;
    }
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping = shut_down_;
    }
    if (stopping) {
      Fail(items, "exporter shut down during export (" + r.error + ")");
      return ExportResult::kFailure;
    }
    if (r.kind == SendResult::Kind::kFatal) {
      Fail(items, r.error + " (not retryable)");
      return ExportResult::kFailure;
    }
    if (attempt >= o_.max_attempts) {
      Fail(items, r.error + " (after " + std::to_string(attempt) + " attempts)");
      return ExportResult::kFailure;
    }
    auto wait = r.retry_after ? *r.retry_after : Backoff(attempt);
    if (Clock::now() + wait >= deadline) {
      Fail(items, r.error + " (the next attempt would pass the " + std::to_string(o_.timeout.count()) +
                      " ms export timeout)");
      return ExportResult::kFailure;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, wait, [&] { return shut_down_; })) {
      lock.unlock();
      Fail(items, "exporter shut down while waiting to retry (" + r.error + ")");
      return ExportResult::kFailure;
    }
  }
}

OperationResult ExportClient::ForceFlush(std::chrono::milliseconds timeout) noexcept {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !busy_; })) return OperationResult::Timeout();
  return OperationResult::Ok();
}

OperationResult ExportClient::Shutdown(std::chrono::milliseconds timeout) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return OperationResult::AlreadyShutDown();
    shut_down_ = true;
    cv_.notify_all();
  }
  if (transport_) transport_->Cancel();
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !busy_; })) return OperationResult::Timeout();
  lock.unlock();
  if (transport_) transport_->Close();  // no send runs or will run
  return OperationResult::Ok();
}

ExportClientCounters ExportClient::counters() const noexcept {
  ExportClientCounters c;
  c.items_exported = exported_.load();
  c.items_rejected = rejected_.load();
  c.items_dropped = dropped_.load();
  c.requests = requests_.load();
  c.retries = retries_.load();
  c.batches_failed = failed_.load();
  return c;
}

}  // namespace otelweb::otlp::internal
