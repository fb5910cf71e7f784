// The interop.v1.Echo client, traced with otelweb_grpc: inside one root span
// it calls Unary with "hello", ServerStream with count 2, ClientStream and
// Bidi with three messages each, over an instrumented channel to TARGET
// (host:port, insecure). Telemetry from the OTEL_* environment.
//
//   TARGET=127.0.0.1:50051 OTEL_TRACES_EXPORTER=console ./grpc_echo_client
//
// Exit status 0 when every call ended OK.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "interop/v1/echo.grpc.pb.h"
#include <otelweb/grpc/client.h>
#include <otelweb/otelweb.h>

using interop::v1::EchoReply;
using interop::v1::EchoRequest;

namespace {

EchoRequest Req(const std::string& message, int count = 0) {
  EchoRequest r;
  r.set_message(message);
  r.set_count(count);
  return r;
}

bool Report(const char* call, const ::grpc::Status& st, const std::string& what) {
  std::printf("%s: %s %s\n", call, st.ok() ? "OK" : "ERROR", st.ok() ? what.c_str() : st.error_message().c_str());
  return st.ok();
}

}  // namespace

int main() {
  otelweb::InstallOptions options;
  if (std::getenv("OTEL_SERVICE_NAME") == nullptr) options.service_name = "grpc-echo-client";
  auto telemetry = otelweb::Install(std::move(options));

  const char* target_env = std::getenv("TARGET");
  const std::string target = target_env != nullptr && *target_env != '\0' ? target_env : "127.0.0.1:50051";
  auto stub = interop::v1::Echo::NewStub(
      otelweb::grpc::CreateInstrumentedChannel(target, ::grpc::InsecureChannelCredentials()));

  bool ok = true;
  otelweb::Tracer tracer = otelweb::GetTracerProvider()->GetTracer("grpc_echo_client");
  otelweb::Span root = tracer.StartSpan("grpc-echo-client");
  {
    otelweb::Scope scope(root.AsContext());  // every call below is a child of `root`
    {
      ::grpc::ClientContext ctx;
      EchoReply reply;
      ok &= Report("Unary", stub->Unary(&ctx, Req("hello"), &reply), reply.message());
    }
    {
      ::grpc::ClientContext ctx;
      auto reader = stub->ServerStream(&ctx, Req("hello", 2));
      EchoReply reply;
      int n = 0;
      while (reader->Read(&reply)) ++n;
      ok &= Report("ServerStream", reader->Finish(), std::to_string(n) + " replies");
    }
    {
      ::grpc::ClientContext ctx;
      EchoReply reply;
      auto writer = stub->ClientStream(&ctx, &reply);
      for (const char* m : {"one", "two", "three"}) writer->Write(Req(m));
      writer->WritesDone();
      ok &= Report("ClientStream", writer->Finish(), reply.message());
    }
    {
      ::grpc::ClientContext ctx;
      auto stream = stub->Bidi(&ctx);
      int n = 0;
      for (const char* m : {"one", "two", "three"}) {
        stream->Write(Req(m));
        EchoReply reply;
        if (stream->Read(&reply)) ++n;
      }
      stream->WritesDone();
      ok &= Report("Bidi", stream->Finish(), std::to_string(n) + " replies");
    }
  }
  if (!ok) root.SetStatus(otelweb::StatusCode::kError, "a call failed");
  root.End();
  return ok ? 0 : 1;
}
