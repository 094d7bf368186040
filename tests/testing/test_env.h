#pragma once
// Helpers shared by tracewire's integration tests: temporary directories,
// certificates made with the openssl command, reading the file sink, and
// channels to an in-process or spawned tracewired. Header-only.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"

namespace tracewire::testing {

// A new directory under the system's temporary directory, named
// PREFIX-XXXXXX, removed with everything in it when the TempDir goes out of
// scope. path() is empty when the directory could not be made. Not copyable
// or movable: a test holds it for as long as it uses the files.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;  // Best effort: a test's result never depends on it.
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  bool ok() const { return !path_.empty(); }

 private:
  std::string path_;
};

inline std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs a shell command; returns its exit status.
inline int Run(const std::string& cmd) { return std::system(cmd.c_str()); }

// A CA, a server certificate for 127.0.0.1/localhost signed by it, and a
// client certificate signed by it; plus a second CA whose client certificate
// the server must refuse.
struct Certs {
  std::string dir, ca, server_cert, server_key, client_cert, client_key, rogue_cert, rogue_key;
  bool ok = false;
};

inline Certs MakeCerts(const std::string& dir) {
  Certs c;
  c.dir = dir;
  c.ca = dir + "/ca.pem";
  c.server_cert = dir + "/server.pem";
  c.server_key = dir + "/server.key";
  c.client_cert = dir + "/client.pem";
  c.client_key = dir + "/client.key";
  c.rogue_cert = dir + "/rogue.pem";
  c.rogue_key = dir + "/rogue.key";
  const std::string q = " >/dev/null 2>&1";
  std::string s = "cd '" + dir + "' && set -e && " +
                  "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
                  "printf 'extendedKeyUsage=clientAuth\\n' > client.ext && "
                  "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem "
                  "-days 2 -subj /CN=tracewire-test-ca" + q + " && "
                  "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
                  "-subj /CN=127.0.0.1" + q + " && "
                  "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                  "-out server.pem -days 2 -extfile san.ext" + q + " && "
                  "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr "
                  "-subj /CN=client" + q + " && "
                  "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                  "-out client.pem -days 2 -extfile client.ext" + q + " && "
                  "openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem "
                  "-days 2 -subj /CN=rogue" + q;
  c.ok = Run("bash -c \"" + s + "\"") == 0;
  return c;
}

// Every JSON line of a file sink file, parsed.
inline std::vector<nlohmann::json> ReadJsonLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// Counts the items in file sink lines: spans, log records or metric data points.
inline int64_t CountItems(const std::vector<nlohmann::json>& lines, const std::string& signal) {
  int64_t n = 0;
  const std::string res = signal == "traces" ? "resourceSpans"
                          : signal == "logs" ? "resourceLogs"
                                             : "resourceMetrics";
  const std::string scope = signal == "traces" ? "scopeSpans"
                            : signal == "logs" ? "scopeLogs"
                                               : "scopeMetrics";
  const std::string item = signal == "traces" ? "spans"
                           : signal == "logs" ? "logRecords"
                                              : "metrics";
  for (const auto& l : lines) {
    for (const auto& r : l.value(res, nlohmann::json::array())) {
      for (const auto& s : r.value(scope, nlohmann::json::array())) {
        for (const auto& i : s.value(item, nlohmann::json::array())) {
          if (signal != "metrics") {
            ++n;
            continue;
          }
          for (const char* kind :
               {"gauge", "sum", "histogram", "exponentialHistogram", "summary"}) {
            if (i.contains(kind)) n += i[kind].value("dataPoints", nlohmann::json::array()).size();
          }
        }
      }
    }
  }
  return n;
}

inline std::shared_ptr<::grpc::Channel> InsecureChannel(const std::string& address) {
  return ::grpc::CreateChannel(address, ::grpc::InsecureChannelCredentials());
}

}  // namespace tracewire::testing
