"""The Reconciliation Service API on `serve`, checked against the specification's own JSON schemas
(version 0.2, vendored in tests/reconciliation-schemas/) and with requests shaped as OpenRefine sends
them: a manifest GET, query batches POSTed as the form field `queries`, previews and suggest calls."""

from __future__ import annotations

import json
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from dispute_kg.http.listener import Limits, make_listener
from dispute_kg.http.server import call, make_app

SCHEMAS = Path(__file__).parent / "reconciliation-schemas"


def _registry() -> tuple[Registry, dict[str, dict]]:
    """Every vendored schema under its own $id, so `"$ref": "type.json"` resolves offline."""
    schemas = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.glob("*.json")}
    resources = [(s["$id"], Resource.from_contents(s, default_specification=DRAFT7)) for s in schemas.values()]
    return Registry().with_resources(resources), schemas


REGISTRY, SCHEMA = _registry()


def valid(instance: object, name: str) -> None:
    jsonschema.Draft7Validator(SCHEMA[name], registry=REGISTRY).validate(instance)


@pytest.fixture(scope="module")
def app(kg):
    return make_app(kg)


def get(app, path: str) -> tuple[int, dict, bytes]:
    return call(app, path, headers={"Host": "127.0.0.1:8000"})


def post_queries(app, batch: dict) -> tuple[int, dict, bytes]:
    body = urllib.parse.urlencode({"queries": json.dumps(batch)}).encode()
    return call(app, "/reconcile", "POST", body,
                {"Content-Type": "application/x-www-form-urlencoded", "Host": "127.0.0.1:8000"})


SUGGEST_SCHEMA = {"entity": "suggest-entities-response", "type": "suggest-types-response",
                  "property": "suggest-properties-response"}

# What OpenRefine 3.x sends: a type, "should" strictness, and column values as properties.
OPENREFINE_BATCH = {
    "q0": {"query": "Etorofu", "type": "Island", "type_strict": "should"},
    "q1": {"query": "habomai islands", "type": "Territory", "type_strict": "should", "limit": 3},
    "q2": {"query": "Russian Federation", "type": "State", "type_strict": "should"},
    "q3": {"query": "Soviet-Japanese Joint Declaration", "type": ["Agreement", "Treaty"]},
    "q4": {"query": "Kunashir", "properties": [{"pid": "partOf", "v": "Kuril Islands"}]},
    "q5": {"query": "Iturup", "properties": [{"pid": "https://w3id.org/dispute-kg/def#partOf",
                                              "v": {"id": "territory/kuril-islands", "name": "Kuril Islands"}}]},
    "q6": {"query": "territory/shikotan"},
    "q7": {"query": "Zzyzx Nowhere"},
}


def test_manifest_is_valid_and_points_at_working_services(app):
    status, headers, body = get(app, "/reconcile")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    manifest = json.loads(body)
    valid(manifest, "manifest")
    assert manifest["versions"] == ["0.2"]
    assert manifest["identifierSpace"] == "https://w3id.org/dispute-kg/id/"
    assert {t["id"] for t in manifest["defaultTypes"]} >= {"State", "Territory", "Agreement"}
    preview = manifest["preview"]["url"].replace("{{id}}", urllib.parse.quote("territory/iturup", safe=""))
    assert preview.startswith("http://127.0.0.1:8000/reconcile/preview")
    status, headers, page = get(app, preview[len("http://127.0.0.1:8000"):])
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"Iturup" in page
    for kind in ("entity", "type", "property"):
        s = manifest["suggest"][kind]
        status, _, body = get(app, (s["service_url"] + s["service_path"])[len("http://127.0.0.1:8000"):] + "?prefix=i")
        assert status == 200, body
        valid(json.loads(body), SUGGEST_SCHEMA[kind])


def test_openrefine_batch_by_post_and_by_get(app):
    valid(OPENREFINE_BATCH, "reconciliation-query-batch")
    status, headers, body = post_queries(app, OPENREFINE_BATCH)
    assert status == 200, body
    assert headers["Access-Control-Allow-Origin"] == "*"
    result = json.loads(body)
    valid(result, "reconciliation-result-batch")
    assert set(result) == set(OPENREFINE_BATCH)
    top = {k: (v["result"][0]["id"] if v["result"] else None) for k, v in result.items()}
    assert top == {"q0": "territory/iturup", "q1": "territory/habomai", "q2": "state/russian-federation",
                   "q3": "agreement/1956-soviet-japanese-joint-declaration", "q4": "territory/kunashir",
                   "q5": "territory/iturup", "q6": "territory/shikotan", "q7": None}
    assert result["q0"]["result"][0]["match"] is True  # an alias, exactly
    assert len(result["q1"]["result"]) <= 3
    assert all({"State"} <= {t["id"] for t in c["type"]} for c in result["q2"]["result"])
    features = {f["id"]: f["value"] for f in result["q4"]["result"][0]["features"]}
    assert features["property_matches"] == 1
    scores = [c["score"] for c in result["q1"]["result"]]
    assert scores == sorted(scores, reverse=True)

    query = urllib.parse.urlencode({"queries": json.dumps({"a": {"query": "Japan", "type": "State"}})})
    status, _, body = get(app, "/reconcile?" + query)
    assert status == 200
    got = json.loads(body)
    valid(got, "reconciliation-result-batch")
    assert got["a"]["result"][0]["id"] == "state/japan" and got["a"]["result"][0]["match"] is True


