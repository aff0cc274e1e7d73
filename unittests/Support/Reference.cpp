//===- Reference.cpp - Naive C++ references of the dlc ops ----------------===//

#include "Reference.h"

#include "dlc/Support/Philox.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace dlc::test;
using namespace dlc::test::ref;

namespace {
/// Row-major flat index of an NHWC position.
int64_t at4(const std::vector<int64_t> &s, int64_t n, int64_t h, int64_t w,
            int64_t c) {
  return ((n * s[1] + h) * s[2] + w) * s[3] + c;
}
} // namespace

std::array<int64_t, 2> ref::samePadding(int64_t in, int64_t kernel,
                                        int64_t stride, int64_t dilation) {
  int64_t out = (in + stride - 1) / stride;
  int64_t window = (kernel - 1) * dilation + 1;
  int64_t total = std::max<int64_t>((out - 1) * stride + window - in, 0);
  return {total / 2, total - total / 2};
}

int64_t ref::windowOutput(int64_t in, int64_t kernel, int64_t stride,
                          int64_t dilation, int64_t padBefore,
                          int64_t padAfter) {
  int64_t window = (kernel - 1) * dilation + 1;
  return (in + padBefore + padAfter - window) / stride + 1;
}

HostTensor ref::conv2d(const HostTensor &x, const HostTensor &w,
                       const HostTensor *bias, const Conv2DParams &p) {
  const auto &xs = x.shape(), &ws = w.shape();
  int64_t n = xs[0], h = xs[1], wd = xs[2], c = xs[3];
  int64_t kh = ws[0], kw = ws[1], cg = ws[2], f = ws[3];
  int64_t fg = f / p.groups;
  int64_t oh =
      windowOutput(h, kh, p.strides[0], p.dilations[0], p.pads[0], p.pads[1]);
  int64_t ow =
      windowOutput(wd, kw, p.strides[1], p.dilations[1], p.pads[2], p.pads[3]);
  HostTensor y = HostTensor::f32({n, oh, ow, f});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t o = 0; o < f; ++o) {
          int64_t g = o / fg;
          double acc = bias ? bias->f()[o] : 0.0;
          for (int64_t u = 0; u < kh; ++u)
            for (int64_t v = 0; v < kw; ++v) {
              int64_t yy = i * p.strides[0] + u * p.dilations[0] - p.pads[0];
              int64_t xx = j * p.strides[1] + v * p.dilations[1] - p.pads[2];
              if (yy < 0 || yy >= h || xx < 0 || xx >= wd)
                continue;
              for (int64_t k = 0; k < cg; ++k)
                acc += double(x.f()[at4(xs, b, yy, xx, g * cg + k)]) *
                       w.f()[((u * kw + v) * cg + k) * f + o];
            }
          y.f()[at4(y.shape(), b, i, j, o)] = float(acc);
        }
  (void)c;
  return y;
}

HostTensor ref::dense(const HostTensor &x, const HostTensor &w,
                      const HostTensor *bias) {
  int64_t n = x.shape()[0], k = x.shape()[1], m = w.shape()[1];
  HostTensor y = HostTensor::f32({n, m});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      double acc = bias ? bias->f()[j] : 0.0;
      for (int64_t l = 0; l < k; ++l)
        acc += double(x.f()[i * k + l]) * w.f()[l * m + j];
      y.f()[i * m + j] = float(acc);
    }
  return y;
}

HostTensor ref::biasAdd(const HostTensor &x, const HostTensor &bias) {
  HostTensor y = x;
  int64_t c = x.shape().back();
  for (int64_t k = 0; k < x.numElements(); ++k)
    y.f()[k] = x.f()[k] + bias.f()[k % c];
  return y;
}

HostTensor ref::map(const HostTensor &x,
                    const std::function<double(double)> &fn) {
  HostTensor y = x;
  for (float &v : y.f())
    v = float(fn(v));
  return y;
}

HostTensor ref::add(const HostTensor &a, const HostTensor &b) {
  HostTensor y = a;
  for (int64_t k = 0; k < a.numElements(); ++k)
    y.f()[k] = a.f()[k] + b.f()[k];
  return y;
}

