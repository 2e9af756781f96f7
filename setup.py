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
    """The Cython kernels in kernels/*.pyx, each with its hand-written C (kernels/hpi_<name>*.c).

    OpenMP (for the kernels' prange loops) is used where the compiler has it: probed with a tiny
    test compile, or forced off with HPI_NO_OPENMP=1; without it the loops run on one thread.
    Floating-point contraction stays off so float32 results match numpy/OpenCV bit for bit.
    """
    if os.environ.get("HPI_NO_EXTENSIONS") == "1":
        return []
    sources = sorted((ROOT / "kernels").glob("*.pyx"))
    if not sources:
        return []
    import sys

    import numpy
    from Cython.Build import cythonize
    from setuptools import Extension

    def _compiler_has_openmp() -> bool:
        """Whether the default C compiler builds and links an OpenMP program (Apple clang does not)."""
        import tempfile

        from setuptools._distutils.ccompiler import new_compiler
        from setuptools._distutils.sysconfig import customize_compiler

        compiler = new_compiler()
        customize_compiler(compiler)
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "omp_probe.c"
            source.write_text("#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n")
            try:
                objects = compiler.compile([str(source)], output_dir=tmp, extra_postargs=["-fopenmp"])
                compiler.link_executable(objects, str(Path(tmp) / "omp_probe"), extra_postargs=["-fopenmp"])
            except Exception:
                return False
        return True

    if sys.platform == "win32":
        compile_args, link_args = ["/O2", "/fp:precise"], []
        if os.environ.get("HPI_NO_OPENMP") != "1":
            compile_args.append("/openmp")
    else:
        compile_args, link_args = ["-O3", "-ffp-contract=off"], []
        if os.environ.get("HPI_NO_OPENMP") != "1" and _compiler_has_openmp():
            compile_args.append("-fopenmp")
            link_args.append("-fopenmp")

    modules = []
    for pyx in sources:
        c_sources = [str(pyx.relative_to(ROOT))]
        c_sources += [str(p.relative_to(ROOT)) for p in sorted((ROOT / "kernels").glob(f"hpi_{pyx.stem.lstrip('_')}*.c"))]
        modules.append(
            Extension(
                f"hpi.kernels.{pyx.stem}",
                c_sources,
                include_dirs=[numpy.get_include(), str(ROOT / "kernels")],
                extra_compile_args=compile_args,
                extra_link_args=link_args,
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
