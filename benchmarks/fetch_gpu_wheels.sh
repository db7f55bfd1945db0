#!/usr/bin/env bash
# Download, here, the wheels the GPU image lacks (see the device tool's README) into .whl/,
# for benchmarks/gpu_check.sh to install there. The GPU image runs Python 3.12 on x86-64 and
# already has NumPy, SciPy, CuPy, pytest and click; SimpleITK (MetaImage tests) is left out
# for size, and its tests skip.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
           --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp "${platforms[@]}" -d .whl \
    pint==0.25.3 flexcache==0.3 flexparser==0.4 platformdirs==4.3.8 \
    pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 \
    tomli-w==1.2.0 nibabel==5.4.2 pynrrd==1.1.3 mrcfile==1.5.4
ls -1 .whl
du -sh .whl
