#include "common/fork_handlers.h"

#include <pthread.h>

#include <map>
#include <mutex>

namespace tracewire::common {
namespace {

struct Registry {
  std::mutex mu;  // held from prepare until parent/child: a std::mutex, not absl's
  std::map<int, ForkHandler> handlers;
  ForkHandler runtime;
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
  if (r.runtime.prepare) r.runtime.prepare();
}

void Parent() {
  Registry& r = Get();
  if (r.runtime.parent) r.runtime.parent();
  for (auto it = r.handlers.rbegin(); it != r.handlers.rend(); ++it) {
    if (it->second.parent) it->second.parent();
  }
  r.mu.unlock();
}

void Child() {
  Registry& r = Get();
  if (r.runtime.child) r.runtime.child();
  for (auto it = r.handlers.rbegin(); it != r.handlers.rend(); ++it) {
    if (it->second.child) it->second.child();
  }
  for (auto& [id, h] : r.handlers) {
    if (h.restart) h.restart();
  }
  r.mu.unlock();
}

void InstallOnce() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(&Prepare, &Parent, &Child); });
}

}  // namespace

void SetRuntimeForkHooks(ForkHandler hooks) {
  InstallOnce();
  Registry& r = Get();
  std::lock_guard<std::mutex> l(r.mu);
  r.runtime = std::move(hooks);
}

int RegisterForkHandler(ForkHandler handler) {
  InstallOnce();
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
