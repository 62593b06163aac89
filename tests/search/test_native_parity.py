"""The same queries give the same answers on the native index (FT.*) and the fallback.

Runs when the ``[search]`` extra is installed: an embedded server with the search
module starts in its own data folder for this module.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from search_helpers import needs_module
from test_fallback_search import RECORDS
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb.keys import DEFAULT_PARTITIONS, Keys
from hotmesh_nb.runtime import get_runtime
from hotmesh_nb.search import SearchEngine, SearchOptions, clauses_to_query

pytestmark = [pytest.mark.search, needs_module]

SCHEMA = {
    "status": {"type": "TAG"},
    "amount": {"type": "NUMERIC", "sortable": True},
    "note": {"type": "TEXT", "nostem": True},
}

QUERIES = [
    "*",
    "@_status:{open}",
    "@_status:{OPEN|shipped}",
    "@_status:{refunded}",
    "@_amount:[10 99]",
    "@_amount:[(10 +inf]",
    "@_amount:[-inf (10]",
    "@_note:blue",
    '@_note:"blue lamp"',
    '@_note:"kitchen chair"',
    "@_note:(red sofa)",
    "kitchen",
    "@_status:{open} @_amount:[50 +inf]",
    "-@_status:{open}",
    "@_note:the",
]


def _answers(url: str, namespace: str, mode: str, partitions: int = 1) -> dict[str, list[str]]:
    conn = hotmesh_nb.connect(url)
    keys = Keys(f"{namespace}{mode}{partitions}", "shop", partitions)
    engine = SearchEngine(conn.client, keys, mode=mode)  # type: ignore[arg-type]

    async def go() -> dict[str, list[str]]:
        await engine.create_index(SearchOptions("orders", prefix=["order-"], schema=SCHEMA))
        for record, fields in RECORDS.items():
            await engine.write(record, fields)
        await asyncio.sleep(0.1)  # the native index updates asynchronously on some servers
        out = {}
        for query in QUERIES:
            result = await engine.search("orders", query, limit=100)
            out[query] = sorted(rid for rid, _ in result.records)
        sorted_page = await engine.search(
            "orders", "@_amount:[-inf +inf]", sort_by="amount", ascending=False, limit=2
        )
        out["sorted"] = [rid for rid, _ in sorted_page.records]
        out["count"] = [str(sorted_page.count)]
        for ascending in (True, False):
            for offset in range(5):  # pages of 2 from every offset, across partitions
                page = await engine.search(
                    "orders", "*", sort_by="amount", ascending=ascending, offset=offset, limit=2
                )
                out[f"page {offset} {ascending}"] = [
                    f"{rid} {sorted(fields.items())}" for rid, fields in page.records
                ] + [str(page.count)]
        return out

    return get_runtime().run(go())


@pytest.mark.parametrize("partitions", [1, 7])
def test_native_and_fallback_agree(search_url: str, namespace: str, partitions: int) -> None:
    native = _answers(search_url, namespace, "native", partitions)
    fallback = _answers(search_url, namespace, "fallback", partitions)
    assert native == fallback
    if partitions > 1:  # the records spread over the partitions, and the answers agree
        keys = Keys(namespace, "shop", partitions)
        assert len({keys.part_of(r).index for r in RECORDS}) > 2
        assert native == _answers(search_url, namespace, "native")
    assert native["@_status:{open}"] == ["order-1", "order-3"]
    assert native["sorted"] == ["order-2", "order-3"] and native["count"] == ["4"]


def test_an_index_on_a_prefix_only_touches_that_prefix(search_url: str, namespace: str) -> None:
    assert _answers(search_url, namespace, "native")["*"] == [
        "order-1",
        "order-2",
        "order-3",
        "order-4",
    ]


WORDS_SCHEMA = {
    "body": {"type": "TEXT"},
    "exact": {"type": "TEXT", "nostem": True},
    "tags": {"type": "TAG"},
    "n": {"type": "NUMERIC"},
}

# Each text goes into both TEXT fields (stemmed and nostem) of its own record.
TEXTS = {
    "w-run": "run",
    "w-runs": "runs",
    "w-running": "Running",
    "w-runner": "runner",
    "w-ran": "ran",
    "w-cat": "cat",
    "w-cats": "cats",
    "w-going": "going places",
    "w-fly": "flies flying fly",
    "w-gen": "generously generous generation",
    "w-happy": "happiness",
    "w-bus": "buses",
    "w-under": "foo_bar baz",
    "w-escaped": "a\\|b c",
    "w-quote": "don't stop",
    "w-cafe": "Café CAFÉ",
    "w-pi": "3.14 10,000",
    "w-dash": "well-known",
    "w-ecole": "ÉCOLE",
    "w-long": "x" * 300,
    "w-newline": "qq\nzz tab\tsplit",
}

# Records with odd TAG and NUMERIC values: the native index reads them in its own way,
# and leaves a record whose NUMERIC value is not a number out of every answer.
ODD = {
    "o-1": {"tags": " a , b ,, c", "n": "+5"},
    "o-2": {"tags": "ÉCOLE", "n": ".5"},
    "o-3": {"tags": "a\\b", "n": "1e5"},
    "o-4": {"tags": "Ab\tC", "n": "inf"},
    "o-5": {"tags": "b", "n": " 7"},
    "o-6": {"tags": "c", "n": "nan"},
    "o-7": {"tags": "d", "n": "0x10"},
    "o-8": {"tags": "e", "n": ""},
    "o-9": {"tags": "f", "n": "1e400"},
    "o-10": {"tags": "g", "n": "-0"},
}

WORD_QUERIES = [
    "@_body:run",
    "@_body:running",
    "@_body:runs",
    "@_body:ran",
    "@_body:runner",
    '@_body:"running"',
    "@_exact:running",
    "@_exact:run",
    '@_exact:"running"',
    "running",
    "@_body:cat",
    "@_body:cats",
    "@_body:go",
    "@_body:going",
    "@_body:fly",
    "@_body:flies",
    "@_body:generous",
    "@_body:generation",
    "@_body:gener",
    "@_body:happy",
    "@_body:happi",
    "@_body:bus",
    "@_body:buses",
    "@_body:(going places)",
    '@_body:"going places"',
    '@_body:"go places"',
    "-@_body:run",
    "-@_body:running",
    "-running",
    "-@_body:(running cats)",
    "@_body:foo_bar",
    "@_body:foo",
    "@_body:a\\|b",
    '@_body:"a\\|b c"',
    "@_body:don",
    "@_body:t",
    "@_body:café",
    "@_body:CAFÉ",
    "@_body:cafe",
    "@_body:3",
    "@_body:14",
    "@_body:000",
    "@_body:well",
    "@_body:known",
    "@_body:école",
    "@_body:École",
    "@_body:" + "x" * 128,
    "@_body:qqzz",
    "@_body:tab",
    "@_status:{open}",
    "@body:run",
    "*",
    "@_tags:{a}",
    "@_tags:{b}",
    "@_tags:{c}",
    "@_tags:{ÉCOLE}",
    "@_tags:{école}",
    "@_tags:{a\\\\b}",
    "@_tags:{ab\\\tc}",
    "@_n:[-inf +inf]",
    "@_n:[5 5]",
    "@_n:[0 0]",
    "@_n:[100000 100000]",
    "@_n:[inf inf]",
    "-@_n:[5 5]",
]


def _word_answers(url: str, namespace: str, mode: str) -> dict[str, list[str]]:
    conn = hotmesh_nb.connect(url)
    engine = SearchEngine(
        conn.client, Keys(f"{namespace}{mode}", "words", DEFAULT_PARTITIONS), mode=mode
    )  # type: ignore[arg-type]
    records = {r: {"body": t, "exact": t} for r, t in TEXTS.items()} | ODD

    async def go() -> dict[str, list[str]]:
        options = SearchOptions("words", prefix=["w-", "o-"], schema=WORDS_SCHEMA)
        await engine.create_index(options)
        for record, fields in records.items():
            await engine.write(record, fields)
        # Records only while they hold a field of the index: not after losing all of
        # them, nor with fields of no index.
        await engine.write("o-11", {"tags": "z", "n": 1})
        await engine.write("o-11", {}, ["tags", "n"])
        await engine.write("o-12", {"other": "z"})
        await asyncio.sleep(0.2)  # the native index updates asynchronously
        return {
            query: sorted(
                rid for rid, _ in (await engine.search("words", query, limit=100)).records
            )
            for query in WORD_QUERIES
        }

    return get_runtime().run(go())


def test_words_stems_tags_and_numbers_are_read_as_the_module_reads_them(
    search_url: str, namespace: str
) -> None:
    native = _word_answers(search_url, namespace, "native")
    fallback = _word_answers(search_url, namespace, "fallback")
    assert fallback == native
    # What the native module answers, spelt out (Snowball English stems; words of 4
    # bytes and more are indexed with their stem; quotes match exact words).
    assert native["@_body:running"] == ["w-run", "w-running", "w-runs"]
    assert native['@_body:"running"'] == ["w-running"]
    assert native["@_exact:running"] == ["w-run", "w-running"]  # the query's stem, exactly
    assert "w-runs" in native["-@_body:running"]  # a negated word is not stemmed
    assert native["@_body:go"] == ["w-going"]
    assert native["@_body:bus"] == [] and native["@_body:buses"] == ["w-bus"]
    assert native["@_body:foo_bar"] == ["w-under"] and native["@_body:foo"] == []
    assert native["@_body:École"] == ["w-ecole"] and native["@_body:école"] == []
    assert native["@_n:[-inf +inf]"] == ["o-1", "o-10", "o-2", "o-3", "o-4"]
    assert "o-6" not in native["*"] and "o-6" not in native["-@_n:[5 5]"]
    assert "o-11" not in native["*"] and "o-12" not in native["*"]


ALPHABET = "aAbBzZ019 _-,.|\\\"'{}[]()@:*%~$^&;!?/<>=+#`\téÉß日\n"
NUMBER_PARTS = ["", "+", "-", "0", "1", "9", ".", "5", "e", "E", "e-", "e+", "inf", "INF", "x", " "]
BOUNDS = ["-inf", "+inf", "0", "1", "-1", "0.5", "(0", "(1", "(-1", "1e5", "(inf", "-0.5", "1e-5"]
STEMS = ["run", "jump", "happy", "generous", "connect", "fly", "study", "agree", "bus", "nation"]
ENDINGS = ["", "s", "es", "ing", "ed", "er", "ly", "ness", "ation", "ies", "ful"]


def _random_answers(
    url: str, namespace: str, mode: str, partitions: int = 1
) -> dict[str, list[str]]:
    """Seeded random values (every kind of character), words (every kind of ending) and
    numbers (well and badly formed): stored, then searched with find_where clauses and
    with hand-written queries."""
    rng = random.Random(1719)
    values = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12))) for _ in range(80)]
    vocabulary = [s + e for s in STEMS for e in ENDINGS]
    texts = [" ".join(rng.choice(vocabulary) for _ in range(3)) for _ in range(60)]
    numbers = [
        "".join(rng.choice(NUMBER_PARTS) for _ in range(rng.randint(1, 4))) for _ in range(80)
    ]
    conn = hotmesh_nb.connect(url)
    keys = Keys(f"{namespace}{mode}{partitions}", "fuzz", partitions)
    engine = SearchEngine(conn.client, keys, mode=mode)  # type: ignore[arg-type]
    options = SearchOptions("fuzz", prefix=["f-"], schema=WORDS_SCHEMA)

    async def go() -> dict[str, list[str]]:
        await engine.create_index(options)
        for position, value in enumerate(values):
            await engine.write(f"f-v{position}", {"tags": value, "body": value})
        for position, text in enumerate(texts):
            await engine.write(f"f-t{position}", {"body": text, "exact": text})
        for position, number in enumerate(numbers):
            await engine.write(f"f-n{position}", {"n": number, "tags": "number"})
        await asyncio.sleep(0.3)  # the native index updates asynchronously
        queries = [
            clauses_to_query([{"field": field, "is": "=", "value": value}], options)
            for value in values
            for field in ("tags", "body")
        ]
        for word in vocabulary:
            queries += [f"@_body:{word}", f'@_body:"{word}"', f"@_exact:{word}", f"-{word}"]
        queries += [f"@_n:[{low} {high}]" for low in BOUNDS for high in BOUNDS]
        queries += ["*", "@_tags:{number}"]
        for _ in range(60):
            first, second = rng.choice(vocabulary), rng.choice(vocabulary)
            queries += [f'@_exact:"{first} {second}"', f"@_body:({first} {second})"]
            queries += [f'"{first} {second}"', f"{first} {second}"]
        out = {}
        for query in queries:
            result = await engine.search("fuzz", query, limit=1000)
            out[query] = sorted(rid for rid, _ in result.records)
        return out

    return get_runtime().run(go())


@pytest.mark.parametrize("partitions", [1, 5])
def test_random_values_and_words_give_the_same_answers(
    search_url: str, namespace: str, partitions: int
) -> None:
    native = _random_answers(search_url, namespace, "native", partitions)
    fallback = _random_answers(search_url, namespace, "fallback", partitions)
    assert len(native) > 800
    assert {q: r for q, r in fallback.items() if r != native[q]} == {}
    assert sum(1 for rows in native.values() if rows) > 300  # most queries find something


def test_a_native_index_of_another_layout_is_created_anew(
    search_url: str, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An app redeployed with partitions finds its native index of before (over the one
    prefix of the old layout) re-created over every partition, not silently empty."""
    conn = hotmesh_nb.connect(search_url)
    options = SearchOptions("orders", prefix=["order-"], schema=SCHEMA)
    before = SearchEngine(conn.client, Keys(namespace, "shop", 1), mode="native")
    after = SearchEngine(conn.client, Keys(namespace, "shop", 7), mode="native")

    async def go() -> tuple[bool, bool]:
        assert await before.create_index(options) is True
        for record, fields in RECORDS.items():
            await after.write(record, fields)
        again = await before.create_index(options)  # same layout: nothing to do
        return again, await after.create_index(options)

    def found() -> list[str]:
        result = get_runtime().run(after.search("orders", "*", limit=100))
        return sorted(r for r, _ in result.records)

    with caplog.at_level("WARNING", logger="hotmesh_nb.search._native"):
        again, created = get_runtime().run(go())
    assert (again, created) == (False, True)
    # The module indexes the hashes that exist in the background.
    wait_until(lambda: len(found()) == 4)
    assert found() == ["order-1", "order-2", "order-3", "order-4"]
    assert "re-creating it" in caplog.text
    assert get_runtime().run(after.create_index(options)) is False  # now in step
    hotmesh_nb.shutdown()
