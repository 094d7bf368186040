#include "exporter/grpc_transport.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/fork_handlers.h"
#include "common/text.h"
#include "exporter/call_headers.h"
#include "exporter/grpc_log.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "wire/otlp_signal.h"
#include "wire/proto_reader.h"
#include "zlib.h"

// gRPC's fork handlers (src/core/lib/iomgr/fork_posix.h): exported by
// libgrpc, declared in no public header. gRPC Python calls the same ones.
void grpc_prefork();
void grpc_postfork_parent();
void grpc_postfork_child();

namespace tracewire::exporter {
namespace {

bool IsIpLiteral(const std::string& hostport, bool* v6) {
  if (!hostport.empty() && hostport[0] == '[') {
    *v6 = true;
    return true;
  }
  const std::string host = hostport.substr(0, hostport.rfind(':'));
  *v6 = false;
  if (host.empty()) return false;
  for (char c : host) {
    if (!absl::ascii_isdigit(c) && c != '.') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<ParsedEndpoint> ParseEndpoint(const std::string& endpoint, bool insecure) {
  ParsedEndpoint p;
  std::vector<std::string> hosts;
  bool tls_set = false, tls = !insecure;
  for (absl::string_view part : absl::StrSplit(endpoint, ',', absl::SkipWhitespace())) {
    std::string e(absl::StripAsciiWhitespace(part));
    const size_t scheme = e.find("://");
    if (scheme != std::string::npos) {
      const std::string s = absl::AsciiStrToLower(e.substr(0, scheme));
      if (s != "http" && s != "https") {
        return absl::InvalidArgumentError(
            absl::StrCat("endpoint '", endpoint, "': scheme must be http or https"));
      }
      const bool this_tls = s == "https";
      if (tls_set && this_tls != tls) {
        return absl::InvalidArgumentError(
            absl::StrCat("endpoint '", endpoint, "': endpoints mix http and https"));
      }
      tls = this_tls;
      tls_set = true;
      p.scheme = true;
      e = e.substr(scheme + 3);
    }
    while (!e.empty() && e.back() == '/') e.pop_back();
    if (e.empty() || e.rfind(':') == std::string::npos || e.back() == ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("endpoint '", endpoint, "': '", e, "' is not HOST:PORT"));
    }
    hosts.push_back(e);
  }
  if (hosts.empty()) return absl::InvalidArgumentError("endpoint is empty");
  p.tls = tls;
  if (hosts.size() == 1) {
    p.target = hosts[0];
    return p;
  }
  bool v6 = false, first_v6 = false;
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (!IsIpLiteral(hosts[i], &v6) || (i > 0 && v6 != first_v6)) {
      return absl::InvalidArgumentError(
          absl::StrCat("endpoint '", endpoint,
                       "': several endpoints must all be IPv4 or all IPv6 literals (for a name, "
                       "give one DNS name with several addresses)"));
    }
    if (i == 0) first_v6 = v6;
  }
  p.target = absl::StrCat(first_v6 ? "ipv6:" : "ipv4:", absl::StrJoin(hosts, ","));
  return p;
}

void EnableGrpcForkSupportByDefault() {
  static std::once_flag once;
  std::call_once(once, [] {
    // gRPC reads the variable once, at its first use of any kind (even
    // grpc_is_initialized()); if that was before us, this has no effect and
    // the application sets the variable itself.
    setenv("GRPC_ENABLE_FORK_SUPPORT", "1", /*overwrite=*/0);
    const char* v = std::getenv("GRPC_ENABLE_FORK_SUPPORT");
    const std::string on = v ? absl::AsciiStrToLower(v) : "";
    if (on != "1" && on != "true") return;
    // This gRPC build does not register its fork handlers itself (it was
    // built without GRPC_POSIX_FORK_ALLOW_PTHREAD_ATFORK), so ours call them,
    // innermost: after our calls in flight have ended, and before our
    // components restart in the child.
    common::SetRuntimeForkHooks({&grpc_prefork, &grpc_postfork_parent, &grpc_postfork_child});
  });
}

ChannelPool& ChannelPool::Default() {
  static ChannelPool* pool = [] {
    auto* p = new ChannelPool();  // Never destroyed: no static destructor work.
    common::RegisterForkHandler(
        {[p]() ABSL_NO_THREAD_SAFETY_ANALYSIS { p->mu_.Lock(); },
         [p]() ABSL_NO_THREAD_SAFETY_ANALYSIS { p->mu_.Unlock(); },
         [p]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
           p->channels_.clear();  // weak references: the channels are left alone
           p->mu_.Unlock();
         }});
    return p;
  }();
  return *pool;
}

namespace {

TlsFiles TlsFilesOf(const OtlpExporterOptions& o) {
  TlsFiles f;
  f.cert_file = o.client_cert_file;
  f.key_file = o.client_key_file;
  f.ca_file = o.ca_file;
  f.cert_name = "client_cert_file";
  f.key_name = "client_key_file";
  f.ca_name = "ca_file";
  return f;
}

}  // namespace

absl::StatusOr<std::shared_ptr<::grpc::Channel>> ChannelPool::Get(const OtlpExporterOptions& o) {
  EnableGrpcForkSupportByDefault();  // before the TLS checks' first use of gRPC
  InstallGrpcLogSink();
  absl::StatusOr<ParsedEndpoint> ep = ParseEndpoint(o.endpoint, o.insecure);
  if (!ep.ok()) return ep.status();
  TlsMaterial tls;
  if (ep->tls) {
    absl::StatusOr<TlsMaterial> m = LoadTlsMaterial(TlsFilesOf(o));
    if (!m.ok()) return m.status();
    tls = std::move(*m);
  }
  return Get(o, tls);
}

absl::StatusOr<std::shared_ptr<::grpc::Channel>> ChannelPool::Get(const OtlpExporterOptions& o,
                                                                  const TlsMaterial& tls) {
  EnableGrpcForkSupportByDefault();  // before the credentials, which initialize gRPC
  InstallGrpcLogSink();
  absl::StatusOr<ParsedEndpoint> ep = ParseEndpoint(o.endpoint, o.insecure);
  if (!ep.ok()) return ep.status();
  std::shared_ptr<::grpc::ChannelCredentials> creds;
  std::string key = absl::StrCat(ep->target, "|", ep->tls);
  if (ep->tls) {
    // SslCredentials: TLS 1.2 at least (gRPC's default minimum, see
    // docs/design.md "Certificate rotation").
    ::grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = tls.ca;
    ssl.pem_cert_chain = tls.cert_chain;
    ssl.pem_private_key = tls.private_key;
    absl::StrAppend(&key, "|", o.ca_file, "|", o.client_cert_file, "|", o.client_key_file, "|",
                    tls.Fingerprint());
    creds = ::grpc::SslCredentials(ssl);
  } else {
    creds = ::grpc::InsecureChannelCredentials();
  }
  absl::StrAppend(&key, "|", absl::ToInt64Milliseconds(o.keepalive_time), "|",
                  absl::ToInt64Milliseconds(o.keepalive_timeout), "|", o.keepalive_without_calls,
                  "|", o.user_agent);
  absl::MutexLock lock(&mu_);
  if (auto it = channels_.find(key); it != channels_.end()) {
    if (auto ch = it->second.lock()) return ch;
  }
  // Channels of rotated-away material are gone once their users are.
  std::erase_if(channels_, [](const auto& kv) { return kv.second.expired(); });
  ::grpc::ChannelArguments args;
  args.SetLoadBalancingPolicyName("round_robin");
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
              static_cast<int>(absl::ToInt64Milliseconds(o.keepalive_time)));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
              static_cast<int>(absl::ToInt64Milliseconds(o.keepalive_timeout)));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, o.keepalive_without_calls ? 1 : 0);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);  // Retries are ours (retry_policy.h).
  args.SetInt(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, -1);
  args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, 4 << 20);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 30000);
  args.SetUserAgentPrefix(o.user_agent);
  // Channels are shared here already; a subchannel pool of its own keeps a
  // channel built in a forked child off the parent's connections.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto ch = ::grpc::CreateCustomChannel(ep->target, creds, args);
  channels_[key] = ch;
  return ch;
}

