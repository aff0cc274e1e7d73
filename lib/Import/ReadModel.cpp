//===- ReadModel.cpp - dlc YAML and Keras JSON to a ModelSpec -------------===//
//
// The two readers differ only in where things are written: dlc YAML lists
// layers as `- ClassName: {arguments}` and names inputs with `inputs:`;
// Keras JSON wraps each layer in {class_name, config} and connects them with
// `inbound_nodes` (a list of lists in Keras 2, a list of call records holding
// `keras_history` in Keras 3). Everything about the layers themselves is
// checked later, on the ModelSpec.
//
//===----------------------------------------------------------------------===//

#include "ArgReader.h"
#include "ModelSpec.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::dlc::import;

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

std::string mlir::dlc::import::kerasSnakeCase(StringRef name) {
  // re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
  std::string first;
  for (size_t i = 0; i < name.size();) {
    size_t j = i + 2;
    while (j < name.size() && llvm::isLower(name[j]))
      ++j;
    if (i + 1 < name.size() && llvm::isUpper(name[i + 1]) && j > i + 2) {
      first += name[i];
      first += '_';
      first += name.slice(i + 1, j).str();
      i = j;
      continue;
    }
    first += name[i++];
  }
  // re.sub("([a-z])([A-Z])", r"\1_\2", ...).lower()
  std::string result;
  for (size_t i = 0; i < first.size();) {
    if (i + 1 < first.size() && llvm::isLower(first[i]) &&
        llvm::isUpper(first[i + 1])) {
      result += first[i];
      result += '_';
      result += llvm::toLower(first[i + 1]);
      i += 2;
      continue;
    }
    result += llvm::toLower(first[i++]);
  }
  return result;
}

void mlir::dlc::import::assignDefaultNames(ModelSpec &spec,
                                           llvm::StringSaver &saver) {
  llvm::StringSet<> taken;
  taken.insert(spec.input.name);
  for (const LayerSpec &layer : spec.layers)
    if (layer.nameNode)
      taken.insert(layer.name);
  llvm::StringMap<unsigned> counters;
  for (LayerSpec &layer : spec.layers) {
    if (layer.nameNode || !layer.name.empty())
      continue;
    std::string base = kerasSnakeCase(layer.className);
    unsigned &counter = counters[base];
    std::string candidate;
    do {
      candidate = counter == 0 ? base : base + "_" + std::to_string(counter);
      ++counter;
    } while (taken.contains(candidate));
    taken.insert(candidate);
    layer.name = saver.save(candidate);
  }
}

LogicalResult mlir::dlc::import::readInputShape(const ModelSource &source,
                                                const DocNode *node,
                                                StringRef what, bool hasBatch,
                                                InputSpec &input) {
  if (!node || !node->isList())
    return source.emitError(node)
           << what << " must be a list of positive integers such as "
           << (hasBatch ? "[null, 28, 28, 1]" : "[28, 28, 1]") << ", got "
           << (node ? node->describe() : "nothing");
  ArrayRef<const DocNode *> dims = node->items;
  if (hasBatch) {
    if (dims.empty())
      return source.emitError(node) << what << " is empty";
    dims = dims.drop_front();
  }
  if (dims.empty() || dims.size() > 3)
    return source.emitError(node)
           << what << " must have 1 to 3 dimensions after the batch "
           << "([features], [height, width] or [height, width, channels]), "
           << "got " << dims.size();
  input.shape.clear();
  for (const DocNode *dim : dims) {
    std::optional<int64_t> v = dim->asInt();
    if (dim->isNull())
      return source.emitError(dim)
             << what << " must be static: dlc compiles for one input size";
    if (!v || *v < 1 || *v > (int64_t(1) << 24))
      return source.emitError(dim)
             << what << " dimensions must be positive integers, got "
             << dim->describe();
    input.shape.push_back(*v);
  }
  int64_t elements = 1;
  for (int64_t d : input.shape)
    elements *= d;
  if (elements > (int64_t(1) << 28))
    return source.emitError(node)
           << what << " is too large (" << elements << " values per example)";
  input.node = node;
  return success();
}

