#include "receiver/daemon_config.h"

#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "yaml-cpp/yaml.h"

namespace tracewire::receiver {
namespace {

absl::Status Bad(const std::string& key, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat("config: ", key, ": ", problem));
}

// Every key the parser accepts, by the dotted path of its map ("": the top).
const std::map<std::string, std::set<std::string>>& KnownKeys() {
  static const auto* const keys = new std::map<std::string, std::set<std::string>>{
      {"", {"receiver", "sink", "telemetry", "shutdown_timeout_s"}},
      {"receiver",
       {"listen", "max_request_mib", "tls", "auth", "retry_after_ms", "max_inflight_mib",
        "max_concurrent_streams", "http"}},
      {"receiver.http", {"listen", "cors"}},
      {"receiver.http.cors", {"allowed_origins", "allowed_headers"}},
      {"receiver.tls", {"cert_file", "key_file", "client_ca_file", "reload_interval_s"}},
      {"receiver.auth", {"bearer_tokens", "api_keys"}},
      {"sink", {"type", "queue", "file", "forward", "store"}},
      {"sink.store", {"path", "retention_hours", "max_mib", "attribute_keys"}},
      {"sink.queue", {"max_batches", "max_mib", "persistent", "dir", "fsync", "fsync_interval_ms"}},
      {"sink.file", {"dir", "rotate_mib", "max_files", "fsync", "fsync_interval_ms", "encoders"}},
      {"sink.forward",
       {"endpoint", "protocol", "headers", "compression", "timeout_ms", "tls", "auth",
        "max_in_flight", "retry", "breaker"}},
      {"sink.forward.tls", {"ca_file", "cert_file", "key_file", "reload_interval_s"}},
      {"sink.forward.auth", {"bearer_token", "api_key"}},
      {"sink.forward.retry", {"initial_ms", "max_ms", "max_elapsed_s"}},
      {"sink.forward.breaker",
       {"enabled", "consecutive_failures", "cool_down_s", "spill_dir", "spill_max_mib",
        "spill_fsync"}},
      {"telemetry", {"metrics_listen", "health_listen", "otlp_endpoint", "otlp_interval_ms"}},
  };
  return *keys;
}

// Reads a YAML map, refusing keys not in KnownKeys() of its path.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {}

  absl::Status CheckKeys() const {
    const std::set<std::string>& known = KnownKeys().at(path_);
    if (!node_ || node_.IsNull()) return absl::OkStatus();
    if (!node_.IsMap()) return Bad(Name(""), "must be a map");
    for (const auto& kv : node_) {
      const std::string key = kv.first.as<std::string>();
      if (!known.count(key)) {
        return Bad(Name(key),
                   absl::StrCat("unknown key (known: ", absl::StrJoin(known, ", "), ")"));
      }
    }
    return absl::OkStatus();
  }

  YAML::Node Child(const std::string& key) const {
    if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& map = node_;
    return map[key];
  }
  std::string Name(const std::string& key) const {
    if (path_.empty()) return key;
    return key.empty() ? path_ : absl::StrCat(path_, ".", key);
  }

