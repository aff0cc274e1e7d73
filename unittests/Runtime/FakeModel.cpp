//===- FakeModel.cpp - A hand-written model implementing the ABI ----------===//
//
// Written the way compiled code sees the world: every tensor arrives as a
// `Descriptor **` in a packed array, scalars by pointer, results are
// caller-allocated buffers after the arguments.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"

#include <cmath>
#include <csignal>
#include <initializer_list>
#include <limits>

using namespace dlc::runtime::testing;

namespace {

constexpr int64_t kFeatures = kFakeHeight * kFakeWidth * kFakeChannels;

FakeHooks hooks;

/// Reads a tensor argument, checking its descriptor against `info`.
template <typename T>
T *tensor(void **args, int i, const dlc_tensor_info &info) {
  const int64_t *desc = *static_cast<int64_t **>(args[i]);
  int rank = info.rank;
  bool ok = desc[0] != 0 && desc[1] != 0 && desc[2] == 0 && desc[1] % 16 == 0;
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    ok &= desc[3 + d] == info.shape[d];
    ok &= desc[3 + rank + d] == stride;
    stride *= info.shape[d];
  }
  if (!ok)
    ++hooks.abiErrors;
  return reinterpret_cast<T *>(desc[1]);
}

template <int K> struct Model {
  static constexpr dlc_tensor_info kernel = {
      "dense/kernel", "param", "glorot_uniform",
      DLC_DTYPE_F32,  2,       {kFeatures, K, 0, 0}};
  static constexpr dlc_tensor_info bias = {
      "dense/bias", "param", "zeros", DLC_DTYPE_F32, 1, {K, 0, 0, 0}};
  static constexpr dlc_tensor_info kernelVelocity = {
      "dense/kernel/velocity", "opt_state", "",
      DLC_DTYPE_F32,           2,           {kFeatures, K, 0, 0}};
  static constexpr dlc_tensor_info biasVelocity = {
      "dense/bias/velocity", "opt_state", "", DLC_DTYPE_F32, 1, {K, 0, 0, 0}};
  static constexpr dlc_tensor_info mean = {
      "stats/moving_mean", "state", "", DLC_DTYPE_F32, 1, {K, 0, 0, 0}};
  static constexpr dlc_tensor_info variance = {
      "stats/moving_variance", "state", "", DLC_DTYPE_F32, 1, {K, 0, 0, 0}};
  static constexpr dlc_tensor_info input = {
      "input", "input",
      "",      DLC_DTYPE_F32,
      4,       {kFakeBatch, kFakeHeight, kFakeWidth, kFakeChannels}};
  static constexpr dlc_tensor_info labels = {
      "labels", "labels", "", DLC_DTYPE_I32, 1, {kFakeBatch, 0, 0, 0}};
  static constexpr dlc_tensor_info step = {"step",        "step", "",
                                           DLC_DTYPE_I64, -1,     {0, 0, 0, 0}};
  static constexpr dlc_tensor_info seed = {"seed",        "seed", "",
                                           DLC_DTYPE_I64, -1,     {0, 0, 0, 0}};
  static constexpr dlc_tensor_info lr = {
      "learning_rate", "learning_rate", "", DLC_DTYPE_F32, -1, {0, 0, 0, 0}};
  static constexpr dlc_tensor_info loss = {"loss",        "loss", "",
                                           DLC_DTYPE_F32, 0,      {0, 0, 0, 0}};
  static constexpr dlc_tensor_info correct = {
      "correct", "correct", "", DLC_DTYPE_I32, 0, {0, 0, 0, 0}};
  static constexpr dlc_tensor_info logits = {
      "logits", "logits", "", DLC_DTYPE_F32, 2, {kFakeBatch, K, 0, 0}};

  static constexpr dlc_tensor_info trainArgs[] = {
      kernel, bias,   kernelVelocity, biasVelocity, mean, variance,
      input,  labels, step,           seed,         lr};
  static constexpr dlc_tensor_info trainResults[] = {
      kernel, bias,     kernelVelocity, biasVelocity,
      mean,   variance, loss,           correct};
  static constexpr dlc_tensor_info inPlace(dlc_tensor_info t) {
    t.flags = DLC_TENSOR_IN_PLACE;
    return t;
  }
  static constexpr dlc_tensor_info inPlaceArgs[] = {inPlace(kernel),
                                                    inPlace(bias),
                                                    inPlace(kernelVelocity),
                                                    inPlace(biasVelocity),
                                                    inPlace(mean),
                                                    inPlace(variance),
                                                    input,
                                                    labels,
                                                    step,
                                                    seed,
                                                    lr};
  static constexpr dlc_tensor_info inPlaceResults[] = {loss, correct};
  static constexpr dlc_tensor_info evalArgs[] = {kernel,   bias,  mean,
                                                 variance, input, labels};
  static constexpr dlc_tensor_info evalResults[] = {loss, correct};
  static constexpr dlc_tensor_info predictArgs[] = {kernel, bias, mean,
                                                    variance, input};
  static constexpr dlc_tensor_info predictResults[] = {logits};

  /// logits = x W + b for the whole batch.
  static void forward(const float *x, const float *w, const float *b,
                      float *out) {
    for (int64_t r = 0; r < kFakeBatch; ++r)
      for (int k = 0; k < K; ++k) {
        float acc = b[k];
        for (int64_t d = 0; d < kFeatures; ++d)
          acc += x[r * kFeatures + d] * w[d * K + k];
        out[r * K + k] = acc;
      }
  }

  /// Mean softmax cross-entropy and correct count; `probs` gets softmax.
  static float lossOf(const float *logit, const int32_t *y, float *probs,
                      int32_t &right) {
    float total = 0;
    right = 0;
    for (int64_t r = 0; r < kFakeBatch; ++r) {
      const float *row = logit + r * K;
      float max = row[0];
      int best = 0;
      for (int k = 1; k < K; ++k)
        if (row[k] > max) {
          max = row[k];
          best = k;
        }
      float sum = 0;
      for (int k = 0; k < K; ++k)
        sum += std::exp(row[k] - max);
      for (int k = 0; k < K; ++k)
        probs[r * K + k] = std::exp(row[k] - max) / sum;
      total += std::log(sum) + max - row[y[r]];
      right += best == y[r];
    }
    return total / kFakeBatch;
  }

  /// One SGD-with-momentum step from (w, b, vw, vb, mean, var) to the
  /// n* outputs. Every output element is computed from the inputs of the
  /// same index after the forward pass, so the outputs may be the inputs
  /// (the in-place form).
  static void update(const float *w, const float *b, const float *vw,
                     const float *vb, const float *mean, const float *var,
                     const float *x, const int32_t *y, int64_t stepValue,
                     float lrValue, float *nw, float *nb, float *nvw,
                     float *nvb, float *nmean, float *nvar, float *lossOut,
                     int32_t *correctOut) {
    if (stepValue == hooks.interruptAtStep)
      std::raise(SIGINT);

    float logit[kFakeBatch * K], probs[kFakeBatch * K];
    forward(x, w, b, logit);
    int32_t right;
    float l = lossOf(logit, y, probs, right);
    // d loss / d logits = (softmax - onehot) / batch.
    float grad[kFakeBatch * K];
    for (int64_t r = 0; r < kFakeBatch; ++r)
      for (int k = 0; k < K; ++k)
        grad[r * K + k] = (probs[r * K + k] - (y[r] == k)) / kFakeBatch;
    const float momentum = 0.9f;
    for (int64_t d = 0; d < kFeatures; ++d)
      for (int k = 0; k < K; ++k) {
        float g = 0;
        for (int64_t r = 0; r < kFakeBatch; ++r)
          g += x[r * kFeatures + d] * grad[r * K + k];
        nvw[d * K + k] = momentum * vw[d * K + k] - lrValue * g;
        nw[d * K + k] = w[d * K + k] + nvw[d * K + k];
      }
    for (int k = 0; k < K; ++k) {
      float g = 0, m = 0, v = 0;
      for (int64_t r = 0; r < kFakeBatch; ++r) {
        g += grad[r * K + k];
        m += logit[r * K + k];
      }
      m /= kFakeBatch;
      for (int64_t r = 0; r < kFakeBatch; ++r)
        v += (logit[r * K + k] - m) * (logit[r * K + k] - m);
      v /= kFakeBatch;
      nvb[k] = momentum * vb[k] - lrValue * g;
      nb[k] = b[k] + nvb[k];
      // Batch-norm-like running statistics: state that must round-trip.
      nmean[k] = 0.9f * mean[k] + 0.1f * m;
      nvar[k] = 0.9f * var[k] + 0.1f * v;
    }
    *lossOut = stepValue == hooks.nanAtStep
                   ? std::numeric_limits<float>::quiet_NaN()
                   : l;
    *correctOut = right;
  }

  /// train_step returning the new persistent tensors (`in-place=false`).
  static void trainStep(void **args) {
    ++hooks.trainCalls;
    const dlc_tensor_info *a = trainArgs, *res = trainResults;
    const float *w = tensor<float>(args, 0, a[0]);
    const float *b = tensor<float>(args, 1, a[1]);
    const float *vw = tensor<float>(args, 2, a[2]);
    const float *vb = tensor<float>(args, 3, a[3]);
    const float *mean = tensor<float>(args, 4, a[4]);
    const float *var = tensor<float>(args, 5, a[5]);
    const float *x = tensor<float>(args, 6, a[6]);
    const int32_t *y = tensor<int32_t>(args, 7, a[7]);
    int64_t stepValue = *static_cast<int64_t *>(args[8]);
    float lrValue = *static_cast<float *>(args[10]);
    const int n = 11;
    float *nw = tensor<float>(args, n + 0, res[0]);
    float *nb = tensor<float>(args, n + 1, res[1]);
    float *nvw = tensor<float>(args, n + 2, res[2]);
    float *nvb = tensor<float>(args, n + 3, res[3]);
    float *nmean = tensor<float>(args, n + 4, res[4]);
    float *nvar = tensor<float>(args, n + 5, res[5]);
    float *lossOut = tensor<float>(args, n + 6, res[6]);
    int32_t *correctOut = tensor<int32_t>(args, n + 7, res[7]);
    // Results never alias arguments (the runtime's ping-pong buffers).
    for (const void *in :
         {(const void *)w, (const void *)b, (const void *)vw, (const void *)vb,
          (const void *)mean, (const void *)var})
      for (const void *out :
           {(const void *)nw, (const void *)nb, (const void *)nvw,
            (const void *)nvb, (const void *)nmean, (const void *)nvar})
        if (in == out)
          ++hooks.abiErrors;
    update(w, b, vw, vb, mean, var, x, y, stepValue, lrValue, nw, nb, nvw, nvb,
           nmean, nvar, lossOut, correctOut);
  }

  /// train_step updating its DLC_TENSOR_IN_PLACE arguments.
  static void trainStepInPlace(void **args) {
    ++hooks.trainCalls;
    const dlc_tensor_info *a = inPlaceArgs, *res = inPlaceResults;
    float *w = tensor<float>(args, 0, a[0]);
    float *b = tensor<float>(args, 1, a[1]);
    float *vw = tensor<float>(args, 2, a[2]);
    float *vb = tensor<float>(args, 3, a[3]);
    float *mean = tensor<float>(args, 4, a[4]);
    float *var = tensor<float>(args, 5, a[5]);
    const float *x = tensor<float>(args, 6, a[6]);
    const int32_t *y = tensor<int32_t>(args, 7, a[7]);
    int64_t stepValue = *static_cast<int64_t *>(args[8]);
    float lrValue = *static_cast<float *>(args[10]);
    float *lossOut = tensor<float>(args, 11, res[0]);
    int32_t *correctOut = tensor<int32_t>(args, 12, res[1]);
    // Each persistent tensor has a buffer of its own.
    const void *buffers[] = {w, b, vw, vb, mean, var};
    for (int i = 0; i < 6; ++i)
      for (int j = i + 1; j < 6; ++j)
        if (buffers[i] == buffers[j])
          ++hooks.abiErrors;
    update(w, b, vw, vb, mean, var, x, y, stepValue, lrValue, w, b, vw, vb,
           mean, var, lossOut, correctOut);
  }

  static void evalStep(void **args) {
    const dlc_tensor_info *a = evalArgs;
    const float *w = tensor<float>(args, 0, a[0]);
    const float *b = tensor<float>(args, 1, a[1]);
    const float *x = tensor<float>(args, 4, a[4]);
    const int32_t *y = tensor<int32_t>(args, 5, a[5]);
    float logit[kFakeBatch * K], probs[kFakeBatch * K];
    forward(x, w, b, logit);
    int32_t right;
    *tensor<float>(args, 6, evalResults[0]) = lossOf(logit, y, probs, right);
    *tensor<int32_t>(args, 7, evalResults[1]) = right;
  }

  static void predict(void **args) {
    const dlc_tensor_info *a = predictArgs;
    forward(tensor<float>(args, 4, a[4]), tensor<float>(args, 0, a[0]),
            tensor<float>(args, 1, a[1]),
            tensor<float>(args, 5, predictResults[0]));
  }

  static constexpr dlc_function_info functions[] = {
      {"train_step", trainStep, 11, 8, trainArgs, trainResults},
      {"eval_step", evalStep, 6, 2, evalArgs, evalResults},
      {"predict", predict, 5, 1, predictArgs, predictResults},
  };
  static constexpr dlc_function_info inPlaceFunctions[] = {
      {"train_step", trainStepInPlace, 11, 2, inPlaceArgs, inPlaceResults},
      {"eval_step", evalStep, 6, 2, evalArgs, evalResults},
      {"predict", predict, 5, 1, predictArgs, predictResults},
  };
};