/// Checks a layer name written in the file: Keras forbids '/', which dlc
/// uses to name parameters (conv2d/kernel).
static LogicalResult checkLayerName(const ModelSource &source,
                                    const DocNode *node, StringRef what,
                                    StringRef &name) {
  std::optional<StringRef> s = node->asString();
  if (!s || s->empty())
    return source.emitError(node)
           << what << " must be a non-empty string, got " << node->describe();
  if (s->contains('/'))
    return source.emitError(node)
           << what << " '" << *s << "' must not contain '/'";
  name = *s;
  return success();
}

//===----------------------------------------------------------------------===//
// dlc YAML
//===----------------------------------------------------------------------===//

/// Reads one normalization value: a number, or one number per channel.
static LogicalResult readPerChannel(const ModelSource &source,
                                    const DocNode *node, StringRef key,
                                    bool positive,
                                    SmallVectorImpl<double> &values) {
  std::string expected = positive ? "a positive number or a list of them"
                                  : "a number or a list of numbers";
  auto check = [&](const DocNode *n) -> LogicalResult {
    std::optional<double> v = n->asNumber();
    if (!v || (positive && *v <= 0))
      return source.emitError(n) << "input '" << key << "' must be " << expected
                                 << ", got " << n->describe();
    values.push_back(*v);
    return success();
  };
  if (!node->isList())
    return check(node);
  if (node->items.empty())
    return source.emitError(node) << "input '" << key << "' is empty";
  for (const DocNode *item : node->items)
    if (failed(check(item)))
      return failure();
  return success();
}

/// Reads `input: {shape: [...], name, scale/offset or mean/std}`.
static LogicalResult readYamlInput(const ModelSource &source,
                                   const DocNode *node, InputSpec &input) {
  // `input: [28, 28, 1]` is accepted as a shorthand.
  if (node->isList())
    return readInputShape(source, node, "input shape", /*hasBatch=*/false,
                          input);
  ArgReader args(source, node, "input", node);
  if (!node->isMapping())
    return source.emitError(node)
           << "'input' must be a mapping such as {shape: [28, 28, 1]}, got "
           << node->describe();
  const DocNode *shape = args.lookup("shape");
  if (!shape)
    return args.emitMissing("shape");
  if (failed(readInputShape(source, shape, "input shape", /*hasBatch=*/false,
                            input)))
    return failure();
  input.node = node;
  if (const DocNode *name = args.lookup("name"))
    if (failed(checkLayerName(source, name, "input name", input.name)))
      return failure();

  const DocNode *scaleNode = args.lookup("scale");
  const DocNode *offsetNode = args.lookup("offset");
  const DocNode *meanNode = args.lookup("mean"), *stdNode = args.lookup("std");
  if ((scaleNode || offsetNode) && (meanNode || stdNode))
    return source.emitError(meanNode ? meanNode : stdNode)
           << "give the input normalization either as scale/offset or as "
              "mean/std, not both";
  // Each list holds one value for all channels or one value per channel.
  int64_t channels = input.shape.back();
  auto read = [&](const DocNode *n, StringRef key, bool positive,
                  SmallVectorImpl<double> &values) -> LogicalResult {
    if (!n)
      return success();
    if (failed(readPerChannel(source, n, key, positive, values)))
      return failure();
    if (values.size() != 1 && int64_t(values.size()) != channels)
      return source.emitError(n)
             << "input '" << key << "' has " << values.size()
             << " values but the input has " << channels << " channels";
    return success();
  };
  SmallVector<double, 3> scale, offset, mean, stddev;
  if (failed(read(scaleNode, "scale", false, scale)) ||
      failed(read(offsetNode, "offset", false, offset)) ||
      failed(read(meanNode, "mean", false, mean)) ||
      failed(read(stdNode, "std", true, stddev)))
    return failure();
  if (meanNode || stdNode) {
    // (x - mean) / std == x * (1 / std) + (-mean / std).
    if (mean.empty())
      mean.push_back(0.0);
    if (stddev.empty())
      stddev.push_back(1.0);
    for (size_t i = 0, e = std::max(mean.size(), stddev.size()); i < e; ++i) {
      double sd = stddev[stddev.size() == 1 ? 0 : i];
      double m = mean[mean.size() == 1 ? 0 : i];
      scale.push_back(1.0 / sd);
      offset.push_back(-m / sd);
    }
  }
  if (scaleNode || offsetNode || meanNode || stdNode) {
    if (scale.empty())
      scale.push_back(1.0);
    if (offset.empty())
      offset.push_back(0.0);
    input.scale = scale;
    input.offset = offset;
    for (const DocNode *n : {scaleNode, offsetNode, meanNode, stdNode})
      if (n && !input.normalizationNode)
        input.normalizationNode = n;
  }
  return args.finish();
}

