//===- Reference.h - Naive C++ references of the dlc ops --------*- C++ -*-===//
//
// Straightforward loops, accumulating in double, written from the op
// definitions (DLCOps.td) and not from the lowering, so that the e2e tests
// compare two independent implementations. Randomized ops follow the draw
// documented in lib/Conversion/DLCToLinalg/Random.cpp on top of
// dlc/Support/Philox.h, with the same f32 operations in the same order.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_UNITTESTS_SUPPORT_REFERENCE_H
#define DLC_UNITTESTS_SUPPORT_REFERENCE_H

#include "TestSupport.h"

#include <array>
#include <functional>

namespace dlc::test::ref {

/// TensorFlow's `same` padding of one dimension: {before, after}.
std::array<int64_t, 2> samePadding(int64_t in, int64_t kernel, int64_t stride,
                                   int64_t dilation);

/// Output size of a window op along one dimension with explicit pads.
int64_t windowOutput(int64_t in, int64_t kernel, int64_t stride,
                     int64_t dilation, int64_t padBefore, int64_t padAfter);

struct Conv2DParams {
  std::array<int64_t, 2> strides = {1, 1};
  std::array<int64_t, 2> dilations = {1, 1};
  std::array<int64_t, 4> pads = {0, 0, 0, 0}; // top, bottom, left, right
  int64_t groups = 1;
};

HostTensor conv2d(const HostTensor &x, const HostTensor &w,
                  const HostTensor *bias, const Conv2DParams &p);
HostTensor dense(const HostTensor &x, const HostTensor &w,
                 const HostTensor *bias);
HostTensor biasAdd(const HostTensor &x, const HostTensor &bias);
HostTensor map(const HostTensor &x, const std::function<double(double)> &fn);
HostTensor add(const HostTensor &a, const HostTensor &b);
HostTensor softmax(const HostTensor &x, int64_t axis);

/// Pooling with windows `kernel`, `strides` and pads [t, b, l, r]; padded
/// positions never count (max ignores them, avg divides by the valid count).
HostTensor maxPool(const HostTensor &x, std::array<int64_t, 2> kernel,
                   std::array<int64_t, 2> strides, std::array<int64_t, 4> pads);
HostTensor avgPool(const HostTensor &x, std::array<int64_t, 2> kernel,
                   std::array<int64_t, 2> strides, std::array<int64_t, 4> pads);
HostTensor globalAvgPool(const HostTensor &x);
HostTensor concat(const std::vector<const HostTensor *> &inputs, int64_t axis);
HostTensor reshape(const HostTensor &x, std::vector<int64_t> shape);

HostTensor batchNorm(const HostTensor &x, const HostTensor &gamma,
                     const HostTensor &beta, const HostTensor &mean,
                     const HostTensor &variance, float epsilon);
struct BatchNormTrainResult {
  HostTensor y, mean, variance, newMean, newVariance;
};
BatchNormTrainResult batchNormTrain(const HostTensor &x,
                                    const HostTensor &gamma,
                                    const HostTensor &beta,
                                    const HostTensor &runningMean,
                                    const HostTensor &runningVariance,
                                    float epsilon, float momentum);

float softmaxCrossEntropy(const HostTensor &logits, const HostTensor &labels);
float mse(const HostTensor &p, const HostTensor &t);
float binaryCrossEntropy(const HostTensor &p, const HostTensor &t,
                         bool fromLogits);
int32_t accuracy(const HostTensor &logits, const HostTensor &labels);

HostTensor dropout(const HostTensor &x, uint64_t key, int64_t stream,
                   float rate);
HostTensor randomFlip(const HostTensor &x, uint64_t key, int64_t stream,
                      bool horizontal, bool vertical);
enum class Fill { reflect, wrap, nearest, constant };
HostTensor randomTranslation(const HostTensor &x, uint64_t key, int64_t stream,
                             std::array<float, 2> height,
                             std::array<float, 2> width, Fill fill,
                             float fillValue);
/// With `key` null: the center crop.
HostTensor randomCrop(const HostTensor &x, const uint64_t *key, int64_t stream,
                      int64_t height, int64_t width);

} // namespace dlc::test::ref

#endif // DLC_UNITTESTS_SUPPORT_REFERENCE_H
