//===- ReadKerasJson.cpp - Keras JSON to a ModelSpec ----------------------===//
//
// Keras `model.to_json()` wraps each layer in {class_name, config} and
// connects them with `inbound_nodes` (a list of lists in Keras 2, a list of
// call records holding `keras_history` in Keras 3); a Sequential model is a
// chain. The reader checks structure only; the layers themselves are
// checked later, on the ModelSpec, as for dlc YAML (ReadYaml.cpp).
//
//===----------------------------------------------------------------------===//

#include "ArgReader.h"
#include "ModelSpec.h"

using namespace mlir;
using namespace mlir::dlc::import;

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
