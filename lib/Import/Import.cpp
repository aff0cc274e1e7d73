//===- Import.cpp - Model files to func.func @forward in dlc --------------===//
//
// The importer's pipeline: parse the file into a located tree, read it as
// dlc YAML or Keras JSON into a ModelSpec, check the layer graph (names,
// references, cycles, reachability), then emit the layers in topological
// order into @forward and attach the training settings to the module. Every
// step stops at its first error, which is always located in the model file.
//
//===----------------------------------------------------------------------===//

#include "dlc/Import/Import.h"
#include "dlc/Import/Onnx.h"

#include "ArgReader.h"
#include "Document.h"
#include "LayerBuilder.h"
#include "ModelSpec.h"

#include "dlc/Dialect/DLC/IR/DLCDialect.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::import;

void mlir::dlc::registerImportDialects(DialectRegistry &registry) {
  registry.insert<DLCDialect, func::FuncDialect, arith::ArithDialect>();
}

namespace {
/// Index of the model input among the graph's nodes.
constexpr int kInputIndex = -1;

/// The layer graph of a ModelSpec, checked and topologically ordered.
class LayerGraph {
public:
  LayerGraph(const ModelSource &source, ModelSpec &spec)
      : source(source), spec(spec) {}

  /// Resolves names and references, and orders the layers the output
  /// depends on (inputs first).
  LogicalResult resolve();

  /// The layers to emit, in dependency order.
  ArrayRef<int> getOrder() const { return order; }
  /// The node each input of `layer` reads (kInputIndex for the input).
  ArrayRef<int> getInputs(int layer) const { return inputs[layer]; }
  int getOutput() const { return output; }
  /// How many layers read `node` (kInputIndex for the model input).
  unsigned getNumUsers(int node) const;

private:
  LogicalResult checkNames();
  LogicalResult resolveReferences();
  LogicalResult sortFromOutput();

  const ModelSource &source;
  ModelSpec &spec;
  llvm::StringMap<int> indexOf;
  std::vector<SmallVector<int, 2>> inputs;
  SmallVector<int> order;
  int output = kInputIndex;
};
} // namespace

LogicalResult LayerGraph::checkNames() {
  indexOf[spec.input.name] = kInputIndex;
  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    auto [it, inserted] = indexOf.try_emplace(layer.name, int(i));
    if (inserted)
      continue;
    const DocNode *here = layer.nameNode ? layer.nameNode : layer.classNode;
    InFlightDiagnostic diag = source.emitError(here);
    diag << "duplicate layer name '" << layer.name << "'";
    if (it->second == kInputIndex) {
      diag.attachNote(source.getLoc(spec.input.node))
          << "the model input has this name";
    } else {
      const LayerSpec &first = spec.layers[it->second];
      diag.attachNote(
          source.getLoc(first.nameNode ? first.nameNode : first.classNode))
          << "first used here";
    }
    return failure();
  }
  return success();
}

LogicalResult LayerGraph::resolveReferences() {
  SmallVector<StringRef> names = {spec.input.name};
  for (const LayerSpec &layer : spec.layers)
    names.push_back(layer.name);
  inputs.resize(spec.layers.size());
  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    for (LayerRef &ref : layer.inputs) {
      // The readers leave "the previous layer" unnamed.
      if (ref.name.empty())
        ref.name = i == 0 ? spec.input.name : spec.layers[i - 1].name;
      auto it = indexOf.find(ref.name);
      if (it == indexOf.end()) {
        InFlightDiagnostic diag = source.emitError(ref.node);
        diag << "layer '" << layer.name << "' reads '" << ref.name
             << "', but no layer has that name";
        if (StringRef guess = suggestClosest(ref.name, names); !guess.empty())
          diag << "; did you mean '" << guess << "'?";
        return failure();
      }
      inputs[i].push_back(it->second);
    }
  }
  if (spec.output.name.empty()) {
    output = int(spec.layers.size()) - 1;
    return success();
  }
  auto it = indexOf.find(spec.output.name);
  if (it == indexOf.end()) {
    InFlightDiagnostic diag = source.emitError(spec.output.node);
    diag << "the model output '" << spec.output.name << "' is not a layer name";
    if (StringRef guess = suggestClosest(spec.output.name, names);
        !guess.empty())
      diag << "; did you mean '" << guess << "'?";
    return failure();
  }
  if (it->second == kInputIndex)
    return source.emitError(spec.output.node)
           << "the model output must be a layer, not the model input";
  output = it->second;
  return success();
}