/// Reads the `inputs` of a layer: a name or a list of names.
static LogicalResult readLayerInputs(const ModelSource &source,
                                     const DocNode *node, LayerSpec &layer) {
  auto readOne = [&](const DocNode *n) -> LogicalResult {
    std::optional<StringRef> s = n->asString();
    if (!s || s->empty())
      return source.emitError(n)
             << "'inputs' must name layers (a name or a list of names), got "
             << n->describe();
    layer.inputs.push_back({*s, n});
    return success();
  };
  if (!node->isList())
    return readOne(node);
  if (node->items.empty())
    return source.emitError(node) << "'inputs' is empty";
  for (const DocNode *item : node->items)
    if (failed(readOne(item)))
      return failure();
  return success();
}

FailureOr<ModelSpec> mlir::dlc::import::readDlcYaml(const ModelSource &source,
                                                    const DocNode *root) {
  ModelSpec spec;
  spec.format = ModelFormat::DlcYaml;
  static constexpr StringRef topLevelKeys[] = {
      "name",      "input",   "layers",     "output", "loss",
      "optimizer", "metrics", "batch_size", "epochs"};
  for (const DocNode::Entry &entry : root->entries) {
    if (llvm::is_contained(topLevelKeys, entry.first->text))
      continue;
    InFlightDiagnostic diag = source.emitError(entry.first);
    diag << "unknown model setting '" << entry.first->text << "'";
    if (StringRef guess = suggestClosest(entry.first->text, topLevelKeys);
        !guess.empty())
      diag << "; did you mean '" << guess << "'?";
    else
      diag << " (expected one of: "
           << llvm::join(ArrayRef<StringRef>(topLevelKeys), ", ") << ")";
    return failure();
  }

  if (const DocNode *name = root->get("name")) {
    std::optional<StringRef> s = name->asString();
    if (!s || s->empty())
      return source.emitError(name)
             << "'name' must be a string, got " << name->describe();
    spec.name = *s;
  }

  spec.training.loss = root->get("loss");
  spec.training.optimizer = root->get("optimizer");
  spec.training.metrics = root->get("metrics");
  spec.training.batchSize = root->get("batch_size");
  spec.training.epochs = root->get("epochs");

  const DocNode *input = root->get("input");
  if (input && failed(readYamlInput(source, input, spec.input)))
    return failure();

  const DocNode *layers = root->get("layers");
  spec.layersNode = root->getKey("layers");
  if (!layers || layers->isNull() ||
      (layers->isList() && layers->items.empty()))
    return source.emitError(spec.layersNode ? spec.layersNode : root)
               << "the model has no layers; list them under 'layers:'",
           failure();
  if (!layers->isList())
    return source.emitError(layers)
           << "'layers' must be a list of `- ClassName: {arguments}` items, "
              "got "
           << layers->describe();

  for (auto [index, item] : llvm::enumerate(layers->items)) {
    LayerSpec layer;
    if (item->asString()) {
      // `- Flatten` is a layer without arguments.
      layer.className = item->text;
      layer.classNode = item;
    } else if (item->isMapping() && item->entries.size() == 1) {
      layer.className = item->entries[0].first->text;
      layer.classNode = item->entries[0].first;
      layer.args = item->entries[0].second;
    } else {
      InFlightDiagnostic diag = source.emitError(item);
      diag << "a layer is written `- ClassName: {arguments}`";
      if (item->isMapping())
        diag << "; this item has " << item->entries.size()
             << " keys (check the indentation of its arguments)";
      else
        diag << ", got " << item->describe();
      return failure();
    }
    if (layer.args && !layer.args->isNull() && !layer.args->isMapping())
      return source.emitError(layer.args)
             << "the arguments of " << layer.className
             << " must be a mapping such as {units: 10}, got "
             << layer.args->describe();
    if (layer.args && layer.args->isMapping()) {
      if (const DocNode *name = layer.args->get("name")) {
        if (failed(checkLayerName(source, name, "layer name", layer.name)))
          return failure();
        layer.nameNode = name;
      }
      if (const DocNode *inputs = layer.args->get("inputs"))
        if (!inputs->isNull() && failed(readLayerInputs(source, inputs, layer)))
          return failure();
      layer.readerKeys = {"name", "inputs"};
    }

    // Keras's `Input(shape=...)` as the first layer gives the input shape.
    if (layer.className == "InputLayer") {
      if (index != 0)
        return source.emitError(layer.classNode)
               << "InputLayer must be the first layer";
      if (input)
        return source.emitError(layer.classNode)
               << "the input is given twice: by 'input:' and by InputLayer";
      ArgReader args(source, layer.args, "InputLayer", layer.classNode);
      args.ignore("name");
      const DocNode *shape = args.lookup("shape");
      const DocNode *batchShape = args.lookup("batch_shape");
      if (!shape && !batchShape)
        return source.emitError(layer.classNode)
               << "InputLayer needs the argument 'shape'";
      if (failed(readInputShape(source, shape ? shape : batchShape,
                                "InputLayer shape", /*hasBatch=*/!shape,
                                spec.input)) ||
          failed(args.requireValue("dtype", "float32")) ||
          failed(args.requireUnset("sparse")) ||
          failed(args.requireUnset("ragged")) ||
          failed(args.requireUnset("optional")) || failed(args.finish()))
        return failure();
      spec.input.node = layer.classNode;
      if (layer.nameNode)
        spec.input.name = layer.name;
      continue;
    }
    spec.layers.push_back(std::move(layer));
  }
  if (spec.layers.empty())
    return source.emitError(spec.layersNode)
               << "the model has no layers; list them under 'layers:'",
           failure();
  if (spec.input.shape.empty())
    return source.emitError(root)
               << "the model has no input shape; add `input: {shape: [height, "
                  "width, channels]}`",
           failure();
  if (spec.input.name.empty())
    spec.input.name = "input";

  // Each layer reads the previous one unless it names its inputs.
  for (size_t i = 0; i < spec.layers.size(); ++i)
    if (spec.layers[i].inputs.empty())
      spec.layers[i].inputs.push_back(
          {i == 0 ? spec.input.name : StringRef(), spec.layers[i].classNode});

  if (const DocNode *output = root->get("output")) {
    std::optional<StringRef> s = output->asString();
    if (!s || s->empty())
      return source.emitError(output)
             << "'output' must name a layer, got " << output->describe();
    spec.output = {*s, output};
  }
  return spec;
}

