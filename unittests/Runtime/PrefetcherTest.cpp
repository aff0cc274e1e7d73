//===- PrefetcherTest.cpp - The background batch assembler ----------------===//
//
// The Prefetcher's contract: a background job runs on another thread and
// is finished when wait() returns; jobs run one at a time, in order; the
// foreground mode runs the same job at once, on the caller's thread.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Data/Prefetcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <vector>

using namespace dlc::runtime;

namespace {

TEST(PrefetcherTest, BackgroundJobRunsOnAnotherThreadAndWaitJoinsIt) {
  Prefetcher prefetcher(/*background=*/true);
  EXPECT_TRUE(prefetcher.isBackground());
  std::thread::id worker;
  std::atomic<bool> done{false};
  prefetcher.start([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    worker = std::this_thread::get_id();
    done = true;
  });
  prefetcher.wait();
  EXPECT_TRUE(done);
  EXPECT_NE(worker, std::this_thread::get_id());
}

TEST(PrefetcherTest, JobsRunOneAtATimeInOrder) {
  Prefetcher prefetcher(/*background=*/true);
  std::vector<int> order;
  std::atomic<int> running{0}, overlaps{0};
  for (int i = 0; i < 50; ++i)
    prefetcher.start([&, i] {
      if (running.fetch_add(1) != 0)
        ++overlaps;
      order.push_back(i);
      running.fetch_sub(1);
    });
  prefetcher.wait();
  EXPECT_EQ(overlaps, 0);
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(order[i], i);
}

TEST(PrefetcherTest, ForegroundRunsTheJobAtOnceOnTheCaller) {
  Prefetcher prefetcher(/*background=*/false);
  std::thread::id worker;
  prefetcher.start([&] { worker = std::this_thread::get_id(); });
  EXPECT_EQ(worker, std::this_thread::get_id());
  prefetcher.wait(); // Nothing in flight: returns.
}

TEST(PrefetcherTest, DestructorWaitsForTheJobInFlight) {
  std::atomic<bool> done{false};
  {
    Prefetcher prefetcher(/*background=*/true);
    prefetcher.start([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      done = true;
    });
  }
  EXPECT_TRUE(done);
}

TEST(PrefetcherTest, WaitWithoutAJobReturns) {
  Prefetcher prefetcher(/*background=*/true);
  prefetcher.wait();
}

} // namespace
