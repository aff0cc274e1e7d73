//===- RandomTest.cpp - Random streams, shuffling, init, schedules --------===//
//-===//

#include "TestUtil.h"

#include "dlc/Runtime/Initializers.h"
#include "dlc/Runtime/LRSchedule.h"
#include "dlc/Runtime/Random.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

using namespace dlc::runtime;
using namespace dlc::runtime::testing;

namespace {

TEST(RandomTest, SplitMixReferenceValues) {
  // SplitMix64 seeded with 0: the first outputs of the reference
  // implementation (Vigna's splitmix64.c).
  Rng rng(0);
  EXPECT_EQ(rng.next(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(rng.next(), 0x6E789E6AA1B965F4ULL);
}

TEST(RandomTest, UniformAndNormalMoments) {
  Rng rng(42);
  double sum = 0, sumSq = 0, nsum = 0, nsumSq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sumSq += u * u;
    double z = rng.normal();
    nsum += z;
    nsumSq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.01);
  EXPECT_NEAR(sumSq / n - 0.25, 1.0 / 12, 0.01);
  EXPECT_NEAR(nsum / n, 0.0, 0.01);
  EXPECT_NEAR(nsumSq / n, 1.0, 0.02);
}

TEST(ShuffleTest, PermutationIsAPureFunctionOfSeedAndEpoch) {
  std::vector<uint32_t> a = epochPermutation(7, 3, 1000);
  std::vector<uint32_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (uint32_t i = 0; i < 1000; ++i)
    ASSERT_EQ(sorted[i], i);
  EXPECT_EQ(a, epochPermutation(7, 3, 1000));
  EXPECT_NE(a, epochPermutation(7, 4, 1000));
  EXPECT_NE(a, epochPermutation(8, 3, 1000));
  // Independent of the thread computing it.
  std::vector<uint32_t> fromThread;
  std::thread([&] { fromThread = epochPermutation(7, 3, 1000); }).join();
  EXPECT_EQ(a, fromThread);
}

TEST(InitializersTest, KerasFans) {
  Fans conv = computeFans({3, 3, 16, 32}); // HWCF
  EXPECT_EQ(conv.fanIn, 3 * 3 * 16);
  EXPECT_EQ(conv.fanOut, 3 * 3 * 32);
  Fans dense = computeFans({128, 10});
  EXPECT_EQ(dense.fanIn, 128);
  EXPECT_EQ(dense.fanOut, 10);
  EXPECT_EQ(computeFans({7}).fanIn, 7);
}

/// Mean, standard deviation and max |x| of a tensor.
static std::tuple<double, double, double> stats(const Tensor &t) {
  double sum = 0, sumSq = 0, maxAbs = 0;
  for (int64_t i = 0; i < t.getNumElements(); ++i) {
    double x = t.data<float>()[i];
    sum += x;
    sumSq += x * x;
    maxAbs = std::max(maxAbs, std::fabs(x));
  }
  double n = t.getNumElements(), mean = sum / n;
  return {mean, std::sqrt(sumSq / n - mean * mean), maxAbs};
}

TEST(InitializersTest, GlorotUniformBound) {
  Tensor t(DType::F32, {3, 3, 32, 64});
  ASSERT_FALSE(initializeTensor(t, "glorot_uniform", 1, "conv/kernel"));
  auto [mean, stddev, maxAbs] = stats(t);
  double limit = std::sqrt(6.0 / (9 * 32 + 9 * 64));
  EXPECT_LE(maxAbs, limit);
  EXPECT_GT(maxAbs, 0.99 * limit);
  EXPECT_NEAR(mean, 0, 0.01 * limit);
  EXPECT_NEAR(stddev, limit / std::sqrt(3.0), 0.02 * limit);
}

TEST(InitializersTest, HeNormalIsTruncatedWithKerasVariance) {
  Tensor t(DType::F32, {784, 256});
  ASSERT_FALSE(initializeTensor(t, "he_normal", 1, "dense/kernel"));
  auto [mean, stddev, maxAbs] = stats(t);
  double target = std::sqrt(2.0 / 784);
  EXPECT_NEAR(stddev, target, 0.02 * target);
  // Truncated at two standard deviations of the untruncated normal.
  EXPECT_LE(maxAbs, 2 * target / 0.87962566103423978 + 1e-6);
  EXPECT_NEAR(mean, 0, 0.02 * target);
}

TEST(InitializersTest, OtherInitializers) {
  Tensor t(DType::F32, {100, 100});
  for (const char *name :
       {"glorot_normal", "he_uniform", "lecun_normal", "lecun_uniform",
        "random_normal", "random_uniform", "truncated_normal"}) {
    ASSERT_FALSE(initializeTensor(t, name, 1, "w")) << name;
    auto [mean, stddev, maxAbs] = stats(t);
    EXPECT_GT(stddev, 0) << name;
    EXPECT_LT(std::fabs(mean), 0.01) << name;
  }
  ASSERT_FALSE(initializeTensor(t, "ones", 1, "w"));
  EXPECT_EQ(t.data<float>()[123], 1.0f);
  Tensor counter(DType::I64, {});
  ASSERT_FALSE(initializeTensor(counter, "zeros", 1, "n"));
  EXPECT_EQ(*counter.data<int64_t>(), 0);
}

TEST(InitializersTest, DependsOnSeedAndNameOnly) {
  Tensor a(DType::F32, {10}), b(DType::F32, {10}), c(DType::F32, {10});
  ASSERT_FALSE(initializeTensor(a, "glorot_uniform", 5, "x"));
  ASSERT_FALSE(initializeTensor(b, "glorot_uniform", 5, "x"));
  ASSERT_FALSE(initializeTensor(c, "glorot_uniform", 5, "y"));
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.getSizeInBytes()));
  EXPECT_NE(0, std::memcmp(a.data(), c.data(), a.getSizeInBytes()));
}