absl::StatusOr<std::unique_ptr<GrpcTransport>> GrpcTransport::Create(
    const OtlpExporterOptions& options, ChannelPool* pool) {
  absl::Status st = options.Validate();
  if (!st.ok()) return st;
  if (pool == nullptr) pool = &ChannelPool::Default();
  EnableGrpcForkSupportByDefault();  // before the TLS checks' first use of gRPC
  InstallGrpcLogSink();
  absl::StatusOr<ParsedEndpoint> ep = ParseEndpoint(options.endpoint, options.insecure);
  if (!ep.ok()) return ep.status();
  TlsMaterial tls;
  if (ep->tls) {
    absl::StatusOr<TlsMaterial> m = LoadTlsMaterial(TlsFilesOf(options));
    if (!m.ok()) return m.status();
    tls = std::move(*m);
  }
  absl::StatusOr<std::shared_ptr<::grpc::Channel>> ch = pool->Get(options, tls);
  if (!ch.ok()) return ch.status();
  return std::unique_ptr<GrpcTransport>(new GrpcTransport(options, *ch, pool, std::move(tls)));
}

GrpcTransport::GrpcTransport(const OtlpExporterOptions& options,
                             std::shared_ptr<::grpc::Channel> channel, ChannelPool* pool,
                             TlsMaterial tls)
    : options_(options),
      pool_(pool),
      tls_files_([&] {
        absl::StatusOr<ParsedEndpoint> ep = ParseEndpoint(options.endpoint, options.insecure);
        return ep.ok() && ep->tls ? TlsFilesOf(options) : TlsFiles{};
      }()),
      channel_(std::move(channel)),
      stub_(std::make_shared<::grpc::GenericStub>(channel_)),
      next_tls_check_(absl::Now() + options.tls_reload_interval),
      seen_reload_requests_(TlsReloadRequests()),
      tls_(std::move(tls)) {
  absl::StatusOr<ParsedEndpoint> ep = ParseEndpoint(options_.endpoint, options_.insecure);
  if (ep.ok() && ep->tls && !ep->scheme) {
    const std::string e(absl::StripAsciiWhitespace(options_.endpoint));
    implicit_tls_hint_ = absl::StrContains(e, ",") ? "give each endpoint an http:// scheme"
                                                   : absl::StrCat("use http://", e);
  }
}

