"""erlen-rest: REST APIs for erlen.

Flask-RESTful's and Flask-RESTX's API (``Api``, ``Resource``, ``Namespace``,
``fields``, ``marshal_with``, ``reqparse``, models, masks), typed endpoints
validated with pydantic, an OpenAPI 3.1 document and RFC 9457 problem
details, on one app.
"""

from __future__ import annotations

from . import cors as cors
from . import fields as fields
from . import inputs as inputs
from . import marshalling as marshalling
from . import mask as mask
from . import model as model
from . import namespace as namespace
from . import reqparse as reqparse
from . import utils as utils
from ._http import HTTPStatus as HTTPStatus
from .api import Api as Api
from .conditional import etag as etag
from .errors import abort as abort
from .errors import RestError as RestError
from .errors import SpecsError as SpecsError
from .errors import ValidationError as ValidationError
from .marshalling import marshal as marshal
from .marshalling import marshal_with as marshal_with
from .marshalling import marshal_with_field as marshal_with_field
from .mask import Mask as Mask
from .model import Model as Model
from .model import OrderedModel as OrderedModel
from .model import SchemaModel as SchemaModel
from .namespace import Namespace as Namespace
from .pagination import cursor_paginate as cursor_paginate
from .pagination import CursorPage as CursorPage
from .pagination import Page as Page
from .pagination import paginate as paginate
from .resource import Resource as Resource
from .swagger import Swagger as Swagger
from .typed import Body as Body
from .typed import Cookie as Cookie
from .typed import File as File
from .typed import Form as Form
from .typed import Header as Header
from .typed import Path as Path
from .typed import Query as Query

__version__ = "0.1.0"

__all__ = [
    "Api",
    "Body",
    "Cookie",
    "CursorPage",
    "File",
    "Form",
    "HTTPStatus",
    "Header",
    "Mask",
    "Model",
    "Namespace",
    "OrderedModel",
    "Page",
    "Path",
    "Query",
    "Resource",
    "RestError",
    "SchemaModel",
    "SpecsError",
    "Swagger",
    "ValidationError",
    "abort",
    "cors",
    "cursor_paginate",
    "etag",
    "fields",
    "inputs",
    "marshal",
    "marshal_with",
    "marshal_with_field",
    "mask",
    "marshalling",
    "model",
    "namespace",
    "paginate",
    "reqparse",
    "utils",
]
