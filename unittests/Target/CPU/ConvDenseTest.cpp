//===- ConvDenseTest.cpp - e2e numerics of dlc.conv2d and dlc.dense -------===//
//
// Every case of the grid is one function of a single module, compiled once
// through the full CPU pipeline (tiling and vectorization included), then
// run against the naive reference. The grid covers batch 1 and > 1, odd and
// even sizes, strides 1 and 2, dilation, valid / same / explicit padding,
// depthwise (with and without a channel multiplier) and grouped
// convolutions, bias, and channel counts that are not multiples of 8.
// Cases with a relu run it in the kernel's epilogue (the CPU schedule's
// epilogue fusion), including dense layers whose blocked reduction is split
// so that the last block carries the relu.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"
#include "TestSupport.h"

#include <algorithm>
#include <sstream>

using namespace dlc::test;

namespace {

struct ConvCase {
  std::string name;
  std::vector<int64_t> input; // N, H, W, C
  std::array<int64_t, 2> kernel;
  int64_t filters;
  std::array<int64_t, 2> strides = {1, 1};
  std::array<int64_t, 2> dilations = {1, 1};
  std::string padding = "valid"; // valid, same or explicit
  std::array<int64_t, 4> pads = {0, 0, 0, 0};
  int64_t groups = 1;
  bool bias = false;
  bool relu = false;

