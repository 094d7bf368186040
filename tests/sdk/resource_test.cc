#include "tracewire/resource.h"

#include <unistd.h>

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "sdk/resource_detectors.h"
#include "testing/scoped_env.h"
#include "tracewire/trace.h"

namespace tracewire {
namespace {

std::map<std::string, AnyValue> ByKey(const Resource& r) {
  std::map<std::string, AnyValue> m;
  for (const auto& kv : r.attributes) m[kv.key] = kv.value;
  return m;
}

std::string Str(const AnyValue& v) {
  const auto* s = std::get_if<std::string>(&v.value);
  return s ? *s : "<not a string>";
}

constexpr char kId[] = "3c1b6a1f0e2d4c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b";

TEST(ResourceDetectors, ContainerIdFromCgroupV1AndSystemdScopes) {
  EXPECT_EQ(sdk::ContainerIdFromCgroup(std::string("12:pids:/docker/") + kId + "\n1:cpu:/\n"), kId);
  EXPECT_EQ(sdk::ContainerIdFromCgroup(std::string("0::/system.slice/docker-") + kId + ".scope\n"),
            kId);
  EXPECT_EQ(sdk::ContainerIdFromCgroup(std::string("0::/kubepods/besteffort/pod1/crio-") + kId +
                                       ".scope"),
            kId);
  EXPECT_EQ(sdk::ContainerIdFromCgroup(std::string("0::/kubepods/cri-containerd-") + kId), kId);
  EXPECT_EQ(sdk::ContainerIdFromCgroup("0::/\n"), "");
  EXPECT_EQ(sdk::ContainerIdFromCgroup("0::/user.slice/user-0.slice/session-3.scope\n"), "");
  // 63 hex digits is not an id.
  EXPECT_EQ(sdk::ContainerIdFromCgroup(std::string("1:cpu:/docker/") + (kId + 1)), "");
}

TEST(ResourceDetectors, ContainerIdFromMountinfo) {
  const std::string line = std::string("736 722 0:45 /docker/containers/") + kId +
                           "/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n";
  EXPECT_EQ(sdk::ContainerIdFromMountinfo("22 1 0:21 / /proc rw - proc proc rw\n" + line), kId);
  EXPECT_EQ(sdk::ContainerIdFromMountinfo("22 1 0:21 / /proc rw - proc proc rw\n"), "");
}

TEST(ResourceDetectors, OsReleaseValuesAndArch) {
  const std::string text =
      "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME='Debian GNU/Linux'\n"
      "VERSION_ID=\"12\"\nID=debian\n";
  EXPECT_EQ(sdk::OsReleaseValue(text, "PRETTY_NAME"), "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(sdk::OsReleaseValue(text, "NAME"), "Debian GNU/Linux");
  EXPECT_EQ(sdk::OsReleaseValue(text, "ID"), "debian");
  EXPECT_EQ(sdk::OsReleaseValue(text, "VERSION"), "");  // VERSION_ID is not VERSION
  EXPECT_EQ(sdk::HostArch("x86_64"), "amd64");
  EXPECT_EQ(sdk::HostArch("aarch64"), "arm64");
  EXPECT_EQ(sdk::HostArch("riscv64"), "riscv64");
}

TEST(ResourceDetectors, ProcessDescribesThisProcess) {
  auto a = ByKey(DetectProcessResource());
  EXPECT_EQ(a["process.pid"], AnyValue(int64_t{getpid()}));
  EXPECT_EQ(a["process.parent_pid"], AnyValue(int64_t{getppid()}));
  EXPECT_EQ(Str(a["process.executable.name"]), "tracewire_tests");
  EXPECT_TRUE(Str(a["process.executable.path"]).ends_with("/tracewire_tests"));
  const auto* args = std::get_if<AnyValue::Array>(&a["process.command_args"].value);
  ASSERT_NE(args, nullptr);
  ASSERT_FALSE(args->empty());
  EXPECT_TRUE(Str((*args)[0]).ends_with("tracewire_tests"));
  EXPECT_TRUE(Str(a["process.command_line"]).starts_with(Str((*args)[0])));
  EXPECT_EQ(Str(a["process.runtime.name"]), "cpp");
}

TEST(ResourceDetectors, HostAndOs) {
  char name[256] = {};
  ASSERT_EQ(gethostname(name, sizeof(name) - 1), 0);
  auto h = ByKey(DetectHostResource());
  EXPECT_EQ(Str(h["host.name"]), name);
  EXPECT_FALSE(Str(h["host.arch"]).empty());
  auto o = ByKey(DetectOsResource());
  EXPECT_EQ(Str(o["os.type"]), "linux");
  EXPECT_NE(Str(o["os.description"]).find("Linux "), std::string::npos);
}

TEST(ResourceDetectors, DetectResourceMergesDetectorsThenTheEnvironment) {
  testing::ScopedEnv env;
  env.Set("OTEL_RESOURCE_ATTRIBUTES", "host.name=from-attrs,service.name=attrs,team=a")
      .Set("OTEL_SERVICE_NAME", "from-service-name");
  auto r = DetectResource();
  ASSERT_TRUE(r.ok()) << r.status();
  auto a = ByKey(*r);
  EXPECT_EQ(Str(a["host.name"]), "from-attrs");            // the environment wins
  EXPECT_EQ(Str(a["service.name"]), "from-service-name");  // OTEL_SERVICE_NAME wins last
  EXPECT_EQ(Str(a["team"]), "a");
  EXPECT_EQ(Str(a["telemetry.sdk.name"]), "tracewire");
  EXPECT_EQ(a["process.pid"], AnyValue(int64_t{getpid()}));
}

TEST(ResourceDetectors, DefaultServiceNameNamesTheExecutable) {
  testing::ScopedEnv env;
  env.Unset("OTEL_RESOURCE_ATTRIBUTES").Unset("OTEL_SERVICE_NAME");
  auto r = DetectResource(ResourceDetectors{false, false, false, false});
  ASSERT_TRUE(r.ok());
  auto a = ByKey(*r);
  EXPECT_EQ(Str(a["service.name"]), "unknown_service:tracewire_tests");
  EXPECT_EQ(a.count("process.pid"), 0u);  // detectors off
  EXPECT_EQ(a.count("host.name"), 0u);
  // A provider created with no resource says the same.
  auto provider = TracerProvider::Create({});
  ASSERT_TRUE(provider.ok());
  EXPECT_EQ(Str(ByKey((*provider)->resource())["service.name"]), "unknown_service:tracewire_tests");
}

TEST(ResourceDetectors, SwitchesFromTheEnvironment) {
  testing::ScopedEnv env;
  env.Set("TRACEWIRE_RESOURCE_DETECTORS", "host, os");
  auto d = ResourceDetectors::FromEnv();
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->process);
  EXPECT_TRUE(d->host);
  EXPECT_TRUE(d->os);
  EXPECT_FALSE(d->container);
  env.Set("TRACEWIRE_RESOURCE_DETECTORS", "none");
  d = ResourceDetectors::FromEnv();
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->host || d->os || d->process || d->container);
  env.Set("TRACEWIRE_RESOURCE_DETECTORS", "host,gpu");
  d = ResourceDetectors::FromEnv();
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("TRACEWIRE_RESOURCE_DETECTORS: 'gpu'"), std::string::npos);
  env.Unset("TRACEWIRE_RESOURCE_DETECTORS");
  d = ResourceDetectors::FromEnv();
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->host && d->os && d->process && d->container);
}

}  // namespace
}  // namespace tracewire
