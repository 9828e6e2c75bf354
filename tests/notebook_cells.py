"""Building the small notebooks that the release and grading tests work on."""

from nbformat.v4 import new_code_cell, new_output


def code_cell(source, cell_id, meta=None, tags=None, text=None, count=None):
    """A code cell with an id, optional ``lenet_course`` metadata, tags and a stored stdout output."""
    cell = new_code_cell(source, id=cell_id)
    if meta:
        cell.metadata["lenet_course"] = meta
    if tags:
        cell.metadata["tags"] = list(tags)
    if text is not None:
        cell.outputs = [new_output("stream", name="stdout", text=text)]
        cell.execution_count = count
    return cell
