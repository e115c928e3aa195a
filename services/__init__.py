"""What the API, the worker and the CLI share below them: the Temporal client (connecting, starting
and reading incidents, sending their Updates) and declaring an incident."""
