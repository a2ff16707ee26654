// The addon's own reader of ZeroMQ's wire protocol (ZMTP 3.0/3.1, NULL security) for a PULL
// input over tcp:// (zmq_transport.h, State::runZmtp).
//
// Why: a bsread message of 10,000 channels is 20,002 ZeroMQ frames. Through libzmq each frame
// is decoded into a zmq_msg_t by the I/O thread, passed through a pipe and taken out again by
// zmq_msg_recv: at 100 Hz that was a third of a core for the buffer's input alone (libzmq's I/O
// thread ~20 %, the receiving thread ~13 %). Here one thread reads the TCP stream in large
// chunks and copies each frame's body straight into the message block: a few ns per frame.
//
// What it does, as libzmq's PULL socket does: connect (again every 100 ms while the peer is not
// there or after it went away), exchange greetings, send READY with Socket-Type PULL, check
// the peer's READY says PUSH, then read multipart messages; answer PING with PONG. A message cut
// by a disconnect is dropped whole. A peer that breaks the protocol is disconnected and counted
// (stats: zmtpErrors, zmtpLastError); the reader connects again as for any disconnect.
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <strings.h>

#include "zmq_transport.h"

namespace zmqt {

namespace {

constexpr size_t kGreetingBytes = 64;
constexpr size_t kReadChunk = 256 * 1024;
// A frame body at least this big (beyond what is already buffered) is read straight into the
// message block, without passing through the read buffer.
constexpr size_t kDirectRead = 64 * 1024;
constexpr size_t kMaxCommandBytes = 64 * 1024;  // READY metadata, PING contexts
constexpr int kReconnectMs = 100;               // libzmq's ZMQ_RECONNECT_IVL default

// One TCP connection of the reader: a non-blocking socket, a read buffer and the wake fd.
class Conn {
 public:
  Conn(State& st, int fd) : st_(st), fd_(fd), buf_(new uint8_t[kReadChunk]) {}
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }

  std::string why;  // why the connection ended (empty: closed by us, or by the peer)
  // While set, every wait ends at this time (the handshake's deadline, as libzmq's
  // ZMQ_HANDSHAKE_IVL): a peer that accepts TCP but never greets is not waited for forever.
  std::chrono::steady_clock::time_point deadline{};
  bool hasDeadline = false;

  // Makes at least k bytes available in the buffer (k <= kReadChunk).
  bool need(size_t k) {
    if (end_ - pos_ >= k) return true;
    if (pos_ > 0) {
      std::memmove(buf_.get(), buf_.get() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    while (end_ < k) {
      ssize_t r = recvSome(buf_.get() + end_, kReadChunk - end_);
      if (r <= 0) return false;
      end_ += static_cast<size_t>(r);
    }
    return true;
  }
  const uint8_t* at() const { return buf_.get() + pos_; }
  void consume(size_t k) { pos_ += k; }

  // Copies the next n bytes to dst (nullptr: skips them).
  bool read(uint8_t* dst, size_t n) {
    size_t have = std::min(n, end_ - pos_);
    if (dst != nullptr && have > 0) std::memcpy(dst, buf_.get() + pos_, have);
    pos_ += have;
    n -= have;
    if (dst != nullptr) dst += have;
    while (n > 0) {
      if (dst != nullptr && n >= kDirectRead) {
        ssize_t r = recvSome(dst, n);
        if (r <= 0) return false;
        dst += r;
        n -= static_cast<size_t>(r);
        continue;
      }
      size_t k = std::min(n, kReadChunk);
      if (!need(k)) return false;
      if (dst != nullptr) {
        std::memcpy(dst, buf_.get() + pos_, k);
        dst += k;
      }
      pos_ += k;
      n -= k;
    }
    return true;
  }

  bool writeAll(const uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t r = ::send(fd_, p, n, MSG_NOSIGNAL);
      if (r > 0) {
        p += r;
        n -= static_cast<size_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!wait(POLLOUT)) return false;
        continue;
      }
      return false;  // the peer went away: the next read says so
    }
    return true;
  }

  // Waits until the socket is ready for `events` or the receiver stops (false).
  bool wait(short events) {
    for (;;) {
      pollfd p[2] = {{fd_, events, 0}, {st_.wakeFd, POLLIN, 0}};
      int timeoutMs = -1;
      if (hasDeadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
          why = "no ZMTP handshake within " + std::to_string(st_.zmtpHandshakeMs) + " ms";
          return false;
        }
        timeoutMs = static_cast<int>(std::min<long long>(left, 1 << 30));
      }
      int r = ::poll(p, 2, timeoutMs);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) continue;  // the deadline passed: said above
      if (r < 0 || (p[1].revents & POLLIN) != 0 || stopping()) return false;
      if (p[0].revents != 0) return true;
    }
  }

  bool stopping() {
    std::lock_guard<std::mutex> lk(st_.mu);
    return st_.stopping;
  }

 private:
  // > 0 bytes read; 0 when the peer closed; -1 on an error or when the receiver stops.
  ssize_t recvSome(uint8_t* dst, size_t n) {
    for (;;) {
      ssize_t r = ::recv(fd_, dst, n, 0);
      if (r > 0) return r;
      if (r == 0) return 0;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!wait(POLLIN)) return -1;
        continue;
      }
      return -1;
    }
  }

  State& st_;
  int fd_;
  std::unique_ptr<uint8_t[]> buf_;
  size_t pos_ = 0, end_ = 0;
};

