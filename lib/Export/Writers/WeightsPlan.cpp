//===- WeightsPlan.cpp - Plans as JSON, tensor data, the PyTorch files ----===//
//
// See WeightsPlan.h. Uses LLVM's Support library only (it is linked into
// the runtime of compiled executables as well as into dlc).
//
//===----------------------------------------------------------------------===//

#include "dlc/Export/WeightsPlan.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace dlc::exporting;
namespace json = llvm::json;

std::string ExportError::format() const {
  if (loc.file.empty())
    return "error: " + message;
  return llvm::formatv("{0}:{1}:{2}: error: {3}", loc.file, loc.line,
                       loc.column, message)
      .str();
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

static json::Value toJson(const SourceLocation &loc) {
  return json::Array{loc.file, int64_t(loc.line), int64_t(loc.column)};
}

static json::Value toJson(const ExportError &error) {
  return json::Object{{"error", json::Object{{"loc", toJson(error.loc)},
                                             {"message", error.message}}}};
}

static json::Value toJson(const PlannedTensor &t) {
  json::Object o{{"to", t.destination},
                 {"shape", json::Array(t.shape)},
                 {"loc", toJson(t.loc)}};
  if (!t.source.empty())
    o["from"] = t.source;
  if (!t.constant.empty()) {
    json::Array values;
    for (float f : t.constant)
      values.push_back(double(f));
    o["constant"] = std::move(values);
  }
  if (!t.permutation.empty()) {
    o["view"] = json::Array(t.viewShape);
    o["perm"] = json::Array(t.permutation);
  }
  if (t.zeroCount)
    o["zero_count"] = true;
  return o;
}

static json::Array toJson(const std::vector<PlannedTensor> &tensors) {
  json::Array a;
  for (const PlannedTensor &t : tensors)
    a.push_back(toJson(t));
  return a;
}

json::Value dlc::exporting::toJson(const PlanOrError<KerasPlan> &plan) {
  if (auto *error = std::get_if<ExportError>(&plan))
    return ::toJson(*error);
  json::Array groups;
  for (const KerasGroup &g : std::get<KerasPlan>(plan).groups) {
    json::Object o{{"path", g.path}, {"datasets", ::toJson(g.datasets)}};
    if (g.nameAttribute)
      o["name"] = *g.nameAttribute;
    groups.push_back(std::move(o));
  }
  return json::Object{{"groups", std::move(groups)}};
}

json::Value dlc::exporting::toJson(const PlanOrError<TorchPlan> &plan) {
  if (auto *error = std::get_if<ExportError>(&plan))
    return ::toJson(*error);
  const TorchPlan &p = std::get<TorchPlan>(plan);
  return json::Object{
      {"tensors", ::toJson(p.tensors)}, {"model_name", p.modelName},
      {"source_name", p.sourceName},    {"input_doc", p.inputDoc},
      {"image_input", p.imageInput},    {"input_scale", p.inputScale},
      {"input_offset", p.inputOffset},  {"init_lines", p.initLines},
      {"forward_lines", p.forwardLines}};
}

// In the types' namespace, where json::ObjectMapper finds them.
namespace dlc::exporting {

bool fromJSON(const json::Value &v, SourceLocation &loc, json::Path path) {
  const json::Array *a = v.getAsArray();
  if (!a || a->size() != 3) {
    path.report("expected [file, line, column]");
    return false;
  }
  std::optional<llvm::StringRef> file = (*a)[0].getAsString();
  std::optional<int64_t> line = (*a)[1].getAsInteger(),
                         column = (*a)[2].getAsInteger();
  if (!file || !line || !column) {
    path.report("expected [file, line, column]");
    return false;
  }
  loc = {file->str(), unsigned(*line), unsigned(*column)};
  return true;
}

bool fromJSON(const json::Value &v, PlannedTensor &t, json::Path path) {
  json::ObjectMapper o(v, path);
  std::vector<double> constant;
  bool ok = o && o.map("to", t.destination) && o.map("shape", t.shape) &&
            o.map("loc", t.loc) && o.mapOptional("from", t.source) &&
            o.mapOptional("constant", constant) &&
            o.mapOptional("view", t.viewShape) &&
            o.mapOptional("perm", t.permutation) &&
            o.mapOptional("zero_count", t.zeroCount);
  t.constant.assign(constant.begin(), constant.end());
  return ok;
}

bool fromJSON(const json::Value &v, KerasGroup &g, json::Path path) {
  json::ObjectMapper o(v, path);
  return o && o.map("path", g.path) && o.map("datasets", g.datasets) &&
         o.mapOptional("name", g.nameAttribute);
}

bool fromJSON(const json::Value &v, KerasPlan &p, json::Path path) {
  json::ObjectMapper o(v, path);
  return o && o.map("groups", p.groups);
}

bool fromJSON(const json::Value &v, TorchPlan &p, json::Path path) {
  json::ObjectMapper o(v, path);
  return o && o.map("tensors", p.tensors) && o.map("model_name", p.modelName) &&
         o.map("source_name", p.sourceName) && o.map("input_doc", p.inputDoc) &&
         o.map("image_input", p.imageInput) &&
         o.map("input_scale", p.inputScale) &&
         o.map("input_offset", p.inputOffset) &&
         o.map("init_lines", p.initLines) &&
         o.map("forward_lines", p.forwardLines);
}

} // namespace dlc::exporting

namespace {

template <typename Plan>
llvm::Expected<PlanOrError<Plan>> planFromJson(llvm::StringRef text) {
  llvm::Expected<json::Value> value = json::parse(text);
  if (!value)
    return value.takeError();
  if (const json::Object *o = value->getAsObject())
    if (const json::Value *error = o->get("error")) {
      ExportError e;
      json::Path::Root root("error");
      json::ObjectMapper m(*error, root);
      if (!m || !m.map("loc", e.loc) || !m.map("message", e.message))
        return root.getError();
      return PlanOrError<Plan>(std::move(e));
    }
  Plan plan;
  json::Path::Root root("plan");
  if (!fromJSON(*value, plan, root))
    return root.getError();
  return PlanOrError<Plan>(std::move(plan));
}

} // namespace

llvm::Expected<PlanOrError<KerasPlan>>
dlc::exporting::kerasPlanFromJson(llvm::StringRef json) {
  return planFromJson<KerasPlan>(json);
}

llvm::Expected<PlanOrError<TorchPlan>>
dlc::exporting::torchPlanFromJson(llvm::StringRef json) {
  return planFromJson<TorchPlan>(json);
}

//===----------------------------------------------------------------------===//
// Tensor data
//===----------------------------------------------------------------------===//

std::vector<float> dlc::exporting::transposed(llvm::ArrayRef<float> data,
                                              llvm::ArrayRef<int64_t> shape,
                                              llvm::ArrayRef<int64_t> perm) {
  int64_t rank = shape.size();
  std::vector<int64_t> strides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  std::vector<float> out(data.size());
  std::vector<int64_t> index(rank, 0);
  for (size_t k = 0; k < data.size(); ++k) {
    int64_t src = 0;
    for (int64_t i = 0; i < rank; ++i)
      src += index[i] * strides[perm[i]];
    out[k] = data[src];
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++index[i] < shape[perm[i]])
        break;
      index[i] = 0;
    }
  }
  return out;
}