HostTensor ref::softmax(const HostTensor &x, int64_t axis) {
  const auto &s = x.shape();
  int64_t rank = s.size();
  if (axis < 0)
    axis += rank;
  int64_t inner = 1, outer = 1, len = s[axis];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= s[d];
  for (int64_t d = 0; d < axis; ++d)
    outer *= s[d];
  HostTensor y = x;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto idx = [&](int64_t a) { return (o * len + a) * inner + i; };
      double max = -INFINITY, sum = 0;
      for (int64_t a = 0; a < len; ++a)
        max = std::max(max, double(x.f()[idx(a)]));
      for (int64_t a = 0; a < len; ++a)
        sum += std::exp(x.f()[idx(a)] - max);
      for (int64_t a = 0; a < len; ++a)
        y.f()[idx(a)] = float(std::exp(x.f()[idx(a)] - max) / sum);
    }
  return y;
}

/// Shared by max and average pooling: calls `fn(values in the window)`.
static HostTensor pool(const HostTensor &x, std::array<int64_t, 2> k,
                       std::array<int64_t, 2> s, std::array<int64_t, 4> pads,
                       const std::function<double(std::vector<double> &)> &fn) {
  const auto &xs = x.shape();
  int64_t oh = windowOutput(xs[1], k[0], s[0], 1, pads[0], pads[1]);
  int64_t ow = windowOutput(xs[2], k[1], s[1], 1, pads[2], pads[3]);
  HostTensor y = HostTensor::f32({xs[0], oh, ow, xs[3]});
  std::vector<double> window;
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t c = 0; c < xs[3]; ++c) {
          window.clear();
          for (int64_t u = 0; u < k[0]; ++u)
            for (int64_t v = 0; v < k[1]; ++v) {
              int64_t yy = i * s[0] + u - pads[0], xx = j * s[1] + v - pads[2];
              if (yy >= 0 && yy < xs[1] && xx >= 0 && xx < xs[2])
                window.push_back(x.f()[at4(xs, n, yy, xx, c)]);
            }
          y.f()[at4(y.shape(), n, i, j, c)] = float(fn(window));
        }
  return y;
}

HostTensor ref::maxPool(const HostTensor &x, std::array<int64_t, 2> kernel,
                        std::array<int64_t, 2> strides,
                        std::array<int64_t, 4> pads) {
  return pool(x, kernel, strides, pads, [](std::vector<double> &v) {
    return *std::max_element(v.begin(), v.end());
  });
}

HostTensor ref::avgPool(const HostTensor &x, std::array<int64_t, 2> kernel,
                        std::array<int64_t, 2> strides,
                        std::array<int64_t, 4> pads) {
  return pool(x, kernel, strides, pads, [](std::vector<double> &v) {
    double sum = 0;
    for (double e : v)
      sum += e;
    return sum / v.size();
  });
}

HostTensor ref::globalAvgPool(const HostTensor &x) {
  const auto &xs = x.shape();
  HostTensor y = HostTensor::f32({xs[0], xs[3]});
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t c = 0; c < xs[3]; ++c) {
      double sum = 0;
      for (int64_t i = 0; i < xs[1]; ++i)
        for (int64_t j = 0; j < xs[2]; ++j)
          sum += x.f()[at4(xs, n, i, j, c)];
      y.f()[n * xs[3] + c] = float(sum / (xs[1] * xs[2]));
    }
  return y;
}

HostTensor ref::concat(const std::vector<const HostTensor *> &inputs,
                       int64_t axis) {
  std::vector<int64_t> shape = inputs[0]->shape();
  int64_t rank = shape.size();
  if (axis < 0)
    axis += rank;
  shape[axis] = 0;
  for (const HostTensor *t : inputs)
    shape[axis] += t->shape()[axis];
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= shape[d];
  HostTensor y = HostTensor::f32(shape);
  int64_t offset = 0;
  for (const HostTensor *t : inputs) {
    int64_t len = t->shape()[axis];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t a = 0; a < len; ++a)
        for (int64_t i = 0; i < inner; ++i)
          y.f()[(o * shape[axis] + offset + a) * inner + i] =
              t->f()[(o * len + a) * inner + i];
    offset += len;
  }
  return y;
}

HostTensor ref::reshape(const HostTensor &x, std::vector<int64_t> shape) {
  HostTensor y = HostTensor::f32(std::move(shape));
  y.f() = x.f();
  return y;
}

HostTensor ref::batchNorm(const HostTensor &x, const HostTensor &gamma,
                          const HostTensor &beta, const HostTensor &mean,
                          const HostTensor &variance, float epsilon) {
  HostTensor y = x;
  int64_t c = x.shape().back();
  for (int64_t k = 0; k < x.numElements(); ++k) {
    int64_t ch = k % c;
    y.f()[k] = float((x.f()[k] - double(mean.f()[ch])) /
                         std::sqrt(double(variance.f()[ch]) + epsilon) *
                         gamma.f()[ch] +
                     beta.f()[ch]);
  }
  return y;
}