LogicalResult LayerGraph::sortFromOutput() {
  // Iterative depth-first search (a long chain must not exhaust the stack);
  // a reference to a layer still on the stack closes a cycle.
  enum class State { Unvisited, OnStack, Done };
  std::vector<State> state(spec.layers.size(), State::Unvisited);
  // (layer, index of the next input to visit)
  SmallVector<std::pair<int, unsigned>> stack = {{output, 0}};
  state[output] = State::OnStack;
  while (!stack.empty()) {
    auto &[layer, next] = stack.back();
    if (next == inputs[layer].size()) {
      state[layer] = State::Done;
      order.push_back(layer);
      stack.pop_back();
      continue;
    }
    unsigned which = next++;
    int input = inputs[layer][which];
    if (input == kInputIndex || state[input] == State::Done)
      continue;
    if (state[input] == State::OnStack) {
      // The cycle is the part of the stack from `input` up to `layer`.
      std::string path;
      bool inCycle = false;
      for (auto &entry : stack) {
        inCycle |= entry.first == input;
        if (inCycle)
          path += spec.layers[entry.first].name.str() + " <- ";
      }
      path += spec.layers[input].name;
      // Report where the edge closing the cycle is written.
      const LayerRef &ref = spec.layers[layer].inputs[which];
      return source.emitError(ref.node) << "the layers form a cycle: " << path
                                        << " (each layer reads the next)";
    }
    state[input] = State::OnStack;
    stack.push_back({input, 0});
  }
  for (auto [i, s] : llvm::enumerate(state))
    if (s == State::Unvisited)
      return source.emitError(spec.layers[i].classNode)
             << "layer '" << spec.layers[i].name
             << "' does not contribute to the model output (layer '"
             << spec.layers[output].name << "')";
  return success();
}

LogicalResult LayerGraph::resolve() {
  return success(succeeded(checkNames()) && succeeded(resolveReferences()) &&
                 succeeded(sortFromOutput()));
}

unsigned LayerGraph::getNumUsers(int node) const {
  unsigned users = 0;
  for (int layer : order)
    users += llvm::count(inputs[layer], node);
  return users;
}

/// Checks that every layer is one dlc imports, naming the others.
static LogicalResult checkLayerClasses(const ModelSource &source,
                                       const ModelSpec &spec) {
  for (const LayerSpec &layer : spec.layers) {
    if (LayerBuilder::isSupported(layer.className))
      continue;
    InFlightDiagnostic diag = source.emitError(layer.classNode);
    if (LayerBuilder::isUnsupportedKerasLayer(layer.className)) {
      diag << "Keras layer " << layer.className << " ('" << layer.name
           << "') is not supported by dlc";
      return failure();
    }
    diag << "unknown layer '" << layer.className << "'";
    if (StringRef guess =
            suggestClosest(layer.className, LayerBuilder::getSupportedLayers());
        !guess.empty())
      diag << "; did you mean '" << guess << "'?";
    return failure();
  }
  return success();
}

