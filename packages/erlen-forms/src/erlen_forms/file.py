"""File upload fields and their validators.

The fields keep only real uploads (a :class:`~werkzeug.datastructures.FileStorage`
with a file name): an empty file input leaves the field empty. The size of an
upload is measured by seeking, never by reading it. Bodies larger than
``MAX_CONTENT_LENGTH`` never reach a form: the core answers them with 413.
"""

from __future__ import annotations

import collections.abc as cabc
import os
import typing as t

from werkzeug.datastructures import FileStorage
from wtforms import FileField as _FileField
from wtforms import MultipleFileField as _MultipleFileField
from wtforms.validators import DataRequired
from wtforms.validators import StopValidation

__all__ = [
    "FileAllowed",
    "FileField",
    "FileRequired",
    "FileSize",
    "MultipleFileField",
    "file_allowed",
    "file_required",
    "file_size",
]


def _uploads(valuelist: cabc.Iterable[t.Any]) -> list[FileStorage]:
    return [x for x in valuelist if isinstance(x, FileStorage) and x]


class FileField(_FileField):
    """A file input whose data is the uploaded ``FileStorage``, or ``None``."""

    def process_formdata(self, valuelist: list[t.Any]) -> None:
        uploads = _uploads(valuelist)
        if uploads:
            self.data = uploads[0]
        else:
            self.raw_data = []


class MultipleFileField(_MultipleFileField):
    """A multiple file input whose data is a list of ``FileStorage``, or ``None``."""

    def process_formdata(self, valuelist: list[t.Any]) -> None:
        uploads = _uploads(valuelist)
        if uploads:
            self.data = uploads
        else:
            self.raw_data = []


def _field_files(data: object) -> list[t.Any] | None:
    """The field's uploads as a list, or ``None`` when it holds no real upload."""
    files = data if isinstance(data, list) else [data]
    if files and all(isinstance(x, FileStorage) and x for x in files):
        return files
    return None


class FileRequired(DataRequired):
    """Require an uploaded file (every item, for a multiple file field)."""

    def __call__(self, form: t.Any, field: t.Any) -> None:
        if _field_files(field.data) is None:
            raise StopValidation(
                self.message or field.gettext("This field is required.")
            )


file_required = FileRequired


class FileAllowed:
    """Allow only file names with one of ``upload_set``'s extensions.

    ``upload_set`` is a list of extensions (``["jpg", "png"]``) or an object
    with a ``file_allowed(storage, basename)`` method (a Flask-Uploads style
    upload set).
    """

    def __init__(self, upload_set: t.Any, message: str | None = None) -> None:
        self.upload_set = upload_set
        self.message = message

    def __call__(self, form: t.Any, field: t.Any) -> None:
        files = _field_files(field.data)
        if files is None:
            return
        for storage in files:
            filename = (storage.filename or "").lower()
            if isinstance(self.upload_set, cabc.Iterable):
                if any(filename.endswith("." + x.lower()) for x in self.upload_set):
                    continue
                raise StopValidation(
                    self.message
                    or field.gettext(
                        "File does not have an approved extension: {extensions}"
                    ).format(extensions=", ".join(self.upload_set))
                )
            if not self.upload_set.file_allowed(storage, filename):
                raise StopValidation(
                    self.message
                    or field.gettext("File does not have an approved extension.")
                )


file_allowed = FileAllowed


def _size(storage: FileStorage) -> int:
    stream = storage.stream
    seekable = getattr(stream, "seekable", None)
    if seekable is None or not seekable():
        raise TypeError(
            "The uploaded file's stream is not seekable, so FileSize cannot"
            " measure it without reading it."
        )
    position = stream.tell()
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(position)
    return size


class FileSize:
    """Require each upload to be between ``min_size`` and ``max_size`` bytes."""

    def __init__(
        self, max_size: int, min_size: int = 0, message: str | None = None
    ) -> None:
        self.min_size = min_size
        self.max_size = max_size
        self.message = message

    def __call__(self, form: t.Any, field: t.Any) -> None:
        files = _field_files(field.data)
        if files is None:
            return
        for storage in files:
            if not self.min_size <= _size(storage) <= self.max_size:
                raise StopValidation(
                    self.message
                    or field.gettext(
                        "File must be between {min_size} and {max_size} bytes."
                    ).format(min_size=self.min_size, max_size=self.max_size)
                )


file_size = FileSize
