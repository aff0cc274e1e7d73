//===- PoolingReshapeTest.cpp - e2e numerics of pooling and reshaping -----===//
//
// max_pool2d / avg_pool2d over valid and same padding (odd and even sizes,
// strides 1 and 2, non-square windows), global_avg_pool, flatten, reshape
// and concat, each against the naive reference. Average pooling with `same`
// padding divides by the number of valid positions (Keras).
//
//===----------------------------------------------------------------------===//

#include "Reference.h"
#include "TestSupport.h"

using namespace dlc::test;

namespace {

struct PoolCase {
  std::string name;
  std::vector<int64_t> input;
  std::array<int64_t, 2> window, strides;
  bool same;
};

std::vector<PoolCase> poolShapes() {
  return {{"b2_24x24x8_p2_s2", {2, 24, 24, 8}, {2, 2}, {2, 2}, false},
          {"b1_7x7x3_p3_s2_same", {1, 7, 7, 3}, {3, 3}, {2, 2}, true},
          {"b3_5x6x4_p2_s1", {3, 5, 6, 4}, {2, 2}, {1, 1}, false},
          {"b2_9x9x5_p3_s2", {2, 9, 9, 5}, {3, 3}, {2, 2}, false},
          {"b1_8x8x17_p2_s2_same", {1, 8, 8, 17}, {2, 2}, {2, 2}, true},
          {"b2_7x9x16_p3x2_s1x2_same", {2, 7, 9, 16}, {3, 2}, {1, 2}, true},
          {"b2_6x6x32_p3_s1_same", {2, 6, 6, 32}, {3, 3}, {1, 1}, true}};
}

OpCase poolCase(const PoolCase &p, bool max) {
  std::array<int64_t, 4> pads = {0, 0, 0, 0};
  if (p.same) {
    auto [t, b] = ref::samePadding(p.input[1], p.window[0], p.strides[0], 1);
    auto [l, r] = ref::samePadding(p.input[2], p.window[1], p.strides[1], 1);
    pads = {t, b, l, r};
  }
  std::vector<int64_t> out = {
      p.input[0],
      ref::windowOutput(p.input[1], p.window[0], p.strides[0], 1, pads[0],
                        pads[1]),
      ref::windowOutput(p.input[2], p.window[1], p.strides[1], 1, pads[2],
                        pads[3]),
      p.input[3]};
  std::string in = HostTensor::f32(p.input).type();
  std::string res = HostTensor::f32(out).type();
  std::string name = (max ? "max_" : "avg_") + p.name;
  std::string body =
      std::string("%y = ") + (max ? "dlc.max_pool2d" : "dlc.avg_pool2d") +
      " %a0 {padding = #dlc.padding<" + (p.same ? "same" : "valid") +
      ">, pool_size = array<i64: " + std::to_string(p.window[0]) + ", " +
      std::to_string(p.window[1]) +
      ">, strides = array<i64: " + std::to_string(p.strides[0]) + ", " +
      std::to_string(p.strides[1]) + ">} : (" + in + ") -> " + res;
  return {name, makeFunction(name, {in}, body, {"%y"}, {res}),
          [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
            std::mt19937 rng(std::hash<std::string>()(symbol));
            HostTensor x = HostTensor::f32(p.input);
            // Negative values: a padded zero must never win the max.
            x.randomize(rng, -3.0f, -0.5f);
            HostTensor y = HostTensor::f32(out, NAN);
            call(object, symbol, {x, y});
            HostTensor expected =
                max ? ref::maxPool(x, p.window, p.strides, pads)
                    : ref::avgPool(x, p.window, p.strides, pads);
            EXPECT_TRUE(allClose(y.f(), expected.f(), 1e-6f, 1e-6f));
          }};
}

/// A case whose reference is `fn(inputs)` for random inputs of `shapes`.
OpCase genericCase(std::string name, std::vector<std::vector<int64_t>> shapes,
                   std::vector<int64_t> resultShape, std::string opAndAttrs,
                   std::function<HostTensor(std::vector<HostTensor> &)> fn) {
  std::vector<std::string> types;
  std::string operands, typeList;
  for (size_t i = 0; i < shapes.size(); ++i) {
    types.push_back(HostTensor::f32(shapes[i]).type());
    operands += (i ? ", %a" : " %a") + std::to_string(i);
    typeList += (i ? ", " : "") + types.back();
  }
  std::string res = HostTensor::f32(resultShape).type();
  std::string body = "%y = " + opAndAttrs.substr(0, opAndAttrs.find(' ')) +
                     operands + opAndAttrs.substr(opAndAttrs.find(' ')) +
                     " : (" + typeList + ") -> " + res;
  return {name, makeFunction(name, types, body, {"%y"}, {res}),
          [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
            std::mt19937 rng(std::hash<std::string>()(symbol));
            std::vector<HostTensor> inputs;
            std::vector<CallArg> args;
            for (const auto &shape : shapes)
              inputs.push_back(HostTensor::f32(shape));
            for (HostTensor &t : inputs)
              args.push_back(t.randomize(rng));
            HostTensor y = HostTensor::f32(resultShape, NAN);
            args.push_back(y);
            call(object, symbol, args);
            EXPECT_TRUE(allClose(y.f(), fn(inputs).f(), 1e-6f, 1e-6f));
          }};
}

std::vector<OpCase> poolingAndReshapeCases() {
  std::vector<OpCase> cases;
  for (const PoolCase &p : poolShapes()) {
    cases.push_back(poolCase(p, /*max=*/true));
    cases.push_back(poolCase(p, /*max=*/false));
  }
  auto gap = [](std::vector<HostTensor> &in) {
    return ref::globalAvgPool(in[0]);
  };
  cases.push_back(genericCase("global_avg_pool_2x5x7x3", {{2, 5, 7, 3}}, {2, 3},
                              "dlc.global_avg_pool ", gap));
  cases.push_back(genericCase("global_avg_pool_1x1x1x9", {{1, 1, 1, 9}}, {1, 9},
                              "dlc.global_avg_pool ", gap));
  auto reshapeTo = [](std::vector<int64_t> shape) {
    return
        [=](std::vector<HostTensor> &in) { return ref::reshape(in[0], shape); };
  };
  cases.push_back(genericCase("flatten_2x3x4x5", {{2, 3, 4, 5}}, {2, 60},
                              "dlc.flatten ", reshapeTo({2, 60})));
  cases.push_back(genericCase("flatten_rank2_3x7", {{3, 7}}, {3, 7},
                              "dlc.flatten ", reshapeTo({3, 7})));
  cases.push_back(genericCase("flatten_rank1_4", {{4}}, {4, 1}, "dlc.flatten ",
                              reshapeTo({4, 1})));
  cases.push_back(genericCase("reshape_2x12_to_2x3x4", {{2, 12}}, {2, 3, 4},
                              "dlc.reshape {shape = array<i64: 2, -1, 4>}",
                              reshapeTo({2, 3, 4})));
  cases.push_back(genericCase("reshape_2x3x4_to_24", {{2, 3, 4}}, {24},
                              "dlc.reshape {shape = array<i64: 24>}",
                              reshapeTo({24})));
  cases.push_back(genericCase("reshape_6x4_to_3x8", {{6, 4}}, {3, 8},
                              "dlc.reshape {shape = array<i64: 3, 8>}",
                              reshapeTo({3, 8})));
  auto concatOn = [](int64_t axis) {
    return [=](std::vector<HostTensor> &in) {
      std::vector<const HostTensor *> ptrs;
      for (HostTensor &t : in)
        ptrs.push_back(&t);
      return ref::concat(ptrs, axis);
    };
  };
  cases.push_back(genericCase("concat_channels_2x3x3x4_5",
                              {{2, 3, 3, 4}, {2, 3, 3, 5}}, {2, 3, 3, 9},
                              "dlc.concat ", concatOn(-1)));
  cases.push_back(genericCase("concat_axis0_1_3_2x4", {{1, 4}, {3, 4}, {2, 4}},
                              {6, 4}, "dlc.concat {axis = 0 : i64}",
                              concatOn(0)));
  cases.push_back(genericCase("concat_axis1_2x2x3_2x5x3",
                              {{2, 2, 3}, {2, 5, 3}}, {2, 7, 3},
                              "dlc.concat {axis = 1 : i64}", concatOn(1)));
  return cases;
}

class PoolingReshapeTest : public OpCaseSuite<poolingAndReshapeCases> {};
DLC_INSTANTIATE_OP_CASES(PoolingReshapeTest);

} // namespace