/// Folds a Rescaling layer that reads the model input into the input
/// normalization: the runtime applies it to the raw data, so @forward starts
/// from normalized images, as with dlc YAML's `input: {scale, offset}`.
static LogicalResult foldRescaling(const ModelSource &source, ModelSpec &spec,
                                   const LayerGraph &graph, int index) {
  const LayerSpec &layer = spec.layers[index];
  std::string owner = "Rescaling layer '" + layer.name.str() + "'";
  ArgReader args(source, layer.args, owner, layer.classNode);
  for (StringRef key : layer.readerKeys)
    args.ignore(key);
  if (graph.getInputs(index).size() != 1 ||
      graph.getInputs(index).front() != kInputIndex ||
      graph.getNumUsers(kInputIndex) != 1)
    return args.emitError(layer.classNode)
           << "dlc supports Rescaling only as the first layer, reading the "
              "model input (it becomes the input normalization)";
  if (spec.input.normalizationNode) {
    InFlightDiagnostic diag = args.emitError(layer.classNode);
    diag << "the input normalization is given twice";
    diag.attachNote(source.getLoc(spec.input.normalizationNode))
        << "first given here";
    return failure();
  }
  if (failed(args.checkIsMapping()) ||
      failed(args.getBool("trainable", true)) ||
      failed(LayerBuilder::checkDtype(args)))
    return failure();
  int64_t channels = spec.input.shape.back();
  auto readValues = [&](StringRef key, std::optional<double> def,
                        SmallVectorImpl<double> &values) -> LogicalResult {
    const DocNode *node = args.lookup(key);
    if (node && node->isList()) {
      if (int64_t(node->items.size()) != channels)
        return args.emitError(node)
               << "'" << key << "' has " << node->items.size()
               << " values but the input has " << channels << " channels";
      for (const DocNode *item : node->items) {
        std::optional<double> v = item->asNumber();
        if (!v)
          return args.emitTypeError(key, item, "a number"), failure();
        values.push_back(*v);
      }
      return success();
    }
    FailureOr<double> v = args.getNumber(key, def);
    if (failed(v))
      return failure();
    values.push_back(*v);
    return success();
  };
  SmallVector<double, 3> scale, offset;
  if (failed(readValues("scale", std::nullopt, scale)) ||
      failed(readValues("offset", 0.0, offset)) || failed(args.finish()))
    return failure();
  spec.input.scale = scale;
  spec.input.offset = offset;
  spec.input.normalizationNode = layer.classNode;
  return success();
}

/// The input normalization attribute: x * scale + offset on the raw data.
static DictionaryAttr getNormalizationAttr(Builder &b, const InputSpec &input) {
  // Without one, raw bytes are mapped to [0, 1]: what every Keras example
  // does to its images before fit().
  SmallVector<float> scale = {1.0f / 255.0f}, offset = {0.0f};
  if (!input.scale.empty()) {
    scale.assign(input.scale.begin(), input.scale.end());
    offset.assign(input.offset.begin(), input.offset.end());
  }
  return b.getDictionaryAttr(
      {b.getNamedAttr("scale", b.getDenseF32ArrayAttr(scale)),
       b.getNamedAttr("offset", b.getDenseF32ArrayAttr(offset))});
}

/// Augmentation layers have no gradient (their randomness is not
/// differentiated): one that a trainable parameter reaches would stop the
/// backward pass. Keras models put them right after the input; refuse them
/// elsewhere here, at the layer, instead of when the train step is built.
static LogicalResult checkAugmentationPlacement(func::FuncOp forward,
                                                ArrayRef<DictionaryAttr> args) {
  llvm::DenseSet<Value> varied;
  llvm::DenseSet<Value> runningStats;
  forward.walk([&](BatchNormOp bn) {
    runningStats.insert(bn.getMean());
    runningStats.insert(bn.getVariance());
  });
  for (BlockArgument arg : forward.getArguments().drop_front()) {
    DictionaryAttr attrsOf = arg.getArgNumber() < args.size()
                                 ? args[arg.getArgNumber()]
                                 : DictionaryAttr();
    auto trainable =
        attrsOf ? attrsOf.getAs<BoolAttr>(attrs::kTrainable) : BoolAttr();
    if (!runningStats.contains(arg) && !(trainable && !trainable.getValue()))
      varied.insert(arg);
  }
  for (Operation &op : forward.getBody().front()) {
    bool reached = llvm::any_of(op.getOperands(),
                                [&](Value v) { return varied.contains(v); });
    if (!reached)
      continue;
    if (isa<RandomCropOp, RandomTranslationOp>(op)) {
      op.emitError()
          << (isa<RandomCropOp>(op) ? "RandomCrop" : "RandomTranslation")
          << " must come before every layer with trainable parameters (put "
             "it right after the input): augmentation has no gradient, so "
             "the layers before it could not learn";
      return failure();
    }
    varied.insert(op.getResults().begin(), op.getResults().end());
  }
  return success();
}

