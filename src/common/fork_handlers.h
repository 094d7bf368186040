#pragma once
// Components with threads register here to survive fork(). Before the fork
// each takes its locks (so no other thread holds them in the child), in
// registration order; the parent then releases them, in reverse order. In the
// child, first every `child` handler runs (reverse order): it releases its
// locks and drops what the child inherited but must not keep. Then, with no
// lock held, every `restart` handler runs in registration order: it starts
// threads or rebuilds parts. Components register when they are built, after
// what they depend on (an exporter before the processor that feeds it), so
// what is rebuilt first is what later ones use at once.
//
// Thread-safe. The one process-wide registry in tracewire.

#include <functional>

namespace tracewire::common {

struct ForkHandler {
  std::function<void()> prepare;  // in the parent, before fork
  std::function<void()> parent;   // in the parent, after fork
  std::function<void()> child;    // in the child, after fork
  std::function<void()> restart;  // in the child, after every `child`
};

// The RPC runtime's own fork hooks (gRPC's), set once: they run innermost,
// prepare after every handler's prepare, parent and child before every
// handler's, so that our components quiesce before the runtime stops its
// threads and the runtime is whole again before our components restart.
void SetRuntimeForkHooks(ForkHandler hooks);

// Returns an id for UnregisterForkHandler.
int RegisterForkHandler(ForkHandler handler);
void UnregisterForkHandler(int id);

}  // namespace tracewire::common