  absl::Status Get(const std::string& key, std::string* out) const {
    YAML::Node n = Child(key);
    if (!n || n.IsNull()) return absl::OkStatus();
    if (!n.IsScalar()) return Bad(Name(key), "must be a string");
    *out = n.Scalar();
    return absl::OkStatus();
  }
  absl::Status Get(const std::string& key, int64_t* out) const {
    YAML::Node n = Child(key);
    if (!n || n.IsNull()) return absl::OkStatus();
    if (!n.IsScalar() || !absl::SimpleAtoi(n.Scalar(), out)) {
      return Bad(Name(key), absl::StrCat("must be an integer, got '",
                                         n.IsScalar() ? n.Scalar() : "(not a scalar)", "'"));
    }
    return absl::OkStatus();
  }
  absl::Status Get(const std::string& key, bool* out) const {
    YAML::Node n = Child(key);
    if (!n || n.IsNull()) return absl::OkStatus();
    if (!n.IsScalar() || (n.Scalar() != "true" && n.Scalar() != "false")) {
      return Bad(Name(key), "must be true or false");
    }
    *out = n.Scalar() == "true";
    return absl::OkStatus();
  }
  absl::Status Get(const std::string& key, std::map<std::string, std::string>* out) const {
    YAML::Node n = Child(key);
    if (!n || n.IsNull()) return absl::OkStatus();
    if (!n.IsMap()) return Bad(Name(key), "must be a map of strings");
    out->clear();
    for (const auto& kv : n) {
      if (!kv.second.IsScalar()) return Bad(Name(key), "must be a map of strings");
      (*out)[kv.first.as<std::string>()] = kv.second.Scalar();
    }
    return absl::OkStatus();
  }
  absl::Status Get(const std::string& key, std::vector<std::string>* out) const {
    YAML::Node n = Child(key);
    if (!n || n.IsNull()) return absl::OkStatus();
    if (!n.IsSequence()) return Bad(Name(key), "must be a list of strings");
    out->clear();
    for (const auto& e : n) {
      if (!e.IsScalar()) return Bad(Name(key), "must be a list of strings");
      out->push_back(e.Scalar());
    }
    return absl::OkStatus();
  }

 private:
  YAML::Node node_;
  std::string path_;
};

#define TW_RETURN_IF_ERROR(expr) \
  do {                           \
    absl::Status _st = (expr);   \
    if (!_st.ok()) return _st;   \
  } while (0)

