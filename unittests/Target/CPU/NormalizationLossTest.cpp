//===- NormalizationLossTest.cpp - e2e numerics of BN, losses, accuracy ---===//
//
// batch_norm (inference), batch_norm_train (all five results: output, batch
// mean, biased batch variance, updated running statistics), the losses
// (mean-reduced to a 0-D tensor) and accuracy (an i32 count, first maximum
// wins), each against the naive reference.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"
#include "TestSupport.h"

using namespace dlc::test;

namespace {

std::string vectorType(int64_t c) { return HostTensor::f32({c}).type(); }

OpCase batchNormCase(std::string name, std::vector<int64_t> shape,
                     float epsilon) {
  int64_t c = shape.back();
  std::string x = HostTensor::f32(shape).type(), v = vectorType(c);
  std::string body = "%y = dlc.batch_norm %a0, %a1, %a2, %a3, %a4 {epsilon = " +
                     std::to_string(epsilon) + " : f32} : (" + x + ", " + v +
                     ", " + v + ", " + v + ", " + v + ") -> " + x;
  return {name, makeFunction(name, {x, v, v, v, v}, body, {"%y"}, {x}),
          [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
            std::mt19937 rng(std::hash<std::string>()(symbol));
            HostTensor in = HostTensor::f32(shape), y = HostTensor::f32(shape);
            HostTensor g = HostTensor::f32({c}), b = HostTensor::f32({c});
            HostTensor m = HostTensor::f32({c}), var = HostTensor::f32({c});
            in.randomize(rng, -2, 2), g.randomize(rng), b.randomize(rng);
            m.randomize(rng), var.randomize(rng, 0.1f, 2.0f);
            call(object, symbol, {in, g, b, m, var, y});
            HostTensor expected = ref::batchNorm(in, g, b, m, var, epsilon);
            EXPECT_TRUE(allClose(y.f(), expected.f(), 1e-5f, 1e-5f));
          }};
}

OpCase batchNormTrainCase(std::string name, std::vector<int64_t> shape,
                          float epsilon, float momentum) {
  int64_t c = shape.back();
  std::string x = HostTensor::f32(shape).type(), v = vectorType(c);
  std::string body = "%y:5 = dlc.batch_norm_train %a0, %a1, %a2, %a3, %a4 "
                     "{epsilon = " +
                     std::to_string(epsilon) +
                     " : f32, momentum = " + std::to_string(momentum) +
                     " : f32} : (" + x + ", " + v + ", " + v + ", " + v + ", " +
                     v + ") -> (" + x + ", " + v + ", " + v + ", " + v + ", " +
                     v + ")";
  return {
      name,
      makeFunction(name, {x, v, v, v, v}, body,
                   {"%y#0", "%y#1", "%y#2", "%y#3", "%y#4"}, {x, v, v, v, v}),
      [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
        std::mt19937 rng(std::hash<std::string>()(symbol));
        HostTensor in = HostTensor::f32(shape), y = HostTensor::f32(shape);
        HostTensor g = HostTensor::f32({c}), b = HostTensor::f32({c});
        HostTensor rm = HostTensor::f32({c}), rv = HostTensor::f32({c});
        // An offset mean: the two-pass variance must not cancel.
        in.randomize(rng, 2.0f, 5.0f), g.randomize(rng), b.randomize(rng);
        rm.randomize(rng), rv.randomize(rng, 0.1f, 2.0f);
        HostTensor mean = HostTensor::f32({c}), var = HostTensor::f32({c});
        HostTensor newMean = HostTensor::f32({c});
        HostTensor newVar = HostTensor::f32({c});
        call(object, symbol, {in, g, b, rm, rv, y, mean, var, newMean, newVar});
        ref::BatchNormTrainResult e =
            ref::batchNormTrain(in, g, b, rm, rv, epsilon, momentum);
        EXPECT_TRUE(allClose(y.f(), e.y.f(), 1e-4f, 1e-4f)) << "output";
        EXPECT_TRUE(allClose(mean.f(), e.mean.f(), 1e-5f, 1e-5f))
            << "batch mean";
        EXPECT_TRUE(allClose(var.f(), e.variance.f(), 1e-5f, 1e-4f))
            << "batch variance";
        EXPECT_TRUE(allClose(newMean.f(), e.newMean.f(), 1e-5f, 1e-5f))
            << "running mean";
        EXPECT_TRUE(allClose(newVar.f(), e.newVariance.f(), 1e-5f, 1e-5f))
            << "running variance";
      }};
}

/// Integer labels in [0, classes).
HostTensor randomLabels(std::mt19937 &rng, int64_t batch, int64_t classes) {
  HostTensor labels = HostTensor::i32({batch});
  std::uniform_int_distribution<int32_t> dist(0, classes - 1);
  for (int32_t &l : labels.i())
    l = dist(rng);
  return labels;
}

OpCase crossEntropyCase(std::string name, int64_t batch, int64_t classes,
                        float range) {
  std::string logits = HostTensor::f32({batch, classes}).type();
  std::string labels = HostTensor::i32({batch}).type();
  std::string body = "%l = dlc.softmax_cross_entropy %a0, %a1 : (" + logits +
                     ", " + labels + ") -> tensor<f32>";
  return {name,
          makeFunction(name, {logits, labels}, body, {"%l"}, {"tensor<f32>"}),
          [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
            std::mt19937 rng(std::hash<std::string>()(symbol));
            HostTensor x = HostTensor::f32({batch, classes});
            x.randomize(rng, -range, range);
            HostTensor y = randomLabels(rng, batch, classes);
            HostTensor loss = HostTensor::f32({}, NAN);
            call(object, symbol, {x, y, loss});
            EXPECT_TRUE(allClose(loss.f(), {ref::softmaxCrossEntropy(x, y)},
                                 1e-5f, 1e-5f));
          }};
}

OpCase elementwiseLossCase(std::string name, std::vector<int64_t> shape,
                           std::string op, bool fromLogits) {
  std::string t = HostTensor::f32(shape).type();
  std::string body = "%l = " + op + " %a0, %a1 " +
                     (fromLogits ? "{from_logits} " : "") + ": (" + t + ", " +
                     t + ") -> tensor<f32>";
  return {name, makeFunction(name, {t, t}, body, {"%l"}, {"tensor<f32>"}),
          [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
            std::mt19937 rng(std::hash<std::string>()(symbol));
            HostTensor p = HostTensor::f32(shape),
                       target = HostTensor::f32(shape);
            bool bce = op == "dlc.binary_cross_entropy";
            if (!bce)
              p.randomize(rng, -3, 3), target.randomize(rng, -3, 3);
            else if (fromLogits)
              p.randomize(rng, -30, 30), target.randomize(rng, 0, 1);
            else
              p.randomize(rng, 0, 1), target.randomize(rng, 0, 1);
            if (bce && !fromLogits) {
              // Saturated probabilities exercise the clipping.
              p.f()[0] = 0.0f;
              p.f()[1] = 1.0f;
            }
            HostTensor loss = HostTensor::f32({}, NAN);
            call(object, symbol, {p, target, loss});
            float expected =
                bce ? ref::binaryCrossEntropy(p, target, fromLogits)
                    : ref::mse(p, target);
            EXPECT_TRUE(allClose(loss.f(), {expected}, 1e-5f, 1e-5f));
          }};
}

OpCase accuracyCase(std::string name, int64_t batch, int64_t classes) {
  std::string logits = HostTensor::f32({batch, classes}).type();
  std::string labels = HostTensor::i32({batch}).type();
  std::string body = "%c = dlc.accuracy %a0, %a1 : (" + logits + ", " + labels +
                     ") -> tensor<i32>";
  return {name,
          makeFunction(name, {logits, labels}, body, {"%c"}, {"tensor<i32>"}),
          [=](mlir::dlc::LoadedObject &object, const std::string &symbol) {
            std::mt19937 rng(std::hash<std::string>()(symbol));
            HostTensor x = HostTensor::f32({batch, classes});
            x.randomize(rng);
            HostTensor y = randomLabels(rng, batch, classes);
            // Ties: the first maximum wins. Row 0: maxima at 1 and 2.
            if (classes >= 3) {
              for (int64_t k = 0; k < classes; ++k)
                x.f()[k] = 0.0f;
              x.f()[1] = x.f()[2] = 5.0f;
              y.i()[0] = 1;
              if (batch > 1) { // Row 1: the label is the second maximum.
                for (int64_t k = 0; k < classes; ++k)
                  x.f()[classes + k] = -1.0f;
                x.f()[classes + 0] = x.f()[classes + 2] = 3.0f;
                y.i()[1] = 2;
              }
            }
            HostTensor count = HostTensor::i32({}, -1);
            call(object, symbol, {x, y, count});
            EXPECT_EQ(count.i()[0], ref::accuracy(x, y));
          }};
}

std::vector<OpCase> normalizationAndLossCases() {
  return {
      batchNormCase("batch_norm_2x5x5x4", {2, 5, 5, 4}, 1e-3f),
      batchNormCase("batch_norm_3x7_eps1e5", {3, 7}, 1e-5f),
      batchNormTrainCase("batch_norm_train_4x6x6x3", {4, 6, 6, 3}, 1e-3f,
                         0.99f),
      batchNormTrainCase("batch_norm_train_5x9_m09", {5, 9}, 1e-5f, 0.9f),
      batchNormTrainCase("batch_norm_train_16x12x12x32", {16, 12, 12, 32},
                         1e-3f, 0.99f),
      crossEntropyCase("sce_4x10", 4, 10, 3),
      crossEntropyCase("sce_1x3", 1, 3, 3),
      crossEntropyCase("sce_64x10", 64, 10, 3),
      crossEntropyCase("sce_large_logits_5x7", 5, 7, 80),
      elementwiseLossCase("mse_4x3", {4, 3}, "dlc.mse", false),
      elementwiseLossCase("mse_2x3x4", {2, 3, 4}, "dlc.mse", false),
      elementwiseLossCase("bce_logits_8x1", {8, 1}, "dlc.binary_cross_entropy",
                          true),
      elementwiseLossCase("bce_probs_5x4", {5, 4}, "dlc.binary_cross_entropy",
                          false),
      accuracyCase("accuracy_6x5_ties", 6, 5),
      accuracyCase("accuracy_64x10", 64, 10),
      accuracyCase("accuracy_3x1", 3, 1),
  };
}

class NormalizationLossTest : public OpCaseSuite<normalizationAndLossCases> {};
DLC_INSTANTIATE_OP_CASES(NormalizationLossTest);

} // namespace
