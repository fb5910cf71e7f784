// The interop.v1.Echo service, synchronous API: what examples/grpc_echo_server
// serves and what the gRPC tests call. Behaviour (issue 17): Unary echoes
// `message`; ServerStream sends max(count, 1) replies; ClientStream replies
// once with the messages joined by ','; Bidi replies once per request. Every
// reply waits `delay_ms` first; `index` counts replies from 0 and
// `received_messages` the requests so far. A non-zero `status_code` (of the
// last request on a request stream) ends the call with that code: Unary and
// ClientStream instead of their reply, ServerStream and Bidi after the
// replies; a code outside 1..16 ends it with INVALID_ARGUMENT.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "interop/v1/echo.grpc.pb.h"

namespace echo_example {

inline ::grpc::Status StatusFor(int code, const std::string& what) {
  if (code == 0) return ::grpc::Status::OK;
  if (code < 1 || code > 16) {
    return ::grpc::Status(::grpc::StatusCode::INVALID_ARGUMENT,
                          "status_code " + std::to_string(code) + " is not a gRPC status code (1-16)");
  }
  return ::grpc::Status(static_cast<::grpc::StatusCode>(code), what + " ended with status_code " + std::to_string(code));
}

// Waits delay_ms, or less when the call is cancelled; false when cancelled.
inline bool Delay(::grpc::ServerContext* ctx, int delay_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms > 0 ? delay_ms : 0);
  while (std::chrono::steady_clock::now() < until) {
    if (ctx->IsCancelled()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return !ctx->IsCancelled();
}

class EchoService final : public interop::v1::Echo::Service {
 public:
  // Called at the start of every handler, on the handler's thread (tests
  // start a span there to check it is a child of the call's span).
  std::function<void(const char* method)> on_call;

  ::grpc::Status Unary(::grpc::ServerContext* ctx, const interop::v1::EchoRequest* req,
                       interop::v1::EchoReply* reply) override {
    if (on_call) on_call("Unary");
    if (req->status_code() != 0) return StatusFor(req->status_code(), "Unary");
    if (!Delay(ctx, req->delay_ms())) return ::grpc::Status::CANCELLED;
    reply->set_message(req->message());
    reply->set_index(0);
    reply->set_received_messages(1);
    return ::grpc::Status::OK;
  }

  ::grpc::Status ServerStream(::grpc::ServerContext* ctx, const interop::v1::EchoRequest* req,
                              ::grpc::ServerWriter<interop::v1::EchoReply>* writer) override {
    if (on_call) on_call("ServerStream");
    const int n = req->count() > 1 ? req->count() : 1;
    for (int i = 0; i < n; ++i) {
      if (!Delay(ctx, req->delay_ms())) return ::grpc::Status::CANCELLED;
      interop::v1::EchoReply r;
      r.set_message(req->message());
      r.set_index(i);
      r.set_received_messages(1);
      if (!writer->Write(r)) return ::grpc::Status::CANCELLED;
    }
    return StatusFor(req->status_code(), "ServerStream");
  }

  ::grpc::Status ClientStream(::grpc::ServerContext* ctx, ::grpc::ServerReader<interop::v1::EchoRequest>* reader,
                              interop::v1::EchoReply* reply) override {
    if (on_call) on_call("ClientStream");
    interop::v1::EchoRequest req, last;
    std::string joined;
    int n = 0;
    while (reader->Read(&req)) {
      if (n++ > 0) joined += ',';
      joined += req.message();
      last = req;
    }
    if (last.status_code() != 0) return StatusFor(last.status_code(), "ClientStream");
    if (!Delay(ctx, last.delay_ms())) return ::grpc::Status::CANCELLED;
    reply->set_message(joined);
    reply->set_index(0);
    reply->set_received_messages(n);
    return ::grpc::Status::OK;
  }

  ::grpc::Status Bidi(::grpc::ServerContext* ctx,
                      ::grpc::ServerReaderWriter<interop::v1::EchoReply, interop::v1::EchoRequest>* stream) override {
    if (on_call) on_call("Bidi");
    interop::v1::EchoRequest req, last;
    int n = 0;
    while (stream->Read(&req)) {
      last = req;
      if (!Delay(ctx, req.delay_ms())) return ::grpc::Status::CANCELLED;
      interop::v1::EchoReply r;
      r.set_message(req.message());
      r.set_index(n);
      r.set_received_messages(n + 1);
      ++n;
      if (!stream->Write(r)) return ::grpc::Status::CANCELLED;
    }
    return StatusFor(last.status_code(), "Bidi");
  }
};

}  // namespace echo_example
