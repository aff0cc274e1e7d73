//===- GradientCheckTest.cpp - Every gradient rule vs finite differences --===//
//
// For every differentiable op, over a grid of configurations, a tiny @f is
// compiled together with the @f_vjp that dlc-test-vjp builds from the
// gradient rules (one module for the whole grid), and each gradient is
// compared with central finite differences of the scalar
// L(x) = <dy, f(x)> computed by calling the compiled @f.
//
// Precision. @f runs in f32, but L is summed in double on the host from
// its f32 outputs, and the two evaluations of a central difference differ
// only in the outputs that the perturbed input reaches; so the rounding
// noise of the difference quotient is about sqrt(#outputs reached) * 2^-24
// * |output| / (2 eps), below 1e-4 here, while the truncation error is
// eps^2 / 6 * |f'''| ~ 2e-5 * |f'''| with eps = 1e-2 and inputs of
// magnitude ~1 (the perturbation actually applied, (x + eps) - (x - eps)
// in f32, is the divisor). A case passes when
//   max |fd - analytic| <= 2e-3 * max(1, max |analytic|)
// for every argument: ten times the largest error observed on this grid,
// and well below what a wrong rule gives (a transposed filter, a missing
// 1 / N or an off-by-one in a window is an O(1) relative error; batch
// norm's 1 / M vs 1 / (M - 1) would be 3% here).
//
// Kinks. Inputs of relu and leaky relu are drawn away from 0 (|x| >= 0.1 >
// eps), max pooling inputs are distinct values 0.05 apart (no tie is
// within 2 eps), and the composite cases use smooth activations, so no
// difference quotient straddles a kink.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"
#include "TestSupport.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <optional>
#include <sstream>

using namespace dlc::test;

namespace {

/// How one argument of a checked function is created.
struct ArgSpec {
  enum Kind { F32, Labels, Key } kind = F32;
  std::vector<int64_t> shape;
  /// F32 only: uniform in [-1, 1), |x| in [0.1, 1] with a random sign, or
  /// distinct values on a 0.05 grid in random order.
  enum Fill { Uniform, AwayFromZero, Distinct, Probability } fill = Uniform;
  /// Labels only: the number of classes.
  int64_t classes = 0;

  std::string type() const {
    if (kind == Key)
      return "i64";
    if (kind == Labels)
      return HostTensor::i32(shape).type();
    return HostTensor::f32(shape).type();
  }
};

ArgSpec f32(std::vector<int64_t> shape, ArgSpec::Fill fill = ArgSpec::Uniform) {
  return {ArgSpec::F32, std::move(shape), fill};
}
ArgSpec labels(int64_t batch, int64_t classes) {
  ArgSpec a{ArgSpec::Labels, {batch}};
  a.classes = classes;
  return a;
}
ArgSpec key() { return {ArgSpec::Key, {}}; }

/// "tensor<AxBxf32>".
std::string t(const std::vector<int64_t> &shape) {
  return HostTensor::f32(shape).type();
}

/// One checked function: its arguments, its body (which uses %a0, %a1, ...)
/// and its results.
struct GradCase {
  GradCase(std::string name, std::vector<ArgSpec> args)
      : name(std::move(name)), args(std::move(args)) {}

  std::string name;
  std::vector<ArgSpec> args;
  std::string body;
  std::vector<std::string> results;
  std::vector<std::vector<int64_t>> resultShapes;

