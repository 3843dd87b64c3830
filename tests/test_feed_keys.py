"""The feed's item fragments are filed under keys of every input field: change any one and the item is
rendered again (never a stale fragment), with the same bytes a cold render gives."""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from benchmarks import bench_feed
from pipeline import artifacts, feed, model
from pipeline.artifacts import BuiltEpisode, BuiltImage
from pipeline.cache import FeedFragments

ART = "https://bench.example.com/artwork/cover.jpg"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[model.Show, list[BuiltEpisode]]:
    work = tmp_path_factory.mktemp("feed-keys")
    bench_feed.prepare(work)
    show = model.load_show(work / "show" / "show.yaml")
    return show, bench_feed.make_episodes(show, work / "shared", 3)


# --------------------------------------------------------------------------- a changed value for any field


def _example(annotation: Any) -> Any:
    """A plain value of the annotated type (for a field that is empty in the inputs)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _example(args[0])
    if origin in (typing.Union, types.UnionType):
        return _example(next(a for a in args if a is not type(None)))
    if origin is typing.Literal:
        return args[-1]
    if origin is tuple:  # tuple[X, ...] or a fixed tuple[X, Y]
        return (_example(args[0]),) if args[-1] is Ellipsis else tuple(_example(a) for a in args)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.model_construct(
            **{k: _example(f.annotation) for k, f in annotation.model_fields.items() if f.is_required()}
        )
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        hints = typing.get_type_hints(annotation)
        return annotation(**{f.name: _example(hints[f.name]) for f in dataclasses.fields(annotation)})
    table: dict[Any, Any] = {
        str: "https://example.com/x",
        bool: True,
        int: 7,
        float: 2.5,
        Path: Path("/x/y.jpg"),
        dt.datetime: dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC),
        dt.date: dt.date(2024, 5, 1),
    }
    if annotation in table:
        return table[annotation]
    if isinstance(annotation, type) and issubclass(annotation, str):  # Url and other str types
        return annotation("https://example.com/x")
    raise AssertionError(f"no example for {annotation!r}: teach _example this type")


def _other(value: Any, annotation: Any) -> Any:
    """A value of the same type that differs from `value`."""
    if typing.get_origin(_unwrap(annotation)) is typing.Literal:
        return next(a for a in typing.get_args(_unwrap(annotation)) if a != value)
    if value is None or value == () or value == "":
        return _example(annotation)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, Path):
        return value.with_name("other-" + value.name)
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(days=1)
    if isinstance(value, tuple):
        args = typing.get_args(_unwrap(annotation))  # the first position's type, either tuple form
        return (_other(value[0], args[0] if args else Any), *value[1:])
    if isinstance(value, BaseModel):
        name, f = next(iter(type(value).model_fields.items()))
        return value.model_copy(update={name: _other(getattr(value, name), f.annotation)})
    if dataclasses.is_dataclass(value):
        f = dataclasses.fields(value)[0]
        hints = typing.get_type_hints(type(value))
        return dataclasses.replace(value, **{f.name: _other(getattr(value, f.name), hints[f.name])})  # type: ignore[type-var]
    raise AssertionError(f"no change for {value!r}")


def _unwrap(annotation: Any) -> Any:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _unwrap(args[0])
    if origin in (typing.Union, types.UnionType):
        return _unwrap(next(a for a in args if a is not type(None)))
    return annotation


def _variants(show: model.Show, built: BuiltEpisode) -> list[tuple[str, model.Show, BuiltEpisode]]:
    """(field, show, record) with exactly one field changed: every field of the show, of the episode
    and of the build's record of it (nested records through their first field), found by introspection."""
    out = []
    for name, f in model.Show.model_fields.items():
        out.append(
            (f"show.{name}", show.model_copy(update={name: _other(getattr(show, name), f.annotation)}), built)
        )
    ep = built.episode
    for name, f in model.Episode.model_fields.items():
        changed = ep.model_copy(update={name: _other(getattr(ep, name), f.annotation)})
        out.append((f"episode.{name}", show, dataclasses.replace(built, episode=changed)))
    hints = typing.get_type_hints(BuiltEpisode)
    for fld in dataclasses.fields(BuiltEpisode):
        if fld.compare and fld.name != "episode":
            value = _other(getattr(built, fld.name), hints[fld.name])
            out.append((f"built.{fld.name}", show, dataclasses.replace(built, **{fld.name: value})))
    return out


# --------------------------------------------------------------------------- the tests


def test_every_input_field_is_in_the_item_key_and_a_reused_render_equals_a_cold_one(
    inputs: tuple[model.Show, list[BuiltEpisode]],
) -> None:
    show, public = inputs
    before = feed.item_keys(show, public)
    variants = _variants(show, public[0])
    assert len(variants) > 60  # the show, the episode and the record all walked
    for field, changed_show, changed in variants:
        now = [changed, *public[1:]]
        store = FeedFragments()
        feed.build_feed(show, public, artwork_url=ART, fragments=store)  # the previous build's fragments
        keys = feed.item_keys(changed_show, now)
        assert keys[0] != before[0], field
        warm = feed.build_feed(changed_show, now, artwork_url=ART, fragments=store)
        assert warm == feed.build_feed(changed_show, now, artwork_url=ART), field


def test_a_changed_item_is_rendered_again_and_the_others_are_reused(
    inputs: tuple[model.Show, list[BuiltEpisode]],
) -> None:
    show, public = inputs
    store = FeedFragments()
    first = feed.build_feed(show, public, artwork_url=ART, fragments=store)
    assert (store.hits, store.misses) == (0, 3)
    changed = dataclasses.replace(
        public[1], episode=public[1].episode.model_copy(update={"title": "A quite different title"})
    )
    again = feed.build_feed(show, [public[0], changed, public[2]], artwork_url=ART, fragments=store)
    assert (store.hits, store.misses) == (2, 4)
    assert again != first and b"<title>A quite different title</title>" in again


def test_an_enclosure_prefix_reaches_every_reused_item(inputs: tuple[model.Show, list[BuiltEpisode]]) -> None:
    # A show-level field the old hand-listed key left out: the reused items kept the old enclosure URLs.
    show, public = inputs
    store = FeedFragments()
    feed.build_feed(show, public, artwork_url=ART, fragments=store)
    prefixed = show.model_copy(
        update={"publish": show.publish.model_copy(update={"enclosure_prefix": "https://op3.dev/e/"})}
    )
    out = feed.build_feed(prefixed, public, artwork_url=ART, fragments=store)
    assert out.count(b'<enclosure url="https://op3.dev/e/') == len(public)
    assert out == feed.build_feed(prefixed, public, artwork_url=ART)


def test_a_copy_with_an_update_is_not_given_the_originals_fingerprint(
    inputs: tuple[model.Show, list[BuiltEpisode]],
) -> None:
    ep = inputs[1][0].episode
    assert ep.fingerprint  # worked out, and kept on the object
    copy = ep.model_copy(update={"title": "Another"})
    assert copy.fingerprint != ep.fingerprint
    assert ep.model_copy().fingerprint == ep.fingerprint


def test_facts_refuse_a_value_with_no_stable_form() -> None:
    assert artifacts.facts((1.5, 2.5)) != artifacts.facts((1.5, 2.0))
    assert artifacts.facts(BuiltImage(Path("/a.jpg"), "k", "https://x/a.jpg", 300))[0] == "BuiltImage"
    with pytest.raises(TypeError, match="object has no stable form"):
        artifacts.facts(object())
