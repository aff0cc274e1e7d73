//===- CommunicatorTest.cpp - Single-process collectives, ring chunks ----===//
//
// The multi-rank behaviour (equality with one process, bit-identical
// reruns, timeouts) is tested over mpirun in test/e2e/data-parallel.test;
// here: what every runtime does alone.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Communicator.h"

#include <gtest/gtest.h>

#include <vector>

using namespace dlc::runtime;

namespace {

TEST(CommunicatorTest, SingleProcessIsTheIdentity) {
  auto comm = createSingleProcessCommunicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  std::vector<float> data = {1.5f, -2.0f, 3.25f};
  ASSERT_FALSE(bool(comm->allReduce(data.data(), data.size(), Reduction::Sum)));
  ASSERT_FALSE(
      bool(comm->allReduce(data.data(), data.size(), Reduction::Mean)));
  EXPECT_EQ(data, (std::vector<float>{1.5f, -2.0f, 3.25f}));
  ASSERT_FALSE(bool(comm->barrier()));
}

TEST(CommunicatorTest, RingChunksPartitionTheBuffer) {
  // Every (count, ranks): chunks are contiguous, in order, cover
  // [0, count) exactly and differ in length by at most one.
  for (size_t count : {0, 1, 2, 7, 1000, 1199978})
    for (int ranks : {1, 2, 3, 8, 64}) {
      size_t expected = 0, smallest = SIZE_MAX, largest = 0;
      for (int c = 0; c < ranks; ++c) {
        size_t begin, end;
        ringChunk(count, ranks, c, begin, end);
        EXPECT_EQ(begin, expected) << count << " " << ranks << " " << c;
        EXPECT_LE(begin, end);
        expected = end;
        smallest = std::min(smallest, end - begin);
        largest = std::max(largest, end - begin);
      }
      EXPECT_EQ(expected, count) << count << " " << ranks;
      EXPECT_LE(largest - smallest, 1u);
    }
}

TEST(CommunicatorTest, CompiledStepCallWithoutCommunicatorIsANoOp) {
  // A step compiled with --data-parallel run alone: no communicator set.
  setCurrentCommunicator(nullptr);
  std::vector<float> data = {4.0f, 8.0f};
  int64_t before = getAllReduceCallCount();
  dlc_rt_all_reduce_f32(data.data(), data.data(), 0, 2, 1,
                        int32_t(Reduction::Mean), 0);
  EXPECT_EQ(getAllReduceCallCount(), before + 1);
  EXPECT_EQ(data, (std::vector<float>{4.0f, 8.0f}));
}

TEST(CommunicatorTest, StatisticsCallAloneIsTheIdentity) {
  // A step compiled with --sync-batch-norm run alone: the mean over one
  // rank, every bit kept, with or without the single-process communicator.
  std::vector<double> sums = {0.1, -3.25, 1e300};
  auto single = createSingleProcessCommunicator();
  for (Communicator *communicator : {(Communicator *)nullptr, single.get()}) {
    setCurrentCommunicator(communicator);
    dlc_rt_all_reduce_f64(sums.data(), sums.data(), 0, 3, 1,
                          int32_t(Reduction::Mean), 0);
    EXPECT_EQ(sums, (std::vector<double>{0.1, -3.25, 1e300}));
  }
  setCurrentCommunicator(nullptr);
}

TEST(CommunicatorTest, SampleOffsetIsWhatTheTrainerSet) {
  EXPECT_EQ(dlc_rt_sample_offset(), 0);
  setSampleOffset(24);
  EXPECT_EQ(dlc_rt_sample_offset(), 24);
  setSampleOffset(0);
  EXPECT_EQ(dlc_rt_sample_offset(), 0);
}

TEST(CommunicatorTest, NotLaunchedByMPIInTests) {
  // ctest does not run under mpirun: the trainer stays single-process.
  if (launchedByMPI())
    GTEST_SKIP() << "running under mpirun";
  EXPECT_FALSE(launchedByMPI());
}

} // namespace