// Waits ms milliseconds or until the receiver stops; false when stopping.
bool pause(State& st, int ms) {
  pollfd p = {st.wakeFd, POLLIN, 0};
  while (::poll(&p, 1, ms) < 0 && errno == EINTR) {
  }
  std::lock_guard<std::mutex> lk(st.mu);
  return !st.stopping;
}

// A connected non-blocking TCP socket to host:port, or -1 (peer not there, or stopping).
int connectTcp(State& st) {
  addrinfo hints{};
  // IPv4 as libzmq by default (ZMQ_IPV6 off), IPv6 only for an IPv6 literal ([::1]).
  hints.ai_family = st.zmtpHost.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(st.zmtpHost.c_str(), st.zmtpPort.c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p[2] = {{fd, POLLOUT, 0}, {st.wakeFd, POLLIN, 0}};
      int pr;
      while ((pr = ::poll(p, 2, -1)) < 0 && errno == EINTR) {
      }
      int err = 0;
      socklen_t len = sizeof err;
      if (pr > 0 && (p[1].revents & POLLIN) == 0 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) rc = 0;
    }
    if (rc != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  return fd;
}

// A command frame's body (name-size, name, data): its name, and the data after it.
bool splitCommand(const std::vector<uint8_t>& body, std::string& name, size_t& dataAt) {
  if (body.empty() || body[0] == 0 || 1u + body[0] > body.size()) return false;
  name.assign(reinterpret_cast<const char*>(body.data() + 1), body[0]);
  dataAt = 1u + body[0];
  return true;
}

// The Socket-Type property of a READY command's metadata; false when the metadata is malformed.
bool socketType(const std::vector<uint8_t>& body, size_t at, std::string& type) {
  while (at < body.size()) {
    size_t nameLen = body[at++];
    if (nameLen == 0 || at + nameLen + 4 > body.size()) return false;
    std::string name(reinterpret_cast<const char*>(body.data() + at), nameLen);
    at += nameLen;
    uint32_t valueLen = (static_cast<uint32_t>(body[at]) << 24) | (static_cast<uint32_t>(body[at + 1]) << 16) | (static_cast<uint32_t>(body[at + 2]) << 8) | body[at + 3];
    at += 4;
    if (valueLen > body.size() - at) return false;
    if (strcasecmp(name.c_str(), "Socket-Type") == 0) type.assign(reinterpret_cast<const char*>(body.data() + at), valueLen);
    at += valueLen;
  }
  return true;
}

enum class Frame { Message, Command, End };

// Reads one frame header; a command's body goes to `command`, a message frame's size to `size`.
Frame readFrame(Conn& c, bool& more, uint64_t& size, std::vector<uint8_t>& command) {
  if (!c.need(2)) return Frame::End;
  uint8_t flags = c.at()[0];
  if ((flags & 0x02) != 0) {
    if (!c.need(9)) return Frame::End;
    const uint8_t* p = c.at() + 1;
    size = 0;
    for (int i = 0; i < 8; i++) size = (size << 8) | p[i];
    c.consume(9);
  } else {
    size = c.at()[1];
    c.consume(2);
  }
  more = (flags & 0x01) != 0;
  if ((flags & 0x04) == 0) return Frame::Message;
  if (size > kMaxCommandBytes) {
    c.why = "a command frame of " + std::to_string(size) + " bytes";
    return Frame::End;
  }
  command.resize(size);
  if (!c.read(command.data(), size)) return Frame::End;
  return Frame::Command;
}

// Greetings and READY; false (with c.why set for a protocol error) when it did not work out.
bool handshake(Conn& c) {
  uint8_t g[kGreetingBytes] = {0};
  g[0] = 0xFF;
  g[9] = 0x7F;
  g[10] = 3;  // ZMTP 3.0: we never ask for heartbeats (a PING is answered all the same)
  g[11] = 0;
  std::memcpy(g + 12, "NULL", 4);
  if (!c.writeAll(g, sizeof g)) return false;
  // The signature and the version first: an older peer sends no more than that before it
  // hears back, and would never send the rest of a ZMTP 3 greeting.
  if (!c.need(11)) return false;
  const uint8_t* p = c.at();
  if (p[0] != 0xFF || (p[9] & 0x01) == 0) {
    c.why = "the peer does not speak ZMTP (no greeting)";
    return false;
  }
  if (p[10] < 3) {
    c.why = "the peer speaks ZMTP revision " + std::to_string(p[10]) + " (libzmq before 4.0); use --input_reader libzmq";
    return false;
  }
  if (!c.need(kGreetingBytes)) return false;
  p = c.at();
  char mech[21] = {0};
  std::memcpy(mech, p + 12, 20);
  if (std::strcmp(mech, "NULL") != 0) {
    c.why = std::string("the peer asks for security mechanism ") + mech + ", only NULL is supported";
    return false;
  }
  c.consume(kGreetingBytes);
  static const uint8_t ready[] = {0x04, 26, 5, 'R', 'E', 'A', 'D', 'Y', 11, 'S', 'o', 'c', 'k', 'e', 't', '-', 'T', 'y', 'p', 'e', 0, 0, 0, 4, 'P', 'U', 'L', 'L'};
  if (!c.writeAll(ready, sizeof ready)) return false;
  bool more = false;
  uint64_t size = 0;
  std::vector<uint8_t> body;
  Frame f = readFrame(c, more, size, body);
  if (f == Frame::End) return false;
  std::string name, type;
  size_t dataAt = 0;
  if (f != Frame::Command || !splitCommand(body, name, dataAt)) {
    c.why = "the peer sent no READY command";
    return false;
  }
  if (name == "ERROR") {
    size_t n = dataAt < body.size() ? std::min<size_t>(body[dataAt], body.size() - dataAt - 1) : 0;
    c.why = "the peer refused the connection: " + (n > 0 ? std::string(reinterpret_cast<const char*>(body.data() + dataAt + 1), n) : std::string());
    return false;
  }
  if (name != "READY" || !socketType(body, dataAt, type)) {
    c.why = "the peer sent " + name + " instead of a valid READY";
    return false;
  }
  if (strcasecmp(type.c_str(), "PUSH") != 0) {
    c.why = "the peer is a " + (type.empty() ? std::string("socket without a type") : type + " socket") + "; a PULL input needs PUSH";
    return false;
  }
  return true;
}

// PING (ZMTP 3.1) is answered with PONG and its context; other commands are ignored.
bool command(Conn& c, const std::vector<uint8_t>& body) {
  std::string name;
  size_t dataAt = 0;
  if (!splitCommand(body, name, dataAt)) {
    c.why = "a malformed command frame";
    return false;
  }
  if (name != "PING") return true;
  size_t ctxAt = dataAt + 2;  // after the 16-bit TTL
  size_t ctxLen = ctxAt < body.size() ? std::min<size_t>(body.size() - ctxAt, 16) : 0;
  uint8_t pong[2 + 5 + 16] = {0x04, static_cast<uint8_t>(5 + ctxLen), 4, 'P', 'O', 'N', 'G'};
  if (ctxLen > 0) std::memcpy(pong + 7, body.data() + ctxAt, ctxLen);
  return c.writeAll(pong, 7 + ctxLen);
}

// Multipart messages into the queue until the connection ends or the receiver stops.
void readMessages(State& st, Conn& c, MessageBuilder& mb) {
  std::vector<uint8_t> body;
  for (;;) {
    if (!mb.started() && !st.waitForRoom()) return;
    bool more = false;
    uint64_t size = 0;
    Frame f = readFrame(c, more, size, body);
    if (f == Frame::End) return;
    if (f == Frame::Command) {
      if (!command(c, body)) return;
      continue;
    }
    // Bigger than any block could be: the message is dropped (part() refuses it) and the body
    // is skipped; beyond 2^62 bytes it is not a real stream.
    if (size > (uint64_t{1} << 62)) {
      c.why = "a frame of " + std::to_string(size) + " bytes";
      return;
    }
    uint8_t* at = mb.part(size > kMaxMessageBytes ? kMaxMessageBytes + 1 : static_cast<size_t>(size));
    if (!c.read(at, static_cast<size_t>(size))) return;
    if (!more) mb.finish();
  }
}

}  // namespace

void State::wakeZmtp() {
  uint64_t one = 1;
  ssize_t ignored = ::write(wakeFd, &one, sizeof one);
  (void)ignored;
}

void State::runZmtp() {
  pool().addUser();
  {
    MessageBuilder mb(*this);
    for (;;) {
      int fd = connectTcp(*this);
      if (fd >= 0) {
        Conn c(*this, fd);
        c.hasDeadline = true;
        c.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(zmtpHandshakeMs);
        bool ready = handshake(c);
        c.hasDeadline = false;
        if (ready) {
          zmtpConnections++;
          readMessages(*this, c, mb);
        }
        mb.abandon();  // a message cut by the disconnect is not kept
        if (!c.why.empty()) {
          zmtpErrors++;
          std::lock_guard<std::mutex> lk(mu);
          zmtpLastError = c.why;
        }
      }
      if (!pause(*this, kReconnectMs)) break;
    }
  }
  stopped();
}

}  // namespace zmqt
