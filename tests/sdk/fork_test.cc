// A real fork(): the child's batch processor works (a new worker) and holds
// none of the parent's buffered spans; the parent's are still exported.

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tracewire/span_exporters.h"
#include "tracewire/trace.h"

namespace tracewire {
namespace {

TEST(ForkSafety, ChildGetsAWorkingProcessorWithoutTheParentsSpans) {
  auto e = std::make_unique<InMemorySpanExporter>();
  InMemorySpanExporter* mem = e.get();
  BatchSpanProcessorOptions o;
  o.schedule_delay = absl::Hours(1);  // nothing is exported until a flush
  TracerProviderOptions po;
  po.processors.push_back(BatchSpanProcessor::Create(std::move(e), o));
  auto provider = std::move(*TracerProvider::Create(std::move(po)));
  Tracer* tracer = provider->GetTracer("fork");
  for (int i = 0; i < 10; ++i) tracer->StartSpan("parent-span").End();

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: no gtest assertions here; report through the exit status.
    for (int i = 0; i < 3; ++i) tracer->StartSpan("child-span").End();
    const bool flushed = provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok();
    int child = 0, parent = 0;
    for (const auto& s : mem->spans()) {
      child += s.data.name == "child-span";
      parent += s.data.name == "parent-span";
    }
    _exit(flushed && child == 3 && parent == 0 ? 0 : 10 + child * 3 + parent);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "child saw the wrong spans or could not flush";
  ASSERT_TRUE(provider->ForceFlush(absl::Now() + absl::Seconds(10)).ok());
  auto spans = mem->spans();
  EXPECT_EQ(spans.size(), 10u);
  for (const auto& s : spans) EXPECT_EQ(s.data.name, "parent-span");
}

}  // namespace
}  // namespace tracewire