const char *kSettings =
    R"({"loss": "sparse_categorical_crossentropy",
        "optimizer": {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9},
        "batch_size": 16, "epochs": 3,
        "input": {"shape": [4, 4, 1], "scale": 0.00392156862745098, "offset": 0.0},
        "metrics": ["accuracy"], "class_names": ["zero", "one", "two"]})";

const dlc_model_info kFake = {
    DLC_MODEL_ABI_VERSION,         DLC_DEVICE_CPU, "fake_logreg", kSettings, 3,
    Model<kFakeClasses>::functions};
const dlc_model_info kOther = {
    DLC_MODEL_ABI_VERSION, DLC_DEVICE_CPU, "other_logreg", kSettings, 3,
    Model<4>::functions};
const dlc_model_info kInPlace = {DLC_MODEL_ABI_VERSION,
                                 DLC_DEVICE_CPU,
                                 "fake_logreg",
                                 kSettings,
                                 3,
                                 Model<kFakeClasses>::inPlaceFunctions};

} // namespace

const dlc_model_info &dlc::runtime::testing::fakeModel() { return kFake; }
const dlc_model_info &dlc::runtime::testing::fakeInPlaceModel() {
  return kInPlace;
}
const dlc_model_info &dlc::runtime::testing::otherFakeModel() { return kOther; }
FakeHooks &dlc::runtime::testing::fakeHooks() { return hooks; }
void dlc::runtime::testing::resetFakeHooks() { hooks = FakeHooks(); }
