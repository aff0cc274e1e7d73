//===- CUDADevice.h - An NVIDIA GPU as a device -----------------*- C++ -*-===//
//
// The device of models compiled with --target cuda (lib/Runtime/
// CUDADevice.cpp): the CUDA driver opened at run time, one context and one
// stream, pinned staging memory, kernels loaded from the embedded cubin or
// JIT-compiled from the PTX, each step captured once as a CUDA graph and
// replayed.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_CUDADEVICE_H
#define DLC_RUNTIME_CUDADEVICE_H

#include "dlc/Runtime/Device.h"

namespace dlc::runtime {

/// The first CUDA GPU (DLC_CUDA_DEVICE=N picks another). Without a driver
/// or a GPU, an error that says so and how to run the model anyway.
llvm::Expected<std::unique_ptr<Device>> createCUDADevice();

} // namespace dlc::runtime

#endif // DLC_RUNTIME_CUDADEVICE_H
