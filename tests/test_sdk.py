"""OpenRouter's official Python SDK against a real routeyard server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openrouter import OpenRouter

from routeyard.catalog.declarative import read_starter
from routeyard.store import Store
from tests.conftest import Server

QWEN = "qwen/qwen3-235b-a22b-thinking-2507"


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[tuple[Server, str]]:
    store = Store(database_url)
    store.ensure_schema()
    key, _ = store.create_key("sdk", "read")
    store.dispose()
    server = Server(database_url, tmp_path)
    try:
        yield server, key
    finally:
        server.stop()


def sdk(server: Server, key: str) -> OpenRouter:
    return OpenRouter(api_key=key, server_url=f"{server.base}/api/v1")


def test_sdk_lists_endpoints_with_the_right_values(live: tuple[Server, str]) -> None:
    server, key = live
    starter = {m.id: m for m in read_starter().models}
    providers = read_starter().provider_map()
    with sdk(server, key) as client:
        for model_id in (QWEN, next(m for m in starter if m.endswith(":free"))):
            author, slug = model_id.split("/")
            res = client.endpoints.list(author=author, slug=slug)
            expected = starter[model_id]
            assert res.data.id == model_id
            assert res.data.name == expected.name
            assert res.data.architecture.modality == expected.modality
            got = res.data.endpoints
            assert [e.tag for e in got] == [e.tag for e in expected.endpoints]
            for wire, e in zip(got, expected.endpoints):
                assert wire.provider_name == providers[e.provider].name
                assert wire.pricing.prompt == e.pricing.prompt
                assert wire.pricing.completion == e.pricing.completion
                assert wire.context_length == e.context_length
                assert wire.quantization == e.quantization
                assert wire.model_id == model_id
                assert wire.uptime_last_30m is None and wire.latency_last_30m is None
                assert wire.status == 0


def test_sdk_lists_models_counts_and_providers(live: tuple[Server, str]) -> None:
    server, key = live
    starter = read_starter()
    with sdk(server, key) as client:
        models = client.models.list().result
        ids = [m.id for m in models.data]
        assert set(ids) == {m.id for m in starter.models}
        qwen = next(m for m in models.data if m.id == QWEN)
        assert qwen.pricing.prompt == "0.0000001179"
        assert qwen.architecture.tokenizer == "Qwen3"
        filtered = client.models.list(supported_parameters="reasoning").result
        assert 0 < len(filtered.data) < len(ids)
        assert all("reasoning" in m.supported_parameters for m in filtered.data)
        assert client.models.count().data.count == len(ids)
        paged, page = [], client.models.list(limit=10)
        while page is not None:
            paged.extend(m.id for m in page.result.data)
            page = page.next()
        assert paged == ids
        provs = client.providers.list()
        assert sorted(p.slug for p in provs.data) == sorted(p.slug for p in starter.providers)


def test_sdk_raises_on_unknown_model_and_bad_key(live: tuple[Server, str]) -> None:
    server, key = live
    with sdk(server, key) as client:
        with pytest.raises(Exception) as info:
            client.endpoints.list(author="nobody", slug="nothing")
        assert "404" in str(info.value) or getattr(info.value, "status_code", None) == 404
    with sdk(server, "sk-ry-v1-wrong") as client:
        with pytest.raises(Exception) as info:
            client.models.count()
        assert getattr(info.value, "status_code", None) == 401


def test_sdk_gets_a_model_lists_for_user_zdr_and_embeddings(live: tuple[Server, str]) -> None:
    server, key = live
    starter = read_starter()
    qwen = next(m for m in starter.models if m.id == QWEN)
    with sdk(server, key) as client:
        model = client.models.get(author="qwen", slug=QWEN.split("/")[1]).data
        assert (model.id, model.name) == (QWEN, qwen.name)
        assert model.pricing.prompt == qwen.endpoints[0].pricing.prompt
        mine = client.models.list_for_user(security={"bearer": key}).result.data
        assert sorted(m.id for m in mine) == sorted(m.id for m in starter.models)
        assert client.endpoints.list_zdr_endpoints().data == []  # no data policy in the starter
        assert client.embeddings.list_models().result.data == []
        with pytest.raises(Exception) as info:
            client.models.get(author="nobody", slug="nothing")
        assert getattr(info.value, "status_code", None) == 404


def test_openai_sdk_retrieves_a_model_and_names_an_unknown_one(live: tuple[Server, str]) -> None:
    import openai

    server, key = live
    created = next(m.created for m in read_starter().models if m.id == "qwen/qwen3-coder")
    with openai.OpenAI(api_key=key, base_url=f"{server.base}/api/v1") as client:
        model = client.models.retrieve("qwen/qwen3-coder")
        assert (model.id, model.object, model.created, model.owned_by) == (
            "qwen/qwen3-coder", "model", created, "qwen")
        with pytest.raises(openai.NotFoundError) as info:
            client.models.retrieve("qwen/qwen9-nothing")
        assert "Model qwen/qwen9-nothing not found" in str(info.value)
