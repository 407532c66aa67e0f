"""pytest plugin: placeholder until the fixture and marker land."""
