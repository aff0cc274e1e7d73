//===- Prefetcher.cpp - The next batch, assembled during this step --------===//
//
// A mutex, one condition variable and a one-job mailbox: `busy` is true
// from start() until the worker has run the job, so wait() also covers a
// job the worker has not picked up yet.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Data/Prefetcher.h"

using namespace dlc::runtime;

Prefetcher::Prefetcher(bool background) : background(background) {}

Prefetcher::~Prefetcher() {
  if (!thread.joinable())
    return;
  {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return !busy; });
    stopping = true;
  }
  changed.notify_all();
  thread.join();
}

void Prefetcher::start(std::function<void()> job) {
  if (!background) {
    job();
    return;
  }
  if (!thread.joinable())
    thread = std::thread([this] { work(); });
  {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return !busy; });
    pending = std::move(job);
    busy = true;
  }
  changed.notify_all();
}

void Prefetcher::wait() {
  if (!background)
    return;
  std::unique_lock<std::mutex> lock(mutex);
  changed.wait(lock, [&] { return !busy; });
}

void Prefetcher::work() {
  std::unique_lock<std::mutex> lock(mutex);
  while (true) {
    changed.wait(lock, [&] { return stopping || pending; });
    if (stopping)
      return;
    std::function<void()> job = std::move(pending);
    pending = nullptr;
    lock.unlock();
    job();
    lock.lock();
    busy = false;
    changed.notify_all();
  }
}
