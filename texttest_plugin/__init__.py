"""TextTest configuration module for capturemock (see README)."""
