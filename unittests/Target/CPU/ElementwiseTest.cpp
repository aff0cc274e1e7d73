//===- ElementwiseTest.cpp - e2e numerics of activations and sums ---------===//
//
// relu, leaky_relu, sigmoid, tanh, softmax (every axis), add and bias_add,
// compiled through the full CPU pipeline, against double-precision
// references. Transcendental functions get a relative tolerance of a few
// f32 ulps; the rest must be exact.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"
#include "TestSupport.h"

#include <cmath>

using namespace dlc::test;

namespace {

/// A case for a one-input op: `op` is the op's text before " %a0", `attrs`
/// its attribute dictionary, `fn` the reference.
OpCase unaryCase(std::string name, std::vector<int64_t> shape, std::string op,
                 std::string attrs, std::function<HostTensor(HostTensor &)> fn,
                 float range, float atol, float rtol) {
  std::string type = HostTensor::f32(shape).type();
  std::string body =
      "%y = " + op + " %a0 " + attrs + (attrs.empty() ? "" : " ") + ": " + type;
  return {name, makeFunction(name, {type}, body, {"%y"}, {type}),
          [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
            std::mt19937 rng(std::hash<std::string>()(symbol));
            HostTensor x = HostTensor::f32(shape);
            x.randomize(rng, -range, range);
            HostTensor y = HostTensor::f32(shape, NAN);
            call(object, symbol, {x, y});
            EXPECT_TRUE(allClose(y.f(), fn(x).f(), atol, rtol));
          }};
}

/// A case for a two-input op `op %a0, %a1`.
OpCase binaryCase(std::string name, std::vector<int64_t> shape,
                  std::vector<int64_t> rhsShape, std::string op,
                  std::function<HostTensor(HostTensor &, HostTensor &)> fn) {
  std::string type = HostTensor::f32(shape).type();
  std::string rhsType = HostTensor::f32(rhsShape).type();
  bool sameType = op == "dlc.add"; // the only op printed with one type
  std::string body =
      "%y = " + op + " %a0, %a1 : " +
      (sameType ? type : "(" + type + ", " + rhsType + ") -> " + type);
  return {name, makeFunction(name, {type, rhsType}, body, {"%y"}, {type}),
          [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
            std::mt19937 rng(std::hash<std::string>()(symbol));
            HostTensor a = HostTensor::f32(shape),
                       b = HostTensor::f32(rhsShape);
            a.randomize(rng), b.randomize(rng);
            HostTensor y = HostTensor::f32(shape, NAN);
            call(object, symbol, {a, b, y});
            EXPECT_TRUE(allClose(y.f(), fn(a, b).f(), 0, 0));
          }};
}

std::vector<OpCase> elementwiseCases() {
  auto relu = [](HostTensor &x) {
    return ref::map(x, [](double v) { return v > 0 ? v : 0.0; });
  };
  auto leaky = [](double alpha) {
    return [=](HostTensor &x) {
      return ref::map(x,
                      [=](double v) { return v >= 0 ? v : float(alpha) * v; });
    };
  };
  auto sigmoid = [](HostTensor &x) {
    return ref::map(x, [](double v) { return 1 / (1 + std::exp(-v)); });
  };
  auto tanh = [](HostTensor &x) {
    return ref::map(x, [](double v) { return std::tanh(v); });
  };
  auto softmax = [](int64_t axis) {
    return [=](HostTensor &x) { return ref::softmax(x, axis); };
  };
  auto add = [](HostTensor &a, HostTensor &b) { return ref::add(a, b); };
  auto biasAdd = [](HostTensor &a, HostTensor &b) {
    return ref::biasAdd(a, b);
  };
  return {
      unaryCase("relu_2x3x5", {2, 3, 5}, "dlc.relu", "", relu, 2, 0, 0),
      unaryCase("relu_64x9", {64, 9}, "dlc.relu", "", relu, 2, 0, 0),
      unaryCase("leaky_relu_3x7", {3, 7}, "dlc.leaky_relu",
                "{alpha = 1.000000e-01 : f32}", leaky(0.1), 2, 0, 0),
      unaryCase("leaky_relu_default_17", {17}, "dlc.leaky_relu", "", leaky(0.3),
                2, 0, 0),
      unaryCase("sigmoid_4x9", {4, 9}, "dlc.sigmoid", "", sigmoid, 20, 1e-7f,
                2e-6f),
      unaryCase("sigmoid_saturating_3x5", {3, 5}, "dlc.sigmoid", "", sigmoid,
                120, 1e-7f, 2e-6f),
      unaryCase("tanh_2x3x4x5", {2, 3, 4, 5}, "dlc.tanh", "", tanh, 10, 1e-6f,
                2e-6f),
      unaryCase("softmax_last_3x10", {3, 10}, "dlc.softmax", "", softmax(-1),
                30, 1e-7f, 2e-6f),
      unaryCase("softmax_axis0_4x6", {4, 6}, "dlc.softmax", "{axis = 0 : i64}",
                softmax(0), 5, 1e-7f, 2e-6f),
      unaryCase("softmax_axis1_2x5x3", {2, 5, 3}, "dlc.softmax",
                "{axis = 1 : i64}", softmax(1), 5, 1e-7f, 2e-6f),
      unaryCase("softmax_large_logits_2x7", {2, 7}, "dlc.softmax", "",
                softmax(-1), 500, 1e-7f, 2e-6f),
      binaryCase("add_2x4x4x3", {2, 4, 4, 3}, {2, 4, 4, 3}, "dlc.add", add),
      binaryCase("bias_add_2x3x3x5", {2, 3, 3, 5}, {5}, "dlc.bias_add",
                 biasAdd),
      binaryCase("bias_add_6x10", {6, 10}, {10}, "dlc.bias_add", biasAdd),
      binaryCase("bias_add_rank1_7", {7}, {7}, "dlc.bias_add", biasAdd),
  };
}

class ElementwiseTest : public OpCaseSuite<elementwiseCases> {};
DLC_INSTANTIATE_OP_CASES(ElementwiseTest);

} // namespace
