# -*- Python -*-
# lit configuration for dlc's FileCheck tests.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "DLC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".yaml", ".json", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.dlc_obj_root, "test")
# Inputs/ and golden/ hold data files (YAML, JSON) that are not tests.
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs",
                   "golden"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%dlc_src_root", config.dlc_src_root))
config.substitutions.append(("%dlc_obj_root", config.dlc_obj_root))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.dlc_tools_dir, config.llvm_tools_dir]
tools = ["dlc", "dlc-opt", "dlc-onnx-pack", "mlir-opt", "mlir-translate"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.dlc_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# The interop venv of scripts/make-venv.sh (PyPI packages, test-only):
# tests that need onnx + onnxruntime are UNSUPPORTED (skipped) without it.
import subprocess
_venv = os.environ.get("DLC_VENV", os.path.expanduser("~/.cache/dlc/venv"))
_venv_python = os.path.join(_venv, "bin", "python")
if os.path.exists(os.path.join(_venv, ".dlc-complete-v2")) and os.access(
        _venv_python, os.X_OK):
    # Tests that need the venv (tensorboard, torch, keras, ...) say
    # `REQUIRES: venv`; onnx + onnxruntime also `REQUIRES: onnxruntime`.
    config.available_features.add("venv")
    config.substitutions.append(("%venv_python", _venv_python))
    try:
        subprocess.run([_venv_python, "-c", "import onnx, onnxruntime"],
                       check=True, capture_output=True, timeout=120)
        config.available_features.add("onnxruntime")
    except (subprocess.SubprocessError, OSError):
        pass

# ptxas (CUDA toolkit) for the tests that assemble the CUDA target's PTX;
# they are UNSUPPORTED (reported as skipped) without it. Found as dlc finds
# it: CUDA_HOME, CUDA_PATH, CUDA_ROOT, /usr/local/cuda, PATH.
def _find_ptxas():
    import shutil
    for var in ("CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"):
        root = os.environ.get(var)
        if root and os.access(os.path.join(root, "bin", "ptxas"), os.X_OK):
            return os.path.join(root, "bin", "ptxas")
    if os.access("/usr/local/cuda/bin/ptxas", os.X_OK):
        return "/usr/local/cuda/bin/ptxas"
    return shutil.which("ptxas")

_ptxas = _find_ptxas()
if _ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", _ptxas))
for var in ("CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

# A usable CUDA GPU (driver + device): the GPU tests run only there and are
# UNSUPPORTED (skipped) elsewhere; the no-GPU tests are the reverse.
def _have_cuda_gpu():
    import ctypes
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    count = ctypes.c_int(0)
    if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return False
    return count.value > 0

if _have_cuda_gpu():
    config.available_features.add("cuda-gpu")
for var in ("DLC_CUDA_DEVICE", "DLC_CUDA_GRAPHS", "LD_LIBRARY_PATH"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

# `script` (util-linux) runs a command on a pseudo-terminal.
import shutil
if shutil.which("script"):
    config.available_features.add("script")

# Debian's headless Chromium renders report.html (scripts/setup.sh installs
# it; tests that need it are UNSUPPORTED without).
if shutil.which("chromium"):
    config.available_features.add("chromium")
# Open MPI's launcher: the data-parallel tests run 2 ranks on loopback
# (UNSUPPORTED, i.e. reported as skipped, without it).
_mpirun = shutil.which("mpirun")
if _mpirun:
    config.available_features.add("mpirun")
    _mpi_flags = " --oversubscribe"
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        _mpi_flags += " --allow-run-as-root"
    config.substitutions.append(("%mpirun", _mpirun + _mpi_flags))
for var in ("OMPI_MCA_btl", "OMPI_MCA_pml"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
