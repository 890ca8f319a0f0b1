"""Root conftest: load the plugin that runs notebooks under every start method."""

pytest_plugins = ["tests.notebook_runs"]