absl::Status Parse(const YAML::Node& root, DaemonConfig* c) {
  MapReader top(root, "");
  TW_RETURN_IF_ERROR(top.CheckKeys());
  TW_RETURN_IF_ERROR(top.Get("shutdown_timeout_s", &c->shutdown_timeout_s));

  MapReader rx(top.Child("receiver"), "receiver");
  TW_RETURN_IF_ERROR(rx.CheckKeys());
  TW_RETURN_IF_ERROR(rx.Get("listen", &c->listen));
  TW_RETURN_IF_ERROR(rx.Get("max_request_mib", &c->max_request_mib));
  TW_RETURN_IF_ERROR(rx.Get("retry_after_ms", &c->retry_after_ms));
  TW_RETURN_IF_ERROR(rx.Get("max_inflight_mib", &c->max_inflight_mib));
  TW_RETURN_IF_ERROR(rx.Get("max_concurrent_streams", &c->max_concurrent_streams));
  MapReader http(rx.Child("http"), "receiver.http");
  TW_RETURN_IF_ERROR(http.CheckKeys());
  {
    const std::string unset = "\x01unset";
    std::string v = unset;
    TW_RETURN_IF_ERROR(http.Get("listen", &v));
    if (v != unset) c->http_listen = v;
  }
  MapReader cors(http.Child("cors"), "receiver.http.cors");
  TW_RETURN_IF_ERROR(cors.CheckKeys());
  TW_RETURN_IF_ERROR(cors.Get("allowed_origins", &c->http_cors_allowed_origins));
  TW_RETURN_IF_ERROR(cors.Get("allowed_headers", &c->http_cors_allowed_headers));
  MapReader tls(rx.Child("tls"), "receiver.tls");
  TW_RETURN_IF_ERROR(tls.CheckKeys());
  TW_RETURN_IF_ERROR(tls.Get("cert_file", &c->tls_cert_file));
  TW_RETURN_IF_ERROR(tls.Get("key_file", &c->tls_key_file));
  TW_RETURN_IF_ERROR(tls.Get("client_ca_file", &c->tls_client_ca_file));
  TW_RETURN_IF_ERROR(tls.Get("reload_interval_s", &c->tls_reload_interval_s));
  MapReader auth(rx.Child("auth"), "receiver.auth");
  TW_RETURN_IF_ERROR(auth.CheckKeys());
  TW_RETURN_IF_ERROR(auth.Get("bearer_tokens", &c->bearer_tokens));
  TW_RETURN_IF_ERROR(auth.Get("api_keys", &c->api_keys));

  MapReader sink(top.Child("sink"), "sink");
  TW_RETURN_IF_ERROR(sink.CheckKeys());
  TW_RETURN_IF_ERROR(sink.Get("type", &c->sink));
  MapReader q(sink.Child("queue"), "sink.queue");
  TW_RETURN_IF_ERROR(q.CheckKeys());
  TW_RETURN_IF_ERROR(q.Get("max_batches", &c->queue_max_batches));
  TW_RETURN_IF_ERROR(q.Get("max_mib", &c->queue_max_mib));
  if (q.Child("persistent") && !q.Child("persistent").IsNull()) {
    bool persistent = false;
    TW_RETURN_IF_ERROR(q.Get("persistent", &persistent));
    c->queue_persistent = persistent;
  }
  TW_RETURN_IF_ERROR(q.Get("dir", &c->queue_dir));
  TW_RETURN_IF_ERROR(q.Get("fsync", &c->queue_fsync));
  TW_RETURN_IF_ERROR(q.Get("fsync_interval_ms", &c->queue_fsync_interval_ms));
  MapReader file(sink.Child("file"), "sink.file");
  TW_RETURN_IF_ERROR(file.CheckKeys());
  TW_RETURN_IF_ERROR(file.Get("dir", &c->file_dir));
  TW_RETURN_IF_ERROR(file.Get("rotate_mib", &c->file_rotate_mib));
  TW_RETURN_IF_ERROR(file.Get("max_files", &c->file_max_files));
  TW_RETURN_IF_ERROR(file.Get("fsync", &c->file_fsync));
  TW_RETURN_IF_ERROR(file.Get("fsync_interval_ms", &c->file_fsync_interval_ms));
  TW_RETURN_IF_ERROR(file.Get("encoders", &c->file_encoders));

  MapReader store(sink.Child("store"), "sink.store");
  TW_RETURN_IF_ERROR(store.CheckKeys());
  TW_RETURN_IF_ERROR(store.Get("path", &c->store_path));
  TW_RETURN_IF_ERROR(store.Get("retention_hours", &c->store_retention_hours));
  TW_RETURN_IF_ERROR(store.Get("max_mib", &c->store_max_mib));
  TW_RETURN_IF_ERROR(store.Get("attribute_keys", &c->store_attribute_keys));

  MapReader fw(sink.Child("forward"), "sink.forward");
  TW_RETURN_IF_ERROR(fw.CheckKeys());
  TW_RETURN_IF_ERROR(fw.Get("endpoint", &c->forward_endpoint));
  TW_RETURN_IF_ERROR(fw.Get("protocol", &c->forward_protocol));
  TW_RETURN_IF_ERROR(fw.Get("headers", &c->forward_headers));
  TW_RETURN_IF_ERROR(fw.Get("compression", &c->forward_compression));
  TW_RETURN_IF_ERROR(fw.Get("timeout_ms", &c->forward_timeout_ms));
  TW_RETURN_IF_ERROR(fw.Get("max_in_flight", &c->forward_max_in_flight));
  MapReader ftls(fw.Child("tls"), "sink.forward.tls");
  TW_RETURN_IF_ERROR(ftls.CheckKeys());
  TW_RETURN_IF_ERROR(ftls.Get("ca_file", &c->forward_ca_file));
  TW_RETURN_IF_ERROR(ftls.Get("cert_file", &c->forward_client_cert_file));
  TW_RETURN_IF_ERROR(ftls.Get("key_file", &c->forward_client_key_file));
  TW_RETURN_IF_ERROR(ftls.Get("reload_interval_s", &c->forward_tls_reload_interval_s));
  MapReader fauth(fw.Child("auth"), "sink.forward.auth");
  TW_RETURN_IF_ERROR(fauth.CheckKeys());
  TW_RETURN_IF_ERROR(fauth.Get("bearer_token", &c->forward_bearer_token));
  TW_RETURN_IF_ERROR(fauth.Get("api_key", &c->forward_api_key));
  MapReader fretry(fw.Child("retry"), "sink.forward.retry");
  TW_RETURN_IF_ERROR(fretry.CheckKeys());
  TW_RETURN_IF_ERROR(fretry.Get("initial_ms", &c->forward_retry_initial_ms));
  TW_RETURN_IF_ERROR(fretry.Get("max_ms", &c->forward_retry_max_ms));
  TW_RETURN_IF_ERROR(fretry.Get("max_elapsed_s", &c->forward_retry_max_elapsed_s));
  MapReader fbr(fw.Child("breaker"), "sink.forward.breaker");
  TW_RETURN_IF_ERROR(fbr.CheckKeys());
  TW_RETURN_IF_ERROR(fbr.Get("enabled", &c->forward_breaker_enabled));
  TW_RETURN_IF_ERROR(fbr.Get("consecutive_failures", &c->forward_breaker_failures));
  TW_RETURN_IF_ERROR(fbr.Get("cool_down_s", &c->forward_breaker_cool_down_s));
  TW_RETURN_IF_ERROR(fbr.Get("spill_dir", &c->forward_spill_dir));
  TW_RETURN_IF_ERROR(fbr.Get("spill_max_mib", &c->forward_spill_max_mib));
  TW_RETURN_IF_ERROR(fbr.Get("spill_fsync", &c->forward_spill_fsync));

  MapReader tel(top.Child("telemetry"), "telemetry");
  TW_RETURN_IF_ERROR(tel.CheckKeys());
  TW_RETURN_IF_ERROR(tel.Get("metrics_listen", &c->metrics_listen));
  TW_RETURN_IF_ERROR(tel.Get("health_listen", &c->health_listen));
  TW_RETURN_IF_ERROR(tel.Get("otlp_endpoint", &c->telemetry_otlp_endpoint));
  TW_RETURN_IF_ERROR(tel.Get("otlp_interval_ms", &c->telemetry_otlp_interval_ms));
  return absl::OkStatus();
}

}  // namespace

