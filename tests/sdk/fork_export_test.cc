// A real fork() of a process that exports over OTLP/gRPC: the child builds
// its own channel and delivers its spans, the parent goes on delivering, and
// nothing the parent had buffered is sent twice. The receiver is the real
// tracewired in a separate process, so that only client-side gRPC is forked.

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "testing/test_env.h"
#include "testing/tracewired_process.h"
#include "tracewire/span_exporter.h"
#include "tracewire/trace.h"

// gRPC's own switch (libgpr), to tell whether this process runs with gRPC's
// fork support.
namespace grpc_core {
struct Fork {
  static bool Enabled();
};
}  // namespace grpc_core

namespace tracewire {
namespace {

TEST(ForkSafety, ChildExportsOverItsOwnChannel) {
  const testing::TempDir tmp("tw-fork-export");
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  testing::Child d = testing::Spawn({"--listen", "127.0.0.1:0", "--metrics-listen", "", "--sink",
                                     "file", "--file-dir", dir});
  ASSERT_GT(d.pid, 0);
  const std::string addr = testing::ReadAddress(d.out_fd);
  ASSERT_FALSE(addr.empty());

  OtlpExporterOptions eo;
  eo.endpoint = "http://" + addr;
  auto exporter = MakeOtlpSpanExporter(eo);
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  if (!grpc_core::Fork::Enabled()) {
    kill(d.pid, SIGKILL);
    testing::WaitExit(d.pid, 10);
    GTEST_SKIP() << "gRPC was used in this process before the exporter could turn on its fork "
                    "support; ctest runs this test in a process of its own";
  }
  BatchSpanProcessorOptions bo;
  bo.schedule_delay = absl::Hours(1);  // only flushes export
  TracerProviderOptions po;
  po.processors.push_back(BatchSpanProcessor::Create(std::move(*exporter), bo));
  auto provider = std::move(*TracerProvider::Create(std::move(po)));
  Tracer* tracer = provider->GetTracer("fork");

  // The channel is connected and in use before the fork, and spans are queued.
  tracer->StartSpan("parent-before").End();
  ASSERT_TRUE(provider->ForceFlush(absl::Now() + absl::Seconds(20)).ok());
  for (int i = 0; i < 4; ++i) tracer->StartSpan("parent-queued").End();

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // No gtest assertions in the child; the exit status reports.
    for (int i = 0; i < 3; ++i) tracer->StartSpan("child").End();
    const bool flushed = provider->ForceFlush(absl::Now() + absl::Seconds(20)).ok();
    const bool shut = provider->Shutdown(absl::Now() + absl::Seconds(20)).ok();
    _exit(flushed && shut ? 0 : 3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child could not flush its spans";

  tracer->StartSpan("parent-after").End();
  ASSERT_TRUE(provider->Shutdown(absl::Now() + absl::Seconds(20)).ok());
  kill(d.pid, SIGTERM);
  ASSERT_EQ(testing::WaitExit(d.pid, 30), 0);

  std::map<std::string, int> names;
  for (const auto& line : testing::ReadJsonLines(dir + "/traces.jsonl")) {
    for (const auto& rs : line["resourceSpans"]) {
      for (const auto& ss : rs["scopeSpans"]) {
        for (const auto& s : ss["spans"]) ++names[s["name"].get<std::string>()];
      }
    }
  }
  EXPECT_EQ(names["parent-before"], 1);
  EXPECT_EQ(names["parent-queued"], 4);  // once: the child dropped its copy
  EXPECT_EQ(names["child"], 3);
  EXPECT_EQ(names["parent-after"], 1);
}

}  // namespace
}  // namespace tracewire
