"""`python -m interfaces.contract_schema [--check]`: write (or check) the JSON Schema of every shape of
the wire contract that the web client's TypeScript types are generated from
(interfaces/web/src/api/contract.schema.json, committed so that the web build needs no Python)."""

import json
import sys
from pathlib import Path

from interfaces.api_documents import json_schema

TARGET = Path(__file__).parent / "web" / "src" / "api" / "contract.schema.json"


def rendered() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text() != rendered():
            print(f"{TARGET} is not what the contract declares: run python -m interfaces.contract_schema")
            return 1
        print(f"{TARGET} matches the contract.")
        return 0
    TARGET.write_text(rendered())
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
