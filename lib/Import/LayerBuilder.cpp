//===- LayerBuilder.cpp - Keras layers to dlc operations ------------------===//
//
// One function per Keras layer: read the arguments with Keras's names and
// defaults, check what the dlc op cannot phrase in Keras terms (ranks,
// merge shapes), add the parameters, and build the op. Keras's parameter
// order (kernel, bias; gamma, beta, moving_mean, moving_variance) is kept, so
// @forward's arguments line up with `model.weights`.
//
//===----------------------------------------------------------------------===//

#include "LayerBuilder.h"

#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Import/Import.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::import;

/// Bounds that keep every shape computation far from int64 overflow.
static constexpr int64_t kMaxUnits = int64_t(1) << 20;
static constexpr int64_t kMaxWindow = int64_t(1) << 16;
/// The largest tensor dlc accepts (8 GiB of f32): larger ones are mistakes,
/// and their sizes would overflow later computations.
static constexpr int64_t kMaxElements = int64_t(1) << 31;

struct LayerBuilder::Layer {
  const LayerSpec &spec;
  ArgReader args;
  Location loc;
  ArrayRef<Value> inputs;
  bool trainable = true;

  Value input() const { return inputs.front(); }
  StringRef name() const { return spec.name; }
  const std::string &owner() const { return args.getOwner(); }
  InFlightDiagnostic emitError() const {
    return args.emitError(spec.classNode);
  }
};

/// Formats a tensor shape as MLIR does: 32x26x26x32.
static std::string shapeOf(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(type.getShape(), os, "x");
  return s;
}

static ArrayRef<int64_t> dimsOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

//===----------------------------------------------------------------------===//
// The layer table
//===----------------------------------------------------------------------===//

ArrayRef<LayerBuilder::Kind> LayerBuilder::getKinds() {
  static const Kind kinds[] = {
      {"Conv2D", 1, 1, &LayerBuilder::buildConv2D},
      {"Convolution2D", 1, 1, &LayerBuilder::buildConv2D},
      {"Dense", 1, 1, &LayerBuilder::buildDense},
      {"BatchNormalization", 1, 1, &LayerBuilder::buildBatchNorm},
      {"ReLU", 1, 1, &LayerBuilder::buildReLU},
      {"LeakyReLU", 1, 1, &LayerBuilder::buildLeakyReLU},
      {"Activation", 1, 1, &LayerBuilder::buildActivation},
      {"Softmax", 1, 1, &LayerBuilder::buildSoftmax},
      {"MaxPooling2D", 1, 1, &LayerBuilder::buildMaxPool},
      {"MaxPool2D", 1, 1, &LayerBuilder::buildMaxPool},
      {"AveragePooling2D", 1, 1, &LayerBuilder::buildAvgPool},
      {"AvgPool2D", 1, 1, &LayerBuilder::buildAvgPool},
      {"GlobalAveragePooling2D", 1, 1, &LayerBuilder::buildGlobalAvgPool},
      {"GlobalAvgPool2D", 1, 1, &LayerBuilder::buildGlobalAvgPool},
      {"Flatten", 1, 1, &LayerBuilder::buildFlatten},
      {"Reshape", 1, 1, &LayerBuilder::buildReshape},
      {"Dropout", 1, 1, &LayerBuilder::buildDropout},
      {"Add", 2, ~0u, &LayerBuilder::buildAdd},
      {"Concatenate", 2, ~0u, &LayerBuilder::buildConcatenate},
      {"RandomFlip", 1, 1, &LayerBuilder::buildRandomFlip},
      {"RandomTranslation", 1, 1, &LayerBuilder::buildRandomTranslation},
      {"RandomCrop", 1, 1, &LayerBuilder::buildRandomCrop},
  };
  return kinds;
}

bool LayerBuilder::isSupported(StringRef className) {
  return className == "Rescaling" ||
         llvm::any_of(getKinds(),
                      [&](const Kind &k) { return k.className == className; });
}

ArrayRef<StringRef> LayerBuilder::getSupportedLayers() {
  static const SmallVector<StringRef> names = [] {
    SmallVector<StringRef> result;
    for (const Kind &k : getKinds())
      result.push_back(k.className);
    result.push_back("Rescaling");
    result.push_back("InputLayer");
    return result;
  }();
  return names;
}

