#!/bin/sh
# Inside a container build (Dockerfile.*, *.def; docs/containers.md): install the perfusion-ia
# wheel from /wheels with the extras $1 into the virtual environment /opt/perfusion, then run a
# small built-in case once. The run is the image's smoke test and, where g++ is present, leaves
# the CPU kernels compiled in $XDG_CACHE_HOME (/opt/perfusion/cache), so a read-only image
# (Apptainer) never compiles at run time.
set -eu
extras=$1
export XDG_CACHE_HOME=/opt/perfusion/cache
python3 -m venv /opt/perfusion
/opt/perfusion/bin/pip install --no-cache-dir "$(ls /wheels/perfusion_ia-*.whl)[$extras]"
smoke=$(mktemp -d)
cd "$smoke"
/opt/perfusion/bin/perfusion cases --copy cases liver_hai
/opt/perfusion/bin/perfusion run cases/liver_hai.toml -o run --backend numpy --quiet \
    --set 'grid.shape=[24,22,20]' --set 'grid.spacing="8 mm"' \
    --set 'simulation.duration="40 min"' --set 'simulation.compare_iv=false'
cd /
rm -rf "$smoke" /wheels
chmod -R a+rX /opt/perfusion
