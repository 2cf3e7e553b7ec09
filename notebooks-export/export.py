"""Executes the review notebook that fits an output directory and writes it as .ipynb and/or HTML.

Usage: export.py DIR [--format ipynb|html] [--out FILE]

The review kind comes from what DIR holds (timeline.csv, sizing.csv, sweep.csv, compare.csv, summary.csv).
Outputs are written atomically next to the CSVs (review.ipynb, review.html) unless --out names
the file. A failing cell prints the cell and the Python error, exits 1 and writes nothing.
"""
import argparse
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
NOTEBOOKS = {"run": "run-review.ipynb", "incident": "incident-review.ipynb", "variants": "variant-comparison.ipynb", "sweep": "sweep.ipynb", "sizing": "sizing.ipynb"}
# Cells whose source nobody in a review meeting needs to read.
HIDDEN_TAG = "remove-input"


def fail(message):
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(1)


def write_atomically(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".export-", dir=directory)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def main():
    parser = argparse.ArgumentParser(prog="brownout export")
    parser.add_argument("directory")
    parser.add_argument("--format", choices=["ipynb", "html"])
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.out and not args.format:
        args.format = "html" if args.out.endswith(".html") else "ipynb" if args.out.endswith(".ipynb") else None
        if args.format is None:
            fail(f"--out {args.out}: give --format ipynb or html, or a file name ending in .ipynb or .html")
    directory = os.path.abspath(args.directory)
    if not os.path.isdir(directory):
        fail(f"{args.directory}: no such directory")

    sys.path.insert(0, HERE)
    import brownout_review
    try:
        kind = brownout_review.kind_of(directory)
    except ValueError as error:
        fail(str(error))

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(os.path.join(HERE, NOTEBOOKS[kind]), as_version=4)
    os.environ["BROWNOUT_OUTPUT_DIR"] = directory
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # A kernel on local IPC sockets: nothing listens on the network, and nothing warns about it.
    from jupyter_client.manager import KernelManager
    manager = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(tempfile.mkdtemp(prefix="brownout-kernel-"), "kernel"))
    client = NotebookClient(notebook, km=manager, timeout=600, kernel_name="python3", resources={"metadata": {"path": HERE}})
    try:
        client.execute()
    except CellExecutionError:
        failing = next((c for c in notebook.cells if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        source = failing.source if failing is not None else "(unknown cell)"
        error = next((o for o in failing.outputs if o.get("output_type") == "error"), {}) if failing is not None else {}
        plain = lambda line: re.sub(r"\x1b\[[0-9;]*m", "", line)
        # The frames nearest the error, then the error itself (the traceback's last line).
        frames = [plain(line) for line in error.get("traceback", [])][-3:-1]
        print(f"Error: {NOTEBOOKS[kind]} failed on {args.directory} in this cell:\n{source}\n\n"
              + "\n".join(frames) + f"\n{error.get('ename', 'Error')}: {error.get('evalue', '')}", file=sys.stderr)
        sys.exit(1)
    finally:
        # The kernel is ours (we made its manager), so nbclient leaves it running: stop it.
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)

    formats = [args.format] if args.format else ["ipynb", "html"]
    outputs = []
    for fmt in formats:
        path = args.out or os.path.join(directory, f"review.{fmt}")
        if fmt == "ipynb":
            text = nbformat.writes(notebook)
        else:
            from nbconvert import HTMLExporter
            from traitlets.config import Config
            config = Config()
            config.TagRemovePreprocessor.remove_input_tags = {HIDDEN_TAG, "parameters"}
            config.TagRemovePreprocessor.enabled = True
            # The page is for a review meeting: the charts and the text, not the code.
            exporter = HTMLExporter(config=config, exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
            text, _ = exporter.from_notebook_node(notebook)
        write_atomically(path, text)
        outputs.append(path)
    print(f"Wrote the {kind} review: " + ", ".join(outputs))


if __name__ == "__main__":
    main()
