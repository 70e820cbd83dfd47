# Builds gpushare._core with pybind11's setuptools helpers; metadata lives in pyproject.toml.
import glob
import os
import re

from pybind11.setup_helpers import ParallelCompile, Pybind11Extension
from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))


def version():
    text = open(os.path.join(HERE, "include", "gpushare", "version.hpp")).read()
    parts = [re.search(rf"GPUSHARE_VERSION_{k} (\d+)", text).group(1) for k in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


ParallelCompile("GPUSHARE_BUILD_JOBS", default=2).install()

ext = Pybind11Extension(
    "gpushare._core",
    sorted(glob.glob("python/src/*.cpp")),
    include_dirs=["include", "/usr/include/eigen3"],
    # The module is mostly headers: rebuild whenever any of them changes, not only the .cpp files.
    depends=sorted(glob.glob("include/gpushare/**/*.hpp", recursive=True) + glob.glob("python/src/*.hpp")),
    cxx_std=17,
    extra_compile_args=["-O2"],
)

setup(version=version(), ext_modules=[ext])