TEST(InitializersTest, UnknownInitializer) {
  Tensor t(DType::F32, {2});
  EXPECT_THAT(
      errorMessage(initializeTensor(t, "xavier", 0, "conv/kernel")),
      ::testing::HasSubstr("unknown initializer 'xavier' for 'conv/kernel'"));
}

TEST(LRScheduleTest, Constant) {
  LRSchedule s;
  s.baseRate = 0.1;
  EXPECT_DOUBLE_EQ(s.at(0), 0.1);
  EXPECT_DOUBLE_EQ(s.at(1000), 0.1);
}

TEST(LRScheduleTest, StepDecay) {
  LRSchedule s;
  s.kind = LRSchedule::Step;
  s.baseRate = 1;
  s.stepsPerEpoch = 10;
  s.decayEpochs = 2;
  s.decayFactor = 0.5;
  EXPECT_DOUBLE_EQ(s.at(19), 1);
  EXPECT_DOUBLE_EQ(s.at(20), 0.5);
  EXPECT_DOUBLE_EQ(s.at(45), 0.25);
}

TEST(LRScheduleTest, CosineWithWarmup) {
  LRSchedule s;
  s.kind = LRSchedule::Cosine;
  s.baseRate = 1;
  s.minRate = 0.1;
  s.stepsPerEpoch = 10;
  s.epochs = 5;
  s.warmupEpochs = 1;
  EXPECT_DOUBLE_EQ(s.at(0), 0.1); // (0 + 1) / 10 of the way up.
  EXPECT_DOUBLE_EQ(s.at(9), 1.0);
  EXPECT_DOUBLE_EQ(s.at(10), 1.0);               // Cosine starts at the top.
  EXPECT_NEAR(s.at(30), 0.1 + 0.9 * 0.5, 1e-12); // Halfway.
  EXPECT_NEAR(s.at(50), 0.1, 1e-12);
  EXPECT_NEAR(s.at(1000), 0.1, 1e-12);
  EXPECT_THAT(errorMessage(parseScheduleKind("linear").takeError()),
              ::testing::HasSubstr("unknown learning-rate schedule"));
}

} // namespace
