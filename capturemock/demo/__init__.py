"""A runnable demo of the main job: record a bundled example for real, then replay it offline."""
