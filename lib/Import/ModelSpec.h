//===- ModelSpec.h - Format-neutral description of a model ------*- C++ -*-===//
//
// Both readers (dlc YAML in ReadYaml.cpp, Keras JSON in ReadKerasJson.cpp)
// produce a ModelSpec: the input, the layers with their Keras class name,
// their name, their argument mapping and the names of the layers they read,
// and the training-setting nodes. The readers check structure only; layer
// arguments, the graph and the shapes are checked once, on the ModelSpec,
// for both formats. ModelSpec.cpp holds what the two readers share.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_IMPORT_MODELSPEC_H
#define DLC_LIB_IMPORT_MODELSPEC_H

#include "Document.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <vector>

namespace mlir::dlc::import {

/// A reference to a layer (or to the model input) by name.
struct LayerRef {
  StringRef name;
  /// Where the reference is written (for "unknown layer name" errors).
  const DocNode *node = nullptr;
};

/// One layer as written in the file.
struct LayerSpec {
  /// Keras class name as written (Conv2D, BatchNormalization, ...).
  StringRef className;
  /// Where the layer is written: its class name.
  const DocNode *classNode = nullptr;
  /// The layer's name: written in the file, or generated the Keras way.
  StringRef name;
  /// Where the name is written; null when generated.
  const DocNode *nameNode = nullptr;
  /// The argument mapping (may be null for a layer without arguments).
  const DocNode *args = nullptr;
  /// Keys of `args` that the reader consumed (name, inputs, ...).
  SmallVector<StringRef, 4> readerKeys;
  /// The layers this layer reads, in order.
  SmallVector<LayerRef, 2> inputs;
};

/// The model input.
struct InputSpec {
  StringRef name;
  /// Where the input is described (for errors about it).
  const DocNode *node = nullptr;
  /// Shape without the batch dimension.
  SmallVector<int64_t, 3> shape;
  /// Normalization `x * scale + offset` of the raw data, per channel or one
  /// value for all; empty when the file gives none.
  SmallVector<double, 3> scale, offset;
  /// Where the normalization is given (for the error when a Rescaling layer
  /// would give it a second time).
  const DocNode *normalizationNode = nullptr;
};

/// Which reader produced the spec: YAML files are written by hand and get
/// Keras-vocabulary shortcuts; Keras JSON is written by Keras.
enum class ModelFormat { DlcYaml, KerasJson };

/// Training settings as written; null members are absent (defaults apply).
struct TrainingSpec {
  const DocNode *loss = nullptr;
  const DocNode *optimizer = nullptr;
  const DocNode *metrics = nullptr;
  const DocNode *batchSize = nullptr;
  const DocNode *epochs = nullptr;
};

struct ModelSpec {
  ModelFormat format = ModelFormat::DlcYaml;
  StringRef name;
  InputSpec input;
  std::vector<LayerSpec> layers;
  /// The layer whose output is the model output.
  LayerRef output;
  TrainingSpec training;
  /// Where the layer list is written (for "empty model" errors).
  const DocNode *layersNode = nullptr;
};

/// Reads a dlc YAML model (a mapping with `layers`).
FailureOr<ModelSpec> readDlcYaml(const ModelSource &source,
                                 const DocNode *root);

/// Reads Keras `model.to_json()` output (Keras 3 or Keras 2 layout).
FailureOr<ModelSpec> readKerasJson(const ModelSource &source,
                                   const DocNode *root);

/// Reads an input shape (a list of positive integers, 1 to 3 of them, after
/// the batch dimension) from `node` into `input`. `what` names the node in
/// messages. With `hasBatch`, the first entry (null in Keras) is dropped.
LogicalResult readInputShape(const ModelSource &source, const DocNode *node,
                             StringRef what, bool hasBatch, InputSpec &input);

/// Reads a layer name written in the file (at `node`) into `name`: a
/// non-empty string without '/', which Keras forbids and dlc uses to name
/// parameters (conv2d/kernel). `what` names the node in messages.
LogicalResult checkLayerName(const ModelSource &source, const DocNode *node,
                             StringRef what, StringRef &name);

/// Keras's automatic layer name base: the class name in snake case, as
/// keras.src.utils.naming.to_snake_case (Conv2D -> conv2d,
/// MaxPooling2D -> max_pooling2d, ReLU -> re_lu).
std::string kerasSnakeCase(StringRef className);

/// Gives every unnamed layer the Keras default name (snake case of its
/// class, then _1, _2, ...), skipping names already in use.
void assignDefaultNames(ModelSpec &spec, llvm::StringSaver &saver);

//===----------------------------------------------------------------------===//
// Training settings
//===----------------------------------------------------------------------===//

/// Reads loss, optimizer, metrics, batch size and epochs, checks them against
/// the model output of type `output` (defined by `outputOp`, for from_logits
/// inference), and sets the dlc.* module attributes on `module`. The output
/// layer's location is `outputLoc`.
LogicalResult readTrainingSettings(const ModelSource &source,
                                   const ModelSpec &spec, Operation *module,
                                   Value output, Location outputLoc,
                                   int64_t batchSize);

/// Reads the batch size: the file's `batch_size`, or Keras's default 32.
FailureOr<int64_t> readBatchSize(const ModelSource &source,
                                 const ModelSpec &spec);

/// A parameter initializer: its canonical snake-case name and its full
/// configuration (empty for initializers without parameters).
struct Initializer {
  StringRef name;
  DictionaryAttr config;
};

/// Reads an initializer given as a Keras name ("glorot_uniform",
/// "GlorotUniform"), a one-entry mapping ({RandomNormal: {stddev: 0.01}}) or
/// a Keras config ({class_name: RandomNormal, config: {...}}); `owner`
/// starts error messages.
FailureOr<Initializer> readInitializer(const ModelSource &source,
                                       const DocNode *node,
                                       const std::string &owner);

} // namespace mlir::dlc::import

#endif // DLC_LIB_IMPORT_MODELSPEC_H