BatchNormTrainResult ref::batchNormTrain(const HostTensor &x,
                                         const HostTensor &gamma,
                                         const HostTensor &beta,
                                         const HostTensor &runningMean,
                                         const HostTensor &runningVariance,
                                         float epsilon, float momentum) {
  int64_t c = x.shape().back();
  int64_t count = x.numElements() / c;
  std::vector<double> sum(c, 0), sq(c, 0);
  for (int64_t k = 0; k < x.numElements(); ++k)
    sum[k % c] += x.f()[k];
  BatchNormTrainResult r{x, HostTensor::f32({c}), HostTensor::f32({c}),
                         HostTensor::f32({c}), HostTensor::f32({c})};
  for (int64_t ch = 0; ch < c; ++ch)
    sum[ch] /= count;
  for (int64_t k = 0; k < x.numElements(); ++k) {
    double d = x.f()[k] - sum[k % c];
    sq[k % c] += d * d;
  }
  for (int64_t ch = 0; ch < c; ++ch) {
    double var = sq[ch] / count;
    r.mean.f()[ch] = float(sum[ch]);
    r.variance.f()[ch] = float(var);
    r.newMean.f()[ch] = float(momentum * double(runningMean.f()[ch]) +
                              (1.0 - momentum) * sum[ch]);
    r.newVariance.f()[ch] = float(momentum * double(runningVariance.f()[ch]) +
                                  (1.0 - momentum) * var);
  }
  for (int64_t k = 0; k < x.numElements(); ++k) {
    int64_t ch = k % c;
    r.y.f()[k] = float((x.f()[k] - sum[ch]) /
                           std::sqrt(sq[ch] / count + epsilon) * gamma.f()[ch] +
                       beta.f()[ch]);
  }
  return r;
}

float ref::softmaxCrossEntropy(const HostTensor &logits,
                               const HostTensor &labels) {
  int64_t n = logits.shape()[0], k = logits.shape()[1];
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    double max = -INFINITY, sum = 0;
    for (int64_t j = 0; j < k; ++j)
      max = std::max(max, double(logits.f()[i * k + j]));
    for (int64_t j = 0; j < k; ++j)
      sum += std::exp(logits.f()[i * k + j] - max);
    total += std::log(sum) + max - logits.f()[i * k + labels.i()[i]];
  }
  return float(total / n);
}

float ref::mse(const HostTensor &p, const HostTensor &t) {
  double sum = 0;
  for (int64_t k = 0; k < p.numElements(); ++k) {
    double d = double(p.f()[k]) - t.f()[k];
    sum += d * d;
  }
  return float(sum / p.numElements());
}

float ref::binaryCrossEntropy(const HostTensor &p, const HostTensor &t,
                              bool fromLogits) {
  double sum = 0;
  for (int64_t k = 0; k < p.numElements(); ++k) {
    double x = p.f()[k], y = t.f()[k];
    if (fromLogits) {
      sum += std::max(x, 0.0) - x * y + std::log1p(std::exp(-std::fabs(x)));
    } else {
      // Keras clips in f32: 1 - 1e-7 rounds to 1 - 2^-23, and 1 - q too.
      float q = std::clamp(float(x), 1e-7f, 1.0f - 1e-7f);
      float oneMinusQ = 1.0f - q;
      sum -= y * std::log(double(q)) + (1 - y) * std::log(double(oneMinusQ));
    }
  }
  return float(sum / p.numElements());
}

int32_t ref::accuracy(const HostTensor &logits, const HostTensor &labels) {
  int64_t n = logits.shape()[0], k = logits.shape()[1];
  int32_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    for (int64_t j = 1; j < k; ++j)
      if (logits.f()[i * k + j] > logits.f()[i * k + best])
        best = j;
    correct += best == labels.i()[i];
  }
  return correct;
}

HostTensor ref::dropout(const HostTensor &x, uint64_t key, int64_t stream,
                        float rate) {
  HostTensor y = x;
  float scale = float(1.0 / (1.0 - double(rate)));
  for (int64_t k = 0; k < x.numElements(); ++k) {
    float u = dlc::philoxUniform(dlc::philoxDraw(key, stream, k)[0]);
    y.f()[k] = u >= rate ? x.f()[k] * scale : 0.0f;
  }
  return y;
}

