"""What the test workers run."""

import time


def slow(seconds: float) -> str:
	time.sleep(seconds)
	return "done"
