// OTLP/gRPC transport on grpc++: the encoded request is sent as raw bytes
// through grpc::GenericStub (no generated message is built or copied), as an
// async unary call whose completion the sending thread waits for on the
// transport's own CompletionQueue (the callback API would complete it on a
// gRPC thread and hand it back: two thread wake-ups more per request).
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <mutex>

#include "otelweb/common.h"
#include "otlp/transport.h"
#include "otlp/wire.h"

namespace otelweb::otlp::internal {

namespace {

// google.rpc.Status (grpc-status-details-bin) -> RetryInfo.retry_delay.
std::optional<std::chrono::milliseconds> RetryDelay(std::string_view status_bytes) {
  WireReader st(status_bytes);
  uint32_t f, t;
  while (st.Next(&f, &t)) {
    if (f != 3 || t != 2) {  // repeated google.protobuf.Any details = 3
      if (!st.Skip(t)) break;
      continue;
    }
    std::string_view any;
    if (!st.ReadBytes(&any)) break;
    WireReader a(any);
    std::string_view type_url, value;
    while (a.Next(&f, &t)) {
      if (f == 1 && t == 2)
        a.ReadBytes(&type_url);
      else if (f == 2 && t == 2)
        a.ReadBytes(&value);
      else if (!a.Skip(t))
        break;
    }
    std::string_view want = "google.rpc.RetryInfo";
    if (type_url.size() < want.size() || type_url.substr(type_url.size() - want.size()) != want)
      continue;
    WireReader ri(value);  // RetryInfo { Duration retry_delay = 1; }
    while (ri.Next(&f, &t)) {
      if (f != 1 || t != 2) {
        if (!ri.Skip(t)) break;
        continue;
      }
      std::string_view dur;
      if (!ri.ReadBytes(&dur)) break;
      WireReader d(dur);  // Duration { int64 seconds = 1; int32 nanos = 2; }
      uint64_t secs = 0, nanos = 0, v;
      while (d.Next(&f, &t)) {
        if (t == 0 && d.ReadVarint(&v)) {
          if (f == 1)
            secs = v;
          else if (f == 2)
            nanos = v;
        } else if (!d.Skip(t)) {
          break;
        }
      }
      // A server's value, so bounded: at most a day (the export timeout cuts it
      // shorter anyway), never negative, no overflow.
      constexpr uint64_t kMaxSecs = 24 * 3600;
      const uint64_t s = std::min<uint64_t>(secs, kMaxSecs);
      const uint64_t n = std::min<uint64_t>(nanos, 999999999);
      return std::chrono::milliseconds(int64_t(s) * 1000 + int64_t(n) / 1000000);
    }
  }
  return std::nullopt;
}

class GrpcTransport final : public Transport {
 public:
  GrpcTransport(const ResolvedOtlpOptions& o, std::shared_ptr<grpc::ChannelCredentials> creds)
      : o_(o), method_(SignalGrpcMethod(o.signal)) {
    grpc::ChannelArguments args;
    args.SetUserAgentPrefix("OTel-OTLP-Exporter-Cpp-otelweb/" + std::string(kVersion));
    // The channel's own reconnect backoff (default: up to 120 s) must not
    // outlast ours, or a collector that comes back is seen late.
    int initial = int(std::clamp<int64_t>(o.initial_backoff.count(), 10, 1000));
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, initial);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, initial);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                int(std::clamp<int64_t>(o.max_backoff.count(), initial, 30000)));
    args.SetMaxSendMessageSize(-1);
    channel_ = grpc::CreateCustomChannel(o.grpc_target, creds, args);
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
    for (const auto& [k, v] : o.headers) {
      std::string key = k;
      for (char& c : key) {
        if (c >= 'A' && c <= 'Z') c = char(c + 32);
      }
      metadata_.emplace_back(std::move(key), v);
    }
  }

  SendResult Send(std::string_view body, bool gzip, Clock::time_point deadline) noexcept override {
    SendResult r;
    try {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + (deadline - Clock::now()));
      if (gzip) ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
      for (const auto& [k, v] : metadata_) ctx.AddMetadata(k, v);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (cancelled_ || !stub_) {
          r.error = "exporter shut down";
          return r;
        }
        current_ = &ctx;
      }
      grpc::Slice slice(body.data(), body.size());
      grpc::ByteBuffer request(&slice, 1);
      grpc::ByteBuffer response;
      grpc::Status status;
      // The call completes on this transport's completion queue, which this
      // thread waits on: no hand-off to a gRPC callback thread and back.
      std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
          stub_->PrepareUnaryCall(&ctx, method_, request, &cq_);
      call->StartCall();
      call->Finish(&response, &status, this);
      void* tag = nullptr;
      bool ok = false;
      const bool got = cq_.Next(&tag, &ok);  // bounded by the call's deadline
      bool cancelled;
      {
        std::lock_guard<std::mutex> lock(mu_);
        current_ = nullptr;
        cancelled = cancelled_;
      }
      // Next returns false only once cq_ was shut down, which the destructor
      // alone does, and a transport is destroyed only when no Send runs
      // (transport.h): a broken invariant, reported as such, never a normal
      // outcome.
      if (!got) {
        r.error =
            "otelweb internal error: the gRPC transport was destroyed during Send; "
            "please report it";
        return r;
      }
      // A call that completed OK just as Cancel came keeps its real outcome.
      if (cancelled && !status.ok()) {
        r.error = "interrupted by shutdown";
        return r;
      }
      if (status.ok()) {
        r.kind = SendResult::Kind::kOk;
        std::vector<grpc::Slice> slices;
        if (response.Dump(&slices).ok()) {
          for (const auto& s : slices)
            r.response.append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
        return r;
      }
      r.retry_after = RetryDelay(status.error_details());
      switch (status.error_code()) {
        case grpc::StatusCode::CANCELLED:
        case grpc::StatusCode::DEADLINE_EXCEEDED:
        case grpc::StatusCode::ABORTED:
        case grpc::StatusCode::OUT_OF_RANGE:
        case grpc::StatusCode::UNAVAILABLE:
        case grpc::StatusCode::DATA_LOSS:
          r.kind = SendResult::Kind::kRetryable;
          break;
        case grpc::StatusCode::RESOURCE_EXHAUSTED:
          // Retryable only when the server says when (the spec's rule).
          r.kind = r.retry_after ? SendResult::Kind::kRetryable : SendResult::Kind::kFatal;
          break;
        default:
          r.kind = SendResult::Kind::kFatal;
      }
      r.error = "gRPC Export to " + o_.grpc_target + " failed: code " +
                std::to_string(int(status.error_code())) + " " + status.error_message();
    } catch (const std::exception& e) {
      r.kind = SendResult::Kind::kFatal;
      r.error = std::string("gRPC Export failed: ") + e.what();
    }
    return r;
  }

  // Runs only when no Send runs (transport.h): the drain below and a Send's
  // cq_.Next would otherwise race.
  ~GrpcTransport() override {
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }

  void Close() noexcept override {
    std::lock_guard<std::mutex> lock(mu_);
    stub_.reset();
    channel_.reset();
  }

  void Cancel() noexcept override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    if (current_) current_->TryCancel();
  }

 private:
  ResolvedOtlpOptions o_;
  std::string method_;  // the signal's Export method
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  grpc::CompletionQueue cq_;  // Send's calls complete here (one Send at a time)
  std::mutex mu_;
  grpc::ClientContext* current_ = nullptr;
  bool cancelled_ = false;
};

}  // namespace

std::unique_ptr<Transport> MakeGrpcTransport(const ResolvedOtlpOptions& o, std::string* error) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (o.use_tls) {
    grpc::SslCredentialsOptions ssl;
    if (!o.certificate_file.empty() && !ReadFile(o.certificate_file, &ssl.pem_root_certs)) {
      *error = "cannot read TLS file " + o.certificate_file;
      return nullptr;
    }
    if (!o.client_key_file.empty() && !ReadFile(o.client_key_file, &ssl.pem_private_key)) {
      *error = "cannot read TLS file " + o.client_key_file;
      return nullptr;
    }
    if (!o.client_certificate_file.empty() &&
        !ReadFile(o.client_certificate_file, &ssl.pem_cert_chain)) {
      *error = "cannot read TLS file " + o.client_certificate_file;
      return nullptr;
    }
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  return std::make_unique<GrpcTransport>(o, std::move(creds));
}

}  // namespace otelweb::otlp::internal
