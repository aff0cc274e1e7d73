//===- ModelTest.cpp - Validation and binding of the model table ----------===//

#include "FakeModel.h"
#include "TestUtil.h"

#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <tuple>

using namespace dlc::runtime;
using namespace dlc::runtime::testing;
using ::testing::HasSubstr;

namespace {

TEST(ModelTest, BindsTheFakeModel) {
  auto model = CompiledModel::create(fakeModel());
  ASSERT_TRUE(bool(model)) << errorMessage(model);
  const CompiledModel &m = **model;
  EXPECT_EQ(m.getName(), "fake_logreg");
  EXPECT_EQ(m.getBatchSize(), kFakeBatch);
  EXPECT_EQ(m.getNumClasses(), kFakeClasses);
  ASSERT_EQ(m.getTensors().size(), 6u);
  // Group order: params, opt_state, state.
  EXPECT_EQ(m.getTensors()[0].name, "dense/kernel");
  EXPECT_EQ(m.getTensors()[2].group, TensorGroup::OptState);
  EXPECT_EQ(m.getTensors()[5].name, "stats/moving_variance");
  // Defaults for an empty init: moving_variance starts at one.
  EXPECT_EQ(m.getTensors()[5].init, "ones");
  EXPECT_EQ(m.getTensors()[4].init, "zeros");
  EXPECT_EQ(m.getSettings().optimizer, "sgd");
  EXPECT_EQ(*m.getSettings().learningRate, 0.1);
  EXPECT_EQ(m.getSettings().classNames.size(), 3u);
  EXPECT_FLOAT_EQ(m.getSettings().normalization.scale[0], 1.0f / 255);
  // train_step's results update its arguments of the same group position.
  const BoundFunction &train = m.getTrainStep();
  EXPECT_EQ(train.results[2].kind, Slot::Persistent);
  EXPECT_EQ(train.results[2].tensor, *m.lookupTensor("dense/kernel/velocity"));
  EXPECT_EQ(train.results[6].kind, Slot::Loss);
}

TEST(ModelTest, SettingsVariants) {
  auto s =
      parseModelSettings(R"({"optimizer": {"Adam": {"learning_rate": 0.002}},
                                  "input": {"scale": [0.1, 0.2, 0.3], "offset": -1}})");
  ASSERT_TRUE(bool(s)) << errorMessage(s);
  EXPECT_EQ(s->optimizer, "adam");
  EXPECT_EQ(*s->learningRate, 0.002);
  EXPECT_EQ(s->normalization.scale.size(), 3u);
  EXPECT_THAT(errorMessage(s = parseModelSettings("{")),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(errorMessage(s = parseModelSettings(R"({"batch_size": -2})")),
              HasSubstr("batch_size must be a positive integer"));
}

void noop(void **) {}

const dlc_tensor_info kInput = {"input",       "input", "",
                                DLC_DTYPE_F32, 4,       {2, 3, 3, 1}};
const dlc_tensor_info kLogits = {"logits",      "logits", "",
                                 DLC_DTYPE_F32, 2,        {2, 5, 0, 0}};

std::string createError(const dlc_tensor_info *args, int numArgs,
                        const dlc_tensor_info *results, int numResults,
                        const char *name = "predict") {
  dlc_function_info fn = {name, noop, numArgs, numResults, args, results};
  dlc_model_info info = {
      DLC_MODEL_ABI_VERSION, DLC_DEVICE_CPU, "bad", "", 1, &fn};
  auto model = CompiledModel::create(info);
  return errorMessage(model);
}

TEST(ModelTest, RejectsMalformedTables) {
  dlc_tensor_info badRole[] = {kInput,
                               {"w", "weights", "", DLC_DTYPE_F32, 1, {5}}};
  EXPECT_THAT(createError(badRole, 2, &kLogits, 1),
              HasSubstr("predict argument 1 ('w'): unknown role 'weights'"));

  // Images are [B, H, W, C], [B, H, W] or flat [B, N]; a rank-1 input is
  // none of them.
  dlc_tensor_info badInput[] = {{"input", "input", "", DLC_DTYPE_F32, 1, {2}}};
  EXPECT_THAT(createError(badInput, 1, &kLogits, 1),
              HasSubstr("role 'input' must have rank 4, not 1"));

  dlc_tensor_info badDtype[] = {kInput, {"w", "param", "", 7, 1, {5}}};
  EXPECT_THAT(createError(badDtype, 2, &kLogits, 1),
              HasSubstr("unknown dtype code 7"));

  dlc_tensor_info badInit[] = {kInput, {"w", "param", "xavier", 0, 1, {5}}};
  EXPECT_THAT(createError(badInit, 2, &kLogits, 1),
              HasSubstr("unknown initializer 'xavier'"));

  dlc_tensor_info twice[] = {
      kInput, {"w", "param", "", 0, 1, {5}}, {"w", "param", "", 0, 1, {5}}};
  EXPECT_THAT(createError(twice, 3, &kLogits, 1),
              HasSubstr("the name is used twice"));

  dlc_tensor_info logits3[] = {{"logits", "logits", "", 0, 2, {4, 5}}};
  EXPECT_THAT(createError(&kInput, 1, logits3, 1),
              HasSubstr("batch dimension 4 differs from the input's 2"));

  // train_step must return one result per persistent argument.
  dlc_tensor_info trainArgs[] = {
      {"w", "param", "", 0, 1, {5}},
      kInput,
      {"labels", "labels", "", 1, 1, {2}},
      {"step", "step", "", 2, -1, {}},
      {"seed", "seed", "", 2, -1, {}},
      {"learning_rate", "learning_rate", "", 0, -1, {}}};
  dlc_tensor_info trainResults[] = {{"loss", "loss", "", 0, 0, {}},
                                    {"correct", "correct", "", 1, 0, {}}};
  EXPECT_THAT(createError(trainArgs, 6, trainResults, 2, "train_step"),
              HasSubstr("train_step has 1 'param' arguments but 0 results"));

  // Feature maps are [B, H, W, C] results of features only.
  dlc_tensor_info feature[] = {{"conv", "feature", "", 0, 4, {2, 1, 1, 3}}};
  EXPECT_THAT(createError(&kInput, 1, feature, 1),
              HasSubstr("only features returns feature maps"));
  auto withPredict = [](const dlc_tensor_info &map) {
    dlc_function_info fns[] = {{"predict", noop, 1, 1, &kInput, &kLogits},
                               {"features", noop, 1, 1, &kInput, &map}};
    dlc_model_info info = {
        DLC_MODEL_ABI_VERSION, DLC_DEVICE_CPU, "bad", "", 2, fns};
    auto model = CompiledModel::create(info);
    return errorMessage(model);
  };
  EXPECT_THAT(withPredict({"conv", "feature", "", 0, 2, {2, 3}}),
              HasSubstr("role 'feature' must have rank 4, not 2"));
  EXPECT_THAT(withPredict({"conv", "feature", "", 0, 4, {4, 1, 1, 3}}),
              HasSubstr("batch dimension 4 differs from the input's 2"));

  dlc_model_info empty = {
      DLC_MODEL_ABI_VERSION, DLC_DEVICE_CPU, "empty", "", 0, nullptr};
  auto model = CompiledModel::create(empty);
  EXPECT_THAT(errorMessage(model),
              HasSubstr("no train_step, eval_step or predict function"));
}

TEST(ModelTest, BindsFeatures) {
  // predict plus the optional features: each result a feature map slot.
  dlc_tensor_info maps[] = {{"conv", "feature", "", 0, 4, {2, 3, 3, 4}},
                            {"conv_1", "feature", "", 0, 4, {2, 1, 1, 6}}};
  dlc_function_info fns[] = {{"predict", noop, 1, 1, &kInput, &kLogits},
                             {"features", noop, 1, 2, &kInput, maps}};
  dlc_model_info info = {
      DLC_MODEL_ABI_VERSION, DLC_DEVICE_CPU, "m", "", 2, fns};
  auto model = CompiledModel::create(info);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  ASSERT_TRUE(bool((*model)->getFeatures()));
  ASSERT_EQ((*model)->getFeatureMaps().size(), 2u);
  EXPECT_EQ((*model)->getFeatureMaps()[1].name, "conv_1");
  EXPECT_THAT((*model)->getFeatureMaps()[1].shape,
              ::testing::ElementsAre(2, 1, 1, 6));
  EXPECT_EQ((*model)->getFeatures().results[1].kind, Slot::Feature);
  EXPECT_EQ((*model)->getFeatures().results[1].tensor, 1u);
  EXPECT_THAT((*model)->describe(),
              HasSubstr("entry points: predict features"));
}

TEST(ModelTest, FlatAndGrayInputsReadAsImages) {
  // [B, N] reads as [B, 1, N, 1] and [B, H, W] as [B, H, W, 1]: the same
  // values in the same order as the images that fill them.
  for (auto [rank, shape, expected] :
       {std::tuple<int, std::array<int64_t, 4>, std::array<int64_t, 4>>{
            2, {2, 9, 0, 0}, {2, 1, 9, 1}},
        {3, {2, 3, 3, 0}, {2, 3, 3, 1}}}) {
    dlc_tensor_info input = {"input", "input",
                             "",      DLC_DTYPE_F32,
                             rank,    {shape[0], shape[1], shape[2], shape[3]}};
    dlc_function_info fn = {"predict", noop, 1, 1, &input, &kLogits};
    dlc_model_info info = {
        DLC_MODEL_ABI_VERSION, DLC_DEVICE_CPU, "flat", "", 1, &fn};
    auto model = CompiledModel::create(info);
    ASSERT_TRUE(bool(model)) << errorMessage(model);
    EXPECT_EQ((*model)->getInputShape(), llvm::ArrayRef<int64_t>(expected));
    EXPECT_EQ((*model)->getDeclaredInputShape().size(), size_t(rank));
    EXPECT_EQ((*model)->isFlatInput(), rank == 2);
  }
}

TEST(ModelTest, RefusesAnotherABIVersion) {
  // An object compiled by another dlc: nothing past the version is read.
  dlc_model_info info = dlc::runtime::testing::fakeModel();
  info.abi_version = DLC_MODEL_ABI_VERSION + 1;
  auto model = CompiledModel::create(info);
  EXPECT_THAT(errorMessage(model),
              HasSubstr("the model was compiled for model ABI version 2, but "
                        "this runtime reads version 1"));
  info.abi_version = 0;
  EXPECT_THAT(errorMessage(model = CompiledModel::create(info)),
              HasSubstr("model ABI version 0"));
}

TEST(ModelTest, RefusesAnUnknownDevice) {
  dlc_model_info info = dlc::runtime::testing::fakeModel();
  info.device = 7;
  auto model = CompiledModel::create(info);
  EXPECT_THAT(errorMessage(model = CompiledModel::create(info)),
              HasSubstr("unknown device code 7"));
}

TEST(ModelTest, InPlaceTrainStep) {
  // params updated in place: train_step returns only loss and correct.
  dlc_tensor_info trainArgs[] = {
      {"w", "param", "", 0, 1, {5}, DLC_TENSOR_IN_PLACE},
      {"w/velocity", "opt_state", "", 0, 1, {5}, DLC_TENSOR_IN_PLACE},
      kInput,
      {"labels", "labels", "", 1, 1, {2}},
      {"step", "step", "", 2, -1, {}},
      {"seed", "seed", "", 2, -1, {}},
      {"learning_rate", "learning_rate", "", 0, -1, {}}};
  dlc_tensor_info trainResults[] = {{"loss", "loss", "", 0, 0, {}},
                                    {"correct", "correct", "", 1, 0, {}}};
  dlc_function_info fn = {"train_step", noop, 7, 2, trainArgs, trainResults};
  dlc_model_info info = {
      DLC_MODEL_ABI_VERSION, DLC_DEVICE_CPU, "in_place", "", 1, &fn};
  auto model = CompiledModel::create(info);
  ASSERT_TRUE(bool(model)) << errorMessage(model);
  EXPECT_TRUE((*model)->getTrainStep().inPlace);
  EXPECT_EQ((*model)->getTensors().size(), 2u);

  // Half in place, half returned: refused.
  trainArgs[1].flags = 0;
  EXPECT_THAT(createError(trainArgs, 7, trainResults, 2, "train_step"),
              HasSubstr("updates some persistent tensors in place and "
                        "returns others"));
  // Only persistent arguments of train_step can be in place.
  trainArgs[1].flags = DLC_TENSOR_IN_PLACE;
  trainArgs[2].flags = DLC_TENSOR_IN_PLACE;
  EXPECT_THAT(createError(trainArgs, 7, trainResults, 2, "train_step"),
              HasSubstr("only train_step's persistent arguments are updated "
                        "in place"));
}

TEST(ExecutorTest, PingPongKeepsArgumentsAndResultsApart) {
  resetFakeHooks();
  auto model = CompiledModel::create(fakeModel());
  ASSERT_TRUE(bool(model));
  CPUDevice cpu;
  Executor executor = cantFail(Executor::create(**model, cpu));
  ASSERT_FALSE(executor.initialize(1));
  const void *before = executor.getTensors()[0].getAddress();
  std::fill(executor.getInput(), executor.getInput() + kFakeBatch * 16, 0.5f);
  std::fill(executor.getLabels(), executor.getLabels() + kFakeBatch, 1);
  StepResult r = cantFail(executor.train(0, 0, 0.1f));
  EXPECT_GT(r.loss, 0);
  EXPECT_NE(executor.getTensors()[0].getAddress(), before);
  cantFail(executor.train(1, 0, 0.1f));
  EXPECT_EQ(executor.getTensors()[0].getAddress(), before);
  EXPECT_EQ(fakeHooks().abiErrors, 0);
  EXPECT_EQ(fakeHooks().trainCalls, 2);
}

} // namespace

