//===- Initializers.cpp - Keras parameter initializers --------------------===//
//
// Keras reference: keras/src/initializers/random_initializers.py
// (VarianceScaling and its named special cases).
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Initializers.h"
#include "dlc/Runtime/Random.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace dlc::runtime;

Fans dlc::runtime::computeFans(llvm::ArrayRef<int64_t> shape) {
  if (shape.empty())
    return {1, 1};
  if (shape.size() == 1)
    return {double(shape[0]), double(shape[0])};
  double receptive = 1;
  for (int64_t d : shape.drop_back(2))
    receptive *= d;
  return {shape[shape.size() - 2] * receptive, shape.back() * receptive};
}

namespace {
/// VarianceScaling's modes and distributions.
enum class Mode { FanIn, FanAvg };
enum class Distribution { TruncatedNormal, Uniform };
struct Scaling {
  double scale;
  Mode mode;
  Distribution distribution;
};
} // namespace

static std::optional<Scaling> varianceScaling(llvm::StringRef init) {
  using D = Distribution;
  if (init == "glorot_uniform")
    return Scaling{1.0, Mode::FanAvg, D::Uniform};
  if (init == "glorot_normal")
    return Scaling{1.0, Mode::FanAvg, D::TruncatedNormal};
  if (init == "he_uniform")
    return Scaling{2.0, Mode::FanIn, D::Uniform};
  if (init == "he_normal")
    return Scaling{2.0, Mode::FanIn, D::TruncatedNormal};
  if (init == "lecun_uniform")
    return Scaling{1.0, Mode::FanIn, D::Uniform};
  if (init == "lecun_normal")
    return Scaling{1.0, Mode::FanIn, D::TruncatedNormal};
  return std::nullopt;
}

llvm::ArrayRef<llvm::StringRef> dlc::runtime::knownInitializers() {
  static const llvm::StringRef names[] = {
      "glorot_uniform",   "glorot_normal", "he_uniform",    "he_normal",
      "lecun_uniform",    "lecun_normal",  "random_normal", "random_uniform",
      "truncated_normal", "zeros",         "ones",          "constant",
      "variance_scaling"};
  return names;
}

template <typename Fn> static void fill(Tensor &t, Fn value) {
  float *p = t.data<float>();
  for (int64_t i = 0, e = t.getNumElements(); i < e; ++i)
    p[i] = static_cast<float>(value());
}

llvm::Error dlc::runtime::initializeTensor(Tensor &tensor, llvm::StringRef init,
                                           uint64_t seed, llvm::StringRef name,
                                           const InitConfig &config) {
  // Constant initializers work for every dtype (step counters are i64).
  if (init == "zeros" || init == "ones") {
    int64_t one = init == "ones";
    for (int64_t i = 0, e = tensor.getNumElements(); i < e; ++i) {
      switch (tensor.getDType()) {
      case DType::F32:
        tensor.data<float>()[i] = float(one);
        break;
      case DType::I32:
        tensor.data<int32_t>()[i] = int32_t(one);
        break;
      case DType::I64:
        tensor.data<int64_t>()[i] = one;
        break;
      }
    }
    return llvm::Error::success();
  }

  bool known = llvm::is_contained(knownInitializers(), init);
  if (!known)
    return llvm::createStringError(
        "unknown initializer '%s' for '%s' (known: %s)", init.str().c_str(),
        name.str().c_str(), llvm::join(knownInitializers(), ", ").c_str());
  if (tensor.getDType() != DType::F32)
    return llvm::createStringError(
        "initializer '%s' needs an f32 tensor but '%s' is %s",
        init.str().c_str(), name.str().c_str(),
        dtypeName(tensor.getDType()).str().c_str());

  Rng rng(deriveKey(seed, name));
  // Keras's defaults for the plain random initializers, unless configured.
  double mean = config.number("mean", 0.0);
  double stddev = config.number("stddev", 0.05);
  if (init == "constant") {
    double value = config.number("value", 0.0);
    fill(tensor, [&] { return value; });
  } else if (init == "random_normal") {
    fill(tensor, [&] { return mean + stddev * rng.normal(); });
  } else if (init == "random_uniform") {
    double lo = config.number("minval", -0.05);
    double hi = config.number("maxval", 0.05);
    fill(tensor, [&] { return lo + (hi - lo) * rng.uniform(); });
  } else if (init == "truncated_normal") {
    fill(tensor, [&] { return mean + stddev * rng.truncatedNormal(); });
  } else {
    std::optional<Scaling> named = varianceScaling(init);
    Scaling s = named.value_or(
        Scaling{1.0, Mode::FanIn, Distribution::TruncatedNormal});
    if (init == "variance_scaling") {
      // Keras VarianceScaling: scale, mode (fan_in|fan_out|fan_avg),
      // distribution (truncated_normal|untruncated_normal|uniform).
      s.scale = config.number("scale", 1.0);
      std::string mode = config.string("mode", "fan_in");
      std::string dist = config.string("distribution", "truncated_normal");
      Fans fans = computeFans(tensor.getShape());
      double n = mode == "fan_in"    ? fans.fanIn
                 : mode == "fan_out" ? fans.fanOut
                                     : (fans.fanIn + fans.fanOut) / 2.0;
      double variance = s.scale / std::max(1.0, n);
      if (dist == "uniform") {
        double limit = std::sqrt(3.0 * variance);
        fill(tensor, [&] { return limit * (2.0 * rng.uniform() - 1.0); });
      } else if (dist == "untruncated_normal" || dist == "normal") {
        double sd = std::sqrt(variance);
        fill(tensor, [&] { return sd * rng.normal(); });
      } else {
        double sd = std::sqrt(variance) / 0.87962566103423978;
        fill(tensor, [&] { return sd * rng.truncatedNormal(); });
      }
      return llvm::Error::success();
    }
    Fans fans = computeFans(tensor.getShape());
    double n =
        s.mode == Mode::FanIn ? fans.fanIn : (fans.fanIn + fans.fanOut) / 2.0;
    double variance = s.scale / std::max(1.0, n);
    if (s.distribution == Distribution::Uniform) {
      double limit = std::sqrt(3.0 * variance);
      fill(tensor, [&] { return limit * (2.0 * rng.uniform() - 1.0); });
    } else {
      // The standard deviation of a unit normal truncated to [-2, 2].
      double stddev = std::sqrt(variance) / 0.87962566103423978;
      fill(tensor, [&] { return stddev * rng.truncatedNormal(); });
    }
  }
  return llvm::Error::success();
}
