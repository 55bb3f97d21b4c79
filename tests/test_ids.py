"""routeyard.ids: what is a model id, a provider slug, a tag (properties, then examples)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routeyard.ids import MAX_ID_LENGTH, is_model_id, is_provider_slug, is_tag, tag_base

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
# Every character any id may hold; anything else makes a string no id at all.
ID_CHARS = set(ALNUM + "._~+-:/")


def _word(first: str, rest: str, max_size: int = 20) -> st.SearchStrategy[str]:
    return st.builds(lambda a, b: a + b, st.sampled_from(first),
                     st.text(alphabet=rest, max_size=max_size))


authors = _word(ALNUM, ALNUM + "._~-")
slugs = _word(ALNUM, ALNUM + "._~+-")
variants = st.text(alphabet=ALNUM + "._-", min_size=1, max_size=12)
model_ids = st.builds(lambda a, s, v: f"{a}/{s}" + (f":{v}" if v else ""),
                      authors, slugs, st.none() | variants)
provider_slugs = _word(LOWER_ALNUM, LOWER_ALNUM + "._-")
tags = st.builds(lambda p, v: p + (f"/{v}" if v else ""),
                 provider_slugs, st.none() | _word(ALNUM, ALNUM + "._-", 12))


@given(model_ids)
def test_every_author_slug_variant_is_a_model_id(model_id: str) -> None:
    assert is_model_id(model_id)
    rest = model_id.partition("/")[2]
    assert "/" not in rest  # exactly one slash: it splits into the route's {author}/{slug}
    assert is_model_id(model_id.upper()) and is_model_id(model_id.lower())  # lookups ignore case


@given(st.text())
def test_a_model_id_holds_one_slash_and_only_id_characters(text: str) -> None:
    if is_model_id(text):
        assert text.count("/") == 1
        assert set(text) <= ID_CHARS
        assert 3 <= len(text) <= MAX_ID_LENGTH


@given(model_ids, st.sampled_from(" \t\n\r\x00%?#&=\\\"'<>é/"), st.data())
def test_a_foreign_character_anywhere_spoils_a_model_id(
    model_id: str, bad: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(model_id)))
    spoiled = model_id[:at] + bad + model_id[at:]
    assert not is_model_id(spoiled)


@given(model_ids)
def test_model_ids_past_the_length_limit_are_refused(model_id: str) -> None:
    author, _, slug = model_id.partition("/")
    long_id = f"{author}/{slug.split(':')[0]}{'x' * MAX_ID_LENGTH}"
    assert not is_model_id(long_id)


@given(tags)
def test_every_tag_starts_with_its_provider_slug(tag: str) -> None:
    assert is_tag(tag)
    base = tag_base(tag)
    assert is_provider_slug(base)
    assert tag == base or tag.startswith(base + "/")
    assert tag_base(base) == base  # a tag without variant is its own base


@given(st.text())
def test_tag_base_never_fails_and_is_a_prefix(text: str) -> None:
    base = tag_base(text)
    assert text.startswith(base)
    assert "/" not in base
    if is_tag(text):
        assert is_tag(base)
        assert text.count("/") <= 1


@given(st.text())
def test_a_provider_slug_is_a_tag_without_variant(text: str) -> None:
    if is_provider_slug(text):
        assert is_tag(text)
        assert tag_base(text) == text


@pytest.mark.parametrize("value", ["qwen/qwen3-32b", "deepseek/deepseek-r1:free",
                                   "meta-llama/llama-3.1-8b-instruct", "a/b", "X/Y:z",
                                   "openai/gpt-4o+search"])
def test_known_model_ids(value: str) -> None:
    assert is_model_id(value)


@pytest.mark.parametrize("value", ["", "qwen", "/x", "x/", "a/b/c", "-a/b", "a/-b", "a/b:",
                                   "a/b:c:d", "a /b", "a/b ", "é/b", "a/b%2F", "a\x00/b"])
def test_not_model_ids(value: str) -> None:
    assert not is_model_id(value)


@pytest.mark.parametrize(("tag", "base"), [("deepinfra", "deepinfra"),
                                            ("deepinfra/fp8", "deepinfra"),
                                            ("google-vertex/us-east5", "google-vertex")])
def test_tag_base_of_known_tags(tag: str, base: str) -> None:
    assert is_tag(tag)
    assert tag_base(tag) == base


@pytest.mark.parametrize("value", ["", "DeepInfra", "deepinfra/", "deepinfra/fp8/x", "/fp8",
                                   "deep infra", "deepinfra/-x"])
def test_not_tags(value: str) -> None:
    assert not is_tag(value)