static int64_t elementsOf(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::optional<ExportError>
dlc::exporting::tensorData(const PlannedTensor &tensor,
                           const WeightData &weights, llvm::StringRef format,
                           std::vector<float> &data) {
  auto error = [&](const llvm::Twine &message) {
    return ExportError{tensor.loc, (format + ": " + message).str()};
  };
  int64_t n = elementsOf(tensor.shape);
  if (tensor.source.empty()) {
    data = tensor.constant;
  } else {
    auto it = weights.find(tensor.source);
    if (it == weights.end())
      return error("no weights for '" + tensor.source +
                   "' (give --checkpoint)");
    data = it->second;
  }
  if (int64_t(data.size()) != n) {
    if (tensor.source.empty())
      return error("a constant of " + llvm::Twine(data.size()) +
                   " values for a tensor of " + llvm::Twine(n));
    return error("the checkpoint's '" + tensor.source + "' has " +
                 llvm::Twine(data.size()) + " values, the model " +
                 llvm::Twine(n));
  }
  if (!tensor.permutation.empty()) {
    if (tensor.viewShape.size() != tensor.permutation.size() ||
        elementsOf(tensor.viewShape) != n)
      return error("internal: a malformed plan for '" + tensor.destination +
                   "'");
    data = transposed(data, tensor.viewShape, tensor.permutation);
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// PyTorch
//===----------------------------------------------------------------------===//

std::string dlc::exporting::torchModelPy(const TorchPlan &plan,
                                         llvm::StringRef safetensorsName) {
  std::string py;
  llvm::raw_string_ostream os(py);
  os << "\"\"\"" << plan.modelName << ": the dlc model " << plan.sourceName
     << " as a PyTorch module.\n\n"
     << "Generated by `dlc export --format torch`; the trained weights are in "
     << safetensorsName << ":\n\n"
     << "    from safetensors.torch import load_file\n"
     << "    model = Model()\n"
     << "    model.load_state_dict(load_file(\"" << safetensorsName << "\"))\n"
     << "    model.eval()\n"
     << "    probabilities_or_logits = model(normalize(images))\n\n"
     << "The input is " << plan.inputDoc
     << ", float32, normalized as dlc's runtime\n"
     << "normalizes raw pixel values (see normalize below).\n\"\"\"\n\n"
     << "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n";
  os << "\n# What dlc does to raw pixel values (0..255) before the model, per "
        "channel.\n"
     << "INPUT_SCALE = " << plan.inputScale << "\n"
     << "INPUT_OFFSET = " << plan.inputOffset << "\n\n\n"
     << "def normalize(raw):\n"
     << "    \"\"\"raw pixel values (" << plan.inputDoc
     << ") -> the model's input.\"\"\"\n"
     << "    shape = (1, -1" << (plan.imageInput ? ", 1, 1" : "") << ")\n"
     << "    scale = torch.tensor(INPUT_SCALE, dtype=raw.dtype).view(shape)\n"
     << "    offset = torch.tensor(INPUT_OFFSET, dtype=raw.dtype).view(shape)\n"
     << "    return raw * scale + offset\n\n\n"
     << "class Model(nn.Module):\n"
     << "    def __init__(self):\n"
     << "        super().__init__()\n"
     << (plan.initLines.empty() ? "        pass\n" : plan.initLines)
     << "\n    def forward(self, x):\n"
     << plan.forwardLines;
  return py;
}

/// The safetensors bytes of `tensors` with their `data` (same order).
static std::string safetensors(llvm::ArrayRef<PlannedTensor> tensors,
                               llvm::ArrayRef<std::vector<float>> data) {
  std::string header, bytes;
  {
    llvm::raw_string_ostream os(header);
    json::OStream out(os);
    out.objectBegin();
    out.attributeObject("__metadata__", [&] { out.attribute("format", "pt"); });
    for (size_t i = 0; i < tensors.size(); ++i) {
      const PlannedTensor &t = tensors[i];
      const std::vector<float> &values = data[i];
      size_t begin = bytes.size();
      if (t.zeroCount) {
        int64_t zero = 0;
        bytes.append(reinterpret_cast<const char *>(&zero), sizeof(zero));
      } else {
        bytes.append(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(float));
      }
      out.attributeObject(t.destination, [&] {
        out.attribute("dtype", t.zeroCount ? "I64" : "F32");
        out.attributeArray("shape", [&] {
          for (int64_t d : t.shape)
            out.value(d);
        });
        out.attributeArray("data_offsets", [&] {
          out.value(int64_t(begin));
          out.value(int64_t(bytes.size()));
        });
      });
    }
    out.objectEnd();
  }
  // The data starts 8-byte aligned.
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string file(8, '\0');
  uint64_t size = header.size();
  for (int i = 0; i < 8; ++i)
    file[i] = char((size >> (8 * i)) & 0xff);
  return file + header + bytes;
}

/// Writes `path` through a temporary file renamed over it; the message of
/// a failure.
static std::optional<std::string> writeAtomically(llvm::StringRef path,
                                                  llvm::StringRef contents) {
  std::string tmp =
      (path + ".tmp." + llvm::Twine(llvm::sys::Process::getProcessId())).str();
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(tmp, ec);
    if (ec)
      return "cannot write '" + path.str() + "': " + ec.message();
    os << contents;
    os.close();
    if (os.has_error()) {
      std::string message =
          "cannot write '" + path.str() + "': " + os.error().message();
      os.clear_error();
      llvm::sys::fs::remove(tmp);
      return message;
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    llvm::sys::fs::remove(tmp);
    return "cannot write '" + path.str() + "': " + ec.message();
  }
  return std::nullopt;
}

std::optional<ExportError> dlc::exporting::writeTorchWeights(
    const TorchPlan &plan, const WeightData &weights, llvm::StringRef directory,
    llvm::StringRef safetensorsName) {
  const char *format = "PyTorch export";
  std::vector<std::vector<float>> data(plan.tensors.size());
  for (auto [t, values] : llvm::zip(plan.tensors, data))
    if (!t.zeroCount)
      if (std::optional<ExportError> e = tensorData(t, weights, format, values))
        return e;
  std::string bytes = safetensors(plan.tensors, data);
  std::string py = torchModelPy(plan, safetensorsName);

  // Made only now, so that a failed export leaves no empty directory.
  bool existed = llvm::sys::fs::is_directory(directory);
  auto fail = [&](const std::string &message) {
    if (!existed)
      llvm::sys::fs::remove_directories(directory);
    return ExportError{{}, std::string(format) + ": " + message};
  };
  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    return fail("cannot create the directory '" + directory.str() +
                "': " + ec.message());
  llvm::SmallString<256> weightsPath(directory), pyPath(directory);
  llvm::sys::path::append(weightsPath, safetensorsName);
  llvm::sys::path::append(pyPath, "model.py");
  if (std::optional<std::string> e = writeAtomically(weightsPath, bytes))
    return fail(*e);
  if (std::optional<std::string> e = writeAtomically(pyPath, py)) {
    llvm::sys::fs::remove(weightsPath);
    return fail(*e);
  }
  return std::nullopt;
}