//===----------------------------------------------------------------------===//
// Keras JSON
//===----------------------------------------------------------------------===//

namespace {
/// Reads the layer list of a Keras Sequential or Functional config.
class KerasReader {
public:
  KerasReader(const ModelSource &source, ModelSpec &spec)
      : source(source), spec(spec) {}

  LogicalResult readModel(const DocNode *root);

private:
  LogicalResult readLayerList(const DocNode *layers, bool functional);
  LogicalResult readInputLayer(const DocNode *layer, const DocNode *config,
                               const DocNode *classNode);
  LogicalResult readInboundNodes(const DocNode *nodes, LayerSpec &layer);
  FailureOr<LayerRef> readHistory(const DocNode *history, StringRef what);
  FailureOr<LayerRef> readEndpoint(const DocNode *list, StringRef what);
  LogicalResult findSequentialInputShape(const DocNode *root,
                                         const DocNode *config,
                                         const DocNode *firstLayer);

  const ModelSource &source;
  ModelSpec &spec;
  bool hasInputLayer = false;
};
} // namespace

/// The nested models and wrappers Keras can write, which dlc cannot import.
static bool isNestedModel(StringRef className) {
  return className == "Sequential" || className == "Functional" ||
         className == "Model" || className == "TimeDistributed" ||
         className == "Bidirectional";
}