/// Refuses what dlc's runtime cannot train yet, where the file says it
/// (see ImportOptions::forRuntime).
static LogicalResult checkRuntimeLimits(const ModelSource &source,
                                        const ModelSpec &spec,
                                        ModuleOp module) {
  // Flat ([N]) and rank-2 ([H, W]) inputs are fine: the runtime fills them
  // with images of as many values.
  auto loss = module->getAttrOfType<DictionaryAttr>(attrs::kLoss);
  StringAttr name = loss ? loss.getAs<StringAttr>("name") : StringAttr();
  if (name && name.getValue() != "sparse_categorical_crossentropy") {
    InFlightDiagnostic diag = spec.training.loss
                                  ? source.emitError(spec.training.loss)
                                  : mlir::emitError(module.getLoc());
    diag << "the training executable trains classifiers with integer labels "
            "(loss sparse_categorical_crossentropy); loss '"
         << name.getValue()
         << "' needs float targets, which its data readers do not provide "
            "yet; compile with --emit=obj to use the compiled steps from "
            "your own code";
    return failure();
  }
  return success();
}

/// Rejects binary files up front: the YAML parser would report some
/// confusing syntax error in them.
static LogicalResult checkIsText(const ModelSource &source) {
  StringRef buffer = source.getBuffer();
  size_t nul = buffer.find('\0');
  const auto *begin = reinterpret_cast<const llvm::UTF8 *>(buffer.begin());
  const auto *end = reinterpret_cast<const llvm::UTF8 *>(
      buffer.begin() + std::min(nul, buffer.size()));
  const llvm::UTF8 *cursor = begin;
  bool legal = llvm::isLegalUTF8String(&cursor, end);
  if (nul == StringRef::npos && legal)
    return success();
  const char *bad =
      legal ? buffer.begin() + nul : reinterpret_cast<const char *>(cursor);
  return source.emitError(llvm::SMLoc::getFromPointer(bad))
         << "the model file is not text (YAML or JSON): it contains "
         << (legal ? "a NUL byte" : "bytes that are not UTF-8");
}

