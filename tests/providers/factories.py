"""factory_boy factories of the providers tests. Accounts are built through their service."""

import factory
from factory.django import DjangoModelFactory

from providers import services
from providers.authentication import validate_authentication_config
from providers.models import Account, LargeLanguageModel, Provider
from tests.factories import WorkspaceFactory


class ProviderFactory(DjangoModelFactory):
    """A workspace-owned service provider with bearer authentication."""

    class Meta:
        model = Provider

    workspace = factory.SubFactory(WorkspaceFactory)
    key = factory.Sequence(lambda number: f"service-{number}")
    name = factory.Sequence(lambda number: f"Service {number}")
    kind = "service"
    llm_protocol = ""
    base_url = "https://api.example.com"
    test_path = ""
    authentication_config = factory.LazyFunction(lambda: {"strategy": "bearer"})

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Normalised as the API would store it, so that defaults such as the bearer header apply.
        config, client_secret = validate_authentication_config(kwargs.pop("authentication_config"))
        kwargs["oauth_client_secret"] = kwargs.get("oauth_client_secret") or client_secret
        return super()._create(model_class, *args, authentication_config=config, **kwargs)


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account

    workspace = factory.SubFactory(WorkspaceFactory)
    provider = factory.SubFactory(ProviderFactory, workspace=factory.SelfAttribute("..workspace"))
    name = factory.Sequence(lambda number: f"Account {number}")
    user = None
    credentials = factory.LazyFunction(lambda: {"token": "factory-token-0000000000"})

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.account_create(**kwargs)


class LargeLanguageModelFactory(DjangoModelFactory):
    class Meta:
        model = LargeLanguageModel

    provider = factory.SubFactory(ProviderFactory, kind="llm", llm_protocol="openai")
    workspace = factory.LazyAttribute(lambda llm: llm.provider.workspace)
    model = factory.Sequence(lambda number: f"model-{number}")
    display_name = factory.LazyAttribute(lambda llm: llm.model)
    context_window = 8192
    max_output_tokens = 1024
    input_price_per_million = "2.000000"
    output_price_per_million = "8.000000"
    capabilities = factory.LazyFunction(lambda: ["streaming", "tools"])
