// OTLP/JSON: parsed back with libprotobuf's JSON parser (after turning the
// OTLP-specific hex ids into proto3 JSON's base64) and compared field by field.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "otelweb/otlp/exporter.h"
#include "otlp/testing/otlp_test_util.h"
#include "receiver.h"

namespace otelweb::otlp {
namespace {

namespace pb = ::opentelemetry::proto;

TEST(OtlpJson, ParsesAsTheSameRequestAsProtobuf) {
  testing::SpanSource a("svc-a"), b("svc-b");
  Tracer ta = a.provider->GetTracer("scope-a", "1.0", "https://example.com/s");
  Tracer tb = b.provider->GetTracer("scope-b");
  testing::MakeRichSpan(ta);
  tb.StartSpan("plain").End();
  {
    Span r = ta.StartSpan("root");
    Scope s = MakeCurrent(r);
    ta.StartSpan("child", SpanKind::kProducer).End();
  }
  std::vector<const SpanData*> all = a.store->spans();
  for (auto* s : b.store->spans()) all.push_back(s);
  std::string json = EncodeJson(all);
  // The OTLP/JSON rules: lowerCamelCase keys, enums as integers, 64-bit
  // integers as strings, hex ids.
  EXPECT_NE(json.find("\"startTimeUnixNano\":\""), std::string::npos);
  EXPECT_NE(json.find("\"kind\":2"), std::string::npos);
  EXPECT_NE(json.find("\"intValue\":\"503\""), std::string::npos);
  EXPECT_NE(json.find("\"traceId\":\"0102030405060708090a0b0c0d0e0f10\""), std::string::npos);
  EXPECT_NE(json.find("\"parentSpanId\":\"1112131415161718\""), std::string::npos);

  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto st = google::protobuf::util::JsonStringToMessage(testing::OtlpJsonToProto3Json(json), &req);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(req.resource_spans_size(), 2);
  testing::ExpectRequestsMatch({req}, all);

  // Same request as the protobuf encoder's.
  ProtobufEncoder enc;
  pb::collector::trace::v1::ExportTraceServiceRequest from_pb;
  ASSERT_TRUE(from_pb.ParseFromString(enc.Encode(all)));
  EXPECT_EQ(from_pb.DebugString(), req.DebugString());
}

}  // namespace
}  // namespace otelweb::otlp