OwningOpRef<ModuleOp> mlir::dlc::importModel(llvm::SourceMgr &sourceMgr,
                                             MLIRContext *context,
                                             const ImportOptions &options) {
  context->loadDialect<DLCDialect, func::FuncDialect, arith::ArithDialect>();
  ModelSource source(sourceMgr, context);
  // ONNX is binary protobuf: its own reader (ReadOnnx.cpp).
  if (isOnnxModel(source.getFilename(), source.getBuffer())) {
    OnnxImportOptions onnxOptions;
    onnxOptions.batchSize = options.batchSize;
    return importOnnxModel(sourceMgr, context, onnxOptions);
  }
  if (source.getBuffer().trim().empty()) {
    source.emitError(source.startLoc()) << "the model file is empty";
    return {};
  }
  if (failed(checkIsText(source)))
    return {};
  FailureOr<std::unique_ptr<Document>> doc = Document::parse(source);
  if (failed(doc))
    return {};
  const DocNode *root = (*doc)->getRoot();
  if (root->isNull()) {
    source.emitError(source.startLoc())
        << "the model file is empty (it has only comments)";
    return {};
  }
  if (!root->isMapping()) {
    source.emitError(root)
        << "expected a model: a YAML mapping with 'layers' (dlc) or the "
           "output of Keras model.to_json(), got "
        << root->describe();
    return {};
  }

  // Keras JSON is recognized by its class_name, whatever the file suffix.
  bool isKeras = root->get("class_name") && !root->get("layers");
  FailureOr<ModelSpec> spec =
      isKeras ? readKerasJson(source, root) : readDlcYaml(source, root);
  if (failed(spec))
    return {};
  if (spec->name.empty())
    spec->name = (*doc)->save(llvm::sys::path::stem(source.getFilename()));
  llvm::BumpPtrAllocator allocator;
  llvm::StringSaver saver(allocator);
  assignDefaultNames(*spec, saver);
  if (failed(checkLayerClasses(source, *spec)))
    return {};
  LayerGraph graph(source, *spec);
  if (failed(graph.resolve()))
    return {};
  for (int index : graph.getOrder())
    if (spec->layers[index].className == "Rescaling" &&
        failed(foldRescaling(source, *spec, graph, index)))
      return {};

  int64_t batchSize;
  if (options.batchSize) {
    batchSize = *options.batchSize;
  } else {
    FailureOr<int64_t> fromFile = readBatchSize(source, *spec);
    if (failed(fromFile))
      return {};
    batchSize = *fromFile;
  }

  // @forward(%input, %params...) -> output
  OpBuilder builder(context);
  Location fileLoc = source.getLoc(source.startLoc());
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc, spec->name);
  builder.setInsertionPointToEnd(module->getBody());
  auto forward = func::FuncOp::create(builder, fileLoc, kForwardFuncName,
                                      builder.getFunctionType({}, {}));
  Block *body = forward.addEntryBlock();
  builder.setInsertionPointToEnd(body);

  SmallVector<int64_t, 4> inputShape = {batchSize};
  llvm::append_range(inputShape, spec->input.shape);
  // readInputShape bounds one example to 2^28 values; a batch of them must
  // stay within dlc's 2^31-element tensors too.
  int64_t inputElements = 1;
  for (int64_t d : inputShape)
    inputElements *= d;
  if (inputElements > (int64_t(1) << 31)) {
    source.emitError(spec->input.node)
        << "a batch of " << batchSize << " inputs of this shape is too large: "
        << "dlc tensors hold at most 2^31 elements";
    return {};
  }
  Location inputLoc = NameLoc::get(builder.getStringAttr(spec->input.name),
                                   source.getLoc(spec->input.node));
  Value input = body->addArgument(
      RankedTensorType::get(inputShape, builder.getF32Type()), inputLoc);
  LayerBuilder layers(source, builder, body);
  layers.addInputArgAttrs(builder.getDictionaryAttr(builder.getNamedAttr(
      attrs::kName, builder.getStringAttr(spec->input.name))));

  std::vector<Value> values(spec->layers.size());
  auto valueOf = [&](int node) {
    return node == kInputIndex ? input : values[node];
  };
  // What `summary` shows of each layer, in the order it is built.
  SmallVector<Attribute> layerTable;
  auto nameOf = [&](int node) {
    // A Rescaling layer is folded into the input.
    bool isInput =
        node == kInputIndex || spec->layers[node].className == "Rescaling";
    return builder.getStringAttr(isInput ? spec->input.name
                                         : spec->layers[node].name);
  };
  for (int index : graph.getOrder()) {
    const LayerSpec &layer = spec->layers[index];
    if (layer.className == "Rescaling") {
      values[index] = input; // Folded into the input normalization.
      continue;
    }
    SmallVector<Value, 2> operands;
    SmallVector<Attribute, 2> inputNames;
    for (int node : graph.getInputs(index)) {
      operands.push_back(valueOf(node));
      inputNames.push_back(nameOf(node));
    }
    FailureOr<Value> output = layers.build(layer, operands);
    if (failed(output))
      return {};
    values[index] = *output;
    auto shape = cast<RankedTensorType>(output->getType()).getShape();
    layerTable.push_back(builder.getDictionaryAttr({
        builder.getNamedAttr("name", builder.getStringAttr(layer.name)),
        builder.getNamedAttr("class", builder.getStringAttr(layer.className)),
        builder.getNamedAttr("inputs", builder.getArrayAttr(inputNames)),
        builder.getNamedAttr("output_shape",
                             builder.getDenseI64ArrayAttr(shape.drop_front())),
    }));
  }
  (*module)->setAttr(attrs::kLayers, builder.getArrayAttr(layerTable));

  Value output = values[graph.getOutput()];
  Location outputLoc = layers.getLayerLoc(spec->layers[graph.getOutput()]);
  func::ReturnOp::create(builder, outputLoc, output);
  forward.setFunctionType(
      builder.getFunctionType(body->getArgumentTypes(), {output.getType()}));
  forward.setAllArgAttrs(layers.getArgAttrs());

  if (failed(readTrainingSettings(source, *spec, *module, output, outputLoc,
                                  batchSize)))
    return {};
  (*module)->setAttr(attrs::kInputNormalization,
                     getNormalizationAttr(builder, spec->input));
  if (failed(checkAugmentationPlacement(forward, layers.getArgAttrs())))
    return {};
  if (options.forRuntime && failed(checkRuntimeLimits(source, *spec, *module)))
    return {};

  // Every op was built through its shape rule, so this only guards the
  // importer itself; its errors are located at the layers too.
  if (failed(mlir::verify(*module)))
    return {};
  return module;
}
