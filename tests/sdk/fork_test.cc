// A real fork(): the child's batch processor works (a new worker) and holds
// none of the parent's buffered spans; the parent's are still exported.

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <vector>

#include "tracewire/span_exporter.h"
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

// The default id generator keeps its state per thread; a child must not
// repeat the ids its parent goes on to make.
TEST(ForkSafety, ChildAndParentMakeDifferentIds) {
  TracerProviderOptions po;
  po.processors.push_back(MakeSimpleSpanProcessor(MakeNoopSpanExporter()));
  auto provider = std::move(*TracerProvider::Create(std::move(po)));
  Tracer* tracer = provider->GetTracer("fork");
  tracer->StartSpan("before").End();  // the thread's id state exists before the fork
  constexpr int kIds = 8;
  auto make_ids = [&] {
    std::vector<TraceId> ids;
    for (int i = 0; i < kIds; ++i) ids.push_back(tracer->StartSpan("s").GetContext().trace_id);
    return ids;
  };
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    const std::vector<TraceId> ids = make_ids();
    const ssize_t n = write(fds[1], ids.data(), ids.size() * sizeof(TraceId));
    _exit(n == static_cast<ssize_t>(ids.size() * sizeof(TraceId)) ? 0 : 1);
  }
  close(fds[1]);
  const std::vector<TraceId> mine = make_ids();
  std::vector<TraceId> child(kIds);
  size_t got = 0;
  while (got < kIds * sizeof(TraceId)) {
    const ssize_t n = read(fds[0], reinterpret_cast<char*>(child.data()) + got,
                           kIds * sizeof(TraceId) - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_EQ(got, kIds * sizeof(TraceId));
  for (const TraceId& c : child) {
    for (const TraceId& m : mine) EXPECT_NE(c, m) << "the child repeated the parent's trace id";
  }
}

}  // namespace
}  // namespace tracewire