LogicalResult KerasReader::readInputLayer(const DocNode *layer,
                                          const DocNode *config,
                                          const DocNode *classNode) {
  if (hasInputLayer)
    return source.emitError(classNode)
           << "dlc models have one input; this is a second InputLayer";
  hasInputLayer = true;
  ArgReader args(source, config, "InputLayer", classNode);
  if (failed(args.checkIsMapping("arguments (config)")))
    return failure();
  const DocNode *shape = args.lookup("batch_shape");
  StringRef key = "batch_shape";
  if (!shape) {
    shape = args.lookup("batch_input_shape"); // Keras 2
    key = "batch_input_shape";
  }
  if (!shape)
    return source.emitError(classNode)
           << "InputLayer has no 'batch_shape' (Keras 3) or "
              "'batch_input_shape' (Keras 2)";
  if (failed(readInputShape(source, shape, ("InputLayer " + key).str(),
                            /*hasBatch=*/true, spec.input)))
    return failure();
  spec.input.node = classNode;
  const DocNode *name = args.lookup("name");
  if (!name && layer->isMapping())
    name = layer->get("name");
  if (name &&
      failed(checkLayerName(source, name, "InputLayer name", spec.input.name)))
    return failure();
  if (spec.input.name.empty())
    spec.input.name = "input_layer";
  // Keras bookkeeping with the only values dlc supports.
  if (failed(args.requireValue("dtype", "float32")) ||
      failed(args.requireUnset("sparse")) ||
      failed(args.requireUnset("ragged")) ||
      failed(args.requireUnset("optional")))
    return failure();
  args.ignore("input_tensor");
  return args.finish();
}

FailureOr<LayerRef> KerasReader::readHistory(const DocNode *history,
                                             StringRef what) {
  // [layer_name, node_index, tensor_index (, kwargs in Keras 2)]
  if (!history->isList() || history->items.size() < 3 ||
      history->items.size() > 4 || !history->items[0]->asString())
    return source.emitError(history)
               << what
               << " must be [layer_name, node_index, tensor_index], got "
               << history->describe(),
           failure();
  std::optional<int64_t> nodeIndex = history->items[1]->asInt();
  std::optional<int64_t> tensorIndex = history->items[2]->asInt();
  if (!nodeIndex || !tensorIndex)
    return source.emitError(history)
               << what << " must be [layer_name, node_index, tensor_index]",
           failure();
  if (*nodeIndex != 0)
    return source.emitError(history->items[1])
               << "layer '" << history->items[0]->text
               << "' is used more than once (node index " << *nodeIndex
               << "); shared layers are not supported by dlc",
           failure();
  if (*tensorIndex != 0)
    return source.emitError(history->items[2])
               << "layer '" << history->items[0]->text
               << "' has one output, but output " << *tensorIndex
               << " is requested",
           failure();
  return LayerRef{history->items[0]->text, history->items[0]};
}

