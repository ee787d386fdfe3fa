"""A hot path's query, compiled to SQL once per database connection instead of per request.

Building a queryset and compiling it costs Django more than the database takes to answer a
lookup by a unique key through a few joins: on the recipient's page (reactions/recipient.py)
the ORM spent about two thirds of the share lookup's time before the query reached
PostgreSQL (`make profile TARGET="recipient page"`, README "Performance"). A `CompiledQuery`
keeps what the compiler made (the SQL, the select list, the converters and the
`select_related` populators) and runs it again with new parameter values, through Django's
own cursor (so it is counted, logged and wrapped like any query) and Django's own row
converters and model constructors (`Model.from_db`), so the instances are the ones the
queryset would have returned.

Only plain querysets: a model with `select_related`, filters whose values are passed through
unchanged (exact lookups), no annotations, no deferred fields. `CompiledQuery` refuses any
other when it compiles it.
"""

from collections.abc import Callable
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators


class _Placeholder(str):
    """A value that stands for a parameter while the query compiles (found again by identity
    among the compiled parameters)."""


class _Compiled:
    def __init__(self, queryset: QuerySet, placeholders: list[_Placeholder], alias: str) -> None:
        query = queryset.query
        if query.annotations or query.deferred_loading != (frozenset(), True):
            raise ValueError("CompiledQuery takes no annotations and no deferred fields")
        compiler = query.get_compiler(using=alias)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        try:
            self.slots = [
                next(i for i, param in enumerate(params) if param is placeholder)
                for placeholder in placeholders
            ]
        except StopIteration:
            raise ValueError("A value changed on its way to the SQL: not an exact lookup") from None
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.model = klass_info["model"]
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, alias)
        self.converters = compiler.get_converters([column[0] for column in select])
        self.compiler = compiler
        self.alias = alias


class CompiledQuery:
    """`build(*values)` → a queryset, compiled once per connection, then run with new values.

    `build` is called once per database connection with stand-ins for the values; each must
    reach the SQL unchanged (an exact lookup). `all(*values)` runs the SQL with the real
    values: the model instances, with their `select_related` objects, exactly as the
    queryset would have made them, in one query."""

    def __init__(self, build: Callable[..., QuerySet], using: str = DEFAULT_DB_ALIAS) -> None:
        self.build = build
        self.using = using
        self._by_connection: WeakKeyDictionary = WeakKeyDictionary()

    def _compiled(self, count: int) -> _Compiled:
        connection = connections[self.using]  # one per thread: so is its compiled query
        compiled = self._by_connection.get(connection)
        if compiled is None:
            placeholders = [_Placeholder(f"compiled-query-value-{n}") for n in range(count)]
            compiled = _Compiled(self.build(*placeholders), placeholders, self.using)
            self._by_connection[connection] = compiled
        return compiled

    def all(self, *values: object) -> list[Model]:
        """The instances the queryset built with `values` finds (one query)."""
        compiled = self._compiled(len(values))
        params = list(compiled.params)
        for slot, value in zip(compiled.slots, values, strict=True):
            params[slot] = value
        with connections[self.using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        found = []
        for row in rows:
            instance = compiled.model.from_db(
                compiled.alias, compiled.init_list, row[compiled.start : compiled.end]
            )
            for populator in compiled.populators:
                populator.populate(row, instance)
            found.append(instance)
        return found

    def first(self, *values: object) -> Model | None:
        """The first instance `all(*values)` finds, else None (one query)."""
        found = self.all(*values)
        return found[0] if found else None