absl::Status GrpcTransport::Explain(const ::grpc::Status& status) const {
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  const std::string& message = status.error_message();
  const std::string lower = absl::AsciiStrToLower(message);
  if (!implicit_tls_hint_.empty() && absl::StrContains(lower, "handshake")) {
    // "wrong version number": what came back was not TLS.
    const bool not_tls = absl::StrContains(lower, "wrong version number") ||
                         absl::StrContains(lower, "packet length too long");
    return absl::Status(code, absl::StrCat(message, " (TLS was used because the endpoint '",
                                           options_.endpoint, "' has no http:// scheme",
                                           not_tls ? ", and the peer does not speak TLS" : "",
                                           "; for plaintext, ", implicit_tls_hint_, ")"));
  }
  return absl::Status(code, message);
}

GrpcTransport::~GrpcTransport() = default;

std::shared_ptr<::grpc::Channel> GrpcTransport::channel() const {
  absl::MutexLock lock(&mu_);
  return channel_;
}

bool GrpcTransport::TlsCheckDueLocked(absl::Time now) {
  if (tls_files_.empty()) return false;
  const uint64_t requests = TlsReloadRequests();
  const bool interval = options_.tls_reload_interval > absl::ZeroDuration();
  if (requests == seen_reload_requests_ && !(interval && now >= next_tls_check_)) return false;
  seen_reload_requests_ = requests;
  if (interval) next_tls_check_ = now + options_.tls_reload_interval;
  return true;
}

