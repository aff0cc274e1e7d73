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

/// A residual stage like resnet_small's: a stride-2 conv -> BN -> relu ->
/// conv -> BN branch and a 1x1 stride-2 projection -> BN, added, then relu.
/// The add hands one relu gradient to two batch_norm_grads (neither may
/// fuse), the first branch's relu_grad -> batch_norm_grad must.
constexpr const char *kResidualStage = R"mlir(
func.func @r(%x: tensor<2x8x8x4xf32>, %w1: tensor<3x3x4x6xf32>, %g1: tensor<6xf32>, %b1: tensor<6xf32>, %w2: tensor<3x3x6x6xf32>, %g2: tensor<6xf32>, %b2: tensor<6xf32>, %wp: tensor<1x1x4x6xf32>, %gp: tensor<6xf32>, %bp: tensor<6xf32>) -> tensor<2x4x4x6xf32> {
  %rm = arith.constant dense<0.1> : tensor<6xf32>
  %rv = arith.constant dense<1.5> : tensor<6xf32>
  %c1 = dlc.conv2d %x, %w1 {padding = #dlc.padding<same>, strides = array<i64: 2, 2>} : (tensor<2x8x8x4xf32>, tensor<3x3x4x6xf32>) -> tensor<2x4x4x6xf32>
  %n1:5 = dlc.batch_norm_train %c1, %g1, %b1, %rm, %rv : (tensor<2x4x4x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> (tensor<2x4x4x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>)
  %r1 = dlc.relu %n1#0 : tensor<2x4x4x6xf32>
  %c2 = dlc.conv2d %r1, %w2 {padding = #dlc.padding<same>} : (tensor<2x4x4x6xf32>, tensor<3x3x6x6xf32>) -> tensor<2x4x4x6xf32>
  %n2:5 = dlc.batch_norm_train %c2, %g2, %b2, %rm, %rv : (tensor<2x4x4x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> (tensor<2x4x4x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>)
  %cp = dlc.conv2d %x, %wp {strides = array<i64: 2, 2>} : (tensor<2x8x8x4xf32>, tensor<1x1x4x6xf32>) -> tensor<2x4x4x6xf32>
  %np:5 = dlc.batch_norm_train %cp, %gp, %bp, %rm, %rv : (tensor<2x4x4x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> (tensor<2x4x4x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>)
  %a = dlc.add %n2#0, %np#0 : tensor<2x4x4x6xf32>
  %o = dlc.relu %a : tensor<2x4x4x6xf32>
  return %o : tensor<2x4x4x6xf32>
}
)mlir";

constexpr const char *kResidualStageWide = R"mlir(
func.func @rw(%x: tensor<2x16x16x16xf32>, %w1: tensor<3x3x16x32xf32>, %g1: tensor<32xf32>, %b1: tensor<32xf32>, %w2: tensor<3x3x32x32xf32>, %g2: tensor<32xf32>, %b2: tensor<32xf32>, %wp: tensor<1x1x16x32xf32>, %gp: tensor<32xf32>, %bp: tensor<32xf32>) -> tensor<2x8x8x32xf32> {
  %rm = arith.constant dense<0.1> : tensor<32xf32>
  %rv = arith.constant dense<1.5> : tensor<32xf32>
  %c1 = dlc.conv2d %x, %w1 {padding = #dlc.padding<same>, strides = array<i64: 2, 2>} : (tensor<2x16x16x16xf32>, tensor<3x3x16x32xf32>) -> tensor<2x8x8x32xf32>
  %n1:5 = dlc.batch_norm_train %c1, %g1, %b1, %rm, %rv : (tensor<2x8x8x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) -> (tensor<2x8x8x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>)
  %r1 = dlc.relu %n1#0 : tensor<2x8x8x32xf32>
  %c2 = dlc.conv2d %r1, %w2 {padding = #dlc.padding<same>} : (tensor<2x8x8x32xf32>, tensor<3x3x32x32xf32>) -> tensor<2x8x8x32xf32>
  %n2:5 = dlc.batch_norm_train %c2, %g2, %b2, %rm, %rv : (tensor<2x8x8x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) -> (tensor<2x8x8x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>)
  %cp = dlc.conv2d %x, %wp {strides = array<i64: 2, 2>} : (tensor<2x16x16x16xf32>, tensor<1x1x16x32xf32>) -> tensor<2x8x8x32xf32>
  %np:5 = dlc.batch_norm_train %cp, %gp, %bp, %rm, %rv : (tensor<2x8x8x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) -> (tensor<2x8x8x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>)
  %a = dlc.add %n2#0, %np#0 : tensor<2x8x8x32xf32>
  %o = dlc.relu %a : tensor<2x8x8x32xf32>
  return %o : tensor<2x8x8x32xf32>
}
)mlir";

void checkResidual(const char *source, const std::string &fn,
                   std::vector<std::vector<int64_t>> shapes,
                   std::vector<int64_t> outShape) {
  auto unfused = compileSource(source, {}, "dlc-test-vjp");
  auto fused = compileSource(source, {},
                             "dlc-test-vjp,func.func(dlc-fuse-conv-bn-relu)");
  ASSERT_TRUE(unfused && fused);
  std::mt19937 rng(11);
  std::vector<HostTensor> args;
  for (size_t i = 0; i < shapes.size(); ++i) {
    args.push_back(HostTensor::f32(shapes[i]));
    bool gamma = i == 2 || i == 5 || i == 8;
    args.back().randomize(rng, gamma ? 0.5f : -1.0f, gamma ? 1.5f : 1.0f);
  }
  HostTensor dy = HostTensor::f32(outShape);
  dy.randomize(rng);
  auto run = [&](mlir::dlc::LoadedObject &object) {
    std::vector<HostTensor> grads;
    for (const auto &shape : shapes)
      grads.push_back(HostTensor::f32(shape, NAN));
    std::vector<CallArg> callArgs;
    for (HostTensor &a : args)
      callArgs.emplace_back(a);
    callArgs.emplace_back(dy);
    for (HostTensor &g : grads)
      callArgs.emplace_back(g);
    call(object, fn + "_vjp", callArgs);
    return grads;
  };
  std::vector<HostTensor> expected = run(*unfused), actual = run(*fused);
  for (size_t i = 0; i < expected.size(); ++i) {
    float scale = 1e-6f;
    for (float v : expected[i].f())
      scale = std::max(scale, std::fabs(v));
    EXPECT_TRUE(allClose(actual[i].f(), expected[i].f(), 1e-4f * scale, 0))
        << "gradient of argument " << i;
  }
}

TEST(FusedGradientResidual, MatchesUnfusedBackward) {
  checkResidual(kResidualStage, "r",
                {{2, 8, 8, 4},
                 {3, 3, 4, 6},
                 {6},
                 {6},
                 {3, 3, 6, 6},
                 {6},
                 {6},
                 {1, 1, 4, 6},
                 {6},
                 {6}},
                {2, 4, 4, 6});
}

TEST(FusedGradientResidual, WideChannelsMatchUnfusedBackward) {
  checkResidual(kResidualStageWide, "rw",
                {{2, 16, 16, 16},
                 {3, 3, 16, 32},
                 {32},
                 {32},
                 {3, 3, 32, 32},
                 {32},
                 {32},
                 {1, 1, 16, 32},
                 {32},
                 {32}},
                {2, 8, 8, 32});
}

} // namespace
