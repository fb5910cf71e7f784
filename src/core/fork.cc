// The fork registry (see core/fork.h).
#include "core/fork.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <new>
#include <vector>

namespace otelweb::internal {

namespace {

struct Registry {
  std::mutex mu;
  std::vector<ForkAware*> objects;  // in registration order
  std::atomic<unsigned> generation{0};
};

Registry& R() {
  static Registry* r = new Registry;  // never destroyed: workers may unregister at exit
  return *r;
}

void Prepare() {
  Registry& r = R();
  r.mu.lock();
  for (ForkAware* o : r.objects) o->BeforeFork();
}
void Parent() {
  Registry& r = R();
  for (ForkAware* o : r.objects) o->AfterForkInParent();
  r.mu.unlock();
}
void Child() {
  Registry& r = R();
  r.generation.fetch_add(1, std::memory_order_relaxed);
  // The lock is held by this thread (Prepare): the list is consistent. A
  // copy, because an object may register again (a worker's Start).
  std::vector<ForkAware*> objects;
  try {
    objects = r.objects;
  } catch (...) {
  }
  r.mu.unlock();
  for (ForkAware* o : objects) o->AfterForkInChild();
}

void InstallOnce() {
  static const bool installed = [] {
    pthread_atfork(&Prepare, &Parent, &Child);
    return true;
  }();
  (void)installed;
}

}  // namespace

void RegisterForFork(ForkAware* object) noexcept {
  InstallOnce();
  Registry& r = R();
  std::lock_guard<std::mutex> lock(r.mu);
  try {
    if (std::find(r.objects.begin(), r.objects.end(), object) == r.objects.end()) r.objects.push_back(object);
  } catch (...) {
  }
}

void UnregisterForFork(ForkAware* object) noexcept {
  Registry& r = R();
  std::lock_guard<std::mutex> lock(r.mu);
  r.objects.erase(std::remove(r.objects.begin(), r.objects.end(), object), r.objects.end());
}

unsigned ForkGeneration() noexcept { return R().generation.load(std::memory_order_relaxed); }

}  // namespace otelweb::internal