LogicalResult KerasReader::readInboundNodes(const DocNode *nodes,
                                            LayerSpec &layer) {
  if (!nodes || !nodes->isList())
    return source.emitError(nodes ? nodes : layer.classNode)
           << "layer '" << layer.name
           << "' must have a list 'inbound_nodes' in a Functional model";
  if (nodes->items.empty())
    return source.emitError(nodes)
           << "layer '" << layer.name
           << "' is not connected to anything (empty 'inbound_nodes')";
  if (nodes->items.size() > 1)
    return source.emitError(nodes->items[1])
           << "layer '" << layer.name << "' is called " << nodes->items.size()
           << " times; shared layers are not supported by dlc";
  const DocNode *node = nodes->items.front();

  // Keras 2: [[name, node_index, tensor_index, kwargs], ...]
  if (node->isList()) {
    for (const DocNode *history : node->items) {
      FailureOr<LayerRef> ref = readHistory(history, "an inbound node");
      if (failed(ref))
        return failure();
      layer.inputs.push_back(*ref);
    }
    if (layer.inputs.empty())
      return source.emitError(node)
             << "layer '" << layer.name << "' has an empty inbound node";
    return success();
  }

  // Keras 3: {args: [tensor or [tensors...]], kwargs: {...}}
  if (!node->isMapping())
    return source.emitError(node)
           << "an inbound node must be a list (Keras 2) or a mapping with "
              "'args' (Keras 3), got "
           << node->describe();
  const DocNode *callArgs = node->get("args");
  if (!callArgs || !callArgs->isList())
    return source.emitError(callArgs ? callArgs : node)
           << "an inbound node must have a list 'args'";
  auto readTensor = [&](const DocNode *tensor) -> LogicalResult {
    const DocNode *config =
        tensor->isMapping() ? tensor->get("config") : nullptr;
    const DocNode *history =
        config && config->isMapping() ? config->get("keras_history") : nullptr;
    if (!history)
      return source.emitError(tensor)
             << "layer '" << layer.name
             << "' is called with an argument that is not a layer output; "
                "dlc supports only tensors from other layers";
    FailureOr<LayerRef> ref = readHistory(history, "keras_history");
    if (failed(ref))
      return failure();
    layer.inputs.push_back(*ref);
    return success();
  };
  for (const DocNode *arg : callArgs->items) {
    if (arg->isList()) {
      for (const DocNode *tensor : arg->items)
        if (failed(readTensor(tensor)))
          return failure();
      continue;
    }
    if (failed(readTensor(arg)))
      return failure();
  }
  if (layer.inputs.empty())
    return source.emitError(callArgs)
           << "layer '" << layer.name << "' is called without inputs";
  // Keyword arguments: only Keras's own bookkeeping (mask: null, training).
  if (const DocNode *kwargs = node->get("kwargs");
      kwargs && kwargs->isMapping()) {
    for (const DocNode::Entry &kw : kwargs->entries) {
      if (kw.second->isNull() || kw.first->text == "training")
        continue;
      return source.emitError(kw.first)
             << "layer '" << layer.name << "' is called with the keyword '"
             << kw.first->text << "', which dlc does not support";
    }
  }
  return success();
}

FailureOr<LayerRef> KerasReader::readEndpoint(const DocNode *list,
                                              StringRef what) {
  // Keras 2 and Keras 3: [[name, 0, 0]]; Keras 3 with one tensor may also
  // write [name, 0, 0].
  if (!list || !list->isList() || list->items.empty())
    return source.emitError(list ? list : spec.layersNode)
               << "the Functional model must have a non-empty '" << what << "'",
           failure();
  if (list->items.front()->isList()) {
    if (list->items.size() != 1)
      return source.emitError(list->items[1])
                 << "dlc models have one "
                 << (what == "input_layers" ? "input" : "output") << "; '"
                 << what << "' lists " << list->items.size(),
             failure();
    return readHistory(list->items.front(), what);
  }
  return readHistory(list, what);
}