  std::string function() const {
    std::vector<std::string> argTypes, resultTypes;
    for (const ArgSpec &a : args)
      argTypes.push_back(a.type());
    for (const auto &s : resultShapes)
      resultTypes.push_back(t(s));
    return makeFunction(name, argTypes, body, results, resultTypes);
  }
};

//===----------------------------------------------------------------------===//
// The grid
//===----------------------------------------------------------------------===//

struct Conv {
  std::string name;
  std::vector<int64_t> input; // N, H, W, C
  std::array<int64_t, 2> kernel;
  int64_t filters;
  std::array<int64_t, 2> strides = {1, 1};
  std::array<int64_t, 2> dilations = {1, 1};
  std::string padding = "valid";
  std::array<int64_t, 4> pads = {0, 0, 0, 0};
  int64_t groups = 1;
  bool bias = false;
};

GradCase convCase(const Conv &c) {
  std::vector<int64_t> filter = {c.kernel[0], c.kernel[1],
                                 c.input[3] / c.groups, c.filters};
  std::array<int64_t, 4> pads = c.pads;
  if (c.padding == "same") {
    auto [top, bottom] =
        ref::samePadding(c.input[1], c.kernel[0], c.strides[0], c.dilations[0]);
    auto [left, right] =
        ref::samePadding(c.input[2], c.kernel[1], c.strides[1], c.dilations[1]);
    pads = {top, bottom, left, right};
  }
  std::vector<int64_t> out = {
      c.input[0],
      ref::windowOutput(c.input[1], c.kernel[0], c.strides[0], c.dilations[0],
                        pads[0], pads[1]),
      ref::windowOutput(c.input[2], c.kernel[1], c.strides[1], c.dilations[1],
                        pads[2], pads[3]),
      c.filters};
  GradCase g{"conv_" + c.name, {f32(c.input), f32(filter)}};
  if (c.bias)
    g.args.push_back(f32({c.filters}));
  std::ostringstream os;
  os << "%y = dlc.conv2d %a0, %a1" << (c.bias ? ", %a2" : "")
     << " {dilations = array<i64: " << c.dilations[0] << ", " << c.dilations[1]
     << ">, groups = " << c.groups << " : i64, padding = #dlc.padding<"
     << c.padding << ">";
  if (c.padding == "explicit")
    os << ", pads = array<i64: " << c.pads[0] << ", " << c.pads[1] << ", "
       << c.pads[2] << ", " << c.pads[3] << ">";
  os << ", strides = array<i64: " << c.strides[0] << ", " << c.strides[1]
     << ">} : (" << t(c.input) << ", " << t(filter)
     << (c.bias ? ", " + t({c.filters}) : "") << ") -> " << t(out);
  g.body = os.str();
  g.results = {"%y"};
  g.resultShapes = {out};
  return g;
}

/// `%y = <op> %a0 ... : <type>` of one unary op with result shape = input's.
GradCase unaryCase(std::string name, ArgSpec arg, std::string op) {
  std::vector<int64_t> shape = arg.shape;
  GradCase g{std::move(name), {std::move(arg)}};
  g.body = "%y = " + op + " : " + t(shape);
  g.results = {"%y"};
  g.resultShapes = {shape};
  return g;
}

/// A pooling op: `%y = dlc.<op> %a0 {attrs} : (in) -> (out)`.
GradCase poolCase(std::string name, std::string op, std::vector<int64_t> in,
                  std::array<int64_t, 2> pool, std::array<int64_t, 2> strides,
                  bool same, ArgSpec::Fill fill,
                  std::optional<std::array<int64_t, 4>> explicitPads = {}) {
  std::array<int64_t, 4> pads =
      explicitPads.value_or(std::array<int64_t, 4>{0, 0, 0, 0});
  if (same) {
    auto [top, bottom] = ref::samePadding(in[1], pool[0], strides[0], 1);
    auto [left, right] = ref::samePadding(in[2], pool[1], strides[1], 1);
    pads = {top, bottom, left, right};
  }
  std::vector<int64_t> out = {
      in[0], ref::windowOutput(in[1], pool[0], strides[0], 1, pads[0], pads[1]),
      ref::windowOutput(in[2], pool[1], strides[1], 1, pads[2], pads[3]),
      in[3]};
  GradCase g{std::move(name), {f32(in, fill)}};
  std::ostringstream os;
  os << "%y = dlc." << op << " %a0 {"
     << (same ? "padding = #dlc.padding<same>, " : "");
  if (explicitPads)
    os << "padding = #dlc.padding<explicit>, pads = array<i64: " << pads[0]
       << ", " << pads[1] << ", " << pads[2] << ", " << pads[3] << ">, ";
  os << "pool_size = array<i64: " << pool[0] << ", " << pool[1]
     << ">, strides = array<i64: " << strides[0] << ", " << strides[1]
     << ">} : (" << t(in) << ") -> " << t(out);
  g.body = os.str();
  g.results = {"%y"};
  g.resultShapes = {out};
  return g;
}

/// `arith.constant dense<[...]>` of `shape` with values from `values`.
std::string constant(const std::string &result,
                     const std::vector<int64_t> &shape,
                     const std::vector<float> &values) {
  std::ostringstream os;
  os << std::scientific;
  os.precision(9);
  os << result << " = arith.constant dense<[";
  for (size_t i = 0; i < values.size(); ++i)
    os << (i ? ", " : "") << values[i];
  os << "]> : " << t({int64_t(values.size())});
  if (shape.size() == 1)
    return os.str();
  // Constants of other ranks are reshaped from 1-D.
  os << "\n  " << result << "_r = dlc.reshape " << result
     << " {shape = array<i64: ";
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "") << shape[i];
  os << ">} : (" << t({int64_t(values.size())}) << ") -> " << t(shape);
  return os.str();
}