absl::Status GrpcTransport::ReloadTls() {
  if (tls_files_.empty()) return absl::OkStatus();
  absl::MutexLock reload(&reload_mu_);
  absl::StatusOr<TlsMaterial> m = ReadTlsMaterial(tls_files_);
  if (m.ok() && *m == tls_) {  // unchanged: nothing to check or build
    last_tls_error_.clear();
    return absl::OkStatus();
  }
  absl::Status st = m.status();
  if (st.ok()) st = CheckTlsMaterial(tls_files_, *m);
  absl::StatusOr<std::shared_ptr<::grpc::Channel>> ch;
  if (st.ok()) {
    ch = pool_->Get(options_, *m);
    st = ch.status();
  }
  if (!st.ok()) {
    tls_reload_failures_.fetch_add(1, std::memory_order_relaxed);
    std::string line(st.message());
    if (line != last_tls_error_) {  // once per distinct problem, not per check
      std::fprintf(stderr,
                   "tracewire exporter: %s: TLS files not reloaded, the previous ones stay in "
                   "use: %s\n",
                   options_.endpoint.c_str(), line.c_str());
      last_tls_error_ = std::move(line);
    }
    return st;
  }
  tls_ = std::move(*m);
  last_tls_error_.clear();
  {
    absl::MutexLock lock(&mu_);
    channel_ = std::move(*ch);
    stub_ = std::make_shared<::grpc::GenericStub>(channel_);
  }
  tls_reloads_.fetch_add(1, std::memory_order_relaxed);
  std::fprintf(stderr, "tracewire exporter: %s: TLS files reloaded\n", options_.endpoint.c_str());
  return absl::OkStatus();
}

void GrpcTransport::CancelAll() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  for (auto* ctx : active_) ctx->TryCancel();
}

// gRPC's own fork handlers only run when no thread is inside a gRPC call,
// so the calls in flight end first (fork_gate.h). They are bounded by their
// deadline; past this wait the fork goes on and gRPC skips its handlers.
void GrpcTransport::PrepareFork() { fork_gate_.Close(absl::Seconds(5)); }

void GrpcTransport::AfterForkParent() { fork_gate_.Open(); }

SendResult GrpcTransport::Send(wire::Signal signal, const std::string& request,
                               absl::Time deadline) {
  std::string response;
  SendResult result = Call(wire::ExportMethod(signal), request, deadline, &response);
  if (result.status.ok()) ParsePartialSuccess(response, &result.rejected, &result.rejected_message);
  if (options_.count_compressed_bytes && options_.compression != "none") {
    result.compressed_bytes = CompressedSize(request, options_.compression == "gzip");
  }
  return result;
}

