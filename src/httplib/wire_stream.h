// Private to otelweb_httplib: the connection loop of TracedServer, which lets
// the instrumentation read request header values as they were on the wire
// (cpp-httplib 0.11 percent-decodes every header value it parses).
//
// TracedServer overrides httplib::Server's private virtual
// process_and_close_socket and serves the connection the way httplib 0.11.4
// does (keep-alive wait, at most keep_alive_max_count requests, the server's
// read/write timeouts, shutdown and close), calling httplib's protected
// process_request through a WireStream: a socket stream like httplib's own
// that records the bytes it hands out until httplib has parsed the header
// block (process_request's setup_request callback). RawHeaders then parses
// that record with the line rules of httplib's parser, minus the decoding.
//
// Ownership: one WireStream per connection, on the serving thread's stack.
// Thread-safety: none needed (one thread per connection).
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otelweb/http/headers.h"

namespace otelweb::httplib::detail {

struct ServerState;

// The header lines of one request as sent: names and values are views into
// the WireStream's record (valid until the next request on the connection).
struct RawHeaders {
  // False when the raw lines cannot be used for this request: the header
  // block was not recorded (rejected before its end) or was larger than the
  // record's bound, or it does not match what httplib parsed.
  bool usable = false;
  const ServerState* owner = nullptr;
  std::vector<std::pair<std::string_view, std::string_view>> lines;
};

// The raw headers of the request the calling thread is serving, if a
// TracedServer's loop serves it (else null).
const RawHeaders* CurrentRawHeaders() noexcept;

// cpp-httplib adds the socket addresses to the request headers under these
// names (any case: a client may send them too).
bool IsPseudoHeader(std::string_view name) noexcept;

// A HeaderReader over RawHeaders (pseudo-header names left out).
class RawHeadersReader final : public http::HeaderReader {
 public:
  explicit RawHeadersReader(const RawHeaders& raw) noexcept : raw_(raw) {}
  // HeaderReader::Get's result (repeated lines joined with ',' within
  // HeaderLimits::max_joined_bytes, pseudo-header names never found), from
  // one direct pass over the lines: a length test first, no visitor call
  // per line. Linear in the number of lines.
  std::string_view Get(std::string_view key, std::string& scratch) const noexcept override;
  void ForEach(Visitor visit, void* ctx) const noexcept override;

 private:
  const RawHeaders& raw_;
};

class WireStream final : public ::httplib::Stream {
 public:
  // The largest header block kept (request line included); a larger one is
  // served as usual, with the decoded fallback for the instrumentation.
  static constexpr size_t kMaxRecordBytes = 64 * 1024;

  WireStream(::socket_t sock, time_t read_sec, time_t read_usec, time_t write_sec,
             time_t write_usec) noexcept;

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  ::socket_t socket() const override { return sock_; }

  // Waits (up to keep_alive_sec) until a request can be read: true when
  // bytes are buffered or arrive. Gives up early once `listening` becomes
  // INVALID_SOCKET (the server stops).
  bool WaitForRequest(time_t keep_alive_sec, const std::atomic<::socket_t>& listening);

  // Starts recording a new request's bytes; RawHeaders become unusable.
  void BeginRequest(const ServerState* owner) noexcept;
  // httplib has parsed the header block (its setup_request callback): stops
  // recording and parses the record into raw(). `parsed` is httplib's request.
  void HeadersParsed(const ::httplib::Request& parsed) noexcept;
  const RawHeaders& raw() const noexcept { return raw_; }
  // After a request: when httplib rejected it before the end of its header
  // block (bad request line, URI too long), what was read ahead is dropped,
  // as httplib's own loop (a new stream per request) drops it; after a
  // parsed request it stays, so that pipelined requests are served.
  void EndRequest() noexcept;

 private:
  void Record(const char* p, size_t n) noexcept;
  // Appends buf_[rec_from_, buf_off_) to the record while recording.
  void FlushRecord() noexcept;

  ::socket_t sock_;
  int read_timeout_ms_;
  int write_timeout_ms_;
  std::vector<char> buf_;
  size_t buf_off_ = 0;
  size_t buf_len_ = 0;
  size_t rec_from_ = 0;  // start of the bytes of buf_ handed out but not yet recorded
  bool recording_ = false;
  bool overflowed_ = false;
  bool parsed_ = false;
  std::string record_;
  RawHeaders raw_;
};

// Makes `raw` the calling thread's CurrentRawHeaders() for its lifetime.
class RawHeadersScope {
 public:
  explicit RawHeadersScope(const RawHeaders* raw) noexcept;
  ~RawHeadersScope();
  RawHeadersScope(const RawHeadersScope&) = delete;
  RawHeadersScope& operator=(const RawHeadersScope&) = delete;

 private:
  const RawHeaders* previous_;
};

// Parses a recorded header block with the line rules of cpp-httplib 0.11's
// parser (CRLF-terminated lines; the request line first; a line without ':'
// or with an empty value is skipped; spaces and tabs around the value are
// removed; no decoding). Returns false when the block has no end.
bool ParseRawHeaderBlock(std::string_view block,
                         std::vector<std::pair<std::string_view, std::string_view>>* lines);

}  // namespace otelweb::httplib::detail
