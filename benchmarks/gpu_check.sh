#!/usr/bin/env bash
# The one device script (GPU issue item 7). On a lent GPU machine, from the repository root,
# with .whl/ carried (make it here with benchmarks/fetch_gpu_wheels.sh):
#   1. installs the carried wheels, 2. shows the device (perfusion info),
#   3. runs the whole suite — every backend test on CuPy too, the kernel tests on the GPU and
#      the CPU shim, and the demo parity test (NumPy float64 vs CuPy float64 / float32),
#   4. measures copy bandwidth, each kernel's bandwidth, and the demo end to end at 128³ and
#      256³ in float32 and float64; prints one table last and writes $OUT/gpu_check.json.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD
else
    export PYTHONPATH=$PWD
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/nvidia-smi.csv"
python3 -m perfusion info | tee "$OUT/info.txt"
python3 -m pytest -q -ra -p no:cacheprovider tests 2>&1 | tee "$OUT/pytest.log" | tail -40
suite=${PIPESTATUS[0]}
python3 benchmarks/bench_gpu.py --backend cupy --sizes ${SIZES:-128 256} --output "$OUT/gpu_check.json" \
    2>"$OUT/bench.log"
bench=$?
echo "suite exit ${suite}, benchmark exit ${bench}; log and JSON in $OUT"
exit $(( suite || bench ))
