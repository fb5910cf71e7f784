// OTLP exporter configuration: code, OTEL_EXPORTER_OTLP_TRACES_*,
// OTEL_EXPORTER_OTLP_*, defaults; invalid values warn once and default.
#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>

#include "otelweb/diagnostics.h"
#include "otelweb/otlp/exporter.h"
#include "otelweb/resource.h"
#include "otlp/testing/otlp_env_util.h"
#include "otlp/transport.h"

namespace otelweb::otlp {
namespace {

using testing::ScopedEnv;
using testing::Warnings;

TEST(OtlpOptions, HeaderErrorsNeverShowValues) {
  std::vector<std::string> errors;
  auto h = ParseHeaders("Authorization: Bearer tok1,Authorization=Bearer%zztok2,=tok3,ok=v", &errors);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].first, "ok");
  ASSERT_EQ(errors.size(), 3u);
  for (const auto& e : errors) EXPECT_EQ(e.find("tok"), std::string::npos) << e;
  EXPECT_NE(errors[1].find("Authorization"), std::string::npos) << errors[1];
}

TEST(OtlpOptions, HeadersThatCannotBeSentAreDropped) {
  ScopedEnv env;
  Warnings w;
  env.Set("OTEL_EXPORTER_OTLP_HEADERS", "x-crlf=a%0D%0AInjected: 1,my key=v,x-ok=fine,x-utf8=%C3%A9");
  auto r = ResolveOptions({});  // HTTP: UTF-8 bytes are allowed, CR/LF and spaces in names are not
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].first, "x-ok");
  EXPECT_EQ(r.headers[1].first, "x-utf8");
  env.Set("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
  r = ResolveOptions({});  // gRPC: printable ASCII values only
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "x-ok");
  EXPECT_EQ(w.text().find("Injected"), std::string::npos) << w.text();
}

