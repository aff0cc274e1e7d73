//===- FakeModelExport.cpp - The fake model exported as dlc_model ---------===//
//
// Defines the `dlc_model` symbol a compiled model object defines, so the
// fake model links into an executable exactly like `dlc compile` output.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"

extern "C" const dlc_model_info dlc_model = dlc::runtime::testing::fakeModel();
