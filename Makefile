# The two first commands: `make demo` (the platform's main job) and `make test`.
# Python runs isolated (-I) so it imports the installed wheel, not the source tree.
PY := .venv/bin/python

.PHONY: demo test bench wheel

demo:
	@bash tools/demo.sh $(ARGS)

test:
	@bash tools/test.sh

bench:
	@bash tools/bench.sh $(ARGS)

wheel:
	@bash tools/setup.sh
	@ls dist/*.whl