  std::vector<int64_t> filterShape() const {
    return {kernel[0], kernel[1], input[3] / groups, filters};
  }
  ref::Conv2DParams params() const {
    ref::Conv2DParams p{strides, dilations, pads, groups};
    if (padding == "same") {
      auto [t, b] =
          ref::samePadding(input[1], kernel[0], strides[0], dilations[0]);
      auto [l, r] =
          ref::samePadding(input[2], kernel[1], strides[1], dilations[1]);
      p.pads = {t, b, l, r};
    }
    return p;
  }
  std::vector<int64_t> outputShape() const {
    ref::Conv2DParams p = params();
    return {input[0],
            ref::windowOutput(input[1], kernel[0], strides[0], dilations[0],
                              p.pads[0], p.pads[1]),
            ref::windowOutput(input[2], kernel[1], strides[1], dilations[1],
                              p.pads[2], p.pads[3]),
            filters};
  }
};

std::vector<ConvCase> convCases() {
  std::vector<ConvCase> c;
  c.push_back({"b1_5x5x3_k3_valid", {1, 5, 5, 3}, {3, 3}, 8});
  c.push_back({"b2_6x7x5_k3_same_bias", {2, 6, 7, 5}, {3, 3}, 12});
  c.back().padding = "same", c.back().bias = true;
  c.push_back({"b3_9x8x4_k3_s2_bias", {3, 9, 8, 4}, {3, 3}, 16, {2, 2}});
  c.back().bias = true;
  c.push_back({"b2_9x9x3_k3_s2_same", {2, 9, 9, 3}, {3, 3}, 5, {2, 2}});
  c.back().padding = "same";
  c.push_back({"b2_8x8x3_k2_s2_same_even", {2, 8, 8, 3}, {2, 2}, 4, {2, 2}});
  c.back().padding = "same";
  c.push_back({"b1_10x10x4_k3_d2", {1, 10, 10, 4}, {3, 3}, 8, {1, 1}, {2, 2}});
  c.push_back(
      {"b2_11x9x6_k3_d2_same_bias", {2, 11, 9, 6}, {3, 3}, 10, {1, 1}, {2, 2}});
  c.back().padding = "same", c.back().bias = true;
  c.push_back({"b1_7x7x3_k5x3_explicit", {1, 7, 7, 3}, {5, 3}, 7});
  c.back().padding = "explicit", c.back().pads = {2, 1, 0, 2};
  c.push_back({"b2_5x6x16_k1", {2, 5, 6, 16}, {1, 1}, 24});
  c.push_back({"b1_13x13x17_k3_same_f33", {1, 13, 13, 17}, {3, 3}, 33});
  c.back().padding = "same";
  c.push_back(
      {"b2_12x11x8_k3_s2_d2_same", {2, 12, 11, 8}, {3, 3}, 16, {2, 2}, {2, 2}});
  c.back().padding = "same";
  c.push_back({"b2_10x9x5_k3_s1x2", {2, 10, 9, 5}, {3, 3}, 6, {1, 2}});
  // The mnist_cnn layers at a small batch: the vectorized schedule.
  c.push_back({"b3_28x28x1_k3_f32", {3, 28, 28, 1}, {3, 3}, 32});
  c.back().bias = true;
  c.push_back({"b2_26x26x32_k3_f64", {2, 26, 26, 32}, {3, 3}, 64});
  c.back().bias = true;
  // Relu in the epilogue: with a bias (the accumulator starts from its
  // broadcast), without (from zero), strided.
  c.push_back({"b2_26x26x32_k3_f64_bias_relu", {2, 26, 26, 32}, {3, 3}, 64});
  c.back().bias = true, c.back().relu = true;
  c.push_back({"b2_6x7x5_k3_same_relu", {2, 6, 7, 5}, {3, 3}, 12});
  c.back().padding = "same", c.back().relu = true;
  c.push_back({"b2_9x9x8_k3_s2_same_relu", {2, 9, 9, 8}, {3, 3}, 16, {2, 2}});
  c.back().padding = "same", c.back().relu = true;
  // Depthwise: groups == C, with multiplier 1 and 2.
  c.push_back({"dw_b2_8x8x6_k3_same_bias", {2, 8, 8, 6}, {3, 3}, 6});
  c.back().padding = "same", c.back().groups = 6, c.back().bias = true;
  c.push_back({"dw_b1_9x9x16_k3_s2", {1, 9, 9, 16}, {3, 3}, 16, {2, 2}});
  c.back().groups = 16;
  c.push_back({"dw_m2_b1_7x7x4_k3_s2", {1, 7, 7, 4}, {3, 3}, 8, {2, 2}});
  c.back().groups = 4;
  c.push_back(
      {"dw_m3_b2_6x6x3_k3_d2_same", {2, 6, 6, 3}, {3, 3}, 9, {1, 1}, {2, 2}});
  c.back().groups = 3, c.back().padding = "same";
  // Grouped: 1 < groups < C.
  c.push_back({"g2_b2_6x6x8_k3_same", {2, 6, 6, 8}, {3, 3}, 12});
  c.back().groups = 2, c.back().padding = "same";
  c.push_back({"g3_b1_7x5x6_k3x1_s2x1_bias", {1, 7, 5, 6}, {3, 1}, 9, {2, 1}});
  c.back().groups = 3, c.back().bias = true;
  return c;
}

std::string convFunction(size_t index, const ConvCase &c) {
  HostTensor x = HostTensor::f32(c.input);
  HostTensor w = HostTensor::f32(c.filterShape());
  HostTensor b = HostTensor::f32({c.filters});
  HostTensor y = HostTensor::f32(c.outputShape());
  std::ostringstream os;
  os << "func.func @conv_" << index << "(%x: " << x.type()
     << ", %w: " << w.type();
  if (c.bias)
    os << ", %b: " << b.type();
  os << ") -> " << y.type() << " {\n  %y = dlc.conv2d %x, %w"
     << (c.bias ? ", %b" : "") << " {dilations = array<i64: " << c.dilations[0]
     << ", " << c.dilations[1] << ">, groups = " << c.groups
     << " : i64, padding = #dlc.padding<" << c.padding << ">";
  if (c.padding == "explicit")
    os << ", pads = array<i64: " << c.pads[0] << ", " << c.pads[1] << ", "
       << c.pads[2] << ", " << c.pads[3] << ">";
  os << ", strides = array<i64: " << c.strides[0] << ", " << c.strides[1]
     << ">} : (" << x.type() << ", " << w.type()
     << (c.bias ? ", " + b.type() : "") << ") -> " << y.type() << "\n";
  if (c.relu)
    os << "  %r = dlc.relu %y : " << y.type() << "\n  return %r : " << y.type()
       << "\n}\n";
  else
    os << "  return %y : " << y.type() << "\n}\n";
  return os.str();
}

class Conv2DTest : public ::testing::TestWithParam<size_t> {
protected:
  static void SetUpTestSuite() {
    std::string source;
    std::vector<ConvCase> cases = convCases();
    for (size_t i = 0; i < cases.size(); ++i)
      source += convFunction(i, cases[i]);
    object = compileSource(source).release();
  }
  static void TearDownTestSuite() { delete object; }
  static mlir::dlc::LoadedObject *object;
};
mlir::dlc::LoadedObject *Conv2DTest::object = nullptr;

TEST_P(Conv2DTest, MatchesReference) {
  ASSERT_TRUE(object);
  ConvCase c = convCases()[GetParam()];
  std::mt19937 rng(GetParam());
  HostTensor x = HostTensor::f32(c.input);
  HostTensor w = HostTensor::f32(c.filterShape());
  HostTensor b = HostTensor::f32({c.filters});
  x.randomize(rng), w.randomize(rng), b.randomize(rng);
  HostTensor y = HostTensor::f32(c.outputShape(), NAN);
  if (c.bias)
    call(*object, "conv_" + std::to_string(GetParam()), {x, w, b, y});
  else
    call(*object, "conv_" + std::to_string(GetParam()), {x, w, y});
  HostTensor expected = ref::conv2d(x, w, c.bias ? &b : nullptr, c.params());
  if (c.relu)
    for (float &v : expected.f())
      v = std::max(v, 0.0f);
  EXPECT_TRUE(allClose(y.f(), expected.f(), 1e-4f, 1e-4f));
}

INSTANTIATE_TEST_SUITE_P(Grid, Conv2DTest,
                         ::testing::Range<size_t>(0, convCases().size()),
                         [](const ::testing::TestParamInfo<size_t> &info) {
                           return convCases()[info.param].name;
                         });

struct DenseCase {
  std::string name;
  int64_t batch, inputs, units;
  bool bias;
  bool relu = false;
};

std::vector<DenseCase> denseCases() {
  return {{"b1_7_to_3", 1, 7, 3, false},
          {"b4_32_to_10_bias", 4, 32, 10, true},
          {"b3_33_to_17_bias", 3, 33, 17, true},
          {"b5_16_to_128", 5, 16, 128, false},
          {"b8_1152_to_64_bias", 8, 1152, 64, true},
          {"b64_128_to_10_bias", 64, 128, 10, true},
          // Relu in the epilogue: a reduction within one block, and blocked
          // ones (1152 = 3 x 384, 9216 = 18 x 512: the last block apart).
          {"b4_32_to_10_bias_relu", 4, 32, 10, true, true},
          {"b8_1152_to_64_bias_relu", 8, 1152, 64, true, true},
          {"b4_9216_to_128_bias_relu", 4, 9216, 128, true, true},
          {"b4_9216_to_128_relu", 4, 9216, 128, false, true}};
}

class DenseTest : public ::testing::TestWithParam<size_t> {
protected:
  static void SetUpTestSuite() {
    std::ostringstream os;
    std::vector<DenseCase> cases = denseCases();
    for (size_t i = 0; i < cases.size(); ++i) {
      const DenseCase &c = cases[i];
      std::string x = HostTensor::f32({c.batch, c.inputs}).type();
      std::string w = HostTensor::f32({c.inputs, c.units}).type();
      std::string b = HostTensor::f32({c.units}).type();
      std::string y = HostTensor::f32({c.batch, c.units}).type();
      os << "func.func @dense_" << i << "(%x: " << x << ", %w: " << w
         << (c.bias ? ", %b: " + b : "") << ") -> " << y
         << " {\n  %y = dlc.dense %x, %w" << (c.bias ? ", %b" : "") << " : ("
         << x << ", " << w << (c.bias ? ", " + b : "") << ") -> " << y << "\n";
      if (c.relu)
        os << "  %r = dlc.relu %y : " << y << "\n  return %r : " << y
           << "\n}\n";
      else
        os << "  return %y : " << y << "\n}\n";
    }
    object = compileSource(os.str()).release();
  }
  static void TearDownTestSuite() { delete object; }
  static mlir::dlc::LoadedObject *object;
};
mlir::dlc::LoadedObject *DenseTest::object = nullptr;

TEST_P(DenseTest, MatchesReference) {
  ASSERT_TRUE(object);
  DenseCase c = denseCases()[GetParam()];
  std::mt19937 rng(100 + GetParam());
  HostTensor x = HostTensor::f32({c.batch, c.inputs});
  HostTensor w = HostTensor::f32({c.inputs, c.units});
  HostTensor b = HostTensor::f32({c.units});
  x.randomize(rng), w.randomize(rng), b.randomize(rng);
  HostTensor y = HostTensor::f32({c.batch, c.units}, NAN);
  std::string name = "dense_" + std::to_string(GetParam());
  if (c.bias)
    call(*object, name, {x, w, b, y});
  else
    call(*object, name, {x, w, y});
  HostTensor expected = ref::dense(x, w, c.bias ? &b : nullptr);
  if (c.relu)
    for (float &v : expected.f())
      v = std::max(v, 0.0f);
  EXPECT_TRUE(allClose(y.f(), expected.f(), 1e-4f, 1e-4f));
}

INSTANTIATE_TEST_SUITE_P(Grid, DenseTest,
                         ::testing::Range<size_t>(0, denseCases().size()),
                         [](const ::testing::TestParamInfo<size_t> &info) {
                           return denseCases()[info.param].name;
                         });

} // namespace
