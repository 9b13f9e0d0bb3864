"""examples/lecture.ipynb runs from top to bottom (nbclient + ipykernel, from the test extra).

The notebook walks through every example of the lecture with ricci and asserts the lecture's
numbers in its cells, so an error in any cell fails this test.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parent.parent / "examples" / "lecture.ipynb"


def test_lecture_notebook_runs():
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's path migration, not ours
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    # every example shows its derivation: rich displays of the steps were produced
    html = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == "execute_result" and "text/html" in o.get("data", {})]
    assert len(html) >= 10
    texts = "".join(o["data"]["text/html"] for o in html)
    assert "Chain rule" in texts and "<math" in texts
