// TracedServer's connection loop: a socket stream that records each request's
// header block, and the parser of that record (see wire_stream.h).
#include "httplib/wire_stream.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>

namespace otelweb::httplib::detail {

namespace {

thread_local const RawHeaders* t_raw = nullptr;

int ToMs(time_t sec, time_t usec) noexcept {
  long long ms = static_cast<long long>(sec) * 1000 + static_cast<long long>(usec) / 1000;
  if (ms <= 0 && usec > 0) ms = 1;
  return static_cast<int>(std::min<long long>(std::max<long long>(ms, 0), 1 << 30));
}

// poll() on one descriptor, restarted after signals; >0 ready, 0 timeout.
int PollOne(int fd, short events, int timeout_ms) noexcept {
  pollfd p{fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0 && (p.revents & POLLNVAL) != 0) return -1;
    return r;
  }
}

char Lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsLower(std::string_view a, std::string_view lower) noexcept {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != lower[i]) return false;
  }
  return true;
}

void AddressOf(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
  if (addr.ss_family == AF_INET) {
    port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  // Not zero-filled: getnameinfo terminates what it writes, and the 1 KiB
  // fill ran twice per request (remote and local address).
  std::array<char, NI_MAXHOST> host;
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host.data(),
                    static_cast<socklen_t>(host.size()), nullptr, 0, NI_NUMERICHOST) == 0) {
    ip = host.data();
  }
}

}  // namespace

const RawHeaders* CurrentRawHeaders() noexcept { return t_raw; }

RawHeadersScope::RawHeadersScope(const RawHeaders* raw) noexcept : previous_(t_raw) { t_raw = raw; }
RawHeadersScope::~RawHeadersScope() { t_raw = previous_; }

bool IsPseudoHeader(std::string_view name) noexcept {
  return EqualsLower(name, "remote_addr") || EqualsLower(name, "remote_port") ||
         EqualsLower(name, "local_addr") || EqualsLower(name, "local_port");
}

std::string_view RawHeadersReader::Get(std::string_view key, std::string& scratch) const noexcept {
  // A line whose name equals `key` is a pseudo-header exactly when `key` is.
  if (key.empty() || IsPseudoHeader(key)) return {};
  const size_t n = key.size();
  std::string_view first;
  int count = 0;
  for (const auto& [name, value] : raw_.lines) {
    if (name.size() != n || Lower(name[0]) != Lower(key[0])) continue;
    bool equal = true;
    for (size_t i = 1; i < n; ++i) {
      if (Lower(name[i]) != Lower(key[i])) {
        equal = false;
        break;
      }
    }
    if (!equal) continue;
    try {
      if (count == 0) {
        first = value;
      } else {
        if (count == 1) scratch.assign(first);
        // The lines beyond max_joined_bytes are left out, as in
        // HeaderReader::Get.
        if (!http::AppendJoinedHeader(scratch, value, http::ProcessHeaderLimits().max_joined_bytes)) {
          break;
        }
      }
    } catch (...) {
      break;
    }
    ++count;
  }
  if (count <= 1) return first;
  return scratch;
}

void RawHeadersReader::ForEach(Visitor visit, void* ctx) const noexcept {
  for (const auto& [name, value] : raw_.lines) {
    if (IsPseudoHeader(name)) continue;
    if (!visit(ctx, name, value)) return;
  }
}

bool ParseRawHeaderBlock(std::string_view block,
                         std::vector<std::pair<std::string_view, std::string_view>>* lines) {
  lines->clear();
  size_t eol = block.find('\n');  // the request line
  if (eol == std::string_view::npos) return false;
  block.remove_prefix(eol + 1);
  while (true) {
    eol = block.find('\n');
    if (eol == std::string_view::npos) return false;  // no blank line: no end
    std::string_view line = block.substr(0, eol + 1);
    block.remove_prefix(eol + 1);
    // httplib: a line must end with CRLF (others are skipped); CRLF alone
    // ends the block.
    if (line.size() < 2 || line[line.size() - 2] != '\r') continue;
    if (line.size() == 2) return true;
    line.remove_suffix(2);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    if (value.empty()) continue;  // httplib keeps no header without a value
    lines->emplace_back(line.substr(0, colon), value);
  }
}

WireStream::WireStream(::socket_t sock, time_t read_sec, time_t read_usec, time_t write_sec,
                       time_t write_usec) noexcept
    : sock_(sock),
      read_timeout_ms_(ToMs(read_sec, read_usec)),
      write_timeout_ms_(ToMs(write_sec, write_usec)) {}

