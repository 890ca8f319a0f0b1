"""Worker code and tools for the course on Python multiprocessing.

Everything a notebook sends to another process lives in this package, so that spawn and
forkserver children can import it. Importing the package also

* applies the start method named by the environment variable ``MP_START_METHOD``
  (``fork``, ``spawn`` or ``forkserver``; unset keeps the platform's default), and
* installs the fail-fast guard (see ``helpers.guard``), which explains at once why a
  notebook-defined function, a lambda or a nested function cannot reach a child process;
* in a Jupyter kernel, lets a shutdown or restart end at once instead of waiting for
  multiprocessing's resource tracker (see ``helpers.kernel``).
"""

from helpers import guard, kernel, startmethods

startmethods.apply_from_environment()
guard.install_from_environment()
kernel.install()

__all__ = ["guard", "kernel", "startmethods"]
