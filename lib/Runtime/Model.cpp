//===- Model.cpp - The compiled model's table, validated ------------------===//
//
// Everything the runtime later assumes about the compiled entry points is
// checked here, once, with messages that name the function and argument.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Model.h"
#include "dlc/Runtime/Initializers.h"
#include "dlc/Runtime/Support.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Base64.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace dlc::runtime;

//===----------------------------------------------------------------------===//
// Settings
//===----------------------------------------------------------------------===//

static llvm::Error settingsError(const llvm::Twine &what) {
  return llvm::createStringError("model settings: " + what);
}

/// A number or a per-channel array of numbers.
static llvm::Error readChannelValues(const llvm::json::Value &value,
                                     llvm::StringRef key,
                                     llvm::SmallVectorImpl<float> &out) {
  out.clear();
  if (std::optional<double> x = value.getAsNumber()) {
    out.push_back(static_cast<float>(*x));
    return llvm::Error::success();
  }
  if (const llvm::json::Array *array = value.getAsArray()) {
    for (const llvm::json::Value &v : *array) {
      std::optional<double> x = v.getAsNumber();
      if (!x)
        return settingsError("input." + key + " must hold numbers");
      out.push_back(static_cast<float>(*x));
    }
    if (!out.empty())
      return llvm::Error::success();
  }
  return settingsError("input." + key +
                       " must be a number or a per-channel array");
}

