"""capturemock: capture-replay mocking (public API only)."""
