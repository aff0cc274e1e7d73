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
tools = ["dlc", "dlc-opt", "mlir-opt", "mlir-translate"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.dlc_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# The Python venv of interop checks (scripts/make-venv.sh: tensorboard,
# torch, keras, ...). Tests that need it say `REQUIRES: venv` and are
# reported UNSUPPORTED without it.
venv = os.environ.get(
    "DLC_VENV", os.path.join(os.path.expanduser("~"), ".cache", "dlc", "venv"))
if os.path.exists(os.path.join(venv, ".dlc-complete-v1")):
    config.available_features.add("venv")
    config.substitutions.append(
        ("%venv_python", os.path.join(venv, "bin", "python")))

# `script` (util-linux) runs a command on a pseudo-terminal.
import shutil
if shutil.which("script"):
    config.available_features.add("script")