llvm::Expected<ModelSettings>
dlc::runtime::parseModelSettings(llvm::StringRef json) {
  ModelSettings settings;
  if (json.trim().empty())
    return settings;
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(json);
  if (!parsed)
    return settingsError("not valid JSON: " +
                         llvm::toString(parsed.takeError()));
  const llvm::json::Object *root = parsed->getAsObject();
  if (!root)
    return settingsError("not a JSON object");

  if (const llvm::json::Value *loss = root->get("loss")) {
    if (std::optional<llvm::StringRef> s = loss->getAsString())
      settings.loss = s->str();
    else if (const llvm::json::Object *o = loss->getAsObject()) {
      if (std::optional<llvm::StringRef> s = o->getString("name"))
        settings.loss = s->str();
      settings.outputIsProbabilities =
          llvm::StringRef(settings.loss).contains("categorical") &&
          o->getBoolean("from_logits") == false;
    }
  }

  if (const llvm::json::Value *opt = root->get("optimizer")) {
    const llvm::json::Object *params = nullptr;
    if (std::optional<llvm::StringRef> s = opt->getAsString()) {
      settings.optimizer = s->lower();
    } else if (const llvm::json::Object *o = opt->getAsObject()) {
      if (std::optional<llvm::StringRef> s = o->getString("name")) {
        settings.optimizer = s->lower();
        params = o;
      } else if (o->size() == 1 && o->begin()->second.getAsObject()) {
        // Keras-style {"Adam": {"learning_rate": ...}}.
        settings.optimizer = llvm::StringRef(o->begin()->first).lower();
        params = o->begin()->second.getAsObject();
      }
    }
    if (params)
      if (std::optional<double> lr = params->getNumber("learning_rate"))
        settings.learningRate = *lr;
  }

  if (const llvm::json::Value *v = root->get("batch_size")) {
    std::optional<int64_t> n = v->getAsInteger();
    if (!n || *n <= 0)
      return settingsError("batch_size must be a positive integer");
    settings.batchSize = *n;
  }
  if (const llvm::json::Value *v = root->get("epochs")) {
    std::optional<int64_t> n = v->getAsInteger();
    if (!n || *n < 0)
      return settingsError("epochs must be a non-negative integer");
    settings.epochs = *n;
  }
  // The importer records `input_normalization`; `input` is accepted too.
  const llvm::json::Object *input = root->getObject("input_normalization");
  if (!input)
    input = root->getObject("input");
  if (input) {
    if (const llvm::json::Value *v = input->get("scale"))
      if (llvm::Error err =
              readChannelValues(*v, "scale", settings.normalization.scale))
        return std::move(err);
    if (const llvm::json::Value *v = input->get("offset"))
      if (llvm::Error err =
              readChannelValues(*v, "offset", settings.normalization.offset))
        return std::move(err);
  }
  if (const llvm::json::Array *names = root->getArray("class_names"))
    for (const llvm::json::Value &v : *names)
      settings.classNames.push_back(v.getAsString().value_or("").str());
  for (const char *key : {"dataset", "data"})
    if (std::optional<llvm::StringRef> s = root->getString(key))
      settings.dataset = s->str();
  if (const llvm::json::Object *configs = root->getObject("init_config"))
    for (const auto &[name, value] : *configs) {
      const llvm::json::Object *object = value.getAsObject();
      if (!object)
        return settingsError("init_config." + name.str() +
                             " must be an object");
      InitConfig &config = settings.initConfigs[name.str()];
      for (const auto &[key, v] : *object) {
        if (std::optional<double> n = v.getAsNumber())
          config.numbers[key.str()] = *n;
        else if (std::optional<llvm::StringRef> str = v.getAsString())
          config.strings[key.str()] = str->str();
      }
    }
  if (const llvm::json::Object *values = root->getObject("initial_values"))
    for (const auto &[name, value] : *values) {
      std::optional<llvm::StringRef> text = value.getAsString();
      std::vector<char> bytes;
      if (!text)
        return settingsError("initial_values." + name.str() +
                             " must be a base64 string");
      if (llvm::Error err = llvm::decodeBase64(*text, bytes))
        return settingsError("initial_values." + name.str() + ": " +
                             llvm::toString(std::move(err)));
      if (bytes.size() % sizeof(float))
        return settingsError("initial_values." + name.str() +
                             " is not a whole number of f32 values");
      std::vector<float> &floats = settings.initialValues[name.str()];
      floats.resize(bytes.size() / sizeof(float));
      std::memcpy(floats.data(), bytes.data(), bytes.size());
    }
  return settings;
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

llvm::StringRef dlc::runtime::groupName(TensorGroup group) {
  switch (group) {
  case TensorGroup::Param:
    return DLC_ROLE_PARAM;
  case TensorGroup::OptState:
    return DLC_ROLE_OPT_STATE;
  case TensorGroup::State:
    return DLC_ROLE_STATE;
  }
  return "?";
}

static std::optional<TensorGroup> groupOfRole(llvm::StringRef role) {
  return llvm::StringSwitch<std::optional<TensorGroup>>(role)
      .Case(DLC_ROLE_PARAM, TensorGroup::Param)
      .Case(DLC_ROLE_OPT_STATE, TensorGroup::OptState)
      .Case(DLC_ROLE_STATE, TensorGroup::State)
      .Default(std::nullopt);
}

static std::optional<Slot::Kind> kindOfRole(llvm::StringRef role) {
  return llvm::StringSwitch<std::optional<Slot::Kind>>(role)
      .Cases({DLC_ROLE_PARAM, DLC_ROLE_OPT_STATE, DLC_ROLE_STATE},
             Slot::Persistent)
      .Case(DLC_ROLE_INPUT, Slot::Input)
      .Case(DLC_ROLE_LABELS, Slot::Labels)
      .Case(DLC_ROLE_STEP, Slot::Step)
      .Case(DLC_ROLE_SEED, Slot::Seed)
      .Case(DLC_ROLE_LEARNING_RATE, Slot::LearningRate)
      .Case(DLC_ROLE_LOSS, Slot::Loss)
      .Case(DLC_ROLE_CORRECT, Slot::Correct)
      .Case(DLC_ROLE_LOGITS, Slot::Logits)
      .Case(DLC_ROLE_FEATURE, Slot::Feature)
      .Case(DLC_ROLE_GRADIENT, Slot::Gradient)
      .Default(std::nullopt);
}

static llvm::StringRef str(const char *s) { return s ? s : ""; }

static llvm::SmallVector<int64_t, 4> shapeOf(const dlc_tensor_info &t) {
  return llvm::SmallVector<int64_t, 4>(t.shape, t.shape + std::max(0, t.rank));
}

namespace {
/// Formats "train_step argument 3 ('conv2d/kernel')" for messages.
struct Where {
  const dlc_function_info &fn;
  bool result;
  int index;
  const dlc_tensor_info &t;
  std::string str() const {
    return llvm::formatv("{0} {1} {2} ('{3}')", ::str(fn.name),
                         result ? "result" : "argument", index, ::str(t.name));
  }
};
} // namespace

static llvm::Error tableError(const Where &where, const llvm::Twine &what) {
  return llvm::createStringError("model table: " + where.str() + ": " + what);
}

/// Checks one entry's dtype/rank/shape and its role against `expected`
/// dtype and rank (-2: any rank >= 0).
static llvm::Error checkEntry(const Where &w, std::optional<DType> dtype,
                              int32_t rank) {
  const dlc_tensor_info &t = w.t;
  if (!dtypeFromABI(t.dtype))
    return tableError(w, "unknown dtype code " + llvm::Twine(t.dtype));
  if (t.rank < -1 || t.rank > DLC_MAX_RANK)
    return tableError(w, "rank " + llvm::Twine(t.rank) + " is outside -1..4");
  for (int i = 0; i < t.rank; ++i)
    if (t.shape[i] <= 0)
      return tableError(w, "dimension " + llvm::Twine(i) + " is " +
                               llvm::Twine(t.shape[i]) +
                               " (static shapes only)");
  if (dtype && *dtypeFromABI(t.dtype) != *dtype)
    return tableError(w, "role '" + str(t.role) + "' must be " +
                             dtypeName(*dtype) + ", not " +
                             dtypeName(*dtypeFromABI(t.dtype)));
  if (rank == -2 ? t.rank < 0 : t.rank != rank)
    return tableError(
        w, "role '" + str(t.role) + "' must have rank " +
               (rank == -2 ? std::string(">= 0") : std::to_string(rank)) +
               ", not " + llvm::Twine(t.rank));
  return llvm::Error::success();
}

std::optional<unsigned>
CompiledModel::lookupTensor(llvm::StringRef tensorName) const {
  auto it = tensorIndex.find(tensorName);
  if (it == tensorIndex.end())
    return std::nullopt;
  return it->second;
}

llvm::Error CompiledModel::bind(const dlc_function_info &fn,
                                BoundFunction &bound) {
  bound.info = &fn;
  bool isTrain = str(fn.name) == "train_step";
  // Position of each argument within its group, to pair train results.
  std::vector<unsigned> groupArgs[3];
  unsigned groupResults[3] = {0, 0, 0};
  for (int r = 0; r < 2; ++r) {
    bool result = r == 1;
    int count = result ? fn.num_results : fn.num_args;
    const dlc_tensor_info *entries = result ? fn.results : fn.args;
    for (int i = 0; i < count; ++i) {
      const dlc_tensor_info &t = entries[i];
      Where w{fn, result, i, t};
      Slot::Kind kind = *kindOfRole(str(t.role));
      Slot slot{kind};
      bool inPlace = t.flags & DLC_TENSOR_IN_PLACE;
      if (t.flags & ~uint32_t(DLC_TENSOR_IN_PLACE | DLC_TENSOR_DEVICE_SCALAR))
        return tableError(w, "unknown flags " + llvm::Twine(t.flags));
      if ((t.flags & DLC_TENSOR_DEVICE_SCALAR) && t.rank != DLC_RANK_SCALAR)
        return tableError(w, "only a scalar can be passed in device memory");
      if (inPlace && (result || kind != Slot::Persistent || !isTrain))
        return tableError(w, "only train_step's persistent arguments are "
                             "updated in place");
      if (kind == Slot::Persistent) {
        TensorGroup group = *groupOfRole(str(t.role));
        unsigned g = static_cast<unsigned>(group);
        if (!result) {
          slot.tensor = *lookupTensor(str(t.name));
          if (isTrain && i > 0 && inPlace != bound.inPlace)
            return tableError(w, "train_step updates some persistent "
                                 "tensors in place and returns others");
          bound.inPlace = inPlace;
          groupArgs[g].push_back(slot.tensor);
        } else {
          if (!isTrain)
            return tableError(w, "only train_step returns persistent tensors");
          if (bound.inPlace)
            return tableError(w, "returns a tensor that train_step updates "
                                 "in place");
          if (groupResults[g] >= groupArgs[g].size())
            return tableError(w, "more '" + str(t.role) +
                                     "' results than arguments");
          slot.tensor = groupArgs[g][groupResults[g]++];
          const TensorSpec &spec = tensors[slot.tensor];
          if (*dtypeFromABI(t.dtype) != spec.dtype || shapeOf(t) != spec.shape)
            return tableError(w, "updates '" + spec.name + "' (" +
                                     dtypeName(spec.dtype) + " " +
                                     formatShape(spec.shape) + ") but is " +
                                     dtypeName(*dtypeFromABI(t.dtype)) + " " +
                                     formatShape(shapeOf(t)));
        }
      } else if (kind == Slot::Gradient) {
        std::optional<unsigned> param = lookupTensor(str(t.name));
        if (!result || str(fn.name) != "gradients")
          return tableError(w, "only the results of 'gradients' are "
                               "gradients");
        if (!param || tensors[*param].group != TensorGroup::Param)
          return tableError(w, "is the gradient of '" + str(t.name) +
                                   "', which is not a parameter");
        const TensorSpec &spec = tensors[*param];
        if (shapeOf(t) != spec.shape)
          return tableError(w, "has shape " + formatShape(shapeOf(t)) +
                                   " but '" + spec.name + "' is " +
                                   formatShape(spec.shape));
        slot.tensor = *param;
      } else if (kind == Slot::Input) {
        if (shapeOf(t) != llvm::ArrayRef<int64_t>(declaredInputShape))
          return tableError(w, "input shape " + formatShape(shapeOf(t)) +
                                   " differs from " +
                                   formatShape(declaredInputShape) +
                                   " in another entry point");
      } else if (kind == Slot::Feature) {
        if (!result || str(fn.name) != "features")
          return tableError(w, "only features returns feature maps");
        slot.tensor = featureMaps.size();
        featureMaps.push_back({str(t.name).str(), shapeOf(t)});
      }
      if (kind == Slot::Labels || kind == Slot::Logits ||
          kind == Slot::Feature) {
        if (t.shape[0] != getBatchSize())
          return tableError(w, "batch dimension " + llvm::Twine(t.shape[0]) +
                                   " differs from the input's " +
                                   llvm::Twine(getBatchSize()));
      }
      (result ? bound.results : bound.args).push_back(slot);
    }
  }
  if (isTrain && !bound.inPlace)
    for (unsigned g = 0; g < 3; ++g)
      if (groupResults[g] != groupArgs[g].size())
        return llvm::createStringError(llvm::formatv(
            "model table: train_step has {0} '{1}' arguments but {2} results",
            groupArgs[g].size(), groupName(TensorGroup(g)), groupResults[g]));
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<CompiledModel>>
CompiledModel::create(const dlc_model_info &info) {
  // The version comes first: nothing else of a table of another version
  // can be trusted to mean what this runtime reads.
  if (info.abi_version != DLC_MODEL_ABI_VERSION)
    return llvm::createStringError(llvm::formatv(
        "the model was compiled for model ABI version {0}, but this runtime "
        "reads version {1}: compile it again with the dlc that built this "
        "runtime",
        info.abi_version, DLC_MODEL_ABI_VERSION));
  if (info.device < 0 || info.device >= DLC_NUM_DEVICES)
    return llvm::createStringError(
        "model table: unknown device code %d (0 = cpu, 1 = cuda)", info.device);
  std::unique_ptr<CompiledModel> model(new CompiledModel);
  model->device = static_cast<dlc_device>(info.device);
  model->name = str(info.name).str();
  if (model->name.empty())
    model->name = "model";
  model->settingsJson = str(info.settings_json).str();
  auto settings = parseModelSettings(model->settingsJson);
  if (!settings)
    return settings.takeError();
  model->settings = std::move(*settings);

  // Pass 1: check every entry, collect the persistent tensors and the
  // input shape.
  const dlc_function_info *byName[5] = {nullptr, nullptr, nullptr, nullptr,
                                        nullptr};
  for (int f = 0; f < info.num_functions; ++f) {
    const dlc_function_info &fn = info.functions[f];
    int which = llvm::StringSwitch<int>(str(fn.name))
                    .Case("train_step", 0)
                    .Case("eval_step", 1)
                    .Case("predict", 2)
                    .Case("features", 3)
                    .Case("gradients", 4)
                    .Default(-1);
    if (which < 0)
      continue; // Other entry points are the compiler's business.
    if (byName[which])
      return llvm::createStringError("model table: two functions named '%s'",
                                     fn.name);
    if (!fn.packed)
      return llvm::createStringError("model table: '%s' has no entry point",
                                     fn.name);
    byName[which] = &fn;
  }
  if (!byName[0] && !byName[1] && !byName[2])
    return llvm::createStringError(
        "model table: no train_step, eval_step or predict function");

  for (const dlc_function_info *fn : byName) {
    if (!fn)
      continue;
    llvm::StringSet<> seen;
    for (int r = 0; r < 2; ++r) {
      bool result = r == 1;
      int count = result ? fn->num_results : fn->num_args;
      const dlc_tensor_info *entries = result ? fn->results : fn->args;
      for (int i = 0; i < count; ++i) {
        const dlc_tensor_info &t = entries[i];
        Where w{*fn, result, i, t};
        std::optional<Slot::Kind> kind = kindOfRole(str(t.role));
        if (!kind)
          return tableError(w, "unknown role '" + str(t.role) + "'");
        llvm::Error err = llvm::Error::success();
        switch (*kind) {
        case Slot::Persistent:
          err = checkEntry(w, std::nullopt, -2);
          break;
        case Slot::Input:
          // Images [B, H, W, C], [B, H, W] or flat [B, N].
          err = checkEntry(w, DType::F32,
                           t.rank == 2 || t.rank == 3 ? t.rank : 4);
          break;
        case Slot::Labels:
          err = checkEntry(w, DType::I32, 1);
          break;
        case Slot::Step:
        case Slot::Seed:
          err = checkEntry(w, DType::I64, -1);
          break;
        case Slot::LearningRate:
          err = checkEntry(w, DType::F32, -1);
          break;
        case Slot::Loss:
          err = checkEntry(w, DType::F32, 0);
          break;
        case Slot::Correct:
          err = checkEntry(w, DType::I32, 0);
          break;
        case Slot::Logits:
          err = checkEntry(w, DType::F32, 2);
          break;
        case Slot::Feature:
          err = checkEntry(w, DType::F32, 4);
          break;
        case Slot::Gradient:
          err = checkEntry(w, DType::F32, -2);
          break;
        }
        if (err)
          return std::move(err);
        if (*kind == Slot::Input && model->inputShape.empty()) {
          model->declaredInputShape = shapeOf(t);
          llvm::SmallVector<int64_t, 4> s = shapeOf(t);
          if (s.size() == 2)
            s = {s[0], 1, s[1], 1};
          else if (s.size() == 3)
            s.push_back(1);
          model->inputShape = s;
        }
        if (*kind == Slot::Logits)
          model->numClasses = t.shape[1];
        if (*kind != Slot::Persistent || result)
          continue;
        if (!seen.insert(str(t.name)).second)
          return tableError(w, "the name is used twice");
        if (str(t.name).empty())
          return tableError(w, "a persistent tensor needs a name");
        TensorGroup group = *groupOfRole(str(t.role));
        auto it = llvm::find_if(model->tensors, [&](const TensorSpec &s) {
          return s.name == str(t.name);
        });
        if (it != model->tensors.end()) {
          if (it->group != group || it->dtype != *dtypeFromABI(t.dtype) ||
              it->shape != shapeOf(t))
            return tableError(w, "differs from the tensor of that name in "
                                 "another entry point");
          continue;
        }
        TensorSpec spec{str(t.name).str(), group, str(t.init).str(),
                        *dtypeFromABI(t.dtype), shapeOf(t)};
        // Defaults that match Keras where the compiler left init empty.
        if (group == TensorGroup::OptState)
          spec.init = "zeros";
        else if (spec.init.empty() && group == TensorGroup::Param)
          spec.init = spec.shape.size() >= 2 ? "glorot_uniform" : "zeros";
        else if (spec.init.empty())
          spec.init = llvm::StringRef(spec.name).ends_with("moving_variance")
                          ? "ones"
                          : "zeros";
        if (!llvm::is_contained(knownInitializers(), spec.init))
          return tableError(w, "unknown initializer '" + spec.init + "'");
        auto config = model->settings.initConfigs.find(spec.name);
        if (config != model->settings.initConfigs.end())
          spec.initConfig = config->second;
        auto value = model->settings.initialValues.find(spec.name);
        if (value != model->settings.initialValues.end() &&
            group != TensorGroup::OptState) {
          int64_t n = 1;
          for (int64_t d : spec.shape)
            n *= d;
          if (int64_t(value->second.size()) != n || spec.dtype != DType::F32)
            return tableError(w, "its initial value has " +
                                     llvm::Twine(value->second.size()) +
                                     " values for " + llvm::Twine(n) +
                                     " f32 elements");
          spec.initialValue = value->second;
        }
        model->tensors.push_back(std::move(spec));
      }
    }
  }
  if (model->inputShape.empty())
    return llvm::createStringError("model table: no function takes an input");

  // Group order: params, opt_state, state (checkpoints and `info` list
  // them that way).
  std::vector<TensorSpec> ordered;
  for (TensorGroup group :
       {TensorGroup::Param, TensorGroup::OptState, TensorGroup::State})
    for (TensorSpec &spec : model->tensors)
      if (spec.group == group)
        ordered.push_back(std::move(spec));
  model->tensors = std::move(ordered);
  for (unsigned i = 0; i < model->tensors.size(); ++i)
    model->tensorIndex[model->tensors[i].name] = i;

  // Pass 2: bind.
  BoundFunction *bound[5] = {&model->trainStep, &model->evalStep,
                             &model->predict, &model->features,
                             &model->gradients};
  for (int i = 0; i < 5; ++i)
    if (byName[i])
      if (llvm::Error err = model->bind(*byName[i], *bound[i]))
        return std::move(err);

  // Shape expectations of each signature.
  auto count = [](const BoundFunction &f, Slot::Kind kind, bool results) {
    return llvm::count_if(results ? f.results : f.args,
                          [&](const Slot &s) { return s.kind == kind; });
  };
  struct Need {
    const BoundFunction &fn;
    const char *name;
    std::vector<std::pair<Slot::Kind, bool>> required;
  } needs[] = {
      {model->trainStep,
       "train_step",
       {{Slot::Input, false},
        {Slot::Labels, false},
        {Slot::Step, false},
        {Slot::Seed, false},
        {Slot::LearningRate, false},
        {Slot::Loss, true},
        {Slot::Correct, true}}},
      {model->evalStep,
       "eval_step",
       {{Slot::Input, false},
        {Slot::Labels, false},
        {Slot::Loss, true},
        {Slot::Correct, true}}},
      {model->predict, "predict", {{Slot::Input, false}, {Slot::Logits, true}}},
      {model->features, "features", {{Slot::Input, false}}},
      {model->gradients,
       "gradients",
       {{Slot::Input, false},
        {Slot::Labels, false},
        {Slot::Step, false},
        {Slot::Seed, false}}},
  };
  for (const Need &need : needs) {
    if (!need.fn)
      continue;
    for (auto [kind, results] : need.required)
      if (count(need.fn, kind, results) != 1)
        return llvm::createStringError(
            "model table: %s must have exactly one %s of each role it "
            "needs (input, labels, step, seed, learning_rate / loss, "
            "correct, logits)",
            need.name, results ? "result" : "argument");
  }
  return model;
}

std::string CompiledModel::describe() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::formatv("model '{0}': batch {1}, input {2}", name, inputShape[0],
                      isFlatInput()
                          ? std::to_string(inputShape[2])
                          : llvm::formatv("{0}x{1}x{2}", inputShape[1],
                                          inputShape[2], inputShape[3])
                                .str());
  if (numClasses)
    os << ", " << numClasses << " classes";
  os << "\n";
  if (!settings.optimizer.empty()) {
    os << "optimizer: " << settings.optimizer;
    if (settings.learningRate)
      os << " (learning rate " << formatNumber(*settings.learningRate) << ")";
    os << "\n";
  }
  if (!settings.loss.empty())
    os << "loss: " << settings.loss << "\n";
  os << "entry points:";
  for (const BoundFunction *f :
       {&trainStep, &evalStep, &predict, &features, &gradients})
    if (*f)
      os << " " << f->info->name;
  os << "\n";
  int64_t counts[3] = {0, 0, 0};
  for (const TensorSpec &t : tensors) {
    int64_t n = 1;
    for (int64_t d : t.shape)
      n *= d;
    counts[static_cast<int>(t.group)] += n;
  }
  os << llvm::formatv("tensors: {0} parameters, {1} optimizer state, {2} "
                      "other state values\n",
                      counts[0], counts[1], counts[2]);
  for (const TensorSpec &t : tensors)
    os << llvm::formatv("  {0,-9} {1,-32} {2} {3,-16} {4}\n",
                        groupName(t.group), t.name, dtypeName(t.dtype),
                        formatShape(t.shape),
                        t.initialValue.empty()
                            ? t.init
                            : "initial value (--reinitialize: " + t.init + ")");
  if (!settingsJson.empty()) {
    // The initial values (base64 weights) would drown the settings.
    std::string shown = settingsJson;
    if (shown.find("\"initial_values\"") != std::string::npos)
      if (llvm::Expected<llvm::json::Value> json = llvm::json::parse(shown)) {
        if (llvm::json::Object *root = json->getAsObject()) {
          root->erase("initial_values");
          shown = llvm::formatv("{0}", *json).str();
        }
      } else {
        llvm::consumeError(json.takeError());
      }
    os << "settings: " << shown << "\n";
  }
  return s;
}
