"""Root conftest: load the plugins that run notebooks under every start method and spread
the suite over every core, and give the suite the same Ctrl-C handling however it was
started."""

import signal

# A shell starts a background job (`python3 course.py test &`) with SIGINT ignored, and
# children inherit that: pool workers, the forkserver, kernels. Lessons and tests about
# Ctrl-C assume Python's default handler, which a terminal run has; install it here, before
# any child is started, so the caller's disposition cannot change what they see.
signal.signal(signal.SIGINT, signal.default_int_handler)

pytest_plugins = ["tests.notebook_runs", "tests.parallel"]