HostTensor ref::randomFlip(const HostTensor &x, uint64_t key, int64_t stream,
                           bool horizontal, bool vertical) {
  const auto &s = x.shape();
  HostTensor y = x;
  for (int64_t n = 0; n < s[0]; ++n) {
    dlc::PhiloxBlock words = dlc::philoxDraw(key, stream, n);
    bool fh = horizontal && dlc::philoxUniform(words[0]) < 0.5f;
    bool fv = vertical && dlc::philoxUniform(words[1]) < 0.5f;
    for (int64_t i = 0; i < s[1]; ++i)
      for (int64_t j = 0; j < s[2]; ++j)
        for (int64_t c = 0; c < s[3]; ++c)
          y.f()[at4(s, n, i, j, c)] =
              x.f()[at4(s, n, fv ? s[1] - 1 - i : i, fh ? s[2] - 1 - j : j, c)];
  }
  return y;
}

/// Maps source index `i` into [0, size) by `fill`; false when outside for
/// Fill::constant.
static bool fillIndex(int64_t &i, int64_t size, Fill fill) {
  auto mod = [](int64_t a, int64_t m) { return ((a % m) + m) % m; };
  switch (fill) {
  case Fill::reflect: {
    int64_t m = mod(i, 2 * size);
    i = m < size ? m : 2 * size - 1 - m;
    return true;
  }
  case Fill::wrap:
    i = mod(i, size);
    return true;
  case Fill::nearest:
    i = std::clamp<int64_t>(i, 0, size - 1);
    return true;
  case Fill::constant:
    return i >= 0 && i < size;
  }
  return false;
}

HostTensor ref::randomTranslation(const HostTensor &x, uint64_t key,
                                  int64_t stream, std::array<float, 2> height,
                                  std::array<float, 2> width, Fill fill,
                                  float fillValue) {
  const auto &s = x.shape();
  HostTensor y = x;
  // The same f32 operations, one per statement (no contraction), as the
  // lowering.
  auto shift = [](uint32_t word, std::array<float, 2> f, int64_t size) {
    float u = dlc::philoxUniform(word);
    float span = float(double(f[1]) - double(f[0]));
    float scaled = u * span;
    float factor = f[0] + scaled;
    float pixels = factor * float(size);
    return int64_t(int32_t(std::round(pixels)));
  };
  for (int64_t n = 0; n < s[0]; ++n) {
    dlc::PhiloxBlock words = dlc::philoxDraw(key, stream, n);
    int64_t dy = shift(words[0], height, s[1]);
    int64_t dx = shift(words[1], width, s[2]);
    for (int64_t i = 0; i < s[1]; ++i)
      for (int64_t j = 0; j < s[2]; ++j)
        for (int64_t c = 0; c < s[3]; ++c) {
          int64_t si = i - dy, sj = j - dx;
          bool insideY = fillIndex(si, s[1], fill);
          bool insideX = fillIndex(sj, s[2], fill);
          bool inside = insideY && insideX;
          y.f()[at4(s, n, i, j, c)] =
              inside ? x.f()[at4(s, n, si, sj, c)] : fillValue;
        }
  }
  return y;
}

HostTensor ref::randomCrop(const HostTensor &x, const uint64_t *key,
                           int64_t stream, int64_t height, int64_t width) {
  const auto &s = x.shape();
  HostTensor y = HostTensor::f32({s[0], height, width, s[3]});
  int64_t slackH = s[1] - height, slackW = s[2] - width;
  for (int64_t n = 0; n < s[0]; ++n) {
    int64_t dy = slackH / 2, dx = slackW / 2;
    if (key) {
      dlc::PhiloxBlock words = dlc::philoxDraw(*key, stream, n);
      float sy = dlc::philoxUniform(words[0]) * float(slackH + 1);
      float sx = dlc::philoxUniform(words[1]) * float(slackW + 1);
      dy = std::min<int64_t>(int32_t(sy), slackH);
      dx = std::min<int64_t>(int32_t(sx), slackW);
    }
    for (int64_t i = 0; i < height; ++i)
      for (int64_t j = 0; j < width; ++j)
        for (int64_t c = 0; c < s[3]; ++c)
          y.f()[at4(y.shape(), n, i, j, c)] =
              x.f()[at4(s, n, i + dy, j + dx, c)];
  }
  return y;
}
