//===- Export.cpp - `EXE export`: weights for Keras 3 and PyTorch ---------===//
//
// The executable's own `dlc export --format keras|torch`: `dlc compile`
// embedded the plans of WeightsPlan.h in the model's settings JSON
// (`export_keras`, `export_torch`), so a checkpoint is all this needs; the
// writers are the ones `dlc export` runs, and the files are the same bytes.
// The checkpoint is checked as `predict` checks it (a checkpoint of another
// model is refused). The plans do not depend on the target: a CUDA
// executable exports the same way, without a GPU.
//
//===----------------------------------------------------------------------===//

#include "Export.h"

#include "dlc/Export/WeightsPlan.h"
#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/CheckpointMetadata.h"
#include "dlc/Runtime/Support.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <type_traits>
#include <variant>

using namespace dlc::runtime;
namespace exporting = dlc::exporting;

namespace {

/// The plan JSON `key` of the settings; an error when the executable has
/// none.
llvm::Expected<std::string> planText(const CompiledModel &model,
                                     llvm::StringRef key) {
  llvm::Expected<llvm::json::Value> settings =
      llvm::json::parse(model.getSettingsJson());
  if (!settings)
    return settings.takeError();
  const llvm::json::Object *object = settings->getAsObject();
  std::optional<llvm::StringRef> text =
      object ? object->getString(key) : std::nullopt;
  if (!text)
    return llvm::createStringError(
        "this executable records no export plan (it was not linked by `dlc "
        "compile`, or by an older dlc): run `dlc export MODEL` instead");
  return text->str();
}

/// The f32 tensors of a checkpoint of `model`, checked as predict checks it.
llvm::Expected<exporting::WeightData> readWeights(llvm::StringRef path,
                                                  const CompiledModel &model) {
  auto file = SafeTensorsFile::read(path);
  if (!file)
    return file.takeError();
  if (llvm::Error e =
          checkCheckpoint(*file, path, model, CheckpointUse::Inference))
    return std::move(e);
  auto info = readCheckpointInfo(file->getMetadata(), path, model,
                                 CheckpointUse::Inference);
  if (!info)
    return info.takeError();
  exporting::WeightData weights;
  for (const SafeTensorsFile::Entry &entry : file->getEntries()) {
    if (entry.dtype != DType::F32)
      continue;
    std::vector<float> &values = weights[entry.name];
    values.resize(entry.data.size() / sizeof(float));
    std::memcpy(values.data(), entry.data.data(), entry.data.size());
  }
  return weights;
}

} // namespace

int dlc::runtime::runExport(llvm::StringRef program, const CompiledModel &model,
                            const ExportRequest &request,
                            llvm::raw_ostream &out, llvm::raw_ostream &err) {
  auto fail = [&](const llvm::Twine &message) {
    err << "error: " << message << "\n";
    return 1;
  };
  auto failWith = [&](llvm::Error e) { return fail(toString(std::move(e))); };
  std::string command = (program + " export").str();
  bool keras = request.format == "keras";
  // Checked before the checkpoint is read: nothing is written on an error.
  llvm::SmallString<256> torchDir;
  std::string torchFile = "model.safetensors";
  llvm::StringRef output = request.output;
  if (keras) {
    // Keras 3's load_weights refuses other names.
    if (!output.ends_with(".weights.h5"))
      return fail("--format keras writes Keras 3 weights: -o must end in "
                  ".weights.h5, got '" +
                  output + "'");
    llvm::StringRef parent = llvm::sys::path::parent_path(output);
    if (!parent.empty() && !isDirectory(parent))
      return fail("cannot write '" + output + "': no directory '" + parent +
                  "'");
    if (isDirectory(output))
      return fail("cannot write '" + output + "': it is a directory");
  } else if (output.ends_with(".safetensors")) {
    // -o FILE.safetensors gets model.py beside it.
    torchDir = llvm::sys::path::parent_path(output);
    if (torchDir.empty())
      torchDir = ".";
    torchFile = llvm::sys::path::filename(output).str();
    if (!isDirectory(torchDir))
      return fail("cannot write '" + output + "': no directory '" + torchDir +
                  "'");
  } else {
    // -o DIR, made if needed, gets model.safetensors and model.py; files
    // of another export there are not overwritten.
    torchDir = output;
    if (pathExists(torchDir) && !isDirectory(torchDir))
      return fail("--format torch -o '" + output +
                  "': not a directory (give a directory or a .safetensors "
                  "file)");
    std::error_code ec;
    if (isDirectory(torchDir) &&
        llvm::sys::fs::directory_iterator(torchDir, ec) !=
            llvm::sys::fs::directory_iterator())
      return fail("--format torch -o '" + output +
                  "': the directory is not empty (give a new or empty one, "
                  "or -o DIR/NAME.safetensors)");
  }

  llvm::Expected<std::string> text =
      planText(model, keras ? "export_keras" : "export_torch");
  if (!text)
    return failWith(text.takeError());
  auto bad = [&](llvm::Error e) {
    return fail(command + ": the executable's export plan is malformed: " +
                toString(std::move(e)));
  };
  // The plan's own error (a layer the format cannot express) first, as
  // `dlc export` reports it whatever the checkpoint.
  std::optional<exporting::ExportError> error;
  auto write = [&](auto plan, auto writer) -> int {
    if (!plan)
      return bad(plan.takeError());
    using Plan = std::variant_alternative_t<0, std::decay_t<decltype(*plan)>>;
    if (auto *e = std::get_if<exporting::ExportError>(&*plan)) {
      error = *e;
      return 1;
    }
    auto weights = readWeights(request.checkpoint, model);
    if (!weights)
      return failWith(weights.takeError());
    error = writer(std::get<Plan>(*plan), *weights);
    return error ? 1 : 0;
  };
  int status =
      keras
          ? write(exporting::kerasPlanFromJson(*text),
                  [&](const exporting::KerasPlan &plan,
                      const exporting::WeightData &weights) {
                    return exporting::writeKerasWeights(plan, weights, output);
                  })
          : write(exporting::torchPlanFromJson(*text),
                  [&](const exporting::TorchPlan &plan,
                      const exporting::WeightData &weights) {
                    return exporting::writeTorchWeights(plan, weights, torchDir,
                                                        torchFile);
                  });
  if (status && !error)
    return status;
  if (error) {
    err << error->format() << "\n";
    return 1;
  }
  if (keras) {
    out << "Wrote " << output << " (Keras 3: model.load_weights)\n";
  } else {
    llvm::SmallString<256> py(torchDir);
    llvm::sys::path::append(py, "model.py");
    llvm::SmallString<256> st(torchDir);
    llvm::sys::path::append(st, torchFile);
    out << "Wrote " << st << " and " << py
        << " (PyTorch: model.load_state_dict)\n";
  }
  return 0;
}