// Zero means no limit per export (the spec); negative is invalid; a tiny
// value gets a hint that the unit is milliseconds.
TEST(OtlpOptions, ZeroTimeoutIsNoLimitNegativeFallsBackTinyWarns) {
  ScopedEnv env;
  Warnings w;
  env.Set("OTEL_EXPORTER_OTLP_TIMEOUT", "0");
  EXPECT_EQ(ResolveOptions({}).timeout, std::chrono::milliseconds(std::chrono::hours(24)));
  EXPECT_EQ(w.count(), 0u);
  OtlpExporterOptions o;
  o.timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(ResolveOptions(o).timeout, std::chrono::milliseconds(std::chrono::hours(24)));
  o.timeout = std::chrono::milliseconds(-5);
  EXPECT_EQ(ResolveOptions(o).timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(w.count(), 1u);
  env.Set("OTEL_EXPORTER_OTLP_TIMEOUT", "10");
  EXPECT_EQ(ResolveOptions({}).timeout, std::chrono::milliseconds(10));
  EXPECT_EQ(w.count(), 2u);
  EXPECT_NE(w.text().find("OTEL_EXPORTER_OTLP_TIMEOUT=10 is 10 milliseconds"), std::string::npos) << w.text();
  EXPECT_NE(w.text().find("10000 for 10 s"), std::string::npos) << w.text();
}

TEST(OtlpOptions, GrpcTargetUrisPassThrough) {
  ScopedEnv env;
  OtlpExporterOptions o;
  o.protocol = Protocol::kGrpc;
  o.endpoint = "dns:///collector:4317";
  EXPECT_EQ(ResolveOptions(o).grpc_target, "dns:///collector:4317");
  o.endpoint = "unix:/run/otel.sock";
  EXPECT_EQ(ResolveOptions(o).grpc_target, "unix:/run/otel.sock");
  o.endpoint = "collector:4317";
  EXPECT_EQ(ResolveOptions(o).grpc_target, "collector:4317");
}

// gRPC has no userinfo, and its target shows up in our log lines and in
// gRPC's own error messages: credentials in the endpoint are removed (with a
// warning that does not repeat them), never sent or logged.
TEST(OtlpOptions, GrpcTargetsLoseCredentials) {
  ScopedEnv env;
  Warnings w;
  OtlpExporterOptions o;
  o.protocol = Protocol::kGrpc;
  o.endpoint = "http://alice:s3cret@127.0.0.1:4317";
  EXPECT_EQ(ResolveOptions(o).grpc_target, "127.0.0.1:4317");
  o.endpoint = "https://bob@collector:4317/ignored/path";
  EXPECT_EQ(ResolveOptions(o).grpc_target, "collector:4317");
  o.endpoint = "dns://user:pw@8.8.8.8/collector:4317";
  EXPECT_EQ(ResolveOptions(o).grpc_target, "dns://8.8.8.8/collector:4317");
  o.endpoint = "unix:/run/otel@1.sock";  // an '@' in a path is not userinfo
  EXPECT_EQ(ResolveOptions(o).grpc_target, "unix:/run/otel@1.sock");
  EXPECT_EQ(w.count(), 3u) << w.text();
  EXPECT_EQ(w.text().find("s3cret"), std::string::npos);
  EXPECT_EQ(w.text().find("alice"), std::string::npos);
  EXPECT_NE(w.text().find("OTEL_EXPORTER_OTLP_HEADERS"), std::string::npos);
  // From the environment too.
  env.Set("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
  env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://alice:s3cret@127.0.0.1:4317");
  EXPECT_EQ(ResolveOptions(OtlpExporterOptions{}).grpc_target, "127.0.0.1:4317");
}

TEST(OtlpOptions, UrlsInMessagesLoseCredentialsAndQuery) {
  EXPECT_EQ(internal::UrlForLog("https://user:pw@host:4318/v1/traces?api_key=k"),
            "https://REDACTED@host:4318/v1/traces?...");
  EXPECT_EQ(internal::UrlForLog("http://host/v1/traces"), "http://host/v1/traces");
  ScopedEnv env;
  Warnings w;
  env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://me:hunter2@host/?token=abc");
  (void)ResolveOptions({});
  EXPECT_EQ(w.text().find("hunter2"), std::string::npos) << w.text();
  EXPECT_EQ(w.text().find("abc"), std::string::npos) << w.text();
}

TEST(OtlpOptions, SpecDefaults) {
  ScopedEnv env;
  auto r = ResolveOptions({});
  EXPECT_EQ(r.protocol, Protocol::kHttpProtobuf);
  EXPECT_EQ(r.url, "http://localhost:4318/v1/traces");
  EXPECT_EQ(r.timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(r.compression, Compression::kNone);
  EXPECT_TRUE(r.headers.empty());
  OtlpExporterOptions g;
  g.protocol = Protocol::kGrpc;
  r = ResolveOptions(g);
  EXPECT_EQ(r.grpc_target, "localhost:4317");
  EXPECT_FALSE(r.use_tls);  // http:// default
}

TEST(OtlpOptions, GeneralEndpointIsABaseUrlTracesEndpointIsUsedAsIs) {
  ScopedEnv env;
  env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
  EXPECT_EQ(ResolveOptions({}).url, "http://collector:4318/v1/traces");
  env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318/base/");
  auto r = ResolveOptions({});
  EXPECT_EQ(r.url, "https://collector:4318/base/v1/traces");
  EXPECT_TRUE(r.use_tls);
  env.Set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:9999/custom/path");
  EXPECT_EQ(ResolveOptions({}).url, "http://traces:9999/custom/path");
  env.Set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:9999");
  EXPECT_EQ(ResolveOptions({}).url, "http://traces:9999/");  // no path: the root
  OtlpExporterOptions code;
  code.endpoint = "http://code:1/x";
  EXPECT_EQ(ResolveOptions(code).url, "http://code:1/x");  // code beats environment
}

TEST(OtlpOptions, GrpcEndpointSchemeAndInsecure) {
  ScopedEnv env;
  env.Set("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
  env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317");  // no scheme: TLS unless insecure
  auto r = ResolveOptions({});
  EXPECT_EQ(r.protocol, Protocol::kGrpc);
  EXPECT_EQ(r.grpc_target, "collector:4317");
  EXPECT_TRUE(r.use_tls);
  env.Set("OTEL_EXPORTER_OTLP_INSECURE", "true");
  EXPECT_FALSE(ResolveOptions({}).use_tls);
  env.Set("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "false");  // per-signal wins
  EXPECT_TRUE(ResolveOptions({}).use_tls);
  env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317/ignored/path");
  env.Set("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "true");  // the scheme decides
  r = ResolveOptions({});
  EXPECT_TRUE(r.use_tls);
  EXPECT_EQ(r.grpc_target, "collector:4317");
  env.Set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4317");
  env.Set("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "false");
  r = ResolveOptions({});
  EXPECT_FALSE(r.use_tls);
  EXPECT_EQ(r.grpc_target, "traces:4317");
}

TEST(OtlpOptions, ProtocolPerSignalFirstInvalidWarnsAndDefaults) {
  ScopedEnv env;
  Warnings w;
  env.Set("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
  env.Set("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json");
  EXPECT_EQ(ResolveOptions({}).protocol, Protocol::kHttpJson);
  EXPECT_EQ(w.count(), 0u);
  env.Set("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift");
  EXPECT_EQ(ResolveOptions({}).protocol, Protocol::kHttpProtobuf);
  EXPECT_EQ(w.count(), 1u);
  EXPECT_NE(w.text().find("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), std::string::npos);
}

TEST(OtlpOptions, HeadersArePercentDecodedPerSignalFirst) {
  ScopedEnv env;
  Warnings w;
  env.Set("OTEL_EXPORTER_OTLP_HEADERS", "general=1");
  auto r = ResolveOptions({});
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "general");
  env.Set("OTEL_EXPORTER_OTLP_TRACES_HEADERS",
          " api-key = secret%20value%2C1 ,x-tenant=a%3Db, broken, =novalue,bad=%zz");
  r = ResolveOptions({});
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>("api-key", "secret value,1")));
  EXPECT_EQ(r.headers[1], (std::pair<std::string, std::string>("x-tenant", "a=b")));
  EXPECT_EQ(w.count(), 1u);  // one warning listing the three bad entries
  // Entries are named by position (and key): "broken" could have been a secret.
  EXPECT_NE(w.text().find("entry 3"), std::string::npos) << w.text();
  EXPECT_EQ(w.text().find("broken"), std::string::npos) << w.text();
}

TEST(OtlpOptions, TimeoutInMillisecondsInvalidWarnsAndDefaults) {
  ScopedEnv env;
  Warnings w;
  env.Set("OTEL_EXPORTER_OTLP_TIMEOUT", "2500");
  EXPECT_EQ(ResolveOptions({}).timeout, std::chrono::milliseconds(2500));
  env.Set("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "750");
  EXPECT_EQ(ResolveOptions({}).timeout, std::chrono::milliseconds(750));
  env.Set("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "10s");
  EXPECT_EQ(ResolveOptions({}).timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(w.count(), 1u);
  env.Set("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "-5");
  EXPECT_EQ(ResolveOptions({}).timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(w.count(), 2u);
}

TEST(OtlpOptions, CompressionGzipNoneInvalid) {
  ScopedEnv env;
  Warnings w;
  env.Set("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip");
  EXPECT_EQ(ResolveOptions({}).compression, Compression::kGzip);
  env.Set("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none");  // accepted (Python rejects it)
  EXPECT_EQ(ResolveOptions({}).compression, Compression::kNone);
  EXPECT_EQ(w.count(), 0u);
  env.Set("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "zstd");
  EXPECT_EQ(ResolveOptions({}).compression, Compression::kNone);
  EXPECT_EQ(w.count(), 1u);
}

TEST(OtlpOptions, CertificateFilesPerSignalFirst) {
  ScopedEnv env;
  env.Set("OTEL_EXPORTER_OTLP_CERTIFICATE", "/general/ca.pem");
  env.Set("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/general/key.pem");
  env.Set("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/general/cert.pem");
  env.Set("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "/traces/key.pem");
  auto r = ResolveOptions({});
  EXPECT_EQ(r.certificate_file, "/general/ca.pem");
  EXPECT_EQ(r.client_key_file, "/traces/key.pem");
  EXPECT_EQ(r.client_certificate_file, "/general/cert.pem");
  OtlpExporterOptions code;
  code.certificate_file = "/code/ca.pem";
  EXPECT_EQ(ResolveOptions(code).certificate_file, "/code/ca.pem");
}

TEST(OtlpOptions, ReadEnvironmentFalseIgnoresVariables) {
  ScopedEnv env;
  env.Set("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
  env.Set("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
  OtlpExporterOptions o;
  o.read_environment = false;
  auto r = ResolveOptions(o);
  EXPECT_EQ(r.protocol, Protocol::kHttpProtobuf);
  EXPECT_EQ(r.url, "http://localhost:4318/v1/traces");
}

TEST(OtlpOptions, HeadersUseTheSharedKeyValueParser) {
  // Keys are percent-decoded like values (config::ParseKeyValueList), and the
  // messages are the same as for OTEL_RESOURCE_ATTRIBUTES.
  std::vector<std::string> errors, resource_errors;
  auto h = ParseHeaders("x%2Dtenant=a%2Cb,=secret,nope", &errors);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].first, "x-tenant");
  EXPECT_EQ(h[0].second, "a,b");
  (void)otelweb::ParseResourceAttributes("x%2Dtenant=a%2Cb,=secret,nope", &resource_errors);
  EXPECT_EQ(errors, resource_errors);
}

TEST(OtlpOptions, ParseHeadersDirect) {
  std::vector<std::string> errors;
  auto h = ParseHeaders("a=1,,b=%41%42,c", &errors);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].second, "AB");
  EXPECT_EQ(errors.size(), 1u);
}

}  // namespace
}  // namespace otelweb::otlp

namespace otelweb::otlp {
namespace {

// Mix-ups of protocol, port and endpoint variables that otherwise fail with
// cryptic transport errors: each gets one warning that says what to change;
// the right configurations get none.
struct MixUpCase {
  const char* name;
  std::vector<std::pair<const char*, const char*>> env;
  Signal signal;
  const char* hint;  // nullptr: no warning at all
};

TEST(OtlpOptions, CommonMixUpsGetAHintThatSaysWhatToChange) {
  const std::vector<MixUpCase> cases = {
      {"http/protobuf to the gRPC port",
       {{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"}},
       Signal::kTraces, "Use port 4318 for OTLP over HTTP, or set OTEL_EXPORTER_OTLP_PROTOCOL=grpc"},
      {"http/json to the gRPC port, per signal",
       {{"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json"},
        {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://[::1]:4317/v1/logs"}},
       Signal::kLogs, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"},
      {"grpc to the HTTP port",
       {{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}},
       Signal::kTraces, "Use port 4317 for gRPC, or set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"},
      {"grpc to a local collector without a scheme",
       {{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317"}},
       Signal::kTraces, "Write http://localhost:4317 or set OTEL_EXPORTER_OTLP_INSECURE=true"},
      {"a base endpoint with the signal's path",
       {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/v1/traces"}},
       Signal::kTraces, "set the full URL in OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
      {"a base endpoint with another signal's path",
       {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/v1/traces/"}},
       Signal::kMetrics, "set the full URL in OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"},
      {"a per-signal endpoint without the path",
       {{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://collector:4318"}},
       Signal::kLogs, "Write the full URL (…/v1/logs) in OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"},
      {"right: base URL over HTTP", {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}}, Signal::kTraces,
       nullptr},
      {"right: full per-signal URL",
       {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://collector:4318/v1/traces"}},
       Signal::kTraces, nullptr},
      {"right: grpc with a scheme",
       {{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4317"}},
       Signal::kTraces, nullptr},
      {"right: grpc to a remote TLS collector",
       {{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", "collector.example:4317"}},
       Signal::kTraces, nullptr},
  };
  for (const MixUpCase& c : cases) {
    testing::ScopedEnv env;
    for (const auto& [k, v] : c.env) env.Set(k, v);
    testing::Warnings w;
    (void)ResolveOptions({}, c.signal);
    if (c.hint == nullptr) {
      EXPECT_EQ(w.count(), 0u) << c.name << ": " << w.text();
    } else {
      EXPECT_EQ(w.count(), 1u) << c.name << ": " << w.text();
      EXPECT_EQ(w.Count(c.hint), 1u) << c.name << ": " << w.text();
    }
  }
}

}  // namespace
}  // namespace otelweb::otlp
