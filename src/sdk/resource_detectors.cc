#include "sdk/resource_detectors.h"

#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sdk/resource_env.h"
#include "tracewire/resource.h"

namespace tracewire {
namespace sdk {
namespace {

// Debian's abseil has its own string_view.
absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool IsContainerId(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!absl::ascii_isxdigit(c)) return false;
  }
  return true;
}

std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ExecutablePath() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

std::string ContainerIdFromCgroup(std::string_view cgroup) {
  for (absl::string_view line : absl::StrSplit(A(cgroup), '\n', absl::SkipEmpty())) {
    const size_t slash = line.rfind('/');
    absl::string_view segment = line.substr(slash == absl::string_view::npos ? 0 : slash + 1);
    absl::ConsumeSuffix(&segment, ".scope");
    for (absl::string_view prefix : {"docker-", "crio-", "cri-containerd-", "libpod-"}) {
      if (absl::ConsumePrefix(&segment, prefix)) break;
    }
    if (IsContainerId(segment)) return std::string(segment);
  }
  return {};
}

std::string ContainerIdFromMountinfo(std::string_view mountinfo) {
  for (absl::string_view line : absl::StrSplit(A(mountinfo), '\n', absl::SkipEmpty())) {
    for (absl::string_view field : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      for (absl::string_view marker : {"/containers/", "/sandboxes/"}) {
        const size_t at = field.find(marker);
        if (at == absl::string_view::npos) continue;
        absl::string_view rest = field.substr(at + marker.size());
        rest = rest.substr(0, rest.find('/'));
        if (IsContainerId(rest)) return std::string(rest);
      }
    }
  }
  return {};
}

std::string OsReleaseValue(std::string_view os_release, std::string_view key) {
  for (absl::string_view line : absl::StrSplit(A(os_release), '\n', absl::SkipEmpty())) {
    if (!absl::ConsumePrefix(&line, A(key)) || !absl::ConsumePrefix(&line, "=")) continue;
    line = absl::StripAsciiWhitespace(line);
    if (line.size() >= 2 && (line.front() == '"' || line.front() == '\'') &&
        line.back() == line.front()) {
      line = line.substr(1, line.size() - 2);
    }
    return std::string(line);
  }
  return {};
}

std::string HostArch(std::string_view machine) {
  if (machine == "x86_64" || machine == "amd64") return "amd64";
  if (machine == "aarch64" || machine == "arm64") return "arm64";
  if (machine == "i386" || machine == "i686") return "x86";
  if (absl::StartsWith(A(machine), "armv")) return "arm32";
  if (machine == "ppc64" || machine == "ppc64le") return "ppc64";
  if (machine == "s390x") return "s390x";
  if (machine == "ppc") return "ppc32";
  return std::string(machine);
}

std::string ExecutableName() {
  const std::string path = ExecutablePath();
  if (!path.empty()) return path.substr(path.rfind('/') + 1);
  return program_invocation_short_name;
}

}  // namespace sdk

absl::StatusOr<ResourceDetectors> ResourceDetectors::FromEnv() {
  ResourceDetectors d;
  const char* v = std::getenv("TRACEWIRE_RESOURCE_DETECTORS");
  if (v == nullptr || *v == '\0') return d;
  d = ResourceDetectors{false, false, false, false};
  for (absl::string_view name : absl::StrSplit(v, ',', absl::SkipWhitespace())) {
    const std::string n = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
    if (n == "all") {
      d = ResourceDetectors{};
    } else if (n == "none") {
      d = ResourceDetectors{false, false, false, false};
    } else if (n == "process") {
      d.process = true;
    } else if (n == "host") {
      d.host = true;
    } else if (n == "os") {
      d.os = true;
    } else if (n == "container") {
      d.container = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("TRACEWIRE_RESOURCE_DETECTORS: '", n,
                       "' is not a detector (process, host, os, container, all, none)"));
    }
  }
  return d;
}

