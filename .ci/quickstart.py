"""Print one of the README's two Quick start commands: `example` (first) or `test` (second)."""

import pathlib
import re
import sys

readme = pathlib.Path(__file__).resolve().parent.parent.joinpath("README.md").read_text()
section = readme.split("## Quick start", 1)[1]
block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
if block is None:
    sys.exit("README.md: no ```bash block under '## Quick start'")
commands = [line for line in block.group(1).splitlines() if line.strip()]
if len(commands) != 2:
    sys.exit(f"README.md: the Quick start should hold exactly two commands, found {len(commands)}")
print(commands[{"example": 0, "test": 1}[sys.argv[1]]])