std::vector<float> uniformValues(size_t n, unsigned seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

/// A batch_norm_train of `shape` whose output alone is returned; the running
/// statistics are constants (they are not differentiable).
GradCase batchNormCase(std::string name, std::vector<int64_t> shape) {
  int64_t c = shape.back();
  GradCase g{std::move(name), {f32(shape), f32({c}), f32({c})}};
  std::string v = t({c});
  g.body = constant("%rm", {c}, std::vector<float>(c, 0.0f)) + "\n  " +
           constant("%rv", {c}, std::vector<float>(c, 1.0f)) +
           "\n  %y:5 = dlc.batch_norm_train %a0, %a1, %a2, %rm, %rv "
           "{epsilon = 1.000000e-03 : f32, momentum = 9.900000e-01 : f32} : (" +
           t(shape) + ", " + v + ", " + v + ", " + v + ", " + v + ") -> (" +
           t(shape) + ", " + v + ", " + v + ", " + v + ", " + v + ")";
  g.results = {"%y#0"};
  g.resultShapes = {shape};
  return g;
}

/// An elementwise loss of predictions %a0 against constant targets.
GradCase elementwiseLossCase(std::string name, std::string op,
                             std::vector<int64_t> shape, std::string attrs,
                             ArgSpec::Fill fill, float targetLo,
                             float targetHi) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  GradCase g{std::move(name), {f32(shape, fill)}};
  std::string targets = shape.size() == 1 ? "%tg" : "%tg_r";
  g.body = constant("%tg", shape, uniformValues(n, 7, targetLo, targetHi)) +
           "\n  %l = dlc." + op + " %a0, " + targets + " " + attrs + ": (" +
           t(shape) + ", " + t(shape) + ") -> tensor<f32>";
  g.results = {"%l"};
  g.resultShapes = {{}};
  return g;
}

