"""Run Remote Builder through the local executor: an app fetched with git at its commit, the
context built on the real engines from the stand-in bench image (nothing can be pulled here),
pushed to the real registry of `make test`, and then run as a bench by New Bench, which pulls
it from there. The job's JSON is checked as Press's DeployCandidateBuild reads it."""

import base64
import json
import os
import subprocess

import pytest
from test_executor import IMAGE, new_bench_request, steps, world  # noqa: F401 (fixtures)

from press_selfhosted import exceptions as exc
from press_selfhosted.engine import LABEL_BENCH
from press_selfhosted.executor import bench as benches
from press_selfhosted.executor import routes
from press_selfhosted.executor.jobs import FAILURE, SUCCESS
from press_selfhosted.executor.routes import declared

STEPS = declared()

TOKEN = "ghp_" + "s3cret" * 4


def _git(cwd, *argv) -> str:
	env = {"PATH": os.environ["PATH"], "HOME": str(cwd), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
		"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
	return subprocess.run(["git", *argv], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def app_repo(tmp_path_factory):
	"""An app's repository with two commits; builds ask for the first."""
	repo = tmp_path_factory.mktemp("repo") / "demo_app"
	repo.mkdir()
	_git(repo, "init", "--quiet", "-b", "develop")
	(repo / "pyproject.toml").write_text('[project]\nname = "demo_app"\n')
	(repo / "hooks.py").write_text("app_name = 'demo_app'\n")
	_git(repo, "add", ".")
	_git(repo, "commit", "--quiet", "-m", "first")
	first = _git(repo, "rev-parse", "HEAD")
	(repo / "hooks.py").write_text("app_name = 'changed later'\n")
	_git(repo, "commit", "--quiet", "-am", "second")
	return repo, first


def _registry():
	with open(os.environ["PRESS_SELFHOSTED_TEST_REGISTRY_PASSWORD_FILE"]) as f:
		password = f.read()
	return {"url": os.environ["PRESS_SELFHOSTED_TEST_REGISTRY"], "username": os.environ["PRESS_SELFHOSTED_TEST_REGISTRY_USER"],
		"password": password}


def build_request(w, repo, commit, dockerfile: str, tag: str) -> dict:
	"""What DeployCandidateBuild.send_build_instructions_and_add_build_steps sends."""
	registry = _registry()
	return {
		"image_repository": f"{registry['url']}/press/{w.tag}/group-1", "image_tag": tag, "registry": registry,
		"no_cache": False, "no_push": False, "build_token": TOKEN, "deploy_candidate_build": f"dcb-{tag}",
		"dockerfile": base64.b64encode(dockerfile.encode()).decode(),
		"clone_instructions": [{"app": "demo_app", "url": f"file://{repo}", "release": "r1", "source": "s1",
			"hash": commit, "branch": "develop"}],
		"build_name": f"dcb-{tag}", "group": "group-1", "deploy_candidate_params": {"redis_cache_size": 512},
	}


DOCKERFILE = f"""FROM {IMAGE}
COPY --chown=frappe:frappe apps/demo_app /home/frappe/frappe-bench/apps/demo_app
COPY apps.txt /home/frappe/frappe-bench/sites/apps-built.txt
RUN cat /home/frappe/frappe-bench/apps/demo_app/hooks.py `#stage-apps-demo_app`
"""


def test_a_build_is_cloned_built_pushed_and_run_as_a_bench(world, app_repo):
	w, (repo, first) = world, app_repo
	request = build_request(w, repo, first, DOCKERFILE, f"b{os.getpid()}")
	job = w.job("POST", "builder/build", request)
	assert job.status == SUCCESS, job.to_agent()
	assert steps(job) == [(name, "Success") for name in STEPS["Run Remote Builder"].steps]
	polled = job.to_agent()
	clone = polled["steps"][0]["data"]
	assert isinstance(clone, list) and clone[0].startswith("git clone demo_app\n")  # Press's clone parser
	# A validation that passed returns nothing, as the agent's: Press reads any data of that step,
	# once a job has failed, as the validation's failure.
	assert polled["steps"][1]["name"] == "Run Validations" and polled["steps"][1]["data"] is None
	output = json.loads(polled["data"]["output"])
	assert polled["data"]["build_failed"] is False
	build = "".join(output["build"])
	# Press's DockerBuildOutputParser: the marked instruction as a step, its output, DONE, the image.
	assert "[stage-0 4/4] RUN cat /home/frappe/frappe-bench/apps/demo_app/hooks.py `#stage-apps-demo_app`" in build
	assert "app_name = 'demo_app'" in build and "changed later" not in build  # the commit asked for
	assert " DONE " in build and "writing image sha256:" in build
	assert output["push"][-1]["status"] == "Pushed" and any("digest" in p.get("status", "") for p in output["push"])
	assert TOKEN not in json.dumps(polled) and request["registry"]["password"] not in json.dumps(polled)

	# New Bench pulls it from the registry (it is removed here first) and runs it.
	image = f"{request['image_repository']}:{request['image_tag']}"
	w.engine.remove_image(image, force=True)
	name = f"{w.bench}-built"
	bench = {**new_bench_request(w), "name": name, "registry": request["registry"]}
	bench["bench_config"] = {**bench["bench_config"], "docker_image": image}
	try:
		job = w.job("POST", "benches", bench)
		assert job.status == SUCCESS, job.to_agent()
		container = benches.container_name(w.platform, name)
		seen = w.engine.exec(container, ["cat", "/home/frappe/frappe-bench/sites/apps-built.txt"]).stdout
		assert seen == "demo_app\n"
	finally:
		for c in w.engine.list([f"{LABEL_BENCH}={name}"]):
			w.engine.remove(c.name, force=True)
		for volume in w.engine.list_volumes([f"{LABEL_BENCH}={name}"]):
			w.engine.remove_volume(volume, force=True)
		w.engine.remove_image(image, force=True)


def test_a_failing_build_says_why_in_the_job_and_pushes_nothing(world, app_repo):
	w, (repo, first) = world, app_repo
	dockerfile = f"FROM {IMAGE}\nRUN echo missing-package-xyz && exit 7 `#stage-pre-essentials`\n"
	request = build_request(w, repo, first, dockerfile, f"f{os.getpid()}")
	job = w.job("POST", "builder/build", request)
	# As the agent's: the job succeeds with build_failed, nothing is pushed, and Press fails the
	# build at the instruction its parser finds (a failed job would be read as a failed validation).
	assert job.status == SUCCESS
	assert steps(job) == [("Clone Repositories", "Success"), ("Run Validations", "Success"),
		("Build Image", "Success"), ("Cleanup Context", "Success")]
	polled = job.to_agent()
	assert polled["data"]["build_failed"] is True
	assert "the image was not built" in polled["steps"][2]["data"]["output"]
	output = json.loads(polled["data"]["output"])  # JSON, as Press parses it
	build = "".join(output["build"])
	assert "missing-package-xyz" in build and "ERROR: build of" in build and output["push"] == []
	assert polled["steps"][1]["data"] is None
	with pytest.raises(exc.ImageMissing):
		w.engine.image_id(f"{request['image_repository']}:{request['image_tag']}")


def test_a_commit_that_is_not_there_fails_the_clone_as_press_reads_it(world, app_repo):
	w, (repo, _) = world, app_repo
	job = w.job("POST", "builder/build", build_request(w, repo, "0" * 40, DOCKERFILE, f"c{os.getpid()}"))
	assert job.status == FAILURE
	assert steps(job)[0] == ("Clone Repositories", "Failure")
	polled = job.to_agent()
	assert "Failed to clone repository for demo_app - " in polled["steps"][0]["data"]["output"]
	# The job's output is JSON from the start: Press parses it on every poll, and a failed job
	# whose output were plain text would never be finished there.
	assert json.loads(polled["data"]["output"]) == {"build": [], "push": []}
	assert polled["data"]["build_failed"] is False and "Failed to clone repository" in polled["data"]["traceback"]


@pytest.mark.parametrize("change, message", [
	({"dockerfile": "not base64!"}, "base64"),
	({"image_tag": "Bad Tag"}, "image tag"),
	({"clone_instructions": [{"app": "demo_app", "url": "-uexploit", "hash": "a" * 40, "branch": "x"}]}, "URL"),
	({"clone_instructions": [{"app": "demo_app", "url": "file:///x", "hash": "XYZ", "branch": "x"}]}, "commit"),
	({"clone_instructions": [{"app": "demo_app", "url": "file:///x", "hash": "a" * 40, "branch": "-x"}]}, "branch"),
	({"clone_instructions": []}, "clone instructions"),
	({"platform": "sparc"}, "platform"),
	({"registry": "127.0.0.1:5000"}, "registry"),
	({"deploy_candidate_params": ["redis_cache_size"]}, "deploy_candidate_params"),
])
def test_bad_build_requests_are_refused_before_anything_runs(world, app_repo, change, message):
	w, (repo, first) = world, app_repo
	request = {**build_request(w, repo, first, DOCKERFILE, "never"), **change}
	with pytest.raises(exc.ValidationError, match=message):
		routes.job("POST", "builder/build", request)
