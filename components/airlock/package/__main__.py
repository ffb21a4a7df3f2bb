"""``python -m airlock.package [--out provider/schema.json]`` (``make schema``): write the argument
types generated from the settings models, then the package schema the analyzer infers from them."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from .codegen import generate_types

TYPES_FILE = Path(__file__).resolve().parent / "argtypes.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airlock.package", description=__doc__)
    parser.add_argument("--out", default="provider/schema.json", help="where the schema goes")
    args = parser.parse_args(argv)
    TYPES_FILE.write_text(generate_types().source, encoding="utf-8")
    # A fresh interpreter imports the types just written (this one may hold the old module).
    code = "import json; from airlock.package.provider import schema; print(json.dumps(schema(), indent=2))"
    text = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    loaded = json.loads(text)
    counts = f"{len(loaded['resources'])} components, {len(loaded['types'])} types"
    print(f"wrote {TYPES_FILE.name} and {out}: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
