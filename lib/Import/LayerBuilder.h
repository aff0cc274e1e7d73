//===- LayerBuilder.h - Keras layers to dlc operations ----------*- C++ -*-===//
//
// Emits the dlc operations of one Keras layer at a time, inside the body of
// @forward, adding the layer's parameters as new block arguments. Each layer
// reads its arguments through an ArgReader (Keras names and defaults) and
// builds its ops generically, so that an invalid layer becomes a located
// error instead of an abort in an inferring builder.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_IMPORT_LAYERBUILDER_H
#define DLC_LIB_IMPORT_LAYERBUILDER_H

#include "ArgReader.h"
#include "ModelSpec.h"

#include "mlir/IR/Builders.h"

namespace mlir::dlc::import {

class LayerBuilder {
public:
  LayerBuilder(const ModelSource &source, OpBuilder &builder, Block *body)
      : source(source), builder(builder), body(body) {}

  /// Emits `layer` applied to `inputs`; returns its output value.
  FailureOr<Value> build(const LayerSpec &layer, ArrayRef<Value> inputs);

  /// The attributes of every block argument added so far (the input's
  /// first), in argument order.
  ArrayRef<DictionaryAttr> getArgAttrs() const { return argAttrs; }
  void addInputArgAttrs(DictionaryAttr attrs) { argAttrs.push_back(attrs); }

  /// The location of a layer in the IR: its name around its file position.
  Location getLayerLoc(const LayerSpec &layer) const;

  /// Whether `className` is a layer dlc imports (Rescaling included: the
  /// importer folds it into the input normalization).
  static bool isSupported(StringRef className);
  /// The supported class names, for "did you mean" suggestions.
  static ArrayRef<StringRef> getSupportedLayers();
  /// Whether `className` is a Keras layer (or alias) dlc cannot import.
  static bool isUnsupportedKerasLayer(StringRef className);

  /// Reads a Keras `dtype` argument: only float32 (a string or a
  /// DTypePolicy) is accepted.
  static LogicalResult checkDtype(ArgReader &args);

private:
  struct Layer;
  using BuildFn = FailureOr<Value> (LayerBuilder::*)(Layer &);
  struct Kind {
    StringRef className;
    unsigned minInputs, maxInputs;
    BuildFn build;
  };
  static ArrayRef<Kind> getKinds();

  FailureOr<Value> buildConv2D(Layer &layer);
  FailureOr<Value> buildDense(Layer &layer);
  FailureOr<Value> buildBatchNorm(Layer &layer);
  FailureOr<Value> buildReLU(Layer &layer);
  FailureOr<Value> buildLeakyReLU(Layer &layer);
  FailureOr<Value> buildActivation(Layer &layer);
  FailureOr<Value> buildSoftmax(Layer &layer);
  FailureOr<Value> buildMaxPool(Layer &layer);
  FailureOr<Value> buildAvgPool(Layer &layer);
  FailureOr<Value> buildPool(Layer &layer, StringRef opName);
  FailureOr<Value> buildGlobalAvgPool(Layer &layer);
  FailureOr<Value> buildFlatten(Layer &layer);
  FailureOr<Value> buildReshape(Layer &layer);
  FailureOr<Value> buildDropout(Layer &layer);
  FailureOr<Value> buildAdd(Layer &layer);
  FailureOr<Value> buildConcatenate(Layer &layer);
  FailureOr<Value> buildRandomFlip(Layer &layer);
  FailureOr<Value> buildRandomTranslation(Layer &layer);
  FailureOr<Value> buildRandomCrop(Layer &layer);

  /// Creates `opName` on `operands` with `attrs`, its result types inferred
  /// by the op's shape rule; a shape-rule error is re-worded for the layer.
  FailureOr<Value> createOp(Layer &layer, StringRef opName, ValueRange operands,
                            ArrayRef<NamedAttribute> attrs = {});
  /// Applies a Keras activation by name (`linear` is the identity).
  FailureOr<Value> applyActivation(Layer &layer, Value input,
                                   const DocNode *node, StringRef name);
  /// Reads the `activation` argument and applies it.
  FailureOr<Value> applyActivationArg(Layer &layer, Value input);
  /// Adds a parameter argument `<layer>/<weight>` of `shape`, initialized by
  /// the initializer argument `initKey` (default `defaultInit`).
  FailureOr<Value> addParameter(Layer &layer, StringRef weight,
                                ArrayRef<int64_t> shape, StringRef initKey,
                                StringRef defaultInit, bool trainable);
  /// Checks that `value` is an NHWC image; `what` names the requirement.
  LogicalResult requireImage(Layer &layer, Value value);
  /// Rejects tensors of more than 2^31 elements.
  LogicalResult checkSize(Layer &layer, ArrayRef<int64_t> shape,
                          StringRef what);
  /// The next stream number of a randomized op.
  IntegerAttr nextStream();

  const ModelSource &source;
  OpBuilder &builder;
  Block *body;
  SmallVector<DictionaryAttr> argAttrs;
  int64_t streams = 0;
};

} // namespace mlir::dlc::import

#endif // DLC_LIB_IMPORT_LAYERBUILDER_H
