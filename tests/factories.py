"""factory_boy factories for the domain: each makes a valid row owned by one builder."""

from datetime import UTC, datetime

import factory
from django.utils import timezone

from common.builders import Builder
from reactions.models import Channel, Reaction, Recipient, Share, Visit, VisitKind
from sessions.models import BuildSession, Preview

PASSWORD = "correct horse battery staple"
JOINED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class BuilderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Builder

    email = factory.Sequence(lambda n: f"builder{n}@example.com")
    name = factory.Faker("first_name")
    password = PASSWORD
    time_zone = "UTC"
    date_joined = JOINED
    email_confirmed_at = JOINED

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> Builder:
        return model_class.objects.create_user(*args, **kwargs)


class BuildSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BuildSession

    builder = factory.SubFactory(BuilderFactory)
    title = factory.Sequence(lambda n: f"Prototype {n}")


class PreviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Preview

    session = factory.SubFactory(BuildSessionFactory)
    url = factory.Sequence(lambda n: f"https://prototype-{n}.example.dev/")


class RecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recipient

    builder = factory.SubFactory(BuilderFactory)
    name = factory.Sequence(lambda n: f"Person {n}")


class ShareFactory(factory.django.DjangoModelFactory):
    """A share sent at `sent_at` (now by default), stamped with the builder-local day."""

    class Meta:
        model = Share

    recipient = factory.SubFactory(RecipientFactory)
    preview = factory.SubFactory(
        PreviewFactory, session__builder=factory.SelfAttribute("...recipient.builder")
    )
    channel = Channel.DM
    sent_at = factory.LazyFunction(timezone.now)
    day = factory.LazyAttribute(lambda share: share.recipient.builder.local_day(share.sent_at))


class ReactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reaction

    share = factory.SubFactory(ShareFactory)
    builder = factory.SelfAttribute("share.recipient.builder")
    text = factory.Sequence(lambda n: f"I tried it and noticed thing number {n}.")
    created_at = factory.LazyFunction(timezone.now)


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    share = factory.SubFactory(ShareFactory)
    kind = VisitKind.OPEN
    at = factory.LazyFunction(timezone.now)
