//===- Model.h - The compiled model's table, validated ----------*- C++ -*-===//
//
// Reads the dlc_model_info table a compiled object exports (ModelABI.h),
// checks it once (roles, dtypes, shapes, group correspondences) so the rest
// of the runtime can rely on it, and binds every argument and result of
// every entry point to a slot: a persistent tensor (param, opt_state,
// state) by name, the input batch, the labels, a scalar, or an output.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_MODEL_H
#define DLC_RUNTIME_MODEL_H

#include "dlc/Runtime/Data/Batcher.h"
#include "dlc/Runtime/Initializers.h"
#include "dlc/Runtime/ModelABI.h"
#include "dlc/Runtime/Tensor.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dlc::runtime {

/// What the compiler recorded in settings_json; every field is optional.
struct ModelSettings {
  std::string loss;
  /// The loss reads probabilities (from_logits: false): the model's output
  /// ends in its own softmax, so `predict` must not apply another.
  bool outputIsProbabilities = false;
  /// Lower-case optimizer name ("adam", "sgd", ...), "" if not recorded.
  std::string optimizer;
  std::optional<double> learningRate;
  std::optional<int64_t> epochs;
  std::optional<int64_t> batchSize;
  Normalization normalization;
  std::vector<std::string> classNames;
  /// A default for --data.
  std::string dataset;
  /// Parameters of configurable initializers, by tensor name.
  std::map<std::string, InitConfig> initConfigs;
  /// Initial values (the weights of an imported ONNX model), by tensor
  /// name: f32, row major.
  std::map<std::string, std::vector<float>> initialValues;
};

/// Parses settings_json. Unknown keys are ignored (the compiler may record
/// more than the runtime uses); malformed known keys are errors.
llvm::Expected<ModelSettings> parseModelSettings(llvm::StringRef json);

/// The three groups of tensors that live across steps.
enum class TensorGroup { Param, OptState, State };
llvm::StringRef groupName(TensorGroup group);

/// One tensor the runtime keeps across steps.
struct TensorSpec {
  std::string name;
  TensorGroup group;
  /// The initializer to use (defaults resolved, see CompiledModel::create).
  std::string init;
  DType dtype;
  llvm::SmallVector<int64_t, 4> shape;
  /// Parameters of `init` (e.g. random_normal's stddev), if configured.
  InitConfig initConfig = {};
  /// The value to start from instead of `init` (empty: none); see
  /// ModelSettings::initialValues.
  std::vector<float> initialValue = {};
};

/// Where one argument or result of an entry point comes from or goes to.
struct Slot {
  enum Kind {
    Persistent, ///< TensorSpec `tensor`
    Input,
    Labels,
    Step,
    Seed,
    LearningRate,
    Loss,
    Correct,
    Logits,
    Feature,  ///< feature map `tensor` of CompiledModel::getFeatureMaps()
    Gradient, ///< of the param TensorSpec `tensor`
  } kind;
  unsigned tensor = 0;
};

/// One result of `features`: a convolution's output [batch, H, W, C].
struct FeatureMapSpec {
  std::string name;
  llvm::SmallVector<int64_t, 4> shape;
};

/// An entry point with its arguments and results bound to slots.
struct BoundFunction {
  const dlc_function_info *info = nullptr;
  std::vector<Slot> args, results;
  /// train_step writes the new persistent tensors into its arguments
  /// (DLC_TENSOR_IN_PLACE) instead of returning them.
  bool inPlace = false;
  explicit operator bool() const { return info != nullptr; }
};

/// The validated model.
class CompiledModel {
public:
  /// Validates `info`; errors describe what is wrong with the table (a
  /// compiler bug or a mismatched object file, never a user error).
  static llvm::Expected<std::unique_ptr<CompiledModel>>
  create(const dlc_model_info &info);

  llvm::StringRef getName() const { return name; }
  /// Where the entry points expect their buffers.
  dlc_device getDevice() const { return device; }
  const ModelSettings &getSettings() const { return settings; }
  llvm::StringRef getSettingsJson() const { return settingsJson; }

  int64_t getBatchSize() const { return inputShape[0]; }
  /// [batch, H, W, C]. An input of rank 3 [batch, H, W] reads as
  /// [batch, H, W, 1], a flat one [batch, N] as [batch, 1, N, 1]: the same
  /// bytes in the same order, so images of any H x W x C = N fill it.
  llvm::ArrayRef<int64_t> getInputShape() const { return inputShape; }
  /// The input as the entry points declare it (rank 2, 3 or 4).
  llvm::ArrayRef<int64_t> getDeclaredInputShape() const {
    return declaredInputShape;
  }
  /// The input is flat ([batch, N]): data matches it by element count.
  bool isFlatInput() const { return declaredInputShape.size() == 2; }
  /// The number of classes of predict's logits; 0 without predict.
  int64_t getNumClasses() const { return numClasses; }

  /// Persistent tensors: params, then opt_state, then state, each in the
  /// order of the entry point that first mentions them.
  llvm::ArrayRef<TensorSpec> getTensors() const { return tensors; }
  std::optional<unsigned> lookupTensor(llvm::StringRef name) const;

  const BoundFunction &getTrainStep() const { return trainStep; }
  const BoundFunction &getEvalStep() const { return evalStep; }
  const BoundFunction &getPredict() const { return predict; }
  /// Optional: each convolution's output (the report's feature maps).
  const BoundFunction &getFeatures() const { return features; }
  llvm::ArrayRef<FeatureMapSpec> getFeatureMaps() const { return featureMaps; }
  /// The optional `gradients` entry point (`dlc compile --gradients`).
  const BoundFunction &getGradients() const { return gradients; }

  /// A human-readable summary (the `info` subcommand).
  std::string describe() const;

private:
  CompiledModel() = default;
  llvm::Error bind(const dlc_function_info &fn, BoundFunction &bound);

  std::string name, settingsJson;
  dlc_device device = DLC_DEVICE_CPU;
  ModelSettings settings;
  llvm::SmallVector<int64_t, 4> inputShape, declaredInputShape;
  int64_t numClasses = 0;
  std::vector<TensorSpec> tensors;
  llvm::StringMap<unsigned> tensorIndex;
  BoundFunction trainStep, evalStep, predict, features, gradients;
  std::vector<FeatureMapSpec> featureMaps;
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_MODEL_H
