# The two first commands: `make demo` (the platform's main job) and `make test`.
# Python runs isolated (-I) so it imports the installed wheel, not the source tree.
PY := .venv/bin/python

.PHONY: demo test bench stress wheel up down status images

demo:
	@bash tools/demo.sh $(ARGS)

test:
	@bash tools/test.sh

bench:
	@bash tools/bench.sh $(ARGS)

# Fault tests repeated: Garage killed mid-upload, ROUNDS times (every fourth a long outage).
stress:
	@bash tools/setup.sh --with-garage
	@bash -c '. tools/env.sh && PRESS_SELFHOSTED_STRESS_ROUNDS=$${ROUNDS:-20} .venv/bin/pytest -p no:cacheprovider -s tests/test_storage_faults.py'

wheel:
	@bash tools/setup.sh
	@ls dist/*.whl

# The compose stack (deploy/): the whole platform on this host's Docker or Podman.
up:
	@bash deploy/platform.sh up $(ARGS)

down:
	@bash deploy/platform.sh down

status:
	@bash deploy/platform.sh status

# The stack's images but Press's, from Debian's packages (no public registry needed).
images:
	@bash tools/setup.sh --with-garage
	@bash tools/images.sh $(ENGINE)
