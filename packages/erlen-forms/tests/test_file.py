"""File fields and validators, with real multipart bodies from the test client."""

from __future__ import annotations

import io
import typing as t

import pytest
from werkzeug.datastructures import FileStorage

from erlen import Erlen
from erlen.testing import ErlenClient
from erlen_forms import ErlenForm
from erlen_forms.file import file_allowed
from erlen_forms.file import file_required
from erlen_forms.file import file_size
from erlen_forms.file import FileAllowed
from erlen_forms.file import FileField
from erlen_forms.file import FileRequired
from erlen_forms.file import FileSize
from erlen_forms.file import MultipleFileField


class Upload(ErlenForm):
    class Meta:
        csrf = False

    photo = FileField(
        validators=[FileRequired(), FileAllowed(["jpg", "PNG"]), FileSize(10, 1)]
    )
    extras = MultipleFileField(validators=[FileAllowed(["txt"]), FileSize(max_size=5)])


@pytest.fixture
def upload_app(app: Erlen) -> Erlen:
    @app.post("/")
    def index() -> dict[str, t.Any]:
        form = Upload()
        valid = form.validate_on_submit()
        extras = form.extras.data or []
        return {
            "valid": valid,
            "errors": form.errors,
            "photo": form.photo.data.filename if form.photo.data else None,
            "extras": [f.filename for f in extras],
        }

    return app


def post(client: ErlenClient, **files: t.Any) -> dict[str, t.Any]:
    response = client.post("/", data=files)
    assert response.status_code == 200
    return response.json  # type: ignore[return-value]


def test_valid_uploads(upload_app: Erlen, client: ErlenClient) -> None:
    answer = post(
        client,
        photo=(io.BytesIO(b"jpeg"), "Cat.JPG"),
        extras=[(io.BytesIO(b"a"), "a.txt"), (io.BytesIO(b"b"), "b.txt")],
    )
    assert answer == {
        "valid": True,
        "errors": {},
        "photo": "Cat.JPG",
        "extras": ["a.txt", "b.txt"],
    }


def test_each_validator_says_what_is_wrong(
    upload_app: Erlen, client: ErlenClient
) -> None:
    assert post(client)["errors"] == {"photo": ["This field is required."]}
    empty_input = post(client, photo=(io.BytesIO(b""), ""))
    assert empty_input["errors"] == {"photo": ["This field is required."]}
    assert empty_input["photo"] is None
    wrong = post(client, photo=(io.BytesIO(b"x"), "cat.gif"))
    assert wrong["errors"] == {
        "photo": ["File does not have an approved extension: jpg, PNG"]
    }
    big = post(client, photo=(io.BytesIO(b"x" * 11), "cat.png"))
    assert big["errors"] == {"photo": ["File must be between 1 and 10 bytes."]}
    small = post(client, photo=(io.BytesIO(b""), "cat.png"))
    assert small["errors"] == {"photo": ["File must be between 1 and 10 bytes."]}
    extras = post(
        client,
        photo=(io.BytesIO(b"x"), "cat.png"),
        extras=[(io.BytesIO(b"a"), "a.txt"), (io.BytesIO(b"123456"), "b.txt")],
    )
    assert extras["errors"] == {"extras": ["File must be between 0 and 5 bytes."]}


def test_size_is_measured_without_moving_the_stream(app: Erlen) -> None:
    stream = io.BytesIO(b"12345")
    stream.seek(2)
    with app.test_request_context():
        form = Upload(photo=FileStorage(stream, filename="a.png"))
        form.validate()
        assert "photo" not in form.errors
    assert stream.tell() == 2


def test_aliases() -> None:
    assert file_required is FileRequired
    assert file_allowed is FileAllowed
    assert file_size is FileSize


def test_upload_set_object(app: Erlen) -> None:
    class Images:
        def file_allowed(self, storage: FileStorage, basename: str) -> bool:
            return basename.endswith(".png")

    class F(ErlenForm):
        class Meta:
            csrf = False

        photo = FileField(validators=[FileAllowed(Images())])

    with app.test_request_context():
        assert F(photo=FileStorage(filename="a.png")).validate()
        refused = F(photo=FileStorage(filename="a.gif"))
        assert not refused.validate()
        assert refused.photo.errors == ["File does not have an approved extension."]


def test_oversized_body_is_413(upload_app: Erlen, client: ErlenClient) -> None:
    upload_app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/", data={"photo": (io.BytesIO(b"x" * 5000), "a.png")})
    assert response.status_code == 413


def test_oversized_body_is_413_before_the_csrf_check(
    app: Erlen, client: ErlenClient
) -> None:
    from erlen_forms import CSRFProtect

    CSRFProtect(app)
    app.config["MAX_CONTENT_LENGTH"] = 1000

    @app.post("/up")
    def up() -> str:
        return "never"

    response = client.post("/up", data={"photo": (io.BytesIO(b"x" * 5000), "a.png")})
    assert response.status_code == 413
    broken = client.post(
        "/up",
        data=b'--b\r\nContent-Disposition: form-data; name="x"\r\n',
        content_type="multipart/form-data; boundary=b",
    )
    assert broken.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        b'--b\r\nContent-Disposition: form-data; name="photo"; filename="a.png"\r\n',
        b"not multipart at all",
        b"--b\r\nbroken header\r\n\r\nx\r\n--b--\r\n",
    ],
)
def test_bad_multipart_is_400_or_empty(
    upload_app: Erlen, client: ErlenClient, body: bytes
) -> None:
    response = client.post(
        "/", data=body, content_type="multipart/form-data; boundary=b"
    )
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json is not None
        assert response.json["valid"] is False