TEST(InitializerConfigTest, ConfiguredInitializersFollowTheirParameters) {
  using namespace dlc::runtime;
  Tensor t(DType::F32, {1000});
  InitConfig constant;
  constant.numbers["value"] = 0.25;
  ASSERT_FALSE(bool(initializeTensor(t, "constant", 1, "c", constant)));
  EXPECT_EQ(t.data<float>()[0], 0.25f);
  EXPECT_EQ(t.data<float>()[999], 0.25f);

  InitConfig uniform;
  uniform.numbers["minval"] = 2.0;
  uniform.numbers["maxval"] = 3.0;
  ASSERT_FALSE(bool(initializeTensor(t, "random_uniform", 1, "u", uniform)));
  for (int i = 0; i < 1000; ++i) {
    EXPECT_GE(t.data<float>()[i], 2.0f);
    EXPECT_LT(t.data<float>()[i], 3.0f);
  }

  InitConfig normal;
  normal.numbers["mean"] = 5.0;
  normal.numbers["stddev"] = 0.01;
  ASSERT_FALSE(bool(initializeTensor(t, "random_normal", 1, "n", normal)));
  double sum = 0;
  for (int i = 0; i < 1000; ++i)
    sum += t.data<float>()[i];
  EXPECT_NEAR(sum / 1000, 5.0, 0.01);

  // VarianceScaling(scale=2, fan_in, uniform) is he_uniform.
  Tensor k(DType::F32, {3, 3, 4, 8});
  InitConfig scaling;
  scaling.numbers["scale"] = 2.0;
  scaling.strings["mode"] = "fan_in";
  scaling.strings["distribution"] = "uniform";
  ASSERT_FALSE(bool(initializeTensor(k, "variance_scaling", 1, "k", scaling)));
  double limit = std::sqrt(3.0 * 2.0 / 36.0);
  for (int64_t i = 0; i < k.getNumElements(); ++i)
    EXPECT_LE(std::abs(k.data<float>()[i]), limit + 1e-6);
}

TEST(InitializerConfigTest, SettingsCarryInitConfigAndImporterNormalization) {
  using namespace dlc::runtime;
  auto settings = parseModelSettings(
      R"({"input_normalization": {"scale": [0.5], "offset": [1.0]},
          "init_config": {"dense/kernel": {"stddev": 0.01, "mode": "fan_in"}}})");
  ASSERT_TRUE(bool(settings)) << llvm::toString(settings.takeError());
  ASSERT_EQ(settings->normalization.scale.size(), 1u);
  EXPECT_EQ(settings->normalization.scale[0], 0.5f);
  EXPECT_EQ(settings->initConfigs["dense/kernel"].number("stddev", 0), 0.01);
  EXPECT_EQ(settings->initConfigs["dense/kernel"].string("mode", ""), "fan_in");
  EXPECT_FALSE(bool(parseModelSettings(R"({"init_config": {"w": 3}})")));
}