bool LayerBuilder::isUnsupportedKerasLayer(StringRef className) {
  static constexpr StringRef layers[] = {
      // Convolutions and pooling of other ranks or kinds.
      "Conv1D", "Conv3D", "Convolution1D", "Convolution3D", "Conv1DTranspose",
      "Conv2DTranspose", "Conv3DTranspose", "Convolution2DTranspose",
      "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D",
      "SeparableConvolution2D", "DepthwiseConv1D", "DepthwiseConv2D",
      "MaxPooling1D", "MaxPooling3D", "MaxPool1D", "MaxPool3D",
      "AveragePooling1D", "AveragePooling3D", "AvgPool1D", "AvgPool3D",
      "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
      "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
      "GlobalAveragePooling1D", "GlobalAveragePooling3D", "GlobalAvgPool1D",
      "GlobalAvgPool3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
      "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D",
      "Cropping2D", "Cropping3D",
      // Sequence models and attention.
      "Embedding", "EinsumDense", "LSTM", "GRU", "SimpleRNN", "RNN", "LSTMCell",
      "GRUCell", "SimpleRNNCell", "StackedRNNCells", "ConvLSTM1D", "ConvLSTM2D",
      "ConvLSTM3D", "Attention", "AdditiveAttention", "MultiHeadAttention",
      "GroupedQueryAttention",
      // Normalization and preprocessing.
      "LayerNormalization", "GroupNormalization", "UnitNormalization",
      "SpectralNormalization", "Normalization", "Discretization",
      "CategoryEncoding", "Hashing", "HashedCrossing", "StringLookup",
      "IntegerLookup", "TextVectorization", "Resizing", "CenterCrop",
      "RandomRotation", "RandomZoom", "RandomContrast", "RandomBrightness",
      "RandomHeight", "RandomWidth", "RandomGrayscale", "RandomHue",
      "RandomSaturation", "RandomSharpness", "RandomShear", "RandomColorJitter",
      "RandomColorDegeneration", "RandomPosterization", "RandomInvert",
      "RandomErasing", "RandomGaussianBlur", "RandomPerspective",
      "RandomElasticTransform", "Solarization", "AutoContrast", "Equalization",
      "MixUp", "CutMix", "AugMix", "RandAugment", "Pipeline",
      // Noise, regularization, merging, reshaping, activations.
      "GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D",
      "SpatialDropout2D", "SpatialDropout3D", "ActivityRegularization",
      "Masking", "Lambda", "Permute", "RepeatVector", "Subtract", "Multiply",
      "Average", "Maximum", "Minimum", "Dot", "ELU", "PReLU", "ThresholdedReLU",
      "Identity", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer",
      "MelSpectrogram", "STFTSpectrogram", "Sequential", "Functional", "Model",
      "TimeDistributed", "Bidirectional"};
  return llvm::is_contained(layers, className);
}

Location LayerBuilder::getLayerLoc(const LayerSpec &layer) const {
  return NameLoc::get(StringAttr::get(source.getContext(), layer.name),
                      source.getLoc(layer.classNode));
}

LogicalResult LayerBuilder::checkDtype(ArgReader &args) {
  const DocNode *dtype = args.lookup("dtype");
  if (!dtype)
    return success();
  StringRef name;
  if (std::optional<StringRef> s = dtype->asString()) {
    name = *s;
  } else if (dtype->isMapping()) {
    // Keras 3 DTypePolicy, Keras 2 Policy: {class_name, config: {name}}.
    const DocNode *config = dtype->get("config");
    const DocNode *policy =
        config && config->isMapping() ? config->get("name") : nullptr;
    if (policy && policy->asString())
      name = *policy->asString();
  }
  if (name == "float32")
    return success();
  return args.emitError(dtype)
         << "dtype "
         << (name.empty() ? dtype->describe() : "'" + name.str() + "'")
         << " is not supported: dlc computes in float32";
}