std::vector<GradCase> gradientCases() {
  std::vector<GradCase> cases;

  // Convolutions: strides, padding modes, dilation, groups, bias.
  std::vector<Conv> convs;
  convs.push_back({"s1_valid", {2, 6, 6, 3}, {3, 3}, 4});
  convs.push_back({"s1_same_bias", {2, 5, 6, 2}, {3, 3}, 3});
  convs.back().padding = "same", convs.back().bias = true;
  convs.push_back({"s2_valid", {2, 7, 7, 3}, {3, 3}, 4, {2, 2}});
  convs.push_back({"s2_valid_unused_rows", {1, 8, 8, 2}, {3, 3}, 3, {2, 2}});
  convs.push_back({"s2_same", {1, 7, 6, 2}, {3, 3}, 3, {2, 2}});
  convs.back().padding = "same";
  convs.push_back({"k2_s2_same_even", {2, 6, 6, 2}, {2, 2}, 3, {2, 2}});
  convs.back().padding = "same";
  convs.push_back({"k1_s2", {1, 6, 5, 3}, {1, 1}, 4, {2, 2}});
  // Strided input gradients are one stride-1 convolution per phase
  // (residue modulo the stride): strides 3, uneven strides, kernels larger
  // than two strides and pads that shift the phases.
  convs.push_back({"s3_explicit_pads", {1, 10, 9, 2}, {3, 3}, 3, {3, 3}});
  convs.back().padding = "explicit", convs.back().pads = {2, 1, 1, 2};
  convs.push_back({"k5_s2_same", {1, 9, 10, 2}, {5, 5}, 2, {2, 2}});
  convs.back().padding = "same";
  convs.push_back({"s2x3_k2x4", {1, 7, 11, 2}, {2, 4}, 3, {2, 3}});
  convs.push_back({"d2", {1, 8, 8, 2}, {3, 3}, 3, {1, 1}, {2, 2}});
  convs.push_back({"s2_d2_same", {1, 9, 8, 2}, {3, 3}, 3, {2, 2}, {2, 2}});
  convs.back().padding = "same";
  convs.push_back({"s1x2_k3x2", {1, 6, 7, 2}, {3, 2}, 3, {1, 2}});
  convs.push_back({"explicit_pads", {1, 6, 6, 2}, {3, 2}, 3});
  convs.back().padding = "explicit", convs.back().pads = {2, 1, 0, 3};
  convs.push_back({"explicit_pad_beyond_kernel", {1, 5, 5, 1}, {2, 2}, 2});
  convs.back().padding = "explicit", convs.back().pads = {3, 0, 0, 3};
  convs.push_back({"groups2_bias", {1, 6, 6, 4}, {3, 3}, 6});
  convs.back().groups = 2, convs.back().bias = true;
  convs.push_back({"groups2_s2_same", {2, 7, 7, 4}, {3, 3}, 4, {2, 2}});
  convs.back().groups = 2, convs.back().padding = "same";
  convs.push_back({"depthwise", {2, 6, 6, 3}, {3, 3}, 3});
  convs.back().groups = 3;
  convs.push_back(
      {"depthwise_m2_s2_same_bias", {1, 7, 7, 3}, {3, 3}, 6, {2, 2}});
  convs.back().groups = 3, convs.back().padding = "same",
  convs.back().bias = true;
  for (const Conv &c : convs)
    cases.push_back(convCase(c));

  // Dense and bias_add.
  for (bool bias : {false, true}) {
    GradCase g{bias ? "dense_bias" : "dense", {f32({3, 7}), f32({7, 5})}};
    if (bias)
      g.args.push_back(f32({5}));
    g.body = std::string("%y = dlc.dense %a0, %a1") + (bias ? ", %a2" : "") +
             " : (" + t({3, 7}) + ", " + t({7, 5}) +
             (bias ? ", " + t({5}) : "") + ") -> " + t({3, 5});
    g.results = {"%y"};
    g.resultShapes = {{3, 5}};
    cases.push_back(g);
  }
  {
    GradCase g{"bias_add", {f32({2, 3, 3, 4}), f32({4})}};
    g.body = "%y = dlc.bias_add %a0, %a1 : (" + t({2, 3, 3, 4}) + ", " +
             t({4}) + ") -> " + t({2, 3, 3, 4});
    g.results = {"%y"};
    g.resultShapes = {{2, 3, 3, 4}};
    cases.push_back(g);
  }

  // Activations.
  cases.push_back(
      unaryCase("relu", f32({4, 9}, ArgSpec::AwayFromZero), "dlc.relu %a0"));
  cases.push_back(unaryCase("leaky_relu", f32({4, 9}, ArgSpec::AwayFromZero),
                            "dlc.leaky_relu %a0 {alpha = 2.000000e-01 : f32}"));
  cases.push_back(unaryCase("sigmoid", f32({4, 9}), "dlc.sigmoid %a0"));
  cases.push_back(unaryCase("tanh", f32({4, 9}), "dlc.tanh %a0"));
  cases.push_back(unaryCase("softmax_last", f32({4, 7}),
                            "dlc.softmax %a0 {axis = -1 : i64}"));
  cases.push_back(unaryCase("softmax_axis1", f32({2, 5, 3}),
                            "dlc.softmax %a0 {axis = 1 : i64}"));

  // Pooling: non-overlapping, overlapping and padded windows.
  cases.push_back(poolCase("max_pool_2x2_s2", "max_pool2d", {2, 6, 6, 3},
                           {2, 2}, {2, 2}, false, ArgSpec::Distinct));
  cases.push_back(poolCase("max_pool_3x3_s2_same", "max_pool2d", {1, 7, 6, 2},
                           {3, 3}, {2, 2}, true, ArgSpec::Distinct));
  cases.push_back(poolCase("max_pool_3x2_s1", "max_pool2d", {1, 5, 6, 2},
                           {3, 2}, {1, 1}, false, ArgSpec::Distinct));
  cases.push_back(poolCase("max_pool_2x2_s2_odd", "max_pool2d", {1, 5, 7, 2},
                           {2, 2}, {2, 2}, false, ArgSpec::Distinct));
  cases.push_back(poolCase("avg_pool_2x2_s2", "avg_pool2d", {2, 6, 6, 3},
                           {2, 2}, {2, 2}, false, ArgSpec::Uniform));
  cases.push_back(poolCase("avg_pool_3x3_s2_same", "avg_pool2d", {1, 7, 6, 2},
                           {3, 3}, {2, 2}, true, ArgSpec::Uniform));
  cases.push_back(poolCase("avg_pool_3x2_s1x2", "avg_pool2d", {1, 5, 7, 2},
                           {3, 2}, {1, 2}, false, ArgSpec::Uniform));
  cases.push_back(poolCase("avg_pool_2x2_s1_same", "avg_pool2d", {1, 4, 5, 2},
                           {2, 2}, {1, 1}, true, ArgSpec::Uniform));
  // Explicit pads (ONNX / PyTorch): ResNet's stem MaxPool2d(3, 2, 1), and
  // asymmetric ones.
  cases.push_back(poolCase("max_pool_3x3_s2_pads1", "max_pool2d", {1, 7, 6, 2},
                           {3, 3}, {2, 2}, false, ArgSpec::Distinct,
                           std::array<int64_t, 4>{1, 1, 1, 1}));
  cases.push_back(poolCase(
      "max_pool_2x3_s1_pads0110", "max_pool2d", {1, 5, 6, 2}, {2, 3}, {1, 1},
      false, ArgSpec::Distinct, std::array<int64_t, 4>{0, 1, 1, 0}));
  cases.push_back(poolCase(
      "avg_pool_3x3_s2_pads1011", "avg_pool2d", {1, 6, 7, 2}, {3, 3}, {2, 2},
      false, ArgSpec::Uniform, std::array<int64_t, 4>{1, 0, 1, 1}));
  {
    GradCase g{"global_avg_pool", {f32({2, 3, 4, 5})}};
    g.body = "%y = dlc.global_avg_pool %a0 : (" + t({2, 3, 4, 5}) + ") -> " +
             t({2, 5});
    g.results = {"%y"};
    g.resultShapes = {{2, 5}};
    cases.push_back(g);
  }

  // Reshaping and merging.
  {
    GradCase g{"flatten", {f32({2, 3, 2, 4})}};
    g.body =
        "%y = dlc.flatten %a0 : (" + t({2, 3, 2, 4}) + ") -> " + t({2, 24});
    g.results = {"%y"};
    g.resultShapes = {{2, 24}};
    cases.push_back(g);
  }
  {
    GradCase g{"reshape", {f32({4, 6})}};
    g.body = "%y = dlc.reshape %a0 {shape = array<i64: 2, -1, 3>} : (" +
             t({4, 6}) + ") -> " + t({2, 4, 3});
    g.results = {"%y"};
    g.resultShapes = {{2, 4, 3}};
    cases.push_back(g);
  }
  {
    // One argument used twice: the gradients of both uses add up.
    GradCase g{"add_shared", {f32({3, 4}), f32({3, 4})}};
    g.body = "%s = dlc.add %a0, %a1 : " + t({3, 4}) +
             "\n  %y = dlc.add %s, %a0 : " + t({3, 4});
    g.results = {"%y"};
    g.resultShapes = {{3, 4}};
    cases.push_back(g);
  }
  {
    GradCase g{"concat_channels", {f32({2, 2, 2, 3}), f32({2, 2, 2, 2})}};
    g.body = "%y = dlc.concat %a0, %a1 {axis = -1 : i64} : (" +
             t({2, 2, 2, 3}) + ", " + t({2, 2, 2, 2}) + ") -> " +
             t({2, 2, 2, 5});
    g.results = {"%y"};
    g.resultShapes = {{2, 2, 2, 5}};
    cases.push_back(g);
  }
  {
    GradCase g{"concat_axis1",
               {f32({2, 3, 2}), f32({2, 1, 2}), f32({2, 2, 2})}};
    g.body = "%y = dlc.concat %a0, %a1, %a2 {axis = 1 : i64} : (" +
             t({2, 3, 2}) + ", " + t({2, 1, 2}) + ", " + t({2, 2, 2}) +
             ") -> " + t({2, 6, 2});
    g.results = {"%y"};
    g.resultShapes = {{2, 6, 2}};
    cases.push_back(g);
  }

  // Dropout with a key: linear in x with a mask fixed by (key, stream).
  {
    GradCase g{"dropout_keyed", {f32({4, 16}), key()}};
    g.body = "%y = dlc.dropout %a0, %a1 {rate = 3.000000e-01 : f32, stream = "
             "5 : i64} : (" +
             t({4, 16}) + ", i64) -> " + t({4, 16});
    g.results = {"%y"};
    g.resultShapes = {{4, 16}};
    cases.push_back(g);
  }

  // Batch normalization, training form.
  cases.push_back(batchNormCase("batch_norm_train_4d", {4, 3, 3, 2}));
  cases.push_back(batchNormCase("batch_norm_train_2d", {6, 3}));

  // Losses (differentiable in the predictions).
  {
    GradCase g{"softmax_cross_entropy", {f32({6, 4}), labels(6, 4)}};
    g.body = "%l = dlc.softmax_cross_entropy %a0, %a1 : (" + t({6, 4}) +
             ", tensor<6xi32>) -> tensor<f32>";
    g.results = {"%l"};
    g.resultShapes = {{}};
    cases.push_back(g);
  }
  cases.push_back(elementwiseLossCase("mse", "mse", {5, 3}, "",
                                      ArgSpec::Uniform, -1.0f, 1.0f));
  cases.push_back(elementwiseLossCase("bce_from_logits", "binary_cross_entropy",
                                      {4, 3}, "{from_logits} ",
                                      ArgSpec::Uniform, 0.0f, 1.0f));
  cases.push_back(elementwiseLossCase("bce_probabilities",
                                      "binary_cross_entropy", {4, 3}, "",
                                      ArgSpec::Probability, 0.0f, 1.0f));

  // Composites: gradients flow through chains, fan-out and a residual.
  {
    std::vector<int64_t> x = {4, 6, 6, 2}, w = {3, 3, 2, 3}, y = {4, 4, 4, 3};
    GradCase g{"conv_bn_tanh_pool_dense_loss",
               {f32(x), f32(w), f32({3}), f32({3}), f32({12, 5}), f32({5}),
                labels(4, 5)}};
    std::string v = t({3});
    g.body =
        constant("%rm", {3}, {0, 0, 0}) + "\n  " +
        constant("%rv", {3}, {1, 1, 1}) + "\n  %c = dlc.conv2d %a0, %a1 : (" +
        t(x) + ", " + t(w) + ") -> " + t(y) +
        "\n  %bn:5 = dlc.batch_norm_train %c, %a2, %a3, %rm, %rv : (" + t(y) +
        ", " + v + ", " + v + ", " + v + ", " + v + ") -> (" + t(y) + ", " + v +
        ", " + v + ", " + v + ", " + v + ")\n  %h = dlc.tanh %bn#0 : " + t(y) +
        "\n  %p = dlc.avg_pool2d %h {pool_size = array<i64: 2, 2>, strides "
        "= array<i64: 2, 2>} : (" +
        t(y) + ") -> " + t({4, 2, 2, 3}) + "\n  %f = dlc.flatten %p : (" +
        t({4, 2, 2, 3}) + ") -> " + t({4, 12}) +
        "\n  %d = dlc.dense %f, %a4, %a5 : (" + t({4, 12}) + ", " + t({12, 5}) +
        ", " + t({5}) + ") -> " + t({4, 5}) +
        "\n  %l = dlc.softmax_cross_entropy %d, %a6 : (" + t({4, 5}) +
        ", tensor<4xi32>) -> tensor<f32>";
    g.results = {"%l"};
    g.resultShapes = {{}};
    cases.push_back(g);
  }
  {
    std::vector<int64_t> x = {2, 5, 5, 3}, w = {3, 3, 3, 3};
    GradCase g{"residual_same_conv", {f32(x), f32(w), f32({3})}};
    g.body =
        "%c = dlc.conv2d %a0, %a1, %a2 {padding = #dlc.padding<same>} : (" +
        t(x) + ", " + t(w) + ", " + t({3}) + ") -> " + t(x) +
        "\n  %s = dlc.sigmoid %c : " + t(x) +
        "\n  %y = dlc.add %s, %a0 : " + t(x) +
        "\n  %g = dlc.global_avg_pool %y : (" + t(x) + ") -> " + t({2, 3});
    // Two results: both gradients enter.
    g.results = {"%g", "%s"};
    g.resultShapes = {{2, 3}, x};
    cases.push_back(g);
  }
  return cases;
}

