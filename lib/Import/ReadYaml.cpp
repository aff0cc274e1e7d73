//===- ReadYaml.cpp - dlc YAML to a ModelSpec -----------------------------===//
//
// dlc YAML lists layers as `- ClassName: {arguments}`, connects them in
// order unless a layer names its `inputs:`, and describes the input with
// `input:` (shape, name, normalization). The reader checks structure only;
// the layers themselves are checked later, on the ModelSpec, as for Keras
// JSON (ReadKerasJson.cpp).
//
//===----------------------------------------------------------------------===//

#include "ArgReader.h"
#include "ModelSpec.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::dlc::import;

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
