"""The job declarations (executor/job_types.py): one per Press job, every route derived from
them, every bad request refused when the route is made (before Press's job is stored, so
Press gets the agent's 4xx), and the stored request's secrets hidden from what they declare."""

import json

import pytest
from press_requests import KEY_PEM, REQUESTS, bad_requests, request_for, secret_keys

from press_selfhosted.exceptions import NotSupported, ValidationError
from press_selfhosted.executor import job_types, routes
from press_selfhosted.executor.jobs import MASK, Job, Recorder

DECLARED = routes.declared()


def test_every_declared_job_has_a_request_here_and_every_request_a_job():
	assert set(REQUESTS) == set(DECLARED)


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_a_good_request_routes_to_its_own_job_type(name):
	declared = DECLARED[name]
	path, body = request_for(declared)
	route = routes.job(declared.method, path, body)
	assert route.job_type is declared
	assert route.name == name
	# Press writes some paths with a leading slash (its Agent Job Type fixture does).
	assert routes.job(declared.method, f"/{path}", body).job_type is declared


def test_no_path_reaches_two_job_types():
	for declared in DECLARED.values():
		path, _ = request_for(declared)
		matching = [other.name for other in DECLARED.values() if other.match(declared.method, path.split("/")) is not None]
		assert matching == [declared.name]


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_every_bad_request_is_refused_at_the_route_with_a_typed_error(name):
	declared = DECLARED[name]
	cases = bad_requests(declared)
	accepted = []
	for path, body, what in cases:
		try:
			routes.job(declared.method, path, body)
		except (ValidationError, NotSupported) as e:
			assert "\x00" not in str(e)
		else:
			accepted.append(what)
	assert not accepted, f"{name} accepted: {accepted}"


def test_the_probe_is_as_wide_as_the_issue_asked():
	cases = [case for declared in DECLARED.values() for case in bad_requests(declared)]
	assert len(cases) > 1000
	# Names with ../, shell characters, NUL and 300 characters; bodies and configs that are not
	# objects; an integer no field can hold.
	for marker in ("..", ";", "\\x00", "xxxxxxxxxx", "10000000000", "'x'"):
		assert any(marker in what for _, _, what in cases), marker


def test_unknown_paths_and_methods_are_not_supported():
	for method, path in (("POST", "benches/b1/sites/s1.acme.example/nonsense"), ("GET", "benches"), ("PUT", "proxy/reload"),
			("POST", "benches/../sites"), ("POST", "")):
		with pytest.raises(NotSupported):
			routes.job(method, path, {})


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_the_stored_request_hides_every_declared_secret_and_gives_it_back(name):
	declared = DECLARED[name]
	keys = secret_keys(REQUESTS[name])
	markers = {key: f"MARK{i:02d}{key}SECRET" for i, key in enumerate(sorted(keys))}
	if "private_key" in markers:  # a key must look like one
		markers["private_key"] = KEY_PEM.format(markers["private_key"])
	path, body = request_for(declared, secrets=markers)
	route = routes.job(declared.method, path, body)
	# What the job masks: every marker of the request, and nothing else; and each secret the job
	# declares is one of them (a declaration this test's request does not exercise fails here).
	assert sorted(route.secrets) == sorted(markers.values())
	for pattern in declared.secrets:
		assert job_types.secret_values((pattern,), body), f"{name}: the request here has no {pattern}"
	shown, hidden = job_types.hide(declared.secrets, body)
	stored = json.dumps(shown)
	for key, marker in markers.items():
		assert marker not in stored, f"{name}: {key} is stored in plain text"
	assert job_types.reveal(json.loads(stored), json.loads(json.dumps(hidden))) == body
	if keys:
		assert MASK in stored


def test_a_clone_url_keeps_its_address_and_loses_only_its_token():
	declared = DECLARED["Run Remote Builder"]
	path, body = request_for(declared, secrets={"clone_token": "ghp_TOKEN123"})
	shown, _ = job_types.hide(declared.secrets, body)
	assert shown["clone_instructions"][0]["url"] == f"https://x-access-token:{MASK}@git.example/frappe/frappe"
	assert "ghp_TOKEN123" in routes.job("POST", path, body).secrets


def test_a_step_a_job_did_not_declare_is_refused():
	rec = Recorder(Job(1, "Clear Cache"), steps=DECLARED["Clear Cache"].steps)
	with pytest.raises(job_types.ExecutorError, match="declares no step 'Reload NGINX'"):
		with rec.step("Reload NGINX"):
			pass
	with rec.step("Clear Cache") as step:
		step.say("fine")
	assert [s.name for s in rec.job.steps] == ["Clear Cache"]


def test_every_step_with_nothing_to_do_is_a_step_some_job_declares():
	declared_steps = {step for declared in DECLARED.values() for step in declared.steps}
	assert set(job_types.NOTHING_TO_DO) <= declared_steps


def test_a_second_declaration_of_a_job_type_is_refused():
	with pytest.raises(job_types.ExecutorError, match="declared twice"):
		job_types.job_type("Clear Cache", "DELETE", "benches/{bench}/cache", steps=("Clear Cache",))(lambda p, r: {})
	with pytest.raises(job_types.ExecutorError, match="not a known path parameter"):
		job_types.job_type("Something New", "POST", "benches/{nonsense}", steps=("x",))
	assert "Something New" not in routes.declared()


def test_no_secret_is_in_the_repr_of_a_route_or_of_what_it_carries():
	declared = DECLARED["Archive Site"]
	path, body = request_for(declared, secrets={"root_password": "ROOTPW-marker", "offsite_secret": "S3KEY-marker"})
	route = routes.job("POST", path, body)
	shown = repr(route) + repr(route.arguments["offsite"])
	assert "ROOTPW-marker" not in shown and "S3KEY-marker" not in shown
	assert "S3KEY-marker" in route.secrets