FailureOr<Value> LayerBuilder::build(const LayerSpec &spec,
                                     ArrayRef<Value> inputs) {
  const Kind *kind = llvm::find_if(
      getKinds(), [&](const Kind &k) { return k.className == spec.className; });
  std::string owner = (spec.className + " layer '" + spec.name + "'").str();
  if (kind == getKinds().end())
    return source.emitError(spec.classNode) << owner << " is not supported",
           failure();

  Layer layer{spec, ArgReader(source, spec.args, owner, spec.classNode),
              getLayerLoc(spec), inputs};
  if (failed(layer.args.checkIsMapping()))
    return failure();
  for (StringRef key : spec.readerKeys)
    layer.args.ignore(key);
  if (inputs.size() < kind->minInputs)
    return layer.emitError() << "needs at least " << kind->minInputs
                             << " inputs, got " << inputs.size(),
           failure();
  if (inputs.size() > kind->maxInputs)
    return layer.emitError() << "takes one input, got " << inputs.size(),
           failure();

  FailureOr<bool> trainable = layer.args.getBool("trainable", true);
  if (failed(trainable) || failed(checkDtype(layer.args)))
    return failure();
  layer.trainable = *trainable;

  FailureOr<Value> output = (this->*kind->build)(layer);
  if (failed(output) || failed(layer.args.finish()))
    return failure();
  return output;
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

FailureOr<Value> LayerBuilder::createOp(Layer &layer, StringRef opName,
                                        ValueRange operands,
                                        ArrayRef<NamedAttribute> attrs) {
  OperationState state(layer.loc, opName);
  state.addOperands(operands);
  state.addAttributes(attrs);
  // The shape rule speaks about the op ("'dlc.max_pool2d' op pool window
  // (3x3) is larger than the input (2x2)"); the user wrote a layer.
  std::string message;
  FailureOr<Operation *> op;
  {
    ScopedDiagnosticHandler capture(source.getContext(), [&](Diagnostic &d) {
      if (d.getSeverity() != DiagnosticSeverity::Error)
        return failure();
      if (message.empty())
        message = d.str();
      return success();
    });
    op = createWithInferredTypes(builder, state);
  }
  if (succeeded(op)) {
    Value result = (*op)->getResult(0);
    if (failed(checkSize(layer, dimsOf(result), "output")))
      return failure();
    return result;
  }
  StringRef text = message;
  if (size_t pos = text.find("' op "); pos != StringRef::npos)
    text = text.drop_front(pos + 5);
  layer.emitError() << (text.empty() ? "invalid arguments" : text);
  return failure();
}

LogicalResult LayerBuilder::checkSize(Layer &layer, ArrayRef<int64_t> shape,
                                      StringRef what) {
  std::optional<int64_t> elements = 1;
  for (int64_t d : shape)
    if (elements)
      elements = llvm::checkedMul(*elements, d);
  if (elements && *elements <= kMaxElements)
    return success();
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(shape, os, "x");
  return layer.emitError() << "its " << what << " (" << s
                           << ") is too large: dlc tensors hold at most 2^31 "
                              "elements";
}

IntegerAttr LayerBuilder::nextStream() {
  // Streams start at 1: the train-step builder numbers ops whose stream is
  // 0 (unset) itself.
  return builder.getI64IntegerAttr(++streams);
}

LogicalResult LayerBuilder::requireImage(Layer &layer, Value value) {
  if (dimsOf(value).size() == 4)
    return success();
  InFlightDiagnostic diag = layer.emitError();
  diag << "needs an image input [batch, height, width, channels], but its "
          "input has shape "
       << shapeOf(value);
  if (dimsOf(value).size() == 3)
    diag << "; give the model input a channel dimension, e.g. shape [28, 28, "
            "1]";
  return failure();
}

FailureOr<Value> LayerBuilder::addParameter(Layer &layer, StringRef weight,
                                            ArrayRef<int64_t> shape,
                                            StringRef initKey,
                                            StringRef defaultInit,
                                            bool trainable) {
  const DocNode *initNode = layer.args.lookup(initKey);
  Initializer init{defaultInit, DictionaryAttr::get(source.getContext())};
  if (initNode) {
    FailureOr<Initializer> read = readInitializer(
        source, initNode, layer.owner() + ": '" + initKey.str() + "'");
    if (failed(read))
      return failure();
    init = *read;
  }
  if (failed(checkSize(layer, shape, "parameter " + weight.str())))
    return failure();
  MLIRContext *ctx = source.getContext();
  auto type = RankedTensorType::get(shape, Float32Type::get(ctx));
  Value param = body->addArgument(type, layer.loc);
  SmallVector<NamedAttribute> attrs = {
      builder.getNamedAttr(attrs::kName,
                           builder.getStringAttr(layer.name() + "/" + weight)),
      builder.getNamedAttr(attrs::kInit, builder.getStringAttr(init.name)),
      builder.getNamedAttr(attrs::kTrainable, builder.getBoolAttr(trainable)),
  };
  if (init.config && !init.config.empty())
    attrs.push_back(builder.getNamedAttr(attrs::kInitConfig, init.config));
  argAttrs.push_back(builder.getDictionaryAttr(attrs));
  return param;
}

FailureOr<Value> LayerBuilder::applyActivation(Layer &layer, Value input,
                                               const DocNode *node,
                                               StringRef name) {
  if (name == "linear")
    return input;
  if (name == "relu")
    return createOp(layer, ReluOp::getOperationName(), input);
  if (name == "sigmoid")
    return createOp(layer, SigmoidOp::getOperationName(), input);
  if (name == "tanh")
    return createOp(layer, TanhOp::getOperationName(), input);
  if (name == "softmax")
    return createOp(layer, SoftmaxOp::getOperationName(), input);
  if (name == "leaky_relu") {
    // keras.activations.leaky_relu's default slope (the layer's is 0.3).
    return createOp(
        layer, LeakyReluOp::getOperationName(), input,
        builder.getNamedAttr("alpha", builder.getF32FloatAttr(0.2f)));
  }
  static constexpr StringRef known[] = {
      "elu",          "selu",          "gelu",        "swish",
      "silu",         "softplus",      "softsign",    "exponential",
      "hard_sigmoid", "relu6",         "mish",        "log_softmax",
      "hard_silu",    "hard_swish",    "celu",        "glu",
      "hard_tanh",    "sparse_plus",   "sparsemax",   "squareplus",
      "tanh_shrink",  "threshold",     "soft_shrink", "hard_shrink",
      "log_sigmoid",  "sparse_sigmoid"};
  InFlightDiagnostic diag = layer.args.emitError(node);
  if (llvm::is_contained(known, name))
    diag << "activation '" << name << "' is not supported by dlc";
  else
    diag << "unknown activation '" << name << "'";
  static constexpr StringRef supported[] = {"linear",  "relu", "leaky_relu",
                                            "sigmoid", "tanh", "softmax"};
  if (StringRef guess = suggestClosest(name, supported);
      !guess.empty() && !llvm::is_contained(known, name))
    diag << "; did you mean '" << guess << "'?";
  else
    diag << " (supported: " << llvm::join(ArrayRef<StringRef>(supported), ", ")
         << ")";
  return failure();
}

FailureOr<Value> LayerBuilder::applyActivationArg(Layer &layer, Value input) {
  const DocNode *node = layer.args.lookup("activation");
  if (!node)
    return input;
  std::optional<StringRef> name = node->asString();
  if (!name)
    return layer.args.emitTypeError("activation", node,
                                    "the name of an activation"),
           failure();
  return applyActivation(layer, input, node, *name);
}

/// Keras bookkeeping arguments that must keep their default.
static LogicalResult requireNoRegularization(ArgReader &args,
                                             ArrayRef<StringRef> keys) {
  for (StringRef key : keys)
    if (failed(args.requireUnset(key)))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Conv2D, Dense
//===----------------------------------------------------------------------===//

FailureOr<Value> LayerBuilder::buildConv2D(Layer &layer) {
  ArgReader &args = layer.args;
  Value x = layer.input();
  if (failed(requireImage(layer, x)))
    return failure();
  FailureOr<int64_t> filters =
      args.getInt("filters", std::nullopt, 1, kMaxUnits);
  if (failed(filters))
    return failure();
  FailureOr<IntPair> kernel = args.getIntPair("kernel_size", std::nullopt, 1);
  if (failed(kernel))
    return failure();
  FailureOr<IntPair> strides = args.getIntPair("strides", IntPair{1, 1}, 1);
  FailureOr<StringRef> padding =
      args.getChoice("padding", StringRef("valid"), {"valid", "same"});
  FailureOr<IntPair> dilation =
      args.getIntPair("dilation_rate", IntPair{1, 1}, 1);
  FailureOr<int64_t> groups = args.getInt("groups", 1, 1, kMaxUnits);
  FailureOr<bool> useBias = args.getBool("use_bias", true);
  if (failed(strides) || failed(padding) || failed(dilation) ||
      failed(groups) || failed(useBias) ||
      failed(args.requireValue("data_format", "channels_last")) ||
      failed(requireNoRegularization(
          args,
          {"kernel_regularizer", "bias_regularizer", "activity_regularizer",
           "kernel_constraint", "bias_constraint", "lora_rank"})))
    return failure();
  for (int64_t v : {(*kernel)[0], (*kernel)[1], (*strides)[0], (*strides)[1],
                    (*dilation)[0], (*dilation)[1]})
    if (v > kMaxWindow)
      return layer.emitError() << "window sizes, strides and dilations must "
                                  "be at most "
                               << kMaxWindow,
             failure();
  int64_t channels = dimsOf(x)[3];
  if (channels % *groups != 0)
    return args.emitError(args.keyOrOwner("groups"))
               << "'groups' (" << *groups
               << ") must divide the input channels (" << channels << ")",
           failure();
  if (*filters % *groups != 0)
    return args.emitError(args.keyOrOwner("groups"))
               << "'groups' (" << *groups << ") must divide 'filters' ("
               << *filters << ")",
           failure();

  FailureOr<Value> w =
      addParameter(layer, "kernel",
                   {(*kernel)[0], (*kernel)[1], channels / *groups, *filters},
                   "kernel_initializer", "glorot_uniform", layer.trainable);
  if (failed(w))
    return failure();
  SmallVector<Value> operands = {x, *w};
  if (*useBias) {
    FailureOr<Value> b =
        addParameter(layer, "bias", {*filters}, "bias_initializer", "zeros",
                     layer.trainable);
    if (failed(b))
      return failure();
    operands.push_back(*b);
  } else {
    args.ignore("bias_initializer");
  }

  SmallVector<NamedAttribute> attrs;
  if (*strides != IntPair{1, 1})
    attrs.push_back(builder.getNamedAttr(
        "strides", builder.getDenseI64ArrayAttr(*strides)));
  if (*dilation != IntPair{1, 1})
    attrs.push_back(builder.getNamedAttr(
        "dilations", builder.getDenseI64ArrayAttr(*dilation)));
  if (*padding == "same")
    attrs.push_back(builder.getNamedAttr(
        "padding",
        PaddingModeAttr::get(source.getContext(), PaddingMode::same)));
  if (*groups != 1)
    attrs.push_back(
        builder.getNamedAttr("groups", builder.getI64IntegerAttr(*groups)));
  FailureOr<Value> y =
      createOp(layer, Conv2DOp::getOperationName(), operands, attrs);
  if (failed(y))
    return failure();
  return applyActivationArg(layer, *y);
}

FailureOr<Value> LayerBuilder::buildDense(Layer &layer) {
  ArgReader &args = layer.args;
  Value x = layer.input();
  if (dimsOf(x).size() != 2)
    return layer.emitError()
               << "needs a flat input [batch, features], but its input has "
                  "shape "
               << shapeOf(x)
               << "; add a Flatten or GlobalAveragePooling2D layer before it",
           failure();
  FailureOr<int64_t> units = args.getInt("units", std::nullopt, 1, kMaxUnits);
  if (failed(units))
    return failure();
  FailureOr<bool> useBias = args.getBool("use_bias", true);
  args.ignore("lora_alpha");
  if (failed(useBias) ||
      failed(requireNoRegularization(
          args, {"kernel_regularizer", "bias_regularizer",
                 "activity_regularizer", "kernel_constraint", "bias_constraint",
                 "lora_rank", "quantization_config"})))
    return failure();
  FailureOr<Value> w =
      addParameter(layer, "kernel", {dimsOf(x)[1], *units},
                   "kernel_initializer", "glorot_uniform", layer.trainable);
  if (failed(w))
    return failure();
  SmallVector<Value> operands = {x, *w};
  if (*useBias) {
    FailureOr<Value> b = addParameter(
        layer, "bias", {*units}, "bias_initializer", "zeros", layer.trainable);
    if (failed(b))
      return failure();
    operands.push_back(*b);
  } else {
    args.ignore("bias_initializer");
  }
  FailureOr<Value> y = createOp(layer, DenseOp::getOperationName(), operands);
  if (failed(y))
    return failure();
  return applyActivationArg(layer, *y);
}

//===----------------------------------------------------------------------===//
// BatchNormalization
//===----------------------------------------------------------------------===//

FailureOr<Value> LayerBuilder::buildBatchNorm(Layer &layer) {
  ArgReader &args = layer.args;
  Value x = layer.input();
  int64_t rank = dimsOf(x).size();
  // Keras 2 sometimes writes the axis as a one-element list.
  if (const DocNode *axisNode = args.lookup("axis")) {
    const DocNode *single = axisNode;
    if (axisNode->isList() && axisNode->items.size() == 1)
      single = axisNode->items.front();
    std::optional<int64_t> axis = single->asInt();
    if (!axis)
      return args.emitTypeError("axis", axisNode, "an integer"), failure();
    if (*axis != -1 && *axis != rank - 1)
      return args.emitError(axisNode)
                 << "'axis' " << *axis
                 << " is not supported: dlc normalizes the channels (axis "
                    "-1) of an input of shape "
                 << shapeOf(x),
             failure();
  }
  FailureOr<double> momentum =
      args.getNumber("momentum", 0.99, NumberRange::closed(0.0, 1.0));
  FailureOr<double> epsilon =
      args.getNumber("epsilon", 1e-3, NumberRange::positive());
  FailureOr<bool> center = args.getBool("center", true);
  FailureOr<bool> scale = args.getBool("scale", true);
  for (StringRef key : {"synchronized", "renorm_momentum", "fused"})
    args.ignore(key);
  if (failed(momentum) || failed(epsilon) || failed(center) || failed(scale) ||
      failed(requireNoRegularization(
          args, {"beta_regularizer", "gamma_regularizer", "beta_constraint",
                 "gamma_constraint", "renorm", "renorm_clipping",
                 "virtual_batch_size", "adjustment"})))
    return failure();

  int64_t channels = dimsOf(x).back();
  auto vectorType =
      RankedTensorType::get({channels}, Float32Type::get(source.getContext()));
  // Without scale (center), Keras multiplies by 1 (adds 0): a constant, not
  // a parameter, so the parameter list matches Keras's weights.
  auto constant = [&](float value) -> Value {
    return arith::ConstantOp::create(
        builder, layer.loc,
        DenseElementsAttr::get(vectorType, builder.getF32FloatAttr(value)));
  };
  Value gamma, beta;
  if (*scale) {
    FailureOr<Value> p =
        addParameter(layer, "gamma", {channels}, "gamma_initializer", "ones",
                     layer.trainable);
    if (failed(p))
      return failure();
    gamma = *p;
  } else {
    args.ignore("gamma_initializer");
    gamma = constant(1.0f);
  }
  if (*center) {
    FailureOr<Value> p =
        addParameter(layer, "beta", {channels}, "beta_initializer", "zeros",
                     layer.trainable);
    if (failed(p))
      return failure();
    beta = *p;
  } else {
    args.ignore("beta_initializer");
    beta = constant(0.0f);
  }
  // The running statistics are state, never trained by the optimizer.
  FailureOr<Value> mean =
      addParameter(layer, "moving_mean", {channels}, "moving_mean_initializer",
                   "zeros", /*trainable=*/false);
  if (failed(mean))
    return failure();
  FailureOr<Value> variance =
      addParameter(layer, "moving_variance", {channels},
                   "moving_variance_initializer", "ones", /*trainable=*/false);
  if (failed(variance))
    return failure();

  // momentum is unused by the inference form; the train-step builder gives
  // it to batch_norm_train.
  SmallVector<NamedAttribute> attrs;
  if (float(*epsilon) != 1e-3f)
    attrs.push_back(builder.getNamedAttr(
        "epsilon", builder.getF32FloatAttr(float(*epsilon))));
  if (float(*momentum) != 0.99f)
    attrs.push_back(builder.getNamedAttr(
        "momentum", builder.getF32FloatAttr(float(*momentum))));
  FailureOr<Value> y = createOp(layer, BatchNormOp::getOperationName(),
                                {x, gamma, beta, *mean, *variance}, attrs);
  if (failed(y))
    return failure();
  Operation *op = y->getDefiningOp();
  // Keras runs a non-trainable BatchNormalization in inference mode even
  // while training (fine-tuning): the train-step builder must keep it so.
  if (!layer.trainable)
    op->setAttr(attrs::kTrainable, builder.getBoolAttr(false));
  return *y;
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

FailureOr<Value> LayerBuilder::buildReLU(Layer &layer) {
  ArgReader &args = layer.args;
  if (const DocNode *maxValue = args.lookup("max_value"))
    return args.emitError(maxValue)
               << "'max_value' is not supported by dlc (ReLU is unbounded)",
           failure();
  FailureOr<double> slope =
      args.getNumber("negative_slope", 0.0, NumberRange::nonNegative());
  FailureOr<double> threshold = args.getNumber("threshold", 0.0);
  if (failed(slope) || failed(threshold))
    return failure();
  if (*threshold != 0.0)
    return args.emitError(args.lookup("threshold"))
               << "'threshold' other than 0 is not supported by dlc",
           failure();
  if (*slope != 0.0)
    return createOp(
        layer, LeakyReluOp::getOperationName(), layer.input(),
        builder.getNamedAttr("alpha", builder.getF32FloatAttr(float(*slope))));
  return createOp(layer, ReluOp::getOperationName(), layer.input());
}

FailureOr<Value> LayerBuilder::buildLeakyReLU(Layer &layer) {
  ArgReader &args = layer.args;
  // Keras 3 calls the slope negative_slope, Keras 2 alpha.
  const DocNode *alphaNode = args.lookup("alpha");
  const DocNode *slopeNode = args.lookup("negative_slope");
  if (alphaNode && slopeNode)
    return args.emitError(alphaNode)
               << "give either 'negative_slope' or its Keras 2 name 'alpha', "
                  "not both",
           failure();
  FailureOr<double> slope = args.getNumber(
      alphaNode ? "alpha" : "negative_slope", 0.3, NumberRange::nonNegative());
  if (failed(slope))
    return failure();
  return createOp(
      layer, LeakyReluOp::getOperationName(), layer.input(),
      builder.getNamedAttr("alpha", builder.getF32FloatAttr(float(*slope))));
}

FailureOr<Value> LayerBuilder::buildActivation(Layer &layer) {
  const DocNode *node = layer.args.lookup("activation");
  FailureOr<StringRef> name = layer.args.getString("activation", std::nullopt);
  if (failed(name))
    return failure();
  return applyActivation(layer, layer.input(), node, *name);
}

FailureOr<Value> LayerBuilder::buildSoftmax(Layer &layer) {
  int64_t rank = dimsOf(layer.input()).size();
  FailureOr<int64_t> axis = layer.args.getInt("axis", -1, -rank, rank - 1);
  if (failed(axis))
    return failure();
  SmallVector<NamedAttribute> attrs;
  if (*axis != -1 && *axis != rank - 1)
    attrs.push_back(
        builder.getNamedAttr("axis", builder.getI64IntegerAttr(*axis)));
  return createOp(layer, SoftmaxOp::getOperationName(), layer.input(), attrs);
}

//===----------------------------------------------------------------------===//
// Pooling and reshaping
//===----------------------------------------------------------------------===//

FailureOr<Value> LayerBuilder::buildMaxPool(Layer &layer) {
  return buildPool(layer, MaxPool2DOp::getOperationName());
}

FailureOr<Value> LayerBuilder::buildAvgPool(Layer &layer) {
  return buildPool(layer, AvgPool2DOp::getOperationName());
}

FailureOr<Value> LayerBuilder::buildPool(Layer &layer, StringRef opName) {
  ArgReader &args = layer.args;
  if (failed(requireImage(layer, layer.input())))
    return failure();
  FailureOr<IntPair> poolSize = args.getIntPair("pool_size", IntPair{2, 2}, 1);
  if (failed(poolSize))
    return failure();
  // Keras: strides default to pool_size.
  FailureOr<IntPair> strides = args.getIntPair("strides", *poolSize, 1);
  FailureOr<StringRef> padding =
      args.getChoice("padding", StringRef("valid"), {"valid", "same"});
  if (failed(strides) || failed(padding) ||
      failed(args.requireValue("data_format", "channels_last")))
    return failure();
  for (int64_t v :
       {(*poolSize)[0], (*poolSize)[1], (*strides)[0], (*strides)[1]})
    if (v > kMaxWindow)
      return layer.emitError()
                 << "window sizes and strides must be at most " << kMaxWindow,
             failure();
  SmallVector<NamedAttribute> attrs = {
      builder.getNamedAttr("pool_size",
                           builder.getDenseI64ArrayAttr(*poolSize)),
      builder.getNamedAttr("strides", builder.getDenseI64ArrayAttr(*strides))};
  if (*padding == "same")
    attrs.push_back(builder.getNamedAttr(
        "padding",
        PaddingModeAttr::get(source.getContext(), PaddingMode::same)));
  return createOp(layer, opName, layer.input(), attrs);
}

FailureOr<Value> LayerBuilder::buildGlobalAvgPool(Layer &layer) {
  ArgReader &args = layer.args;
  if (failed(requireImage(layer, layer.input())))
    return failure();
  FailureOr<bool> keepDims = args.getBool("keepdims", false);
  if (failed(keepDims) ||
      failed(args.requireValue("data_format", "channels_last")))
    return failure();
  FailureOr<Value> y =
      createOp(layer, GlobalAvgPoolOp::getOperationName(), layer.input());
  if (failed(y) || !*keepDims)
    return y;
  ArrayRef<int64_t> dims = dimsOf(layer.input());
  return createOp(layer, ReshapeOp::getOperationName(), *y,
                  builder.getNamedAttr("shape", builder.getDenseI64ArrayAttr(
                                                    {dims[0], 1, 1, dims[3]})));
}

FailureOr<Value> LayerBuilder::buildFlatten(Layer &layer) {
  if (failed(layer.args.requireValue("data_format", "channels_last")))
    return failure();
  return createOp(layer, FlattenOp::getOperationName(), layer.input());
}

FailureOr<Value> LayerBuilder::buildReshape(Layer &layer) {
  ArgReader &args = layer.args;
  FailureOr<SmallVector<int64_t>> target =
      args.getIntList("target_shape", 1, /*allowMinusOne=*/true);
  if (failed(target))
    return failure();
  const DocNode *node = args.lookup("target_shape");
  if (target->empty() || target->size() > 3)
    return args.emitError(node)
               << "'target_shape' must have 1 to 3 dimensions (after the "
                  "batch), got "
               << target->size(),
           failure();
  // Check the element count here, where it can be phrased in Keras terms
  // (and computed without overflow).
  ArrayRef<int64_t> dims = dimsOf(layer.input());
  int64_t elements = 1, known = 1, unknown = 0;
  for (int64_t d : dims.drop_front())
    elements *= d;
  for (int64_t d : *target) {
    if (d == -1) {
      ++unknown;
      continue;
    }
    if (d > elements || known > elements / d) {
      known = -1;
      break;
    }
    known *= d;
  }
  if (unknown > 1)
    return args.emitError(node) << "'target_shape' may contain at most one -1",
           failure();
  bool fits =
      known > 0 && (unknown ? elements % known == 0 : known == elements);
  if (!fits)
    return args.emitError(node)
               << "cannot reshape an input of shape " << shapeOf(layer.input())
               << " (" << elements << " values per example) to target_shape ["
               << llvm::join(
                      llvm::map_range(
                          *target, [](int64_t d) { return std::to_string(d); }),
                      ", ")
               << "]",
           failure();
  SmallVector<int64_t> shape = {dims[0]};
  llvm::append_range(shape, *target);
  return createOp(
      layer, ReshapeOp::getOperationName(), layer.input(),
      builder.getNamedAttr("shape", builder.getDenseI64ArrayAttr(shape)));
}

//===----------------------------------------------------------------------===//
// Dropout, merging
//===----------------------------------------------------------------------===//

FailureOr<Value> LayerBuilder::buildDropout(Layer &layer) {
  ArgReader &args = layer.args;
  FailureOr<double> rate =
      args.getNumber("rate", std::nullopt, NumberRange::halfOpen(0.0, 1.0));
  args.ignore("seed");
  if (failed(rate) || failed(args.requireUnset("noise_shape")))
    return failure();
  // The key is added by the train-step builder; without it dropout is the
  // identity (inference).
  return createOp(
      layer, DropoutOp::getOperationName(), layer.input(),
      {builder.getNamedAttr("rate", builder.getF32FloatAttr(float(*rate))),
       builder.getNamedAttr("stream", nextStream())});
}

FailureOr<Value> LayerBuilder::buildAdd(Layer &layer) {
  Value first = layer.inputs.front();
  for (auto [i, v] : llvm::enumerate(layer.inputs))
    if (v.getType() != first.getType())
      return layer.emitError()
                 << "needs inputs of one shape, but '"
                 << layer.spec.inputs[0].name << "' has shape "
                 << shapeOf(first) << " and '" << layer.spec.inputs[i].name
                 << "' has shape " << shapeOf(v),
             failure();
  Value sum = first;
  for (Value v : layer.inputs.drop_front()) {
    FailureOr<Value> next =
        createOp(layer, AddOp::getOperationName(), {sum, v});
    if (failed(next))
      return failure();
    sum = *next;
  }
  return sum;
}

FailureOr<Value> LayerBuilder::buildConcatenate(Layer &layer) {
  Value first = layer.inputs.front();
  int64_t rank = dimsOf(first).size();
  FailureOr<int64_t> axis = layer.args.getInt("axis", -1, -rank, rank - 1);
  if (failed(axis))
    return failure();
  int64_t normalized = *axis < 0 ? *axis + rank : *axis;
  if (normalized == 0)
    return layer.args.emitError(layer.args.keyOrOwner("axis"))
               << "cannot concatenate along the batch axis",
           failure();
  for (auto [i, v] : llvm::enumerate(layer.inputs)) {
    ArrayRef<int64_t> a = dimsOf(first), b = dimsOf(v);
    bool match = a.size() == b.size();
    for (int64_t d = 0; match && d < rank; ++d)
      match = d == normalized || a[d] == b[d];
    if (!match)
      return layer.emitError()
                 << "needs inputs that agree on every dimension but axis "
                 << *axis << ", but '" << layer.spec.inputs[0].name
                 << "' has shape " << shapeOf(first) << " and '"
                 << layer.spec.inputs[i].name << "' has shape " << shapeOf(v),
             failure();
  }
  SmallVector<NamedAttribute> attrs;
  if (normalized != rank - 1)
    attrs.push_back(
        builder.getNamedAttr("axis", builder.getI64IntegerAttr(normalized)));
  return createOp(layer, ConcatOp::getOperationName(), layer.inputs, attrs);
}

//===----------------------------------------------------------------------===//
// Data augmentation
//===----------------------------------------------------------------------===//

FailureOr<Value> LayerBuilder::buildRandomFlip(Layer &layer) {
  ArgReader &args = layer.args;
  if (failed(requireImage(layer, layer.input())))
    return failure();
  FailureOr<StringRef> mode =
      args.getChoice("mode", StringRef("horizontal_and_vertical"),
                     {"horizontal", "vertical", "horizontal_and_vertical"});
  args.ignore("seed");
  if (failed(mode) || failed(args.requireValue("data_format", "channels_last")))
    return failure();
  SmallVector<NamedAttribute> attrs;
  FlipMode flip = *symbolizeFlipMode(*mode);
  if (flip != FlipMode::horizontal_and_vertical)
    attrs.push_back(builder.getNamedAttr(
        "mode", FlipModeAttr::get(source.getContext(), flip)));
  attrs.push_back(builder.getNamedAttr("stream", nextStream()));
  return createOp(layer, RandomFlipOp::getOperationName(), layer.input(),
                  attrs);
}

FailureOr<Value> LayerBuilder::buildRandomTranslation(Layer &layer) {
  ArgReader &args = layer.args;
  if (failed(requireImage(layer, layer.input())))
    return failure();
  FailureOr<std::array<double, 2>> height =
      args.getSymmetricRange("height_factor", NumberRange::closed(-1.0, 1.0));
  if (failed(height))
    return failure();
  FailureOr<std::array<double, 2>> width =
      args.getSymmetricRange("width_factor", NumberRange::closed(-1.0, 1.0));
  if (failed(width))
    return failure();
  FailureOr<StringRef> fillMode =
      args.getChoice("fill_mode", StringRef("reflect"),
                     {"reflect", "wrap", "nearest", "constant"});
  // dlc shifts by whole pixels, so both interpolations give the same images
  // up to the sub-pixel part of the offset.
  FailureOr<StringRef> interpolation = args.getChoice(
      "interpolation", StringRef("bilinear"), {"bilinear", "nearest"});
  FailureOr<double> fillValue = args.getNumber("fill_value", 0.0);
  args.ignore("seed");
  if (failed(fillMode) || failed(interpolation) || failed(fillValue) ||
      failed(args.requireValue("data_format", "channels_last")))
    return failure();
  SmallVector<NamedAttribute> attrs = {
      builder.getNamedAttr("height_factor",
                           builder.getDenseF32ArrayAttr(
                               {float((*height)[0]), float((*height)[1])})),
      builder.getNamedAttr("width_factor",
                           builder.getDenseF32ArrayAttr(
                               {float((*width)[0]), float((*width)[1])}))};
  FillMode fill = *symbolizeFillMode(*fillMode);
  if (fill != FillMode::reflect)
    attrs.push_back(builder.getNamedAttr(
        "fill_mode", FillModeAttr::get(source.getContext(), fill)));
  if (*fillValue != 0.0)
    attrs.push_back(builder.getNamedAttr(
        "fill_value", builder.getF32FloatAttr(float(*fillValue))));
  attrs.push_back(builder.getNamedAttr("stream", nextStream()));
  return createOp(layer, RandomTranslationOp::getOperationName(), layer.input(),
                  attrs);
}

FailureOr<Value> LayerBuilder::buildRandomCrop(Layer &layer) {
  ArgReader &args = layer.args;
  if (failed(requireImage(layer, layer.input())))
    return failure();
  FailureOr<int64_t> height = args.getInt("height", std::nullopt, 1);
  if (failed(height))
    return failure();
  FailureOr<int64_t> width = args.getInt("width", std::nullopt, 1);
  args.ignore("seed");
  if (failed(width) ||
      failed(args.requireValue("data_format", "channels_last")))
    return failure();
  return createOp(
      layer, RandomCropOp::getOperationName(), layer.input(),
      {builder.getNamedAttr("height", builder.getI64IntegerAttr(*height)),
       builder.getNamedAttr("width", builder.getI64IntegerAttr(*width)),
       builder.getNamedAttr("stream", nextStream())});
}