@pytest.mark.parametrize("batch, message", [
    ("not json", "not JSON"),
    (json.dumps([{"query": "x"}]), "JSON object"),
    (json.dumps({"q0": {"query": "x", "limit": 0}}), "positive integer"),
    (json.dumps({"q0": {"query": "x", "limit": "5"}}), "positive integer"),
    ('{"q0": {"query": "x", "limit": Infinity}}', "positive integer"),
    (json.dumps({"q0": {"query": "x", "limit": 2.5}}), "positive integer"),
    (json.dumps({"q0": {"query": ""}}), "non-empty"),
    (json.dumps({"q0": {"query": "x", "type": 5}}), "type"),
    (json.dumps({"q0": {"query": "x", "properties": [{"pid": "partOf"}]}}), "properties"),
    (json.dumps({f"q{i}": {"query": "x"} for i in range(101)}), "at most 100"),
])
def test_bad_batches_are_400_with_a_message(app, batch, message):
    body = urllib.parse.urlencode({"queries": batch}).encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, out = call(app, "/reconcile", "POST", body, form)
    assert status == 400, out
    assert message in json.loads(out)["error"]


def test_suggest_and_preview(app):
    status, _, body = get(app, "/reconcile/suggest/entity?prefix=kun")
    out = json.loads(body)
    valid(out, "suggest-entities-response")
    assert out["result"][0]["id"] == "territory/kunashir" and out["result"][0]["notable"]
    status, _, body = get(app, "/reconcile/suggest/entity?prefix=territory/iturup")
    assert json.loads(body)["result"][0]["id"] == "territory/iturup"  # an identifier as prefix
    _, _, first = get(app, "/reconcile/suggest/entity?prefix=s")
    _, _, second = get(app, "/reconcile/suggest/entity?prefix=s&cursor=1")
    assert json.loads(first)["result"][1] == json.loads(second)["result"][0]
    _, _, body = get(app, "/reconcile/suggest/type?prefix=isl")
    types = json.loads(body)
    valid(types, "suggest-types-response")
    assert {"Island", "IslandGroup"} <= {t["id"] for t in types["result"]}
    _, _, body = get(app, "/reconcile/suggest/property?prefix=part")
    props = json.loads(body)
    valid(props, "suggest-properties-response")
    assert "partOf" in {p["id"] for p in props["result"]}
    assert get(app, "/reconcile/suggest/entity?prefix=x&cursor=-1")[0] == 400
    assert get(app, "/reconcile/suggest/entity")[0] == 400
    assert get(app, "/reconcile/suggest/nothing?prefix=x")[0] == 404
    assert get(app, "/reconcile/preview?id=territory/nowhere")[0] == 404
    status, headers, _ = call(app, "/reconcile", "OPTIONS", headers={"Origin": "https://openrefine.example"})
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "*"


def test_preview_escapes_what_the_graph_says(kg):
    from dispute_kg.links.service import IndexedEntity, ReconciliationService

    service = ReconciliationService(kg)
    service.entities["x/evil"] = IndexedEntity("x/evil", "<script>alert(1)</script>", ["<script>alert(1)</script>"],
                                               "\"><img src=x onerror=alert(1)>", {"Island"})
    page = service.preview("x/evil", "http://127.0.0.1:8000")
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page


def test_a_real_http_client_reconciles_against_serve(kg):
    server = make_listener(make_app(kg), "127.0.0.1", 0, Limits())  # the server `dispute-kg serve` runs
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.effective_port}/reconcile"
        with urllib.request.urlopen(base, timeout=10) as resp:
            manifest = json.load(resp)
        valid(manifest, "manifest")
        assert manifest["preview"]["url"].startswith(base)
        data = urllib.parse.urlencode({"queries": json.dumps(OPENREFINE_BATCH)}).encode()
        req = urllib.request.Request(base, data=data, headers={"User-Agent": "OpenRefine/3.8 (test)"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            result = json.load(resp)
        valid(result, "reconciliation-result-batch")
        assert result["q0"]["result"][0]["id"] == "territory/iturup"
    finally:
        server.close()


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
QUERY = st.fixed_dictionaries({}, optional={"query": st.text(max_size=30) | JSON, "type": JSON | st.text(max_size=12),
                                            "limit": JSON, "type_strict": JSON, "properties": JSON | st.lists(
                                                st.fixed_dictionaries({"pid": st.text(max_size=10), "v": JSON}),
                                                max_size=2)})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.dictionaries(st.text(max_size=5), QUERY | JSON, max_size=3))
def test_any_batch_gets_a_valid_answer_or_a_400(app, batch):
    status, _, body = post_queries(app, batch)
    assert status in (200, 400), body
    if status == 200:
        valid(json.loads(body), "reconciliation-result-batch")
    else:
        assert json.loads(body)["error"]
