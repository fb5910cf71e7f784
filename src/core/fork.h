// Private: fork() support for the parts of the SDK that own threads, locks
// or connections (batch workers of every signal, OTLP export clients).
//
// After fork() only the forking thread exists in the child: a worker thread,
// a lock held by another thread at that moment, a gRPC channel or a libcurl
// connection are the parent's. Each such object derives from ForkAware and
// registers itself; one pthread_atfork handler (installed once) then
//   - prepare: takes the registry's lock, so that the list is consistent;
//   - parent: releases it (the parent goes on untouched);
//   - child: calls AfterForkInChild() on every registered object, in the
//     order they registered (export clients are made before the processors
//     that use them, so they are rebuilt first), then releases the lock.
// AfterForkInChild must make the object usable in the child without touching
// any lock or thread of the parent: it constructs its locks anew, forgets
// (leaks) what belongs to the parent, and starts what it needs again.
//
// Ownership: the registry holds plain pointers; an object unregisters itself
// in its destructor. Thread-safety: Register/Unregister from any thread.
#pragma once

#include <chrono>

namespace otelweb::internal {

// How long fork() may wait for one worker's export in progress to end. An
// export that takes longer (a hung collector) is left running: the child may
// then find that exporter's locks taken (docs/troubleshooting.md).
inline constexpr auto kForkQuiesceLimit = std::chrono::seconds(2);

class ForkAware {
 public:
  // In fork()'s prepare handler (the forking thread; registry lock held).
  virtual void BeforeFork() noexcept {}
  // In fork()'s parent handler: undo what BeforeFork took.
  virtual void AfterForkInParent() noexcept {}
  virtual void AfterForkInChild() noexcept = 0;

 protected:
  ~ForkAware() = default;
};

void RegisterForFork(ForkAware* object) noexcept;
void UnregisterForFork(ForkAware* object) noexcept;

// How many times this process came out of fork() as the child (for tests
// and diagnostics).
unsigned ForkGeneration() noexcept;

}  // namespace otelweb::internal
