"""The JSON API under /api/v1/: the outer-loop step at the end of a build session.

django-ninja, with the OpenAPI document at /api/v1/openapi.json and interactive docs at
/api/v1/docs. Every request needs a builder's token (`auth`), and every object is fetched
through that builder. The endpoints live in one router per thing they are about: `sessions`
(previews), `shares` (sending a link), `habit` (today), `reactions` (what came back), `builds`
(a build folder uploaded and hosted). Every error answer is in `errors`; the schemas more
than one router uses are in `schemas`.
"""

from functools import partial

from ninja import NinjaAPI
from ninja.operation import Operation

from outerloop.api import builds, errors, habit, reactions, sessions, shares
from outerloop.api.auth import TokenAuth


class OuterLoopAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """`outerloop_api_<function>`, as when the API was one module: clients generated from
        the document name their methods after these ids, so a move between routers keeps them."""
        return f"outerloop_api_{operation.view_func.__name__}"


api = OuterLoopAPI(
    title="Outer Loop API",
    version="1",
    description="Create a preview link for one named person, and hear back.",
    urls_namespace="api",
    auth=TokenAuth(),
)

for exception, handler in errors.HANDLERS.items():
    api.add_exception_handler(exception, partial(handler, api=api))

# In this order, the document lists the paths as it always has.
api.add_router("", sessions.router)
api.add_router("", shares.router)
api.add_router("", habit.router)
api.add_router("", reactions.router)
api.add_router("", builds.router)
