"""Entry points: HTTP (starlette), Socket.IO (python-socketio), the `parley` CLI, the web client."""
