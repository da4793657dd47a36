// SPDX-License-Identifier: Apache-2.0
//
// The event server on loopback with routes of its own: what a slow, idle, greedy or careless
// client can and cannot do to it.
#include "server/http/event_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "server/http/gzip.hpp"
#include "tests/support/raw_http.hpp"

namespace stride::server::http {
namespace {

using stride::testing::BodyOf;
using stride::testing::Exchange;
using stride::testing::RawConnection;
using stride::testing::StatusOf;

// A latch the "block" route waits on, so a test can hold every worker.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> waiting{0};
  void Wait() {
    std::unique_lock lock(mu);
    ++waiting;
    cv.wait(lock, [&] { return open; });
  }
  void Open() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
};

class Served {
 public:
  explicit Served(EventServerOptions o) {
    o.port = 0;
    std::vector<Route> routes = {
        {"GET", "/hello/{name}", "hello", "", 0, false,
         [](HttpRequest& r) { return ApiResponse(200, "hi " + r.path_params[0], "text/plain"); }},
        {"POST", "/echo", "echo", "", 1 << 20, false,
         [](HttpRequest& r) {
           return ApiResponse(200, std::to_string(r.body.size()) + ":" + r.body.substr(0, 64),
                              "text/plain");
         }},
        {"GET", "/block", "block", "", 0, false,
         [this](HttpRequest&) {
           gate.Wait();
           return ApiResponse(200, "done", "text/plain");
         }},
        {"GET", "/health", "health", "", 0, true,
         [](HttpRequest&) { return ApiResponse(200, "ok", "text/plain"); }},
        {"GET", "/private", "private", "secret:read", 0, false,
         [](HttpRequest& r) { return ApiResponse(200, r.principal.user_id, "text/plain"); }},
        {"GET", "/stream/{how}", "stream", "", 0, false,
         [](HttpRequest& r) {
           ApiResponse res(200, "", "text/plain");
           auto n = std::make_shared<int>(0);
           const bool abort = r.path_params[0] == "abort";
           res.stream = [n, abort](std::string* chunk) {
             if (*n == 3) return abort ? StreamStep::kAbort : StreamStep::kDone;
             *chunk = "part" + std::to_string((*n)++);
             return StreamStep::kChunk;
           };
           return res;
         }},
        {"GET", "/events", "events", "", 0, false,
         [this](HttpRequest&) {
           ApiResponse res(200, "backlog\n", "text/event-stream");
           res.open_stream = [this](std::shared_ptr<StreamSink> sink) {
             std::lock_guard lock(sinks_mu);
             sinks.push_back(std::move(sink));
           };
           return res;
         }},
        {"GET", "/throw", "throw", "", 0, false,
         [](HttpRequest&) -> ApiResponse { throw std::runtime_error("boom"); }},
    };
    EventServerHooks hooks;
    hooks.error = [](int status, const std::string& code, const std::string& message,
                     const HttpRequest&) {
      return ApiResponse(status, code + ": " + message, "text/plain");
    };
    hooks.admit = [](const Route& route, HttpRequest& r) -> std::optional<ApiResponse> {
      if (route.scope.empty()) return std::nullopt;
      if (r.Header("Authorization") != "let-me-in") return ApiResponse(401, "no", "text/plain");
      r.principal.user_id = "ann";
      return std::nullopt;
    };
    hooks.incident = [this](const HttpRequest& r, int status, const std::string& detail) {
      std::lock_guard lock(sinks_mu);
      incidents.push_back(r.path + " " + std::to_string(status) + " " + detail);
    };
    server = std::make_unique<EventServer>(o, std::move(routes), std::move(hooks));
    EXPECT_TRUE(server->Bind().ok());
    thread = std::thread([this] { (void)server->Serve(); });
  }
  ~Served() {
    gate.Open();
    server->Stop();
    thread.join();
  }
  int port() const { return server->port(); }
  // The streams opened on /events, once the loop holds them.
  std::vector<std::shared_ptr<StreamSink>> Sinks(size_t at_least, double timeout_s = 5) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (true) {
      {
        std::lock_guard lock(sinks_mu);
        if (sinks.size() >= at_least || std::chrono::steady_clock::now() > end) return sinks;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  std::vector<std::string> Incidents() {
    std::lock_guard lock(sinks_mu);
    return incidents;
  }
  std::mutex sinks_mu;
  std::vector<std::shared_ptr<StreamSink>> sinks;
  std::vector<std::string> incidents;  // what hooks.incident was told
  Gate gate;
  std::unique_ptr<EventServer> server;
  std::thread thread;
};

TEST(EventServer, RoutesDecodesAndAnswersErrorsItself) {
  Served s({});
  std::string r = Exchange(s.port(), "GET", "/hello/w%C3%B6rld");
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_EQ(BodyOf(r), "hi w\xC3\xB6rld");
  EXPECT_EQ(StatusOf(Exchange(s.port(), "GET", "/hello")), 404);
  r = Exchange(s.port(), "DELETE", "/hello/x");
  EXPECT_EQ(StatusOf(r), 405);
  EXPECT_NE(r.find("Allow: GET"), std::string::npos) << r;
  r = Exchange(s.port(), "HEAD", "/hello/x");
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_NE(r.find("Content-Length: 4"), std::string::npos);
  EXPECT_EQ(BodyOf(r), "");  // HEAD: headers only
  // A handler's exception: the client gets an incident id, the operator's log what was thrown.
  r = Exchange(s.port(), "GET", "/throw");
  EXPECT_EQ(StatusOf(r), 500);
  EXPECT_EQ(BodyOf(r).find("boom"), std::string::npos) << BodyOf(r);
  const size_t at = BodyOf(r).find("(incident ");
  ASSERT_NE(at, std::string::npos) << BodyOf(r);
  const std::string id = BodyOf(r).substr(at + 10, 8);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  EXPECT_EQ(s.Incidents(),
            std::vector<std::string>{"/throw 500 " + id + ": the handler threw: boom"});
  EXPECT_EQ(StatusOf(Exchange(s.port(), "GET", "/private")), 401);
  r = Exchange(s.port(), "GET", "/private", "Authorization: let-me-in\r\n");
  EXPECT_EQ(BodyOf(r), "ann");
  // Garbage instead of a request line: 400, and the server goes on.
  RawConnection c(s.port());
  c.Send("\x16\x03\x01 hello\r\n\r\n");
  EXPECT_EQ(StatusOf(c.ReadAll(5)), 400);
  EXPECT_EQ(StatusOf(Exchange(s.port(), "GET", "/health")), 200);
}

TEST(EventServer, KeepsConnectionsAliveAndAnswersPipelinedRequestsInOrder) {
  Served s({});
  RawConnection c(s.port());
  ASSERT_TRUE(
      c.Send("GET /hello/a HTTP/1.1\r\nHost: t\r\n\r\nGET /hello/b HTTP/1.1\r\n"
             "Host: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(BodyOf(c.ReadResponse(5)), "hi a");
  EXPECT_EQ(BodyOf(c.ReadResponse(5)), "hi b");
  EXPECT_EQ(StatusOf(c.ReadResponse(5)), 404);
  ASSERT_TRUE(c.Send("GET /hello/c HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(BodyOf(c.ReadResponse(5)), "hi c");
}

TEST(EventServer, ReadsChunkedAndExpectContinueBodies) {
  Served s({});
  RawConnection c(s.port());
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  EXPECT_EQ(BodyOf(c.ReadResponse(5)), "5:abcde");
  RawConnection e(s.port());
  ASSERT_TRUE(
      e.Send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
             "Content-Length: 3\r\n\r\n"));
  // The interim answer comes before any body byte is sent.
  const std::string interim = e.ReadAll(0.5);
  EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0), 0u) << interim;
  ASSERT_TRUE(e.Send("xyz"));
  EXPECT_EQ(BodyOf(e.ReadResponse(5)), "3:xyz");
}

TEST(EventServer, RefusesBodiesByTheRoutesLimitBeforeReadingThem) {
  Served s({});
  // A declared gigabyte is refused from the head alone: the client never sends a body byte.
  RawConnection c(s.port());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000\r\n\r\n"));
  std::string r = c.ReadAll(5);
  EXPECT_EQ(StatusOf(r), 413);
  EXPECT_NE(r.find("over the limit of 1048576"), std::string::npos) << r;
  // A route that takes no body refuses any.
  r = Exchange(s.port(), "GET", "/hello/x", "Content-Length: 5\r\n", "abcde");
  EXPECT_EQ(StatusOf(r), 413);
  EXPECT_NE(r.find("takes no request body"), std::string::npos) << r;
  // A gzip bomb on a body route: inflated only to the limit.
  std::string bomb = Gzip(std::string(64 << 20, 'a'));
  r = Exchange(s.port(), "POST", "/echo", "Content-Encoding: gzip\r\n", bomb);
  EXPECT_EQ(StatusOf(r), 413) << r;
  EXPECT_NE(r.find("inflates to more than the limit"), std::string::npos) << r;
  // Within the limit, gzip is accepted; unknown encodings are not.
  r = Exchange(s.port(), "POST", "/echo", "Content-Encoding: gzip\r\n", Gzip("small"));
  EXPECT_EQ(BodyOf(r), "5:small");
  EXPECT_EQ(StatusOf(Exchange(s.port(), "POST", "/echo", "Content-Encoding: br\r\n", "x")), 415);
  // A chunked body past the limit is cut off while it arrives.
  RawConnection k(s.port());
  std::string big = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) big += "10000\r\n" + std::string(0x10000, 'z') + "\r\n";
  k.Send(big);
  EXPECT_EQ(StatusOf(k.ReadAll(5)), 413);
}

TEST(EventServer, SlowHeadersGet408AndNeverHoldAWorker) {
  EventServerOptions o;
  o.workers = 1;
  o.head_timeout_s = 1;
  Served s(o);
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 70; ++i) {
    slow.push_back(std::make_unique<RawConnection>(s.port()));
    slow.back()->Send("GET /hello/x HTTP/1.1\r\nX-Slow: a");
  }
  // With one worker and 70 slow clients, a normal client is served at once.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(BodyOf(Exchange(s.port(), "GET", "/hello/now")), "hi now");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
  // Dripping bytes does not extend the head's deadline.
  for (int k = 0; k < 3; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    for (auto& c : slow) c->Send("a");
  }
  int timed_out = 0;
  for (auto& c : slow) timed_out += StatusOf(c->ReadAll(2)) == 408;
  EXPECT_EQ(timed_out, 70);
  EXPECT_EQ(s.server->stats().timed_out, 70u);
}

TEST(EventServer, IdleConnectionsCostNoWorkerAndTheOldestIsShedAtTheLimit) {
  EventServerOptions o;
  o.workers = 1;
  o.max_connections = 50;
  Served s(o);
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 50; ++i) idle.push_back(std::make_unique<RawConnection>(s.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(s.server->stats().connections, 50u);
  // The 51st connection gets in: the longest idle one is closed for it.
  EXPECT_EQ(BodyOf(Exchange(s.port(), "GET", "/hello/new")), "hi new");
  EXPECT_EQ(idle.front()->ReadAll(1), "");  // closed without a word
  EXPECT_LE(s.server->stats().connections, 50u);
}

TEST(EventServer, AFullQueueAnswers503AtOnceAndHealthStillAnswers) {
  EventServerOptions o;
  o.workers = 1;
  o.max_queued = 2;
  Served s(o);
  std::vector<std::unique_ptr<RawConnection>> held;
  auto hold = [&] {
    held.push_back(std::make_unique<RawConnection>(s.port()));
    held.back()->Send("GET /block HTTP/1.1\r\nHost: t\r\n\r\n");
  };
  hold();  // the worker
  for (int i = 0; i < 100 && s.gate.waiting == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  hold();
  hold();  // the queue
  for (int i = 0; i < 100 && s.server->stats().queued < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string busy = Exchange(s.port(), "GET", "/hello/x", "", "", 3);
  EXPECT_EQ(StatusOf(busy), 503) << busy;
  EXPECT_NE(busy.find("Retry-After: 1"), std::string::npos);
  EXPECT_EQ(BodyOf(Exchange(s.port(), "GET", "/health", "", "", 3)), "ok");  // on the loop
  s.gate.Open();
  for (auto& c : held) EXPECT_EQ(BodyOf(c->ReadResponse(5)), "done");
  EXPECT_EQ(s.server->stats().rejected_busy, 1u);
}

TEST(EventServer, StreamsChunksAndCutsAnAbortedStreamShort) {
  Served s({});
  std::string r = Exchange(s.port(), "GET", "/stream/done");
  EXPECT_NE(r.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(r.find("5\r\npart0\r\n5\r\npart1\r\n5\r\npart2\r\n0\r\n\r\n"), std::string::npos) << r;
  r = Exchange(s.port(), "GET", "/stream/abort");
  EXPECT_NE(r.find("5\r\npart2\r\n"), std::string::npos);
  EXPECT_EQ(r.find("0\r\n\r\n"), std::string::npos);  // no last chunk: the client sees the cut
}

// Waits until `done` holds (polling), at most `timeout_s`.
template <typename F>
bool Eventually(F done, double timeout_s = 5) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(EventServer, LongLivedStreamsHoldNoWorkerAndGetEveryPushInOrder) {
  EventServerOptions o;
  o.workers = 2;
  Served s(o);
  constexpr size_t kClients = 20;
  std::vector<std::unique_ptr<RawConnection>> clients;
  for (size_t i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawConnection>(s.port()));
    ASSERT_TRUE(clients.back()->Send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n"));
  }
  const auto sinks = s.Sinks(kClients);
  ASSERT_EQ(sinks.size(), kClients);
  EXPECT_EQ(s.server->stats().streams, kClients);
  // Twenty open streams and two workers: the workers are free.
  EXPECT_EQ(BodyOf(Exchange(s.port(), "GET", "/hello/x")), "hi x");
  EXPECT_EQ(s.server->stats().busy_workers, 0u);
  // Pushes from two threads, each in its own order.
  auto push = [&](char who) {
    for (int i = 0; i < 200; ++i) {
      const std::string line = std::string(1, who) + std::to_string(i) + "\n";
      for (const auto& sink : sinks) EXPECT_TRUE(sink->Push(line));
    }
  };
  std::thread a(push, 'a'), b(push, 'b');
  a.join();
  b.join();
  for (auto& c : clients) {
    c->ReadUntil("a199\n", 10);
    const std::string& got = c->ReadUntil("b199\n", 10);
    ASSERT_NE(got.find("Content-Type: text/event-stream"), std::string::npos);
    EXPECT_EQ(got.find("Content-Length"), std::string::npos);  // ends when the connection does
    EXPECT_EQ(got.find("chunked"), std::string::npos);
    const std::string body = BodyOf(got);
    ASSERT_EQ(body.substr(0, 8), "backlog\n");
    for (char who : {'a', 'b'}) {
      size_t at = 0;
      for (int i = 0; i < 200; ++i) {
        const size_t next = body.find(std::string(1, who) + std::to_string(i) + "\n", at);
        ASSERT_NE(next, std::string::npos) << who << i;
        at = next + 1;
      }
    }
  }
  // Clients that leave are found, and their sinks say so.
  clients.resize(kClients / 2);
  EXPECT_TRUE(Eventually([&] { return s.server->stats().streams == kClients / 2; }));
  // (Which sink is which client depends on the workers' order: count them.)
  EXPECT_TRUE(Eventually([&] {
    return std::count_if(sinks.begin(), sinks.end(), [](const auto& k) { return k->open(); }) ==
           static_cast<long>(kClients / 2);
  }));
  for (const auto& k : sinks) EXPECT_EQ(k->Push("x\n"), k->open());
}

TEST(EventServer, StreamsSendHeartbeatsAndCutOffAClientThatStopsReading) {
  EventServerOptions o;
  o.stream_heartbeat_s = 0.2;
  o.max_stream_backlog = 64 * 1024;
  Served s(o);
  RawConnection idle(s.port()), stuck(s.port());
  ASSERT_TRUE(idle.Send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n"));
  const auto first = s.Sinks(1);
  ASSERT_TRUE(stuck.Send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n"));
  const auto both = s.Sinks(2);
  ASSERT_EQ(both.size(), 2u);
  // Nothing pushed: comment lines keep the stream alive.
  idle.ReadUntil(":\n\n", 3, 2);
  EXPECT_GE(idle.Count(":\n\n"), 2u);
  // The stuck client reads nothing while megabytes are pushed: it is cut off, the other
  // stream and the server go on.
  const std::shared_ptr<StreamSink> stuck_sink = both[1];
  const std::string kilo(1023, 'k');
  bool refused = false;
  for (int i = 0; i < 20000 && !refused; ++i) {
    refused = !stuck_sink->Push(kilo + "\n");
    if (i % 256 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(Eventually([&] { return !stuck_sink->open(); }));
  EXPECT_TRUE(both[0]->Push("still here\n"));
  EXPECT_NE(idle.ReadUntil("still here", 3).find("still here"), std::string::npos);
  EXPECT_GE(s.server->stats().timed_out, 1u);
  EXPECT_EQ(s.server->stats().streams, 1u);
}

TEST(EventServer, StopClosesTheStreams) {
  auto s = std::make_unique<Served>(EventServerOptions{});
  RawConnection c(s->port());
  ASSERT_TRUE(c.Send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n"));
  const auto sinks = s->Sinks(1);
  ASSERT_EQ(sinks.size(), 1u);
  s.reset();  // stops the server while the stream is open
  EXPECT_TRUE(c.Closed(5));
  EXPECT_FALSE(sinks[0]->Push("late\n"));  // the sink outlives the server, harmlessly
}

TEST(EventServer, HeadsOverTheLimitGet431) {
  Served s({});
  const std::string r =
      Exchange(s.port(), "GET", "/hello/x", "X-Big: " + std::string(20000, 'b') + "\r\n");
  EXPECT_EQ(StatusOf(r), 431);
}

}  // namespace
}  // namespace stride::server::http
