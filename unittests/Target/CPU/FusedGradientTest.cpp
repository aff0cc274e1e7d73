//===- FusedGradientTest.cpp - Fused conv+BN+relu backward vs unfused -----===//
//
// The backward of a conv2d -> batch_norm_train -> relu block, built by
// dlc-test-vjp and compiled twice: as the gradient rules build it, and after
// dlc-fuse-conv-bn-relu has rewritten both directions into the fused ops.
// The unfused gradients are checked against finite differences op by op
// (GradientCheckTest), so the fused ones must equal them. Covers the block
// shapes of the examples: strides 1 and 2, valid and same padding, odd
// sizes, and a block whose relu output feeds two consumers.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

#include "gtest/gtest.h"

#include <random>
#include <sstream>

using namespace dlc::test;

namespace {

struct Block {
  std::string name;
  std::vector<int64_t> input; // N, H, W, C
  int64_t kernel, filters, stride;
  std::string padding;
  std::vector<int64_t> output;
};

std::string t(const std::vector<int64_t> &shape) {
  return HostTensor::f32(shape).type();
}

/// @<name>(x, w, gamma, beta) -> relu(batch_norm_train(conv2d(x, w))), with
/// constant running statistics (their gradient rules refuse them), and a
/// second result reading the relu output again so the block's output has
/// more than one consumer downstream.
std::string blockFunction(const Block &b) {
  std::vector<int64_t> w = {b.kernel, b.kernel, b.input[3], b.filters};
  std::string v = t({b.filters}), y = t(b.output);
  std::ostringstream os;
  os << "func.func @" << b.name << "(%x: " << t(b.input) << ", %w: " << t(w)
     << ", %g: " << v << ", %b: " << v << ") -> (" << y << ", "
     << t({b.output[0], b.filters}) << ") {\n"
     << "  %rm = arith.constant dense<0.1> : " << v << "\n"
     << "  %rv = arith.constant dense<1.5> : " << v << "\n"
     << "  %c = dlc.conv2d %x, %w {padding = #dlc.padding<" << b.padding
     << ">, strides = array<i64: " << b.stride << ", " << b.stride << ">} : ("
     << t(b.input) << ", " << t(w) << ") -> " << y << "\n"
     << "  %bn:5 = dlc.batch_norm_train %c, %g, %b, %rm, %rv : (" << y << ", "
     << v << ", " << v << ", " << v << ", " << v << ") -> (" << y << ", " << v
     << ", " << v << ", " << v << ", " << v << ")\n"
     << "  %r = dlc.relu %bn#0 : " << y << "\n"
     << "  %p = dlc.global_avg_pool %r : (" << y << ") -> "
     << t({b.output[0], b.filters}) << "\n"
     << "  return %r, %p : " << y << ", " << t({b.output[0], b.filters})
     << "\n}\n";
  return os.str();
}

const std::vector<Block> &blocks() {
  static const std::vector<Block> all = {
      {"s1_valid", {4, 7, 7, 3}, 3, 5, 1, "valid", {4, 5, 5, 5}},
      {"s1_same", {2, 6, 6, 4}, 3, 8, 1, "same", {2, 6, 6, 8}},
      {"s2_same_even", {2, 8, 8, 4}, 3, 6, 2, "same", {2, 4, 4, 6}},
      {"s2_same_odd", {3, 7, 7, 2}, 3, 4, 2, "same", {3, 4, 4, 4}},
      {"s2_valid", {2, 9, 9, 3}, 3, 4, 2, "valid", {2, 4, 4, 4}},
      {"s2_1x1", {2, 8, 8, 4}, 1, 6, 2, "same", {2, 4, 4, 6}},
  };
  return all;
}

class FusedGradient : public ::testing::TestWithParam<size_t> {
protected:
  static void SetUpTestSuite() {
    std::string source;
    for (const Block &b : blocks())
      source += blockFunction(b);
    unfused() = compileSource(source, {}, "dlc-test-vjp");
    fused() = compileSource(source, {},
                            "dlc-test-vjp,func.func(dlc-fuse-conv-bn-relu)");
  }
  static void TearDownTestSuite() {
    unfused().reset();
    fused().reset();
  }
  static std::unique_ptr<mlir::dlc::LoadedObject> &unfused() {
    static std::unique_ptr<mlir::dlc::LoadedObject> object;
    return object;
  }
  static std::unique_ptr<mlir::dlc::LoadedObject> &fused() {
    static std::unique_ptr<mlir::dlc::LoadedObject> object;
    return object;
  }
};

TEST_P(FusedGradient, MatchesUnfusedBackward) {
  ASSERT_TRUE(unfused() && fused()) << "the modules did not compile";
  const Block &b = blocks()[GetParam()];
  std::mt19937 rng(7 + GetParam());
  HostTensor x = HostTensor::f32(b.input);
  HostTensor w = HostTensor::f32({b.kernel, b.kernel, b.input[3], b.filters});
  HostTensor g = HostTensor::f32({b.filters});
  HostTensor beta = HostTensor::f32({b.filters});
  HostTensor dr = HostTensor::f32(b.output);
  HostTensor dp = HostTensor::f32({b.output[0], b.filters});
  x.randomize(rng);
  w.randomize(rng, -0.5f, 0.5f);
  g.randomize(rng, 0.5f, 1.5f);
  beta.randomize(rng, -0.5f, 0.5f);
  dr.randomize(rng);
  dp.randomize(rng);

  auto run = [&](mlir::dlc::LoadedObject &object) {
    std::vector<HostTensor> grads = {
        HostTensor::f32(b.input, NAN), HostTensor::f32(w.shape(), NAN),
        HostTensor::f32({b.filters}, NAN), HostTensor::f32({b.filters}, NAN)};
    call(object, b.name + "_vjp",
         {x, w, g, beta, dr, dp, grads[0], grads[1], grads[2], grads[3]});
    return grads;
  };
  std::vector<HostTensor> expected = run(*unfused());
  std::vector<HostTensor> actual = run(*fused());
  const char *names[] = {"input", "filter", "gamma", "beta"};
  for (size_t i = 0; i < expected.size(); ++i) {
    // Both sides reduce over the same elements in a different order (the
    // fused backward also recomputes xhat from the conv output): f32
    // rounding of sums of a few hundred terms, relative to the tensor's
    // largest gradient.
    float scale = 1e-6f;
    for (float v : expected[i].f())
      scale = std::max(scale, std::fabs(v));
    EXPECT_TRUE(allClose(actual[i].f(), expected[i].f(), 1e-4f * scale, 0))
        << b.name << ": gradient of the " << names[i];
  }
}

INSTANTIATE_TEST_SUITE_P(Blocks, FusedGradient,
                         ::testing::Range<size_t>(0, blocks().size()),
                         [](const ::testing::TestParamInfo<size_t> &info) {
                           return blocks()[info.param].name;
                         });

} // namespace
