// Semantic-convention attribute keys and values otelweb writes (OpenTelemetry
// semantic conventions, stable HTTP and database conventions). Written by hand
// (the semconv generator is not available here); only the keys otelweb uses.
// Each constant is named after its key: "http.request.method" is
// kHttpRequestMethod. Instrumentations use these instead of string literals,
// so that a key is spelled in one place.
//
// Ownership: constants with static storage. Thread-safety: immutable.
#pragma once

#include <string_view>

namespace otelweb::semconv {

// General
inline constexpr std::string_view kErrorType = "error.type";
inline constexpr std::string_view kExceptionType = "exception.type";
inline constexpr std::string_view kExceptionMessage = "exception.message";
// error.type's value when nothing more specific is known (semconv "_OTHER").
inline constexpr std::string_view kOtherValue = "_OTHER";
// Source code and thread (semconv "code" and "thread"; on log records)
inline constexpr std::string_view kCodeFilePath = "code.file.path";
inline constexpr std::string_view kCodeLineNumber = "code.line.number";
inline constexpr std::string_view kCodeFunctionName = "code.function.name";
inline constexpr std::string_view kThreadId = "thread.id";

// HTTP (semconv "HTTP spans")
inline constexpr std::string_view kHttpRequestMethod = "http.request.method";
inline constexpr std::string_view kHttpRequestMethodOriginal = "http.request.method_original";
inline constexpr std::string_view kHttpRequestResendCount = "http.request.resend_count";
inline constexpr std::string_view kHttpResponseStatusCode = "http.response.status_code";
inline constexpr std::string_view kHttpRoute = "http.route";
// Prefixes of captured headers: the lowercase header name follows.
inline constexpr std::string_view kHttpRequestHeaderPrefix = "http.request.header.";
inline constexpr std::string_view kHttpResponseHeaderPrefix = "http.response.header.";

// URL
inline constexpr std::string_view kUrlFull = "url.full";
inline constexpr std::string_view kUrlPath = "url.path";
inline constexpr std::string_view kUrlQuery = "url.query";
inline constexpr std::string_view kUrlScheme = "url.scheme";

// Server, client, network, user agent
inline constexpr std::string_view kServerAddress = "server.address";
inline constexpr std::string_view kServerPort = "server.port";
inline constexpr std::string_view kClientAddress = "client.address";
inline constexpr std::string_view kNetworkPeerAddress = "network.peer.address";
inline constexpr std::string_view kNetworkPeerPort = "network.peer.port";
inline constexpr std::string_view kNetworkProtocolVersion = "network.protocol.version";
inline constexpr std::string_view kUserAgentOriginal = "user_agent.original";

// Database (semconv "Database spans")
inline constexpr std::string_view kDbSystemName = "db.system.name";
inline constexpr std::string_view kDbNamespace = "db.namespace";
inline constexpr std::string_view kDbOperationName = "db.operation.name";
inline constexpr std::string_view kDbQuerySummary = "db.query.summary";
inline constexpr std::string_view kDbQueryText = "db.query.text";
inline constexpr std::string_view kDbCollectionName = "db.collection.name";
inline constexpr std::string_view kDbResponseStatusCode = "db.response.status_code";
inline constexpr std::string_view kDbResponseReturnedRows = "db.response.returned_rows";
// db.system.name's value for SQLite.
inline constexpr std::string_view kDbSystemNameSqlite = "sqlite";

}  // namespace otelweb::semconv