bool WireStream::is_readable() const {
  return buf_off_ < buf_len_ || PollOne(sock_, POLLIN, read_timeout_ms_) > 0;
}

bool WireStream::is_writable() const {
  if (PollOne(sock_, POLLOUT, write_timeout_ms_) <= 0) return false;
  // As httplib: a peer that has closed its side is not written to.
  if (PollOne(sock_, POLLIN, 0) <= 0) return true;
  char c;
  ssize_t n;
  do {
    n = ::recv(sock_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

void WireStream::Record(const char* p, size_t n) noexcept {
  if (!recording_ || overflowed_) return;
  if (record_.size() + n > kMaxRecordBytes) {
    overflowed_ = true;
    return;
  }
  try {
    record_.append(p, n);
  } catch (...) {
    overflowed_ = true;
  }
}

// The bytes handed out of buf_ while recording are appended to the record in
// one piece (FlushRecord: before buf_ is refilled, and when the header block
// is parsed), not per read call: httplib's line reader reads one byte per
// call, and appending each byte was over a quarter of the traced server's added
// instructions (issue 18, docs/performance.md).
void WireStream::FlushRecord() noexcept {
  if (recording_ && buf_off_ > rec_from_) Record(buf_.data() + rec_from_, buf_off_ - rec_from_);
  rec_from_ = buf_off_;
}

ssize_t WireStream::read(char* ptr, size_t size) {
  if (size == 0) return 0;
  if (buf_off_ < buf_len_) {
    size_t n = std::min(size, buf_len_ - buf_off_);
    std::copy_n(buf_.data() + buf_off_, n, ptr);
    buf_off_ += n;
    return static_cast<ssize_t>(n);
  }
  if (PollOne(sock_, POLLIN, read_timeout_ms_) <= 0) return -1;
  FlushRecord();  // buf_ is about to be refilled or bypassed
  constexpr size_t kBufferSize = 4096;
  ssize_t n;
  if (size < kBufferSize) {
    if (buf_.size() < kBufferSize) buf_.resize(kBufferSize);
    do {
      n = ::recv(sock_, buf_.data(), kBufferSize, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return n;
    buf_len_ = static_cast<size_t>(n);
    size_t out = std::min(size, buf_len_);
    std::copy_n(buf_.data(), out, ptr);
    buf_off_ = out;
    rec_from_ = 0;
    return static_cast<ssize_t>(out);
  }
  do {
    n = ::recv(sock_, ptr, size, 0);
  } while (n < 0 && errno == EINTR);
  if (n > 0) Record(ptr, static_cast<size_t>(n));
  return n;
}

ssize_t WireStream::write(const char* ptr, size_t size) {
  if (!is_writable()) return -1;
  ssize_t n;
  do {
    n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

void WireStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    AddressOf(addr, len, ip, port);
  }
}

void WireStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    AddressOf(addr, len, ip, port);
  }
}

bool WireStream::WaitForRequest(time_t keep_alive_sec, const std::atomic<::socket_t>& listening) {
  if (buf_off_ < buf_len_) return true;  // a pipelined request is buffered
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(keep_alive_sec);
  while (true) {
    int r = PollOne(sock_, POLLIN, 50);
    if (r < 0) return false;
    if (r > 0) return true;
    if (listening == INVALID_SOCKET || Clock::now() >= deadline) return false;
  }
}

void WireStream::BeginRequest(const ServerState* owner) noexcept {
  record_.clear();
  if (record_.capacity() > kMaxRecordBytes) record_.shrink_to_fit();
  recording_ = true;
  rec_from_ = buf_off_;  // bytes buffered ahead (a pipelined request) are this request's
  overflowed_ = false;
  parsed_ = false;
  raw_.usable = false;
  raw_.owner = owner;
  raw_.lines.clear();
}

void WireStream::EndRequest() noexcept {
  recording_ = false;
  if (!parsed_) buf_off_ = buf_len_ = rec_from_ = 0;
}

void WireStream::HeadersParsed(const ::httplib::Request& parsed) noexcept {
  FlushRecord();
  recording_ = false;
  parsed_ = true;
  if (overflowed_) return;
  try {
    if (!ParseRawHeaderBlock(record_, &raw_.lines)) return;
  } catch (...) {
    raw_.lines.clear();
    return;
  }
  // httplib has added its four socket-address entries; any other difference
  // means the record is not the block httplib parsed (a newer httplib reading
  // differently): then the decoded fallback is used.
  raw_.usable = raw_.lines.size() + 4 == parsed.headers.size();
}

}  // namespace otelweb::httplib::detail