Resource DetectProcessResource() {
  Resource r;
  auto& a = r.attributes;
  a.push_back({"process.pid", int64_t{getpid()}});
  a.push_back({"process.parent_pid", int64_t{getppid()}});
  const std::string path = sdk::ExecutablePath();
  a.push_back({"process.executable.name", sdk::ExecutableName()});
  if (!path.empty()) a.push_back({"process.executable.path", path});
  const std::string cmdline = sdk::ReadFile("/proc/self/cmdline");
  if (!cmdline.empty()) {
    AnyValue::Array args;
    std::vector<std::string> parts = absl::StrSplit(cmdline, '\0');
    if (!parts.empty() && parts.back().empty()) parts.pop_back();  // the final NUL
    for (const auto& p : parts) args.emplace_back(p);
    a.push_back({"process.command_args", AnyValue(std::move(args))});
    a.push_back({"process.command_line", absl::StrJoin(parts, " ")});
  }
  struct passwd pw;
  struct passwd* found = nullptr;
  char buf[4096];
  if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &found) == 0 && found != nullptr) {
    a.push_back({"process.owner", std::string(found->pw_name)});
  }
  a.push_back({"process.runtime.name", "cpp"});
  a.push_back({"process.runtime.version", absl::StrCat(__cplusplus)});
#if defined(__clang__)
  a.push_back({"process.runtime.description", absl::StrCat("C++, clang ", __clang_version__)});
#elif defined(__GNUC__)
  a.push_back({"process.runtime.description", absl::StrCat("C++, GCC ", __VERSION__)});
#endif
  return r;
}

Resource DetectHostResource() {
  Resource r;
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0') {
    r.attributes.push_back({"host.name", std::string(name)});
  }
  struct utsname u;
  if (uname(&u) == 0) r.attributes.push_back({"host.arch", sdk::HostArch(u.machine)});
  return r;
}

Resource DetectOsResource() {
  Resource r;
  struct utsname u;
  const bool have_uname = uname(&u) == 0;
  r.attributes.push_back(
      {"os.type", have_uname ? absl::AsciiStrToLower(u.sysname) : std::string("linux")});
  std::string release = sdk::ReadFile("/etc/os-release");
  if (release.empty()) release = sdk::ReadFile("/usr/lib/os-release");
  const std::string pretty = sdk::OsReleaseValue(release, "PRETTY_NAME");
  std::string description = pretty;
  if (have_uname) {
    const std::string kernel = absl::StrCat(u.sysname, " ", u.release);
    description = description.empty() ? kernel : absl::StrCat(description, " (", kernel, ")");
  }
  if (!description.empty()) r.attributes.push_back({"os.description", description});
  if (auto v = sdk::OsReleaseValue(release, "NAME"); !v.empty()) {
    r.attributes.push_back({"os.name", v});
  }
  if (auto v = sdk::OsReleaseValue(release, "VERSION_ID"); !v.empty()) {
    r.attributes.push_back({"os.version", v});
  }
  return r;
}

Resource DetectContainerResource() {
  Resource r;
  std::string id = sdk::ContainerIdFromCgroup(sdk::ReadFile("/proc/self/cgroup"));
  if (id.empty()) id = sdk::ContainerIdFromMountinfo(sdk::ReadFile("/proc/self/mountinfo"));
  if (!id.empty()) r.attributes.push_back({"container.id", id});
  return r;
}

absl::StatusOr<Resource> DetectResource(const ResourceDetectors& detectors) {
  Resource r = sdk::SdkResource();
  if (detectors.process) r = sdk::MergeResources(r, DetectProcessResource());
  if (detectors.host) r = sdk::MergeResources(r, DetectHostResource());
  if (detectors.os) r = sdk::MergeResources(r, DetectOsResource());
  if (detectors.container) r = sdk::MergeResources(r, DetectContainerResource());
  absl::StatusOr<Resource> env = sdk::ResourceFromEnv([](const char* n) { return std::getenv(n); });
  if (!env.ok()) return env.status();
  return sdk::MergeResources(r, *env);
}

}  // namespace tracewire
