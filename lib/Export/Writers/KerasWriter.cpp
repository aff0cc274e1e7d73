//===- KerasWriter.cpp - A Keras 3 .weights.h5 from its plan --------------===//
//
// The HDF5 file of WeightsPlan.h's KerasPlan, with the HDF5 C library.
// Objects are written without modification times, so that the same plan and
// checkpoint give the same bytes (`dlc export` and `EXE export` alike).
//
//===----------------------------------------------------------------------===//

#include "dlc/Export/WeightsPlan.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Process.h"

#include <hdf5.h>

using namespace dlc::exporting;

namespace {

/// The HDF5 handles of one file, closed in reverse order.
class H5Writer {
public:
  explicit H5Writer(hid_t file) : file(file) {
    groupProps = keep(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
    datasetProps = keep(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    ok = groupProps >= 0 && datasetProps >= 0 &&
         H5Pset_obj_track_times(groupProps, false) >= 0 &&
         H5Pset_obj_track_times(datasetProps, false) >= 0;
  }
  ~H5Writer() {
    for (auto it = handles.rbegin(); it != handles.rend(); ++it)
      it->second(it->first);
    if (file >= 0)
      H5Fclose(file);
  }
  bool isOpen() const { return file >= 0 && ok; }
  hid_t group(llvm::StringRef path) {
    return keep(H5Gcreate2(file, path.str().c_str(), H5P_DEFAULT, groupProps,
                           H5P_DEFAULT),
                H5Gclose);
  }
  bool stringAttribute(hid_t object, llvm::StringRef name,
                       llvm::StringRef value) {
    hid_t type = keep(H5Tcopy(H5T_C_S1), H5Tclose);
    hid_t space = keep(H5Screate(H5S_SCALAR), H5Sclose);
    if (type < 0 || space < 0 || H5Tset_size(type, H5T_VARIABLE) < 0 ||
        H5Tset_cset(type, H5T_CSET_UTF8) < 0)
      return false;
    hid_t attr = keep(H5Acreate2(object, name.str().c_str(), type, space,
                                 H5P_DEFAULT, H5P_DEFAULT),
                      H5Aclose);
    std::string text = value.str();
    const char *data = text.c_str();
    return attr >= 0 && H5Awrite(attr, type, &data) >= 0;
  }
  bool dataset(hid_t group, llvm::StringRef name, llvm::ArrayRef<int64_t> shape,
               llvm::ArrayRef<float> data) {
    llvm::SmallVector<hsize_t, 4> dims(shape.begin(), shape.end());
    hid_t space = keep(
        shape.empty() ? H5Screate(H5S_SCALAR)
                      : H5Screate_simple(dims.size(), dims.data(), nullptr),
        H5Sclose);
    if (space < 0)
      return false;
    hid_t set = keep(H5Dcreate2(group, name.str().c_str(), H5T_IEEE_F32LE,
                                space, H5P_DEFAULT, datasetProps, H5P_DEFAULT),
                     H5Dclose);
    return set >= 0 && H5Dwrite(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                H5P_DEFAULT, data.data()) >= 0;
  }

private:
  hid_t keep(hid_t handle, herr_t (*close)(hid_t)) {
    if (handle >= 0)
      handles.push_back({handle, close});
    return handle;
  }
  hid_t file;
  hid_t groupProps = -1, datasetProps = -1;
  bool ok = false;
  llvm::SmallVector<std::pair<hid_t, herr_t (*)(hid_t)>> handles;
};

} // namespace

std::optional<ExportError> dlc::exporting::writeKerasWeights(
    const KerasPlan &plan, const WeightData &weights, llvm::StringRef path) {
  const char *format = "Keras export";
  // Every dataset's data first: an error writes nothing.
  std::vector<std::vector<float>> data;
  for (const KerasGroup &group : plan.groups)
    for (const PlannedTensor &t : group.datasets)
      if (std::optional<ExportError> e =
              tensorData(t, weights, format, data.emplace_back()))
        return e;

  std::string tmp =
      (path + ".tmp." + llvm::Twine(llvm::sys::Process::getProcessId())).str();
  // HDF5 prints its error stack on stderr by default; the error below says
  // what failed.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  bool ok = true;
  {
    H5Writer h5(
        H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    if (!h5.isOpen()) {
      llvm::sys::fs::remove(tmp);
      return ExportError{{},
                         std::string(format) +
                             ": cannot create the HDF5 file '" + path.str() +
                             "'"};
    }
    size_t next = 0;
    for (const KerasGroup &group : plan.groups) {
      hid_t g = h5.group(group.path);
      ok = g >= 0 && (!group.nameAttribute ||
                      h5.stringAttribute(g, "name", *group.nameAttribute));
      for (const PlannedTensor &t : group.datasets)
        ok = ok && h5.dataset(g, t.destination, t.shape, data[next++]);
      if (!ok)
        break;
    }
  }
  if (ok && !llvm::sys::fs::rename(tmp, path))
    return std::nullopt;
  llvm::sys::fs::remove(tmp);
  return ExportError{{},
                     std::string(format) + ": writing the HDF5 file '" +
                         path.str() + "' failed"};
}