//===----------------------------------------------------------------------===//
// The check
//===----------------------------------------------------------------------===//

/// Fills `tensor` as `spec` says.
void fill(HostTensor &tensor, const ArgSpec &spec, std::mt19937 &rng) {
  std::vector<float> &v = tensor.f();
  switch (spec.fill) {
  case ArgSpec::Uniform:
    tensor.randomize(rng);
    break;
  case ArgSpec::AwayFromZero: {
    std::uniform_real_distribution<float> magnitude(0.1f, 1.0f);
    for (float &x : v)
      x = (rng() & 1 ? 1.0f : -1.0f) * magnitude(rng);
    break;
  }
  case ArgSpec::Distinct: {
    std::vector<int64_t> order(v.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = 0.05f * float(order[i] - int64_t(v.size() / 2));
    break;
  }
  case ArgSpec::Probability:
    tensor.randomize(rng, 0.2f, 0.8f);
    break;
  }
}

void checkGradients(mlir::dlc::LoadedObject &object, const GradCase &c) {
  constexpr double kEps = 1e-2;
  constexpr double kTolerance = 2e-3;
  std::mt19937 rng(std::hash<std::string>()(c.name) & 0xffffffffu);

  // Arguments.
  std::vector<HostTensor> tensors;
  tensors.reserve(c.args.size());
  std::vector<int64_t> scalars(c.args.size(), 0);
  for (size_t i = 0; i < c.args.size(); ++i) {
    const ArgSpec &spec = c.args[i];
    if (spec.kind == ArgSpec::F32) {
      tensors.push_back(HostTensor::f32(spec.shape));
      fill(tensors.back(), spec, rng);
    } else if (spec.kind == ArgSpec::Labels) {
      tensors.push_back(HostTensor::i32(spec.shape));
      for (size_t k = 0; k < tensors.back().i().size(); ++k)
        tensors.back().i()[k] = int32_t((3 * k + 1) % spec.classes);
    } else {
      tensors.push_back(HostTensor::f32({}));
      scalars[i] = 0x5eed0000 + 17;
    }
  }
  auto argList = [&]() {
    std::vector<CallArg> list;
    for (size_t i = 0; i < c.args.size(); ++i) {
      if (c.args[i].kind == ArgSpec::Key)
        list.emplace_back(scalars[i]);
      else
        list.emplace_back(tensors[i]);
    }
    return list;
  };

  // Result gradients, and the analytic gradients from @f_vjp.
  std::vector<HostTensor> dys;
  for (const auto &shape : c.resultShapes)
    dys.push_back(HostTensor::f32(shape));
  for (HostTensor &dy : dys)
    dy.randomize(rng);
  std::vector<size_t> differentiable;
  std::vector<HostTensor> grads;
  for (size_t i = 0; i < c.args.size(); ++i)
    if (c.args[i].kind == ArgSpec::F32) {
      differentiable.push_back(i);
      grads.push_back(HostTensor::f32(c.args[i].shape, NAN));
    }
  {
    std::vector<CallArg> args = argList();
    for (HostTensor &dy : dys)
      args.emplace_back(dy);
    for (HostTensor &g : grads)
      args.emplace_back(g);
    call(object, c.name + "_vjp", args);
  }

  // L(x) = <dy, f(x)>, summed in double.
  std::vector<HostTensor> outputs;
  for (const auto &shape : c.resultShapes)
    outputs.push_back(HostTensor::f32(shape));
  auto objective = [&]() {
    std::vector<CallArg> args = argList();
    for (HostTensor &out : outputs)
      args.emplace_back(out);
    call(object, c.name, args);
    double sum = 0;
    for (size_t r = 0; r < outputs.size(); ++r)
      for (size_t k = 0; k < outputs[r].f().size(); ++k)
        sum += double(dys[r].f()[k]) * double(outputs[r].f()[k]);
    return sum;
  };

  for (size_t a = 0; a < differentiable.size(); ++a) {
    std::vector<float> &x = tensors[differentiable[a]].f();
    const std::vector<float> &analytic = grads[a].f();
    double worst = 0, scale = 1;
    size_t worstAt = 0;
    std::vector<double> fd(x.size());
    for (size_t k = 0; k < x.size(); ++k) {
      float saved = x[k];
      float up = float(saved + kEps), down = float(saved - kEps);
      x[k] = up;
      double lUp = objective();
      x[k] = down;
      double lDown = objective();
      x[k] = saved;
      fd[k] = (lUp - lDown) / (double(up) - double(down));
      double error = std::fabs(fd[k] - analytic[k]);
      if (!(error <= worst)) { // NaN counts as the worst.
        worst = error;
        worstAt = k;
      }
      scale = std::max(scale, std::fabs(double(analytic[k])));
    }
    EXPECT_LE(worst, kTolerance * scale)
        << "gradient of argument " << differentiable[a] << " ("
        << c.args[differentiable[a]].type() << "): worst at flat index "
        << worstAt << ", analytic " << analytic[worstAt]
        << ", finite difference " << fd[worstAt];
    // DLC_TEST_VERBOSE=1 prints the achieved accuracy (what the tolerance
    // above is measured against).
    if (std::getenv("DLC_TEST_VERBOSE"))
      std::printf("%s arg%zu: max|fd - analytic| / max(1, max|analytic|) = "
                  "%.3g\n",
                  c.name.c_str(), differentiable[a], worst / scale);
  }
}

class GradientCheck : public ::testing::TestWithParam<size_t> {
public:
  static std::vector<GradCase> &cases() {
    static std::vector<GradCase> all = gradientCases();
    return all;
  }

protected:
  static void SetUpTestSuite() {
    std::string source;
    for (const GradCase &c : cases())
      source += c.function();
    object() = compileSource(source, {}, "dlc-test-vjp");
  }
  static void TearDownTestSuite() { object().reset(); }
  static std::unique_ptr<mlir::dlc::LoadedObject> &object() {
    static std::unique_ptr<mlir::dlc::LoadedObject> compiled;
    return compiled;
  }
};

TEST_P(GradientCheck, MatchesFiniteDifferences) {
  ASSERT_TRUE(object()) << "the grid's module did not compile";
  checkGradients(*object(), cases()[GetParam()]);
}

INSTANTIATE_TEST_SUITE_P(
    Grid, GradientCheck,
    ::testing::Range<size_t>(0, GradientCheck::cases().size()),
    [](const ::testing::TestParamInfo<size_t> &info) {
      return GradientCheck::cases()[info.param].name;
    });

} // namespace
