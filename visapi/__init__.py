"""The composition root and the processes: settings, bootstrap, ASGI app, cli, worker, scheduler."""