LogicalResult KerasReader::readLayerList(const DocNode *layers,
                                         bool functional) {
  for (const DocNode *layerNode : layers->items) {
    if (!layerNode->isMapping())
      return source.emitError(layerNode)
             << "a Keras layer must be a mapping with 'class_name' and "
                "'config', got "
             << layerNode->describe();
    const DocNode *classNode = layerNode->get("class_name");
    if (!classNode || !classNode->asString())
      return source.emitError(classNode ? classNode : layerNode)
             << "a Keras layer must have a string 'class_name'";
    const DocNode *config = layerNode->get("config");
    StringRef className = classNode->text;
    if (isNestedModel(className))
      return source.emitError(classNode)
             << "nested models (" << className
             << ") are not supported by dlc; flatten them into one model";
    if (className == "InputLayer") {
      if (failed(readInputLayer(layerNode, config, classNode)))
        return failure();
      continue;
    }
    if (config && !config->isNull() && !config->isMapping())
      return source.emitError(config)
             << "the config of a Keras layer must be a mapping, got "
             << config->describe();

    LayerSpec layer;
    layer.className = className;
    layer.classNode = classNode;
    layer.args = config;
    layer.readerKeys = {"name"};
    const DocNode *name = config ? config->get("name") : nullptr;
    if (!name)
      name = layerNode->get("name");
    if (name) {
      if (failed(checkLayerName(source, name, "layer name", layer.name)))
        return failure();
      layer.nameNode = name;
    }
    if (functional) {
      if (layer.name.empty())
        return source.emitError(classNode)
               << "a layer of a Functional model must have a name";
      if (failed(readInboundNodes(layerNode->get("inbound_nodes"), layer)))
        return failure();
    }
    // Keras 2 puts the input shape on the first layer of a Sequential.
    layer.readerKeys.append(
        {"batch_input_shape", "batch_shape", "input_shape", "input_dim"});
    spec.layers.push_back(std::move(layer));
  }
  return success();
}

LogicalResult KerasReader::findSequentialInputShape(const DocNode *root,
                                                    const DocNode *config,
                                                    const DocNode *first) {
  if (hasInputLayer)
    return success();
  // Keras 2: batch_input_shape on the first layer; Keras 3:
  // build_input_shape on the model or build_config on the layers.
  const DocNode *firstConfig = first ? first->get("config") : nullptr;
  std::pair<const DocNode *, StringRef> candidates[] = {
      {firstConfig && firstConfig->isMapping()
           ? firstConfig->get("batch_input_shape")
           : nullptr,
       "batch_input_shape"},
      {firstConfig && firstConfig->isMapping() ? firstConfig->get("batch_shape")
                                               : nullptr,
       "batch_shape"},
      {config && config->isMapping() ? config->get("build_input_shape")
                                     : nullptr,
       "build_input_shape"},
  };
  for (auto [node, what] : candidates)
    if (node && !node->isNull()) {
      if (failed(readInputShape(source, node, what, /*hasBatch=*/true,
                                spec.input)))
        return failure();
      break;
    }
  if (spec.input.shape.empty()) {
    for (const DocNode *buildConfig :
         {first ? first->get("build_config") : nullptr,
          root->get("build_config")}) {
      const DocNode *shape = buildConfig && buildConfig->isMapping()
                                 ? buildConfig->get("input_shape")
                                 : nullptr;
      if (shape && !shape->isNull()) {
        if (failed(readInputShape(source, shape, "build_config input_shape",
                                  /*hasBatch=*/true, spec.input)))
          return failure();
        break;
      }
    }
  }
  if (spec.input.shape.empty())
    return source.emitError(spec.layersNode)
           << "the Keras model has no input shape (it was never built); "
              "start it with keras.Input(shape=...) before calling to_json()";
  spec.input.name = "input_layer";
  return success();
}