SendResult GrpcTransport::Call(const std::string& method, const std::string& request,
                               absl::Time deadline, std::string* response) {
  SendResult result;
  ::grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(deadline));
  if (options_.compression == "gzip") ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
  if (options_.compression == "deflate") ctx.set_compression_algorithm(GRPC_COMPRESS_DEFLATE);
  for (const auto& [k, v] : CallHeaders(options_)) ctx.AddMetadata(k, v);
  const ForkGate::Pass pass = fork_gate_.Enter();  // waits out a fork in progress
  bool reload_tls = false;
  {
    absl::MutexLock lock(&mu_);
    reload_tls = TlsCheckDueLocked(absl::Now());
  }
  // Bad files are logged and counted there, and the current channel stays.
  if (reload_tls) ReloadTls().IgnoreError();
  std::shared_ptr<::grpc::GenericStub> stub;  // this call's, even if a reload swaps it
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) {
      result.status = absl::CancelledError("exporter is shutting down");
      return result;
    }
    active_.insert(&ctx);
    stub = stub_;
  }
  ::grpc::Slice slice(request);
  ::grpc::ByteBuffer req(&slice, 1);
  ::grpc::ByteBuffer resp;
  ::grpc::Status status;
  // This thread drives the call's completion queue (see the header).
  ::grpc::CompletionQueue cq;
  std::unique_ptr<::grpc::GenericClientAsyncResponseReader> call =
      stub->PrepareUnaryCall(&ctx, method, req, &cq);
  call->StartCall();
  call->Finish(&resp, &status, &cq);
  void* tag = nullptr;
  bool ok = false;
  if (!cq.Next(&tag, &ok) || !ok) {
    status = ::grpc::Status(::grpc::StatusCode::INTERNAL, "the call's completion queue failed");
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  {
    absl::MutexLock lock(&mu_);
    active_.erase(&ctx);
  }
  result.status = status.ok() ? absl::OkStatus() : Explain(status);
  if (!status.ok()) {
    result.retry_delay = ParseRetryInfo(status.error_details());
    return result;
  }
  ::grpc::Slice out;
  if (resp.Valid() && resp.DumpToSingleSlice(&out).ok()) {
    response->assign(reinterpret_cast<const char*>(out.begin()), out.size());
  }
  return result;
}

int64_t CompressedSize(const std::string& data, bool gzip) {
  // The parameters gRPC's message compression uses (message_compress.cc).
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 | (gzip ? 16 : 0), 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return 0;
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  unsigned char buf[16384];
  int64_t total = 0;
  int r;
  do {
    zs.next_out = buf;
    zs.avail_out = sizeof buf;
    r = deflate(&zs, Z_FINISH);
    total += static_cast<int64_t>(sizeof buf - zs.avail_out);
  } while (r == Z_OK);
  deflateEnd(&zs);
  return r == Z_STREAM_END ? total : 0;
}

std::optional<absl::Duration> ParseRetryInfo(const std::string& details) {
  using wire::Field;
  using wire::ProtoReader;
  using wire::WireType;
  ProtoReader status(details);
  Field f;
  while (status.Next(&f)) {
    if (f.number != 3 || f.type != WireType::kLen) continue;  // details: Any
    std::string_view type_url, value;
    ProtoReader any(f.bytes);
    Field af;
    while (any.Next(&af)) {
      if (af.type != WireType::kLen) continue;
      if (af.number == 1) type_url = af.bytes;
      if (af.number == 2) value = af.bytes;
    }
    if (type_url != "type.googleapis.com/google.rpc.RetryInfo") continue;
    int64_t seconds = 0, nanos = 0;
    ProtoReader info(value);
    Field inf;
    while (info.Next(&inf)) {
      if (inf.number != 1 || inf.type != WireType::kLen) continue;  // retry_delay
      ProtoReader dur(inf.bytes);
      Field df;
      while (dur.Next(&df)) {
        if (df.type != WireType::kVarint) continue;
        if (df.number == 1) seconds = static_cast<int64_t>(df.value);
        if (df.number == 2) nanos = static_cast<int32_t>(df.value);
      }
    }
    if (seconds < 0 || nanos < 0) return absl::ZeroDuration();
    return absl::Seconds(seconds) + absl::Nanoseconds(nanos);
  }
  return std::nullopt;
}

void ParsePartialSuccess(const std::string& response, int64_t* rejected, std::string* message) {
  using wire::Field;
  using wire::ProtoReader;
  using wire::WireType;
  ProtoReader r(response);
  Field f;
  while (r.Next(&f)) {
    if (f.number != 1 || f.type != WireType::kLen) continue;
    ProtoReader ps(f.bytes);
    Field pf;
    while (ps.Next(&pf)) {
      if (pf.number == 1 && pf.type == WireType::kVarint)
        *rejected = static_cast<int64_t>(pf.value);
      if (pf.number == 2 && pf.type == WireType::kLen) message->assign(pf.bytes);
    }
  }
}

}  // namespace tracewire::exporter