absl::Status SplitHostPort(const std::string& key, const std::string& value, std::string* host,
                           int* port) {
  std::string h, p;
  if (!value.empty() && value[0] == '[') {
    const size_t close = value.find(']');
    if (close == std::string::npos || close + 1 >= value.size() || value[close + 1] != ':') {
      return Bad(key, absl::StrCat("'", value, "' is not [HOST]:PORT"));
    }
    h = value.substr(0, close + 1);
    p = value.substr(close + 2);
  } else {
    const size_t colon = value.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return Bad(key, absl::StrCat("'", value, "' is not HOST:PORT"));
    }
    h = value.substr(0, colon);
    p = value.substr(colon + 1);
  }
  int n;
  if (!absl::SimpleAtoi(p, &n) || n < 0 || n > 65535) {
    return Bad(key, absl::StrCat("'", p, "' is not a port number (0-65535)"));
  }
  *host = h;
  *port = n;
  return absl::OkStatus();
}

std::string DaemonConfig::HttpListen() const {
  if (http_listen.has_value()) return *http_listen;
  std::string host;
  int port;
  if (!SplitHostPort("receiver.listen", listen, &host, &port).ok()) return "";
  return absl::StrCat(host, ":", port == 0 ? 0 : 4318);
}

absl::Status DaemonConfig::Validate() const {
  std::string host;
  int port;
  TW_RETURN_IF_ERROR(SplitHostPort("receiver.listen", listen, &host, &port));
  if (const std::string h = HttpListen(); !h.empty()) {
    TW_RETURN_IF_ERROR(SplitHostPort("receiver.http.listen", h, &host, &port));
  }
  if (!health_listen.empty()) {
    TW_RETURN_IF_ERROR(SplitHostPort("telemetry.health_listen", health_listen, &host, &port));
  }
  if (!metrics_listen.empty()) {
    TW_RETURN_IF_ERROR(SplitHostPort("telemetry.metrics_listen", metrics_listen, &host, &port));
  }
  if (max_request_mib < 1 || max_request_mib > 2047) {
    return Bad("receiver.max_request_mib",
               absl::StrCat("must be between 1 and 2047, got ", max_request_mib));
  }
  if (retry_after_ms < 1) return Bad("receiver.retry_after_ms", "must be positive");
  if (telemetry_otlp_interval_ms < 100) {
    return Bad("telemetry.otlp_interval_ms",
               absl::StrCat("must be at least 100, got ", telemetry_otlp_interval_ms));
  }
  if (max_inflight_mib != 0 &&
      (max_inflight_mib < max_request_mib || max_inflight_mib > (1 << 20))) {
    return Bad("receiver.max_inflight_mib",
               absl::StrCat("must be 0 (no limit) or between receiver.max_request_mib (",
                            max_request_mib, ") and 1048576, got ", max_inflight_mib));
  }
  if (max_concurrent_streams < 1 || max_concurrent_streams > 1000000) {
    return Bad("receiver.max_concurrent_streams",
               absl::StrCat("must be between 1 and 1000000, got ", max_concurrent_streams));
  }
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return Bad("receiver.tls", "cert_file and key_file must be given together");
  }
  if (tls_reload_interval_s < 0) {
    return Bad("receiver.tls.reload_interval_s", "must not be negative (0: only on SIGHUP)");
  }
  if (forward_tls_reload_interval_s < 0) {
    return Bad("sink.forward.tls.reload_interval_s", "must not be negative (0: only on SIGHUP)");
  }
  if (!tls_client_ca_file.empty() && tls_cert_file.empty()) {
    return Bad("receiver.tls.client_ca_file", "needs cert_file and key_file (mTLS needs TLS)");
  }
  for (const auto& t : bearer_tokens) {
    if (t.empty()) return Bad("receiver.auth.bearer_tokens", "an empty token is not allowed");
  }
  for (const auto& k : api_keys) {
    if (k.empty()) return Bad("receiver.auth.api_keys", "an empty key is not allowed");
  }
  const std::vector<std::string> types = SinkTypes();
  if (types.empty()) return Bad("sink.type", "must name at least one sink");
  for (size_t i = 0; i < types.size(); ++i) {
    const std::string& t = types[i];
    if (t != "none" && t != "debug" && t != "file" && t != "forward" && t != "store") {
      return Bad("sink.type",
                 absl::StrCat("'", t, "' is not one of none, debug, file, forward, store"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (types[j] == t) return Bad("sink.type", absl::StrCat("'", t, "' is named twice"));
    }
  }
  if (HasSink("store")) {
    if (store_path.empty()) return Bad("sink.store.path", "must not be empty");
  }
  if (store_retention_hours < 0) return Bad("sink.store.retention_hours", "must not be negative");
  if (store_max_mib < 0) return Bad("sink.store.max_mib", "must not be negative");
  if (HasSink("forward")) {
    if (forward_endpoint.empty()) {
      return Bad("sink.forward.endpoint", "is required with sink type forward");
    }
    if (forward_protocol != "grpc" && forward_protocol != "http/protobuf" &&
        forward_protocol != "http/json") {
      return Bad("sink.forward.protocol",
                 absl::StrCat("'", forward_protocol, "' is not grpc, http/protobuf or http/json"));
    }
    absl::Status st = ForwardOptions().Validate();
    if (!st.ok()) return Bad("sink.forward", std::string(st.message()));
  }
  if (queue_max_batches < 1) return Bad("sink.queue.max_batches", "must be at least 1");
  if (queue_max_mib < 1) return Bad("sink.queue.max_mib", "must be at least 1");
  if (queue_fsync != "none" && queue_fsync != "batch" && queue_fsync != "interval") {
    return Bad("sink.queue.fsync",
               absl::StrCat("'", queue_fsync, "' is not one of batch, interval, none"));
  }
  if (queue_fsync_interval_ms < 1) return Bad("sink.queue.fsync_interval_ms", "must be positive");
  if (HasSink("forward") && QueuePersistent("forward") && !forward_spill_dir.empty()) {
    return Bad("sink.forward.breaker.spill_dir",
               "is not used with a persistent queue (its log keeps what the next hop has not "
               "taken); remove it, or set sink.queue.persistent: false");
  }
  if (HasSink("file") && file_dir.empty()) return Bad("sink.file.dir", "must not be empty");
  if (file_rotate_mib < 0) return Bad("sink.file.rotate_mib", "must not be negative");
  if (file_max_files < 0) return Bad("sink.file.max_files", "must not be negative");
  if (file_fsync != "none" && file_fsync != "batch" && file_fsync != "interval") {
    return Bad("sink.file.fsync",
               absl::StrCat("'", file_fsync, "' is not one of none, batch, interval"));
  }
  if (file_fsync_interval_ms < 1) return Bad("sink.file.fsync_interval_ms", "must be positive");
  if (file_encoders < 0 || file_encoders > 256) {
    return Bad("sink.file.encoders", "must be 0 (one per core) to 256");
  }
  if (shutdown_timeout_s < 1) return Bad("shutdown_timeout_s", "must be at least 1");
  return absl::OkStatus();
}

OtlpExporterOptions DaemonConfig::ForwardOptions() const {
  OtlpExporterOptions o;
  o.protocol = forward_protocol;
  o.endpoint = forward_endpoint;
  o.headers = forward_headers;
  o.compression = forward_compression;
  o.timeout = absl::Milliseconds(forward_timeout_ms);
  o.ca_file = forward_ca_file;
  o.client_cert_file = forward_client_cert_file;
  o.client_key_file = forward_client_key_file;
  o.tls_reload_interval = absl::Seconds(forward_tls_reload_interval_s);
  o.bearer_token = forward_bearer_token;
  o.api_key = forward_api_key;
  o.max_in_flight = static_cast<int>(forward_max_in_flight);
  o.max_queue_bytes = queue_max_mib << 20;
  o.max_queue_items = std::numeric_limits<int64_t>::max();
  o.max_request_bytes = max_request_mib << 20;
  o.retry.initial_backoff = absl::Milliseconds(forward_retry_initial_ms);
  o.retry.max_backoff = absl::Milliseconds(forward_retry_max_ms);
  o.retry.max_elapsed = absl::Seconds(forward_retry_max_elapsed_s);
  o.breaker.enabled = forward_breaker_enabled;
  o.breaker.consecutive_failures = static_cast<int>(forward_breaker_failures);
  o.breaker.cool_down = absl::Seconds(forward_breaker_cool_down_s);
  o.breaker.spill_dir = forward_spill_dir;
  o.breaker.spill_max_bytes = forward_spill_max_mib << 20;
  o.breaker.spill_fsync = forward_spill_fsync;
  return o;
}

bool DaemonConfig::QueuePersistent(const std::string& type) const {
  if (type == "none") return false;
  if (queue_persistent.has_value()) return *queue_persistent;
  return type == "file" || type == "store" || type == "forward";
}

std::string DaemonConfig::QueueDir(const std::string& type) const {
  if (!queue_dir.empty()) return absl::StrCat(queue_dir, "/", type);
  if (type == "file") return absl::StrCat(file_dir, "/queue/file");
  if (type == "store") {
    const size_t slash = store_path.rfind('/');
    const std::string parent = slash == std::string::npos ? "." : store_path.substr(0, slash);
    return absl::StrCat(parent.empty() ? "/" : parent, "/queue/store");
  }
  return absl::StrCat("./tracewire-data/queue/", type);
}

std::vector<std::string> DaemonConfig::SinkTypes() const {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(sink, ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

bool DaemonConfig::HasSink(const std::string& type) const {
  for (const std::string& t : SinkTypes()) {
    if (t == type) return true;
  }
  return false;
}

std::vector<std::string> DaemonConfigKeys() {
  std::vector<std::string> out;
  for (const auto& [map, keys] : KnownKeys()) {
    for (const std::string& key : keys) out.push_back(map.empty() ? key : map + "." + key);
  }
  return out;
}

absl::StatusOr<DaemonConfig> ParseDaemonConfigYaml(const std::string& text) {
  DaemonConfig c;
  try {
    YAML::Node root = YAML::Load(text);
    absl::Status st = Parse(root, &c);
    if (!st.ok()) return st;
  } catch (const YAML::Exception& e) {  // The one place tracewire catches.
    return absl::InvalidArgumentError(absl::StrCat("config: not valid YAML: ", e.what()));
  }
  return c;
}

absl::StatusOr<DaemonConfig> LoadDaemonConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("config: cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<DaemonConfig> c = ParseDaemonConfigYaml(ss.str());
  if (!c.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", c.status().message()));
  }
  return c;
}

}  // namespace tracewire::receiver
