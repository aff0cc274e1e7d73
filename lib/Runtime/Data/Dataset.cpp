//===- Dataset.cpp - Resolving --data; checking data against the model ----===//
//
// Named datasets are looked up in $DLC_DATASETS (a colon-separated list of
// directories) and then in /usr/share/datasets, where Debian's
// dataset-fashion-mnist package installs Fashion-MNIST.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Data/Dataset.h"
#include "dlc/Runtime/Data/Cifar.h"
#include "dlc/Runtime/Data/Idx.h"
#include "dlc/Runtime/Data/Synthetic.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <cstdlib>

using namespace dlc::runtime;

/// The directories a dataset name may live in, in search order.
static std::vector<std::string> candidateDirectories(llvm::StringRef name) {
  std::vector<std::string> dirs;
  if (const char *env = std::getenv("DLC_DATASETS")) {
    llvm::SmallVector<llvm::StringRef> roots;
    llvm::StringRef(env).split(roots, ':', -1, false);
    for (llvm::StringRef root : roots)
      dirs.push_back((root + "/" + name).str());
  }
  dirs.push_back(("/usr/share/datasets/" + name).str());
  return dirs;
}

static llvm::Expected<DataSplits> loadNamed(llvm::StringRef name, bool cifar) {
  std::vector<std::string> dirs = candidateDirectories(name);
  for (const std::string &dir : dirs) {
    if (!llvm::sys::fs::is_directory(dir))
      continue;
    auto splits = cifar ? readCifarDirectory(dir) : readIdxDirectory(dir);
    if (splits)
      splits->description = (name + " (" + dir + ")").str();
    return splits;
  }
  std::string hint;
  if (name == "fashion-mnist")
    hint = " Install it with 'apt install dataset-fashion-mnist', or";
  else
    hint = " Download it and";
  return llvm::createStringError(
      "dataset '%s' not found (looked in %s).%s pass its directory with "
      "--data DIR or set DLC_DATASETS to a directory that contains '%s'.",
      name.str().c_str(), llvm::join(dirs, ", ").c_str(), hint.c_str(),
      name.str().c_str());
}

static llvm::Expected<DataSplits> loadDirectory(llvm::StringRef dir) {
  if (isIdxDirectory(dir))
    return readIdxDirectory(dir);
  if (isCifarDirectory(dir))
    return readCifarDirectory(dir);
  return llvm::createStringError(
      "'%s' holds neither the IDX files of MNIST/Fashion-MNIST "
      "(train-images-idx3-ubyte[.gz], ...) nor CIFAR-10 binary batches "
      "(data_batch_1.bin, ..., test_batch.bin)",
      dir.str().c_str());
}

static llvm::Expected<DataSplits> loadUnchecked(llvm::StringRef spec,
                                                const DataRequest &request) {
  auto [kind, rest] = spec.split(':');
  if (kind == "synthetic") {
    SyntheticOptions defaults;
    if (request.height > 0) {
      defaults.height = request.height;
      defaults.width = request.width;
      defaults.channels = request.channels;
    }
    if (request.numClasses >= 2)
      defaults.numClasses = request.numClasses;
    defaults.seed = request.seed;
    auto options = parseSyntheticOptions(rest, defaults);
    if (!options)
      return options.takeError();
    return generateSynthetic(*options);
  }
  if (kind == "fashion-mnist" || kind == "mnist")
    return rest.empty() ? loadNamed(kind, /*cifar=*/false)
                        : readIdxDirectory(rest);
  if (kind == "cifar10" || kind == "cifar-10")
    return rest.empty() ? loadNamed("cifar10", /*cifar=*/true)
                        : readCifarDirectory(rest);
  if (kind == "idx" && !rest.empty())
    return readIdxDirectory(rest);
  if (llvm::sys::fs::is_directory(spec))
    return loadDirectory(spec);
  if (llvm::sys::fs::exists(spec))
    return llvm::createStringError(
        "--data '%s' is a file; pass the directory that holds the dataset's "
        "files",
        spec.str().c_str());
  return llvm::createStringError(
      "no dataset or directory '%s' (datasets: fashion-mnist, mnist, cifar10, "
      "synthetic[:train=N,test=N,shape=HxWxC,classes=N,noise=X,seed=N], or a "
      "directory with IDX or CIFAR-10 files)",
      spec.str().c_str());
}

llvm::Expected<DataSplits>
dlc::runtime::loadDataset(llvm::StringRef spec, const DataRequest &request) {
  auto splits = loadUnchecked(spec, request);
  if (!splits)
    return splits.takeError();
  if (llvm::Error err = checkDataset(splits->train, request))
    return std::move(err);
  if (llvm::Error err = checkDataset(splits->test, request))
    return std::move(err);
  return splits;
}

llvm::Error dlc::runtime::checkDataset(const Dataset &data,
                                       const DataRequest &request) {
  bool fits = request.flat ? data.imageSize() == request.width
                           : data.height == request.height &&
                                 data.width == request.width &&
                                 data.channels == request.channels;
  if (request.height > 0 && request.flat && !fits)
    return llvm::createStringError(llvm::formatv(
        "shape mismatch: the model takes flat inputs of {0} values but {1} "
        "has {2}x{3}x{4} images ({5} values); use data of that size or "
        "recompile the model for this data",
        request.width, data.source, data.height, data.width, data.channels,
        data.imageSize()));
  if (request.height > 0 && !fits)
    return llvm::createStringError(llvm::formatv(
        "shape mismatch: the model takes {0}x{1}x{2} images (HxWxC) but {3} "
        "has {4}x{5}x{6} images; use data of the model's input shape or "
        "recompile the model for this data",
        request.height, request.width, request.channels, data.source,
        data.height, data.width, data.channels));
  if (request.numClasses > 0)
    for (int64_t i = 0, e = data.size(); i < e; ++i)
      if (data.labels[i] < 0 || data.labels[i] >= request.numClasses)
        return llvm::createStringError(llvm::formatv(
            "label out of range: {0} has label {1} at index {2} but the "
            "model has {3} classes (labels 0..{4})",
            data.labelSource.empty() ? data.source : data.labelSource,
            data.labels[i], i, request.numClasses, request.numClasses - 1));
  return llvm::Error::success();
}
