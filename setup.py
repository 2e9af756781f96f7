"""Builds hpi's compiled kernels (Cython + C sources in kernels/) and ships pipelines/*.yaml.

Set HPI_NO_EXTENSIONS=1 to install without compiling (the engine then uses
the pure-Python references, with one warning).
"""

import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent


def extensions():
    if os.environ.get("HPI_NO_EXTENSIONS") == "1":
        return []
    sources = sorted((ROOT / "kernels").glob("*.pyx"))
    if not sources:
        return []
    import numpy
    from Cython.Build import cythonize
    from setuptools import Extension

    modules = []
    for pyx in sources:
        c_sources = [str(pyx.relative_to(ROOT))]
        c_sources += [str(p.relative_to(ROOT)) for p in sorted((ROOT / "kernels").glob(f"hpi_{pyx.stem.lstrip('_')}*.c"))]
        modules.append(
            Extension(
                f"hpi.kernels.{pyx.stem}",
                c_sources,
                include_dirs=[numpy.get_include(), str(ROOT / "kernels")],
                extra_compile_args=["-O3", "-fopenmp", "-ffp-contract=off"],
                extra_link_args=["-fopenmp"],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            )
        )
    return cythonize(modules, language_level=3, compiler_directives={"boundscheck": False, "wraparound": False})


class BuildPyWithPipelines(build_py):
    """Copy the top-level pipelines/*.yaml into the package as hpi/pipelines/configs/."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / "hpi" / "pipelines" / "configs"
        target.mkdir(parents=True, exist_ok=True)
        for yaml_file in (ROOT / "pipelines").glob("*.yaml"):
            shutil.copy(yaml_file, target / yaml_file.name)


setup(ext_modules=extensions(), cmdclass={"build_py": BuildPyWithPipelines})
