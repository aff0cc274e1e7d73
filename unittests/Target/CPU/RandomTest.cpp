//===- RandomTest.cpp - e2e checks of dropout and data augmentation -------===//
//
// Keyed forms must agree bit for bit with the reference built on
// dlc/Support/Philox.h (itself checked against Random123's known-answer
// vectors); keyless forms are the inference semantics (identity, center
// crop). A statistical check makes sure the keep rate of dropout is right.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"
#include "TestSupport.h"

#include "dlc/Support/Philox.h"

using namespace dlc::test;

namespace {

// Random123's known-answer tests for philox4x32 with 10 rounds.
TEST(PhiloxTest, MatchesRandom123KnownAnswers) {
  EXPECT_EQ(dlc::philox4x32({0, 0, 0, 0}, {0, 0}),
            (dlc::PhiloxBlock{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(dlc::philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                            {0xffffffff, 0xffffffff}),
            (dlc::PhiloxBlock{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(dlc::philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                            {0xa4093822, 0x299f31d0}),
            (dlc::PhiloxBlock{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

constexpr int64_t kKey = 0x1234abcd5678ef01;

/// A case `op %a0[, %a1 (key)] {attrs} : (in[, i64]) -> out` checked
/// exactly against `fn(x)`.
OpCase randomCase(std::string name, std::vector<int64_t> shape,
                  std::vector<int64_t> resultShape, std::string op,
                  std::string attrs, bool keyed,
                  std::function<HostTensor(HostTensor &)> fn) {
  std::string in = HostTensor::f32(shape).type();
  std::string out = HostTensor::f32(resultShape).type();
  std::vector<std::string> args = {in};
  if (keyed)
    args.push_back("i64");
  std::string body = "%y = " + op + " %a0" + (keyed ? ", %a1 " : " ") + attrs +
                     " : (" + in + (keyed ? ", i64" : "") + ") -> " + out;
  return {name, makeFunction(name, args, body, {"%y"}, {out}),
          [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
            std::mt19937 rng(std::hash<std::string>()(symbol));
            HostTensor x = HostTensor::f32(shape);
            x.randomize(rng);
            HostTensor y = HostTensor::f32(resultShape, NAN);
            if (keyed)
              call(object, symbol, {x, kKey, y});
            else
              call(object, symbol, {x, y});
            EXPECT_TRUE(allClose(y.f(), fn(x).f(), 0, 0));
          }};
}

std::vector<OpCase> randomCases() {
  auto identity = [](HostTensor &x) { return x; };
  auto dropout = [](int64_t stream, float rate) {
    return [=](HostTensor &x) { return ref::dropout(x, kKey, stream, rate); };
  };
  auto flip = [](int64_t stream, bool h, bool v) {
    return
        [=](HostTensor &x) { return ref::randomFlip(x, kKey, stream, h, v); };
  };
  auto translate = [](ref::Fill fill, float value) {
    return [=](HostTensor &x) {
      return ref::randomTranslation(x, kKey, 5, {-0.3f, 0.3f}, {-0.2f, 0.4f},
                                    fill, value);
    };
  };
  std::string factors = "height_factor = array<f32: -3.000000e-01, "
                        "3.000000e-01>, stream = 5 : i64, width_factor = "
                        "array<f32: -2.000000e-01, 4.000000e-01>";
  uint64_t key = kKey;
  auto crop = [=](bool keyed) {
    return [=](HostTensor &x) {
      return ref::randomCrop(x, keyed ? &key : nullptr, 2, 5, 6);
    };
  };
  std::vector<int64_t> images = {6, 7, 9, 2};
  return {
      randomCase("dropout_4x33_r025", {4, 33}, {4, 33}, "dlc.dropout",
                 "{rate = 2.500000e-01 : f32, stream = 3 : i64}", true,
                 dropout(3, 0.25f)),
      randomCase("dropout_2x3x4x5_r05", {2, 3, 4, 5}, {2, 3, 4, 5},
                 "dlc.dropout", "{rate = 5.000000e-01 : f32, stream = 7 : i64}",
                 true, dropout(7, 0.5f)),
      randomCase("dropout_rate0", {3, 8}, {3, 8}, "dlc.dropout",
                 "{rate = 0.000000e+00 : f32}", true, dropout(0, 0.0f)),
      randomCase("dropout_keyless", {3, 8}, {3, 8}, "dlc.dropout",
                 "{rate = 5.000000e-01 : f32}", false, identity),
      randomCase("flip_horizontal", {8, 3, 5, 2}, {8, 3, 5, 2},
                 "dlc.random_flip", "{mode = #dlc.flip_mode<horizontal>}", true,
                 flip(0, true, false)),
      randomCase("flip_vertical", {8, 4, 3, 1}, {8, 4, 3, 1}, "dlc.random_flip",
                 "{mode = #dlc.flip_mode<vertical>, stream = 4 : i64}", true,
                 flip(4, false, true)),
      randomCase("flip_both", {8, 4, 4, 3}, {8, 4, 4, 3}, "dlc.random_flip",
                 "{stream = 9 : i64}", true, flip(9, true, true)),
      randomCase("flip_keyless", {2, 4, 4, 3}, {2, 4, 4, 3}, "dlc.random_flip",
                 "", false, identity),
      randomCase("translate_reflect", images, images, "dlc.random_translation",
                 "{" + factors + "}", true, translate(ref::Fill::reflect, 0)),
      randomCase("translate_wrap", images, images, "dlc.random_translation",
                 "{fill_mode = #dlc.fill_mode<wrap>, " + factors + "}", true,
                 translate(ref::Fill::wrap, 0)),
      randomCase("translate_nearest", images, images, "dlc.random_translation",
                 "{fill_mode = #dlc.fill_mode<nearest>, " + factors + "}", true,
                 translate(ref::Fill::nearest, 0)),
      randomCase("translate_constant", images, images, "dlc.random_translation",
                 "{fill_mode = #dlc.fill_mode<constant>, fill_value = "
                 "5.000000e-01 : f32, " +
                     factors + "}",
                 true, translate(ref::Fill::constant, 0.5f)),
      randomCase("translate_keyless", images, images, "dlc.random_translation",
                 "{" + factors + "}", false, identity),
      randomCase("crop_keyed", {5, 8, 9, 2}, {5, 5, 6, 2}, "dlc.random_crop",
                 "{height = 5 : i64, stream = 2 : i64, width = 6 : i64}", true,
                 crop(true)),
      randomCase("crop_center_keyless", {2, 8, 9, 3}, {2, 5, 6, 3},
                 "dlc.random_crop", "{height = 5 : i64, width = 6 : i64}",
                 false, crop(false)),
  };
}

class RandomTest : public OpCaseSuite<randomCases> {};
DLC_INSTANTIATE_OP_CASES(RandomTest);

// The keep rate of compiled dropout is 1 - rate within 4 standard errors,
// and different keys give different masks.
TEST(DropoutStatisticsTest, KeepRateAndKeyDependence) {
  std::string type = "tensor<100x100xf32>";
  auto object = compileSource(
      makeFunction("drop", {type, "i64"},
                   "%y = dlc.dropout %a0, %a1 {rate = 3.000000e-01 : f32} : (" +
                       type + ", i64) -> " + type,
                   {"%y"}, {type}));
  ASSERT_TRUE(object);
  HostTensor x = HostTensor::f32({100, 100}, 1.0f);
  HostTensor a = HostTensor::f32({100, 100}), b = HostTensor::f32({100, 100});
  call(*object, "drop", {x, int64_t(1), a});
  call(*object, "drop", {x, int64_t(2), b});
  int64_t kept = 0, differ = 0;
  for (int64_t k = 0; k < 10000; ++k) {
    kept += a.f()[k] != 0.0f;
    differ += (a.f()[k] != 0.0f) != (b.f()[k] != 0.0f);
  }
  EXPECT_NEAR(kept / 10000.0, 0.7, 4 * std::sqrt(0.7 * 0.3 / 10000));
  // Independent masks disagree with probability 2 * 0.7 * 0.3 = 0.42.
  EXPECT_NEAR(differ / 10000.0, 0.42, 0.03);
}

} // namespace
