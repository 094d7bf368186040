#pragma once
// Components with threads register here to survive fork(): before the fork
// each takes its locks (so no other thread holds them in the child), the
// parent then releases them, and the child releases them, drops what it
// inherited from the parent and restarts its threads. Handlers run in
// registration order before the fork and in reverse order after it.
//
// Thread-safe. The one process-wide registry in tracewire.

#include <functional>

namespace tracewire::common {

struct ForkHandler {
  std::function<void()> prepare;  // in the parent, before fork
  std::function<void()> parent;   // in the parent, after fork
  std::function<void()> child;    // in the child, after fork
};

// Returns an id for UnregisterForkHandler.
int RegisterForkHandler(ForkHandler handler);
void UnregisterForkHandler(int id);

}  // namespace tracewire::common
