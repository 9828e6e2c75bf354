"""The learner's workbook: their own copy of the chapters, with the exercises to do (chapter 0).

``make lab`` (or ``python -m lenet_course lab``) calls :func:`prepare_workbook`
and opens JupyterLab in ``workbook/``. The first time, it writes there the
learner version of every chapter (:mod:`lenet_course.instructor.release`: the
solutions replaced by stubs, the outputs that depend on the answers cleared)
and the files the chapters need beside them. Later runs never overwrite a
notebook the learner has changed; they add new chapters, refresh the ones the
learner has not touched, and say which of the learner's notebooks changed in
the course since they were written.

``workbook/.workbook.json`` records, for each chapter, the hash of the file as
written (a different file now means the learner changed it) and the hash of
its content, its cells' sources, as released (a different one now means the
course changed it). A notebook the learner deletes comes back fresh on the
next run. ``chapters/`` itself, with the worked solutions, opens with
``make lab-solutions``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .instructor.notebook_format import chapter_paths
from .instructor.release import release_text, support_files

__all__ = ["MANIFEST", "WorkbookReport", "prepare_workbook", "content_hash"]

MANIFEST = ".workbook.json"
_FORMAT = 1


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_hash(text: str) -> str:
    """The hash of what a learner reads in a notebook: each cell's type and source, in order (not its outputs)."""
    nb = nbformat.reads(text, as_version=4)
    cells = [[cell.cell_type, cell.source] for cell in nb.cells]
    return _sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8"))


@dataclass
class WorkbookReport:
    """What :func:`prepare_workbook` did, chapter by chapter (file names)."""

    folder: Path  # as the learner named it
    created: list[str] = field(default_factory=list)  # written for the first time
    added: list[str] = field(default_factory=list)  # new chapters of the course
    restored: list[str] = field(default_factory=list)  # deleted by the learner, written afresh
    refreshed: list[str] = field(default_factory=list)  # untouched by the learner, changed in the course: replaced
    changed_upstream: list[str] = field(default_factory=list)  # the learner's own, changed in the course: kept
    kept: list[str] = field(default_factory=list)  # the learner's own, unchanged in the course
    unchanged: list[str] = field(default_factory=list)  # as written, nothing new
    files: list[str] = field(default_factory=list)  # files beside the chapters copied in

    def lines(self) -> list[str]:
        """The report as the learner reads it, one line per kind of change."""
        where = self.folder
        out = []
        if self.created:
            count = len(self.created)
            out.append(f"Wrote your workbook: {count} chapters in {where}/, with the exercises for you to do.")
        if self.added:
            out.append(f"New chapters added: {', '.join(self.added)}")
        if self.restored:
            out.append(f"Written afresh (they had been deleted): {', '.join(self.restored)}")
        if self.refreshed:
            out.append(f"Updated to the course's new version (you had not changed them): {', '.join(self.refreshed)}")
        if self.changed_upstream:
            out.append(f"Changed in the course since your copy was written: {', '.join(self.changed_upstream)}")
            out.append(
                "  Your copies are kept as they are. To get the new version of one, rename or delete "
                "your copy and run `make lab` again; `make lab-solutions` shows the course's version."
            )
        if not (self.created or self.added or self.restored or self.refreshed or self.changed_upstream):
            out.append(f"Your workbook in {where}/ is up to date with the course.")
        if self.kept:
            out.append(f"Your work, kept as it is: {', '.join(self.kept)}")
        if self.files:
            out.append(f"Files the chapters need, copied in: {', '.join(self.files)}")
        return out


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    chapters = manifest.get("chapters") if isinstance(manifest, dict) else None
    return chapters if isinstance(chapters, dict) else {}


def _write(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: to a temporary file beside it, then renamed over it."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def _write_manifest(path: Path, chapters: dict) -> None:
    text = json.dumps({"format": _FORMAT, "chapters": dict(sorted(chapters.items()))}, indent=1) + "\n"
    _write(path, text.encode("utf-8"))


def prepare_workbook(chapters: Path, folder: Path) -> WorkbookReport:
    """Write or update the learner's workbook in ``folder`` from the chapters in ``chapters``.

    Never overwrites a notebook the learner changed, or any other file already
    in ``folder``. Raises FileNotFoundError without chapters and ValueError
    when ``folder`` is ``chapters`` or lies inside it.
    """
    shown = Path(folder)
    chapters = Path(chapters).resolve()
    folder = Path(folder).resolve()
    if not chapters.is_dir():
        raise FileNotFoundError(f"no chapters folder at {chapters}; run this from the course folder")
    if folder == chapters or chapters in folder.parents:
        raise ValueError(f"the workbook {folder} would be inside {chapters}; choose a folder outside it")
    paths = chapter_paths(chapters)
    if not paths:
        raise FileNotFoundError(f"no chapter notebooks (*.ipynb) in {chapters}")
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST
    manifest = _read_manifest(manifest_path)
    first_time = not manifest
    report = WorkbookReport(shown)

    for path in paths:
        name = path.name
        text = release_text(path)
        data = text.encode("utf-8")
        fresh = {"written": _sha256(data), "content": content_hash(text)}
        target = folder / name
        record = manifest.get(name) if isinstance(manifest.get(name), dict) else None
        if not target.exists():
            _write(target, data)
            manifest[name] = fresh
            (report.created if first_time else report.restored if record else report.added).append(name)
            continue
        current = target.read_bytes()
        if record is None:  # a notebook of that name the workbook did not write: the learner's
            if current == data:
                manifest[name] = fresh
                report.unchanged.append(name)
            else:
                report.kept.append(name)
            continue
        learner_changed = _sha256(current) != record.get("written")
        if not learner_changed:
            if current == data:
                report.unchanged.append(name)
            else:  # the course changed (or only its stored outputs did): the learner loses nothing
                _write(target, data)
                if record.get("content") != fresh["content"]:
                    report.refreshed.append(name)
                else:
                    report.unchanged.append(name)
                manifest[name] = fresh
        elif record.get("content") != fresh["content"]:
            report.changed_upstream.append(name)
        else:
            report.kept.append(name)

    for item in support_files(chapters):
        target = folder / item.relative_to(chapters)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(item, target)
        report.files.append(str(item.relative_to(chapters)))

    _write_manifest(manifest_path, manifest)
    return report