LogicalResult KerasReader::readModel(const DocNode *root) {
  const DocNode *classNode = root->get("class_name");
  if (!classNode || !classNode->asString())
    return source.emitError(classNode ? classNode : root)
           << "a Keras model must have a string 'class_name'";
  StringRef modelClass = classNode->text;
  bool functional = modelClass == "Functional" || modelClass == "Model";
  if (!functional && modelClass != "Sequential")
    return source.emitError(classNode)
           << "expected a Keras model (Sequential or Functional), got '"
           << modelClass << "'";

  const DocNode *config = root->get("config");
  const DocNode *layers = nullptr;
  if (config && config->isList()) {
    // Keras 2.2 wrote a Sequential's config as the bare layer list.
    layers = config;
    spec.layersNode = root->getKey("config");
  } else if (config && config->isMapping()) {
    // A frozen model has nothing to train; dlc compiles training steps.
    if (const DocNode *trainable = config->get("trainable");
        trainable && trainable->asBool() == false)
      return source.emitError(trainable)
             << "the whole model is frozen (trainable: false); freeze "
                "individual layers instead";
    layers = config->get("layers");
    spec.layersNode = config->getKey("layers");
    if (const DocNode *name = config->get("name"))
      if (std::optional<StringRef> s = name->asString())
        spec.name = *s;
  } else {
    return source.emitError(config ? config : classNode)
           << "a Keras model must have a mapping 'config'";
  }
  if (!spec.layersNode)
    spec.layersNode = root->getKey("config");
  if (!layers || !layers->isList())
    return source.emitError(layers ? layers : spec.layersNode)
           << "the Keras model config must have a list 'layers'";
  if (failed(readLayerList(layers, functional)))
    return failure();
  if (spec.layers.empty())
    return source.emitError(spec.layersNode) << "the model has no layers",
           failure();

  if (functional) {
    if (!hasInputLayer)
      return source.emitError(spec.layersNode)
             << "the Functional model has no InputLayer, so no input shape";
    FailureOr<LayerRef> in =
        readEndpoint(config->get("input_layers"), "input_layers");
    if (failed(in))
      return failure();
    if (in->name != spec.input.name)
      return source.emitError(in->node)
             << "'input_layers' names '" << in->name
             << "', which is not the InputLayer ('" << spec.input.name << "')";
    FailureOr<LayerRef> out =
        readEndpoint(config->get("output_layers"), "output_layers");
    if (failed(out))
      return failure();
    spec.output = *out;
  } else {
    const DocNode *first =
        layers->items.empty() ? nullptr : layers->items.front();
    if (failed(findSequentialInputShape(root, config, first)))
      return failure();
    for (size_t i = 0; i < spec.layers.size(); ++i)
      spec.layers[i].inputs.push_back(
          {i == 0 ? spec.input.name : StringRef(), spec.layers[i].classNode});
  }

  // Training settings: Keras 3 saves `compile_config`, Keras 2 (HDF5)
  // `training_config`; to_json() of an uncompiled model has neither.
  if (const DocNode *compile = root->get("compile_config");
      compile && compile->isMapping()) {
    spec.training.loss = compile->get("loss");
    spec.training.optimizer = compile->get("optimizer");
    spec.training.metrics = compile->get("metrics");
  } else if (const DocNode *training = root->get("training_config");
             training && training->isMapping()) {
    spec.training.loss = training->get("loss");
    spec.training.optimizer = training->get("optimizer_config");
    spec.training.metrics = training->get("metrics");
  }
  return success();
}

FailureOr<ModelSpec> mlir::dlc::import::readKerasJson(const ModelSource &source,
                                                      const DocNode *root) {
  ModelSpec spec;
  spec.format = ModelFormat::KerasJson;
  KerasReader reader(source, spec);
  if (failed(reader.readModel(root)))
    return failure();
  return spec;
}
