"""Handlers of the fake GitHub's operations, keyed by operationId.

Each takes (fake, path params, request, parsed JSON body) and returns a reply built from
the OpenAPI examples with the stored state filled in, so responses keep the real shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

if TYPE_CHECKING:
    from .server import FakeGitHub, _Reply
    from .validation import SpecRequest

STAMP = "2026-11-26T12:00:00Z"
BOT = "github-actions[bot]"


def _reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> _Reply:
    from .server import _Reply

    return _Reply(status, body, headers or {})


def _repo(params: dict[str, str]) -> str:
    return f"{params['owner']}/{params['repo']}"


def get_pull(fake: FakeGitHub, params: dict[str, str], req: SpecRequest, body: Any) -> _Reply:
    pr = fake.pulls.get(int(params["pull_number"]))
    if pr is None:
        return _reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com"})
    return _reply(200, pr)


def _comment_json(fake: FakeGitHub, stored: dict[str, Any], repo: str) -> dict[str, Any]:
    out = fake.example("issue-comment")
    cid = stored["id"]
    out.update(id=cid, node_id=f"IC_{cid}", body=stored["body"], created_at=stored["created"],
               updated_at=stored["updated"],
               url=f"https://api.github.com/repos/{repo}/issues/comments/{cid}",
               html_url=f"https://github.com/{repo}/pull/{stored['_issue']}#issuecomment-{cid}",
               issue_url=f"https://api.github.com/repos/{repo}/issues/{stored['_issue']}")
    out["user"] = {**out["user"], "login": stored["user"]}
    return out


def list_comments(fake: FakeGitHub, params: dict[str, str], req: SpecRequest,
                  body: Any) -> _Reply:
    query = dict(parse_qsl(req.query))
    per_page = min(100, int(query.get("per_page", fake.default_per_page)))
    page = int(query.get("page", 1))
    issue = int(params["issue_number"])
    items = fake.comments_on(issue)
    chunk = items[(page - 1) * per_page: page * per_page]
    headers = {}
    last = max(1, -(-len(items) // per_page))
    if page < last:
        base = f"{fake.url}{req.path}"
        links = [f'<{base}?{urlencode({**query, "page": page + 1})}>; rel="next"',
                 f'<{base}?{urlencode({**query, "page": last})}>; rel="last"']
        headers["link"] = ", ".join(links)
    repo = _repo(params)
    return _reply(200, [_comment_json(fake, c, repo) for c in chunk], headers)


def create_comment(fake: FakeGitHub, params: dict[str, str], req: SpecRequest,
                   body: Any) -> _Reply:
    text = str(body.get("body", ""))
    if len(text) > 65_536:
        from .server import TOO_LONG

        return _reply(422, TOO_LONG)
    cid = fake.new_id()
    stored = {"id": cid, "body": text, "user": BOT, "created": STAMP, "updated": STAMP,
              "_issue": int(params["issue_number"])}
    fake.comments[cid] = stored
    repo = _repo(params)
    location = f"https://api.github.com/repos/{repo}/issues/comments/{cid}"
    return _reply(201, _comment_json(fake, stored, repo), {"location": location})


def update_comment(fake: FakeGitHub, params: dict[str, str], req: SpecRequest,
                   body: Any) -> _Reply:
    stored = fake.comments.get(int(params["comment_id"]))
    if stored is None:
        return _reply(404, {"message": "Not Found"})
    text = str(body.get("body", ""))
    if len(text) > 65_536:
        from .server import TOO_LONG

        return _reply(422, TOO_LONG)
    stored.update(body=text, updated="2026-11-26T12:30:00Z")
    return _reply(200, _comment_json(fake, stored, _repo(params)))


def delete_comment(fake: FakeGitHub, params: dict[str, str], req: SpecRequest,
                   body: Any) -> _Reply:
    if fake.comments.pop(int(params["comment_id"]), None) is None:
        return _reply(404, {"message": "Not Found"})
    return _reply(204)


def _check_json(fake: FakeGitHub, stored: dict[str, Any], repo: str) -> dict[str, Any]:
    out = fake.example("check-run-example-of-completed-conclusion")
    rid = stored["id"]
    out.update({k: v for k, v in stored.items() if k in
                ("name", "head_sha", "status", "conclusion", "details_url", "external_id")})
    out.update(id=rid, node_id=f"CR_{rid}", url=f"https://api.github.com/repos/{repo}/check-runs/{rid}",
               html_url=f"https://github.com/{repo}/runs/{rid}", pull_requests=[])
    output = stored.get("output") or {}
    out["output"] = {**out["output"], "title": output.get("title"),
                     "summary": output.get("summary"), "text": output.get("text")}
    return out


def create_check(fake: FakeGitHub, params: dict[str, str], req: SpecRequest, body: Any) -> _Reply:
    rid = fake.new_id()
    stored = {"id": rid, "status": "queued", "conclusion": None, **body}
    if stored.get("conclusion"):
        stored["status"] = "completed"
    fake.check_runs[rid] = stored
    return _reply(201, _check_json(fake, stored, _repo(params)))


def update_check(fake: FakeGitHub, params: dict[str, str], req: SpecRequest, body: Any) -> _Reply:
    stored = fake.check_runs.get(int(params["check_run_id"]))
    if stored is None:
        return _reply(404, {"message": "Not Found"})
    stored.update(body)
    return _reply(200, _check_json(fake, stored, _repo(params)))


def list_checks(fake: FakeGitHub, params: dict[str, str], req: SpecRequest, body: Any) -> _Reply:
    query = dict(parse_qsl(req.query))
    runs = [r for r in fake.check_runs.values() if r["head_sha"] == params["ref"]
            and r["name"] == query.get("check_name", r["name"])]
    repo = _repo(params)
    return _reply(200, {"total_count": len(runs),
                        "check_runs": [_check_json(fake, r, repo) for r in runs]})


def create_status(fake: FakeGitHub, params: dict[str, str], req: SpecRequest,
                  body: Any) -> _Reply:
    out = fake.example("status")
    sid = fake.new_id()
    out.update(id=sid, node_id=f"ST_{sid}", state=body["state"],
               description=body.get("description"), target_url=body.get("target_url"),
               context=body.get("context", "default"),
               url=f"https://api.github.com/repos/{_repo(params)}/statuses/{params['sha']}")
    fake.statuses.append({"sha": params["sha"], **body})
    return _reply(201, out, {"location": out["url"]})


def rate_limit(fake: FakeGitHub, params: dict[str, str], req: SpecRequest, body: Any) -> _Reply:
    return _reply(200, fake.example("rate-limit-overview"))


HANDLERS: dict[str, Callable[..., _Reply]] = {
    "pulls/get": get_pull,
    "issues/list-comments": list_comments,
    "issues/create-comment": create_comment,
    "issues/update-comment": update_comment,
    "issues/delete-comment": delete_comment,
    "checks/create": create_check,
    "checks/update": update_check,
    "checks/list-for-ref": list_checks,
    "repos/create-commit-status": create_status,
    "rate-limit/get": rate_limit,
}
