#!/usr/bin/env bash
# CI: the wheel is what clusters install. Build the sdist and, from it, the wheel; install the
# wheel into a fresh virtual environment outside the checkout; from a folder outside the
# checkout copy the built-in cases and run a small one. Proves that the CUDA/C kernels
# (kernels/ → perfusion/_kernels) and the cases (cases/ → perfusion/_cases) ship inside the
# wheel and that the declared dependencies suffice. Needs python3 ≥ 3.11 and the package
# index (pip's configuration); about 1–2 min. Keeps its folder when KEEP=1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/perfusion-wheel.XXXXXX")
case "$WORK/" in "$ROOT"/*) echo "wheel.sh: TMPDIR ($WORK) must lie outside the checkout $ROOT" >&2; exit 1;; esac
[[ "${KEEP:-0}" == 1 ]] || trap 'rm -rf "$WORK"' EXIT
step() { echo "wheel.sh [${SECONDS}s] $*"; }

step "build tools into $WORK/tools"
"$PYTHON" -m venv "$WORK/tools"
"$WORK/tools/bin/python" -m pip install --quiet build
step "sdist and wheel (the wheel is built from the sdist)"
"$WORK/tools/bin/python" -m build --outdir "$WORK/dist" "$ROOT" >"$WORK/build.log" 2>&1 \
    || { cat "$WORK/build.log" >&2; exit 1; }
ls -l "$WORK/dist"
WHEEL=$(ls "$WORK"/dist/*.whl)

step "the wheel holds every kernel and every case of the checkout"
"$WORK/tools/bin/python" - "$WHEEL" "$ROOT" <<'EOF'
import sys, zipfile
from pathlib import Path
wheel, root = sys.argv[1], Path(sys.argv[2])
names = set(zipfile.ZipFile(wheel).namelist())
wanted = {f"perfusion/_kernels/{p.relative_to(root / 'kernels')}" for p in (root / "kernels").rglob("*") if p.is_file()}
wanted |= {f"perfusion/_cases/{p.relative_to(root / 'cases')}" for p in (root / "cases").rglob("*.toml")}
missing = sorted(wanted - names)
if missing:
    sys.exit(f"wheel.sh: {wheel} lacks {missing}; fix [tool.hatch.build.targets.wheel.force-include] in pyproject.toml")
print(f"  {len(wanted)} kernel and case files present")
EOF

step "fresh environment: install the wheel and its dependencies"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet "$WHEEL"

step "outside the checkout: perfusion cases --copy, then a small case"
mkdir "$WORK/outside"
cd "$WORK/outside"
export PATH="$WORK/venv/bin:$PATH" XDG_CACHE_HOME="$WORK/cache"  # kernels compiled afresh
unset PYTHONPATH
perfusion --version
perfusion cases --copy cases
perfusion run cases/liver_hai.toml -o run --backend numpy --overwrite --quiet \
    --set 'grid.shape=[24,22,20]' --set 'grid.spacing="8 mm"' \
    --set 'simulation.duration="40 min"' --set 'simulation.compare_iv=false'

step "the installed package ran: its own kernels, its own cases, a closed mass budget"
python - "$ROOT" "$WORK" <<'EOF'
import json, shutil, sys, tomllib
from pathlib import Path
import perfusion
from perfusion.compute.kernels import kernel_dir
from perfusion.library.cases import builtin_cases
root, work = Path(sys.argv[1]), Path(sys.argv[2])
problems = []
if not Path(perfusion.__file__).is_relative_to(work / "venv"):
    problems.append(f"perfusion imported from {perfusion.__file__}, not the fresh environment")
version = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
if perfusion.__version__ != version:
    problems.append(f"perfusion.__version__ {perfusion.__version__} != pyproject.toml {version} "
                    f"(is perfusion.DISTRIBUTION {perfusion.DISTRIBUTION!r} the [project] name?)")
shipped = sorted(p.name for p in kernel_dir().glob("*.cu"))
if not kernel_dir().is_relative_to(work / "venv") or shipped != sorted(p.name for p in (root / "kernels").glob("*.cu")):
    problems.append(f"kernel_dir() {kernel_dir()} holds {shipped}")
copied = sorted(p.name for p in Path("cases").glob("*.toml"))
if copied != sorted(p.name for p in builtin_cases().values()) or not copied:
    problems.append(f"perfusion cases --copy wrote {copied}")
metrics = json.loads(Path("run/metrics.json").read_text())
if not metrics["mass_balance_error"] < 1e-9:
    problems.append(f"mass balance error {metrics['mass_balance_error']}")
if shutil.which("g++"):
    built = sorted(p.name for p in (work / "cache" / "perfusion" / "kernels").glob("*.so"))
    if metrics["cpu_kernels"]["path"] != "compiled" or not built:
        problems.append(f"CPU kernels {metrics['cpu_kernels']}, built {built}")
    print(f"  compiled from the wheel's kernels: {built}")
sys.exit("wheel.sh: " + "; ".join(problems) if problems else 0)
EOF
step "done"
