//===- OptimizerTest.cpp - dlc's optimizer steps vs torch.optim -----------===//
//
// Three consecutive steps of each optimizer update op, with the state fed
// back, against torch.optim's parameters after each step
// (test/e2e/golden/optimizers.safetensors, from make_golden.py with the
// same hyper-parameters). Both sides compute in f32, so each step must
// agree within 1e-5 of the parameter's largest magnitude.
//
//===----------------------------------------------------------------------===//

#include "Golden.h"
#include "TestSupport.h"

using namespace dlc::test;

namespace {

constexpr int64_t kSize = 37;
constexpr int kSteps = 3;

/// One function per case of make_golden.py's OPTIMIZER_CASES. SGD takes
/// (param, grad, velocity), SGD with dampening also the step, Adam (param,
/// grad, m, v, step); the learning rates are constants of each function.
constexpr const char *kOptimizers = R"mlir(
func.func @sgd(%p: tensor<37xf32>, %g: tensor<37xf32>, %v: tensor<37xf32>)
    -> (tensor<37xf32>, tensor<37xf32>) {
  %lr = arith.constant 1.000000e-01 : f32
  %p1, %v1 = dlc.sgd_update %p, %g, %v, %lr : tensor<37xf32>, f32
  return %p1, %v1 : tensor<37xf32>, tensor<37xf32>
}
func.func @sgd_momentum(%p: tensor<37xf32>, %g: tensor<37xf32>, %v: tensor<37xf32>)
    -> (tensor<37xf32>, tensor<37xf32>) {
  %lr = arith.constant 1.000000e-01 : f32
  %p1, %v1 = dlc.sgd_update %p, %g, %v, %lr {momentum = 9.000000e-01 : f32}
      : tensor<37xf32>, f32
  return %p1, %v1 : tensor<37xf32>, tensor<37xf32>
}
func.func @sgd_nesterov_wd(%p: tensor<37xf32>, %g: tensor<37xf32>, %v: tensor<37xf32>)
    -> (tensor<37xf32>, tensor<37xf32>) {
  %lr = arith.constant 1.000000e-01 : f32
  %p1, %v1 = dlc.sgd_update %p, %g, %v, %lr {momentum = 9.000000e-01 : f32,
      nesterov, weight_decay = 0.00999999977 : f32} : tensor<37xf32>, f32
  return %p1, %v1 : tensor<37xf32>, tensor<37xf32>
}
func.func @sgd_dampening(%p: tensor<37xf32>, %g: tensor<37xf32>, %v: tensor<37xf32>,
                         %t: i64) -> (tensor<37xf32>, tensor<37xf32>) {
  %lr = arith.constant 1.000000e-01 : f32
  %p1, %v1 = dlc.sgd_update %p, %g, %v, %lr, %t {dampening = 3.000000e-01 : f32,
      momentum = 9.000000e-01 : f32, weight_decay = 0.00999999977 : f32}
      : tensor<37xf32>, f32, i64
  return %p1, %v1 : tensor<37xf32>, tensor<37xf32>
}
func.func @adam(%p: tensor<37xf32>, %g: tensor<37xf32>, %m: tensor<37xf32>,
                %v: tensor<37xf32>, %t: i64)
    -> (tensor<37xf32>, tensor<37xf32>, tensor<37xf32>) {
  %lr = arith.constant 0.00999999977 : f32
  %p1, %m1, %v1 = dlc.adam_update %p, %g, %m, %v, %lr, %t {beta1 = 9.000000e-01 : f32,
      beta2 = 9.990000e-01 : f32, epsilon = 1.000000e-07 : f32,
      weight_decay = 1.000000e-03 : f32} : tensor<37xf32>, f32, i64
  return %p1, %m1, %v1 : tensor<37xf32>, tensor<37xf32>, tensor<37xf32>
}
func.func @adamw(%p: tensor<37xf32>, %g: tensor<37xf32>, %m: tensor<37xf32>,
                 %v: tensor<37xf32>, %t: i64)
    -> (tensor<37xf32>, tensor<37xf32>, tensor<37xf32>) {
  %lr = arith.constant 0.00999999977 : f32
  %p1, %m1, %v1 = dlc.adam_update %p, %g, %m, %v, %lr, %t {decoupled_weight_decay,
      epsilon = 1.000000e-07 : f32, weight_decay = 4.000000e-03 : f32}
      : tensor<37xf32>, f32, i64
  return %p1, %m1, %v1 : tensor<37xf32>, tensor<37xf32>, tensor<37xf32>
}
)mlir";

class OptimizerStep : public ::testing::TestWithParam<const char *> {
protected:
  static void SetUpTestSuite() {
    object() = compileSource(kOptimizers);
    auto read = readSafetensors(goldenDir() + "/optimizers.safetensors");
    if (!read) {
      ADD_FAILURE() << llvm::toString(read.takeError());
      return;
    }
    golden() = std::move(*read);
  }
  static void TearDownTestSuite() { object().reset(); }
  static std::unique_ptr<mlir::dlc::LoadedObject> &object() {
    static std::unique_ptr<mlir::dlc::LoadedObject> compiled;
    return compiled;
  }
  static std::map<std::string, GoldenTensor> &golden() {
    static std::map<std::string, GoldenTensor> tensors;
    return tensors;
  }
};

TEST_P(OptimizerStep, MatchesTorchOptim) {
  ASSERT_TRUE(object());
  ASSERT_TRUE(golden().count("param0"));
  std::string name = GetParam();
  bool adam = name.rfind("adam", 0) == 0;

  HostTensor param = HostTensor::f32({kSize});
  param.f() = golden()["param0"].data;
  // Slots start at zero, as torch.optim's state (its first momentum step
  // sets the buffer to g, which is 0.9 * 0 + g).
  HostTensor slot0 = HostTensor::f32({kSize}), slot1 = HostTensor::f32({kSize});
  for (int step = 0; step < kSteps; ++step) {
    HostTensor grad = HostTensor::f32({kSize});
    grad.f() = golden()["grad" + std::to_string(step)].data;
    HostTensor newParam = HostTensor::f32({kSize}, NAN);
    HostTensor newSlot0 = HostTensor::f32({kSize}, NAN);
    HostTensor newSlot1 = HostTensor::f32({kSize}, NAN);
    if (adam)
      call(*object(), name,
           {param, grad, slot0, slot1, int64_t(step + 1), newParam, newSlot0,
            newSlot1});
    else if (name == "sgd_dampening")
      call(*object(), name,
           {param, grad, slot0, int64_t(step + 1), newParam, newSlot0});
    else
      call(*object(), name, {param, grad, slot0, newParam, newSlot0});
    const GoldenTensor &expected =
        golden()[name + "/step" + std::to_string(step)];
    double error = relativeMaxError(newParam.f(), expected.data);
    EXPECT_LE(error, 1e-5) << name << " step " << step;
    if (std::getenv("DLC_TEST_VERBOSE"))
      std::printf("%s step %d: max|ours - torch| / max|torch| = %.3g\n",
                  name.c_str(), step, error);
    param = std::move(newParam);
    slot0 = std::move(newSlot0);
    if (adam)
      slot1 = std::move(newSlot1);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Golden, OptimizerStep,
    ::testing::Values("sgd", "sgd_momentum", "sgd_nesterov_wd", "sgd_dampening",
                      "adam", "adamw"),
    [](const ::testing::TestParamInfo<const char *> &info) {
      return std::string(info.param);
    });

} // namespace
