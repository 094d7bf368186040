#include "common/fork_handlers.h"

#include <pthread.h>

#include <map>
#include <mutex>

namespace tracewire::common {
namespace {

struct Registry {
  std::mutex mu;  // held from prepare until parent/child: a std::mutex, not absl's
  std::map<int, ForkHandler> handlers;
  int next_id = 1;
};

Registry& Get() {
  static Registry* r = new Registry();  // never destroyed: no static destructor work
  return *r;
}

void Prepare() {
  Registry& r = Get();
  r.mu.lock();
  for (auto& [id, h] : r.handlers) {
    if (h.prepare) h.prepare();
  }
}

void Parent() {
  Registry& r = Get();
  for (auto it = r.handlers.rbegin(); it != r.handlers.rend(); ++it) {
    if (it->second.parent) it->second.parent();
  }
  r.mu.unlock();
}

void Child() {
  Registry& r = Get();
  for (auto it = r.handlers.rbegin(); it != r.handlers.rend(); ++it) {
    if (it->second.child) it->second.child();
  }
  r.mu.unlock();
}

}  // namespace

int RegisterForkHandler(ForkHandler handler) {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(&Prepare, &Parent, &Child); });
  Registry& r = Get();
  std::lock_guard<std::mutex> l(r.mu);
  const int id = r.next_id++;
  r.handlers.emplace(id, std::move(handler));
  return id;
}

void UnregisterForkHandler(int id) {
  Registry& r = Get();
  std::lock_guard<std::mutex> l(r.mu);
  r.handlers.erase(id);
}

}  // namespace tracewire::common
