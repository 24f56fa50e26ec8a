"""`POST /api/links/accept` and `POST /api/links/reject`: a curator's decision on an entity's Wikidata link,
made by the code path of `dispute-kg link accept|reject` (`links.decide`).

Only with `serve --allow-update` and the update token as a bearer token, checked by the very function that
guards `/api/additions`. The body is a JSON object: `entity` (a path such as `state/japan`, or the IRI),
`qid` (`Q17`, `wd:Q17` or the item's IRI), and optionally `note`, `author` (an IRI; else the server's
$DISPUTE_KG_AUTHOR) and `author_label`. Answers: 200 with the decision and the entity's records as they now
stand; 400 for malformed input, an unknown entity or a malformed QID; 422 when the item fails the checks of
`link --check`; 401/403 without updates or the token. A refusal writes nothing.
"""

from __future__ import annotations

import json

from ..errors import CheckFailed
from .app import App, HTTPError, Request, Response, View, check_token, json_response

FIELDS = ("entity", "qid", "note", "author", "author_label")


def _decision_body(req: Request) -> dict[str, str]:
    if req.content_type != "application/json":
        raise HTTPError(415, "send the decision as application/json: {\"entity\": ..., \"qid\": ...}")
    try:
        data = json.loads(req.body().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise HTTPError(400, "the body must be a JSON object with entity and qid")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise HTTPError(400, f"unknown field(s) {', '.join(map(repr, unknown))} (fields: {', '.join(FIELDS)})")
    for name, value in data.items():
        if not isinstance(value, str):
            raise HTTPError(400, f"{name} must be a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (`"\ud800"`) parses as JSON but is no text to record
            raise HTTPError(400, f"{name} is not valid Unicode text") from None
    for name in ("entity", "qid"):
        if not data.get(name, "").strip():
            raise HTTPError(400, f"{name} is missing")
    return {k: v.strip() if k in ("entity", "qid", "author") else v for k, v in data.items()}


def decision_view(app: App) -> View:
    def view(req: Request) -> Response:
        from ..links import Decision, link_state

        check_token(app, req)
        body = _decision_body(req)
        reject = req.params["action"] == "reject"
        decision = Decision(body["entity"], body["qid"], reject, body.get("note", ""))
        try:
            lines = app.kg.decide_links([decision], body.get("author") or None,
                                        author_label=body.get("author_label", ""))
        except CheckFailed as exc:  # the item failed the checks of `link --check`: nothing written
            raise HTTPError(422, str(exc)) from None
        return json_response({"decision": req.params["action"], "result": lines,
                              "record": link_state(app.kg.project, decision.entity)})

    return view


def install(app: App) -> None:
    app.add_route("POST", r"/api/links/(?P<action>accept|reject)", decision_view(app))
