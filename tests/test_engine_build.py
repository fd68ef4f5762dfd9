"""Images built through the engine's build API (Docker's classic builder, Buildah behind
Podman) from a context whose base is the busybox image the tests import, and pushed to the
real registry of `make test`."""

import os

import pytest

from press_selfhosted import exceptions as exc
from press_selfhosted.engine import LABEL_KIND, object_name

from conftest import TEST_IMAGE  # (the `engine` fixture, once per engine, is conftest's)


def _context(tmp_path, dockerfile: str):
	context = tmp_path / "context"
	(context / "apps" / "demo").mkdir(parents=True)
	(context / "apps" / "demo" / "hooks.py").write_text("app_name = 'demo'\n")
	(context / "apps" / "demo" / "link").symlink_to("hooks.py")
	(context / "Dockerfile").write_text(dockerfile)
	return context


def _tag(engine, name):
	return f"erp-saas-cloud-c16-test/built-{name}-{engine.kind}:{os.getpid()}"


def test_a_context_is_built_with_its_output_streamed(engine, tmp_path):  # noqa: F811
	context = _context(tmp_path, f"FROM {TEST_IMAGE}\nCOPY apps /home/apps\n"
		"RUN cat /home/apps/demo/hooks.py && readlink /home/apps/demo/link `#stage-apps-demo`\n")
	lines = []
	tag = _tag(engine, "ok")
	image = engine.build(context, tag, no_cache=True, on_line=lambda stream, line: lines.append((stream, line)))
	try:
		assert image and engine.image_id(tag) == image
		text = "\n".join(line for _, line in lines)
		assert {stream for stream, _ in lines} == {"build"}
		# The instruction with Press's stage marker, then what it printed: the copied file and
		# the symbolic link, kept a link in the context's archive.
		assert "#stage-apps-demo" in text and "app_name = 'demo'" in text and "\nhooks.py" in text
		name = object_name("bench", f"py-built-{engine.kind}-{os.getpid()}")
		engine.run(name, tag, ["sleep", "60"], labels={LABEL_KIND: "bench"}, init=True)
		try:
			assert engine.exec(name, ["cat", "/home/apps/demo/hooks.py"]).stdout == "app_name = 'demo'\n"
		finally:
			engine.remove(name, force=True)
	finally:
		engine.remove_image(tag, force=True)


def test_a_failing_instruction_says_why_and_leaves_no_image(engine, tmp_path):  # noqa: F811
	context = _context(tmp_path, f"FROM {TEST_IMAGE}\nRUN echo about to fail && exit 3\n")
	lines = []
	tag = _tag(engine, "bad")
	with pytest.raises(exc.BuildFailed) as failed:
		engine.build(context, tag, on_line=lambda stream, line: lines.append(line))
	assert "3" in str(failed.value) and tag in str(failed.value)
	assert any("about to fail" in line for line in lines)
	with pytest.raises(exc.ImageMissing):
		engine.image_id(tag)


def test_bad_build_requests_are_refused_before_the_engine_sees_them(engine, tmp_path):  # noqa: F811
	context = _context(tmp_path, f"FROM {TEST_IMAGE}\n")
	for kwargs in ({"dockerfile": "../Dockerfile"}, {"dockerfile": "/etc/passwd"}, {"dockerfile": "Missing"},
			{"platform": "windows/amd64"}):
		with pytest.raises(exc.ValidationError):
			engine.build(context, _tag(engine, "never"), **kwargs)
	with pytest.raises(exc.ValidationError):
		engine.build(context, "Not A Tag")
	with pytest.raises(exc.ValidationError):
		engine.build(tmp_path / "absent", _tag(engine, "never"))


def test_a_built_image_is_pushed_with_its_statuses_reported(engine, tmp_path):  # noqa: F811
	registry, user = os.environ["PRESS_SELFHOSTED_TEST_REGISTRY"], os.environ["PRESS_SELFHOSTED_TEST_REGISTRY_USER"]
	with open(os.environ["PRESS_SELFHOSTED_TEST_REGISTRY_PASSWORD_FILE"]) as f:
		password = f.read()
	context = _context(tmp_path, f"FROM {TEST_IMAGE}\nCOPY apps /home/apps\n")
	remote = f"{registry}/press/built-{engine.kind}:{os.getpid()}"
	built = engine.build(context, remote)
	statuses = []
	engine.push(remote, username=user, password=password, on_line=lambda stream, status: statuses.append((stream, status)))
	assert statuses and {s for s, _ in statuses} == {"push"}
	assert any("digest: sha256:" in status for _, status in statuses), statuses
	assert all(password not in status for _, status in statuses)
	engine.remove_image(remote, force=True)
	assert engine.pull(remote, username=user, password=password) == built
	engine.remove_image(remote, force=True)

	def stop(stream, status):
		raise RuntimeError("stop reading")

	engine.tag(TEST_IMAGE, remote)
	with pytest.raises(RuntimeError, match="stop reading"):
		engine.push(remote, username=user, password=password, on_line=stop)
	engine.remove_image(remote, force=True)


def test_buildkit_mounts_build_on_podman_and_are_refused_clearly_by_dockers_classic_builder(engine, tmp_path):  # noqa: F811
	"""Press's Dockerfile binds each app with `RUN --mount=type=bind`."""
	context = _context(tmp_path, f"FROM {TEST_IMAGE}\nRUN --mount=type=bind,source=apps/demo,target=/ctx cat /ctx/hooks.py\n")
	lines = []
	tag = _tag(engine, "mount")
	if engine.kind == "podman":
		engine.build(context, tag, on_line=lambda stream, line: lines.append(line))
		assert "app_name = 'demo'" in lines
		engine.remove_image(tag, force=True)
	else:
		with pytest.raises(exc.BuildFailed, match="requires BuildKit"):
			engine.build(context, tag)
